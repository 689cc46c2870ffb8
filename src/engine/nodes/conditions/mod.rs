//! n8n's "filter" parameter, the conditions of If (v2+), Filter (v2+) and the rules of Switch
//! (v3+): `{conditions: [{leftValue, rightValue, operator: {type, operation, rightType?,
//! singleValue?}}], combinator: "and" | "or", options: {caseSensitive, typeValidation,
//! version}}`, evaluated for one item after its expressions were resolved.
//!
//! Pure: no run, no node. The nodes read the parameter, say which options apply when the
//! stored value leaves them out ([`Defaults`]), and turn a [`ConditionError`] into their
//! failure. The older `value1`/`operation`/`value2` lists live in [`legacy`].

mod js;
pub mod legacy;
mod operand;
#[cfg(test)]
mod tests;

/// JavaScript truthiness, shared with other nodes that read an expression as a condition.
pub(crate) use js::truthy;

use serde_json::Value;

pub use operand::OperandType;
use operand::{read, Operand, Reading};

/// Why a condition could not be evaluated, in n8n's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionError {
    pub message: String,
    pub description: Option<String>,
}

impl ConditionError {
    fn new(message: impl Into<String>, description: Option<String>) -> ConditionError {
        ConditionError {
            message: message.into(),
            description,
        }
    }
}

/// The filter options a node applies when the stored parameter does not carry them (n8n's
/// editor always writes them; workflows written by hand often do not).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Defaults {
    pub case_sensitive: bool,
    pub strict: bool,
    pub version: u8,
}

/// How a filter combines its conditions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Combinator {
    And,
    Or,
}

/// A resolved filter parameter, ready to evaluate.
#[derive(Clone, Debug)]
pub struct Filter {
    conditions: Vec<Condition>,
    combinator: Option<Combinator>,
    case_sensitive: bool,
    reading: Reading,
}

#[derive(Clone, Debug)]
struct Condition {
    left: Value,
    right: Value,
    kind: Option<OperandType>,
    /// The type name as written (for messages and unknown types).
    kind_name: String,
    right_kind: Option<OperandType>,
    operation: String,
    single_value: bool,
}

impl Filter {
    /// Reads a filter parameter value. A value that is not a filter at all is an error that
    /// names the parameter.
    pub fn parse(
        value: &Value,
        defaults: Defaults,
        zone: chrono_tz::Tz,
    ) -> Result<Filter, ConditionError> {
        let invalid = || {
            ConditionError::new(
                "The conditions are not valid: expected an object with \"conditions\" and \"combinator\"",
                None,
            )
        };
        let object = value.as_object().ok_or_else(invalid)?;
        let list = match object.get("conditions") {
            Some(Value::Array(list)) => list.as_slice(),
            None | Some(Value::Null) => &[],
            Some(_) => return Err(invalid()),
        };
        let combinator = match object.get("combinator").and_then(Value::as_str) {
            None => Some(Combinator::And),
            Some("and") => Some(Combinator::And),
            Some("or") => Some(Combinator::Or),
            // n8n logs an unknown combinator and lets nothing pass.
            Some(_) => None,
        };
        let options = object.get("options").and_then(Value::as_object);
        let option = |key: &str| options.and_then(|o| o.get(key));
        let case_sensitive = option("caseSensitive")
            .and_then(Value::as_bool)
            .unwrap_or(defaults.case_sensitive);
        let strict = match option("typeValidation").and_then(Value::as_str) {
            Some(mode) => mode == "strict",
            None => defaults.strict,
        };
        let version = option("version")
            .and_then(Value::as_f64)
            .map_or(defaults.version, |v| v.clamp(1.0, 3.0) as u8);
        let conditions = list
            .iter()
            .map(Condition::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Filter {
            conditions,
            combinator,
            case_sensitive,
            reading: Reading {
                strict,
                version,
                zone,
            },
        })
    }

    /// Whether the item passes. Conditions are evaluated in order and stop as soon as the
    /// answer is known, as n8n's `every`/`some` do, so a later invalid condition only fails
    /// when it is reached.
    pub fn passes(&self, item_index: usize) -> Result<bool, ConditionError> {
        let mut each = self
            .conditions
            .iter()
            .enumerate()
            .map(|(index, c)| c.evaluate(self, index, item_index));
        match self.combinator {
            Some(Combinator::And) => {
                for result in each.by_ref() {
                    if !result? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Some(Combinator::Or) => {
                for result in each.by_ref() {
                    if result? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            None => Ok(false),
        }
    }
}

impl Condition {
    fn parse(value: &Value) -> Result<Condition, ConditionError> {
        let operator = value.get("operator").and_then(Value::as_object);
        let text = |key: &str| {
            operator
                .and_then(|o| o.get(key))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let kind_name = match text("type") {
            name if name.is_empty() => "string".to_owned(),
            name => name,
        };
        let operation = match text("operation") {
            name if name.is_empty() => "equals".to_owned(),
            name => name,
        };
        let right_kind = operator
            .and_then(|o| o.get("rightType"))
            .and_then(Value::as_str)
            .and_then(OperandType::parse);
        Ok(Condition {
            left: value.get("leftValue").cloned().unwrap_or(Value::Null),
            right: value.get("rightValue").cloned().unwrap_or(Value::Null),
            kind: OperandType::parse(&kind_name),
            kind_name,
            right_kind,
            operation,
            single_value: operator
                .and_then(|o| o.get("singleValue"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    fn evaluate(
        &self,
        filter: &Filter,
        index: usize,
        item_index: usize,
    ) -> Result<bool, ConditionError> {
        // An unknown type compares its values as they are and matches nothing (n8n logs it).
        let kind = self.kind.unwrap_or(OperandType::Any);
        let right_kind = self.right_kind.unwrap_or(kind);
        let reading = filter.reading;
        let left = read(&self.left, kind, reading);
        let right = read(&self.right, right_kind, reading);
        let (left, right) = match (left, right) {
            (Some(l), Some(r)) => (l, r),
            (Some(l), None) if self.single_value => (l, Operand::Missing),
            (l, r) => {
                return Err(self.type_error(
                    l.is_none(),
                    r.is_none(),
                    index,
                    item_index,
                    reading.strict,
                ))
            }
        };
        if self.kind.is_none() {
            return Ok(false);
        }
        if kind == OperandType::String
            && (self.operation == "regex" || self.operation == "notRegex")
        {
            // JavaScript's `new RegExp` throws on an invalid pattern, failing the node.
            if let Operand::Text(pattern) = &right {
                js::regex(pattern, !filter.case_sensitive)
                    .map_err(|message| ConditionError::new(message, None))?;
            }
        }
        Ok(compare(
            kind,
            &self.operation,
            left,
            right,
            !filter.case_sensitive,
        ))
    }

    /// n8n's message for a value that does not fit the comparison's type.
    fn type_error(
        &self,
        left_invalid: bool,
        right_invalid: bool,
        index: usize,
        item_index: usize,
        strict: bool,
    ) -> ConditionError {
        let right_invalid = right_invalid && !self.single_value;
        let left_type = js::type_of(&self.left);
        let right_type = js::type_of(&self.right);
        let kind = &self.kind_name;
        let right_kind = match self.right_kind {
            Some(t) => t.name().to_owned(),
            None => kind.clone(),
        };
        let general = if strict {
            "Try changing the type of comparison. Alternatively you can enable 'Convert types where required'."
        } else {
            "Try changing the type of the comparison."
        };
        if left_invalid && right_invalid && left_type == right_type {
            return ConditionError::new(
                format!(
                    "Comparison type expects {} but both fields are {}",
                    article(kind),
                    article(left_type)
                ),
                Some(general.to_owned()),
            );
        }
        let (expected, from_type, value, position) = if left_invalid {
            (kind.clone(), left_type, js::to_string(&self.left), "first")
        } else {
            (right_kind, right_type, js::to_string(&self.right), "second")
        };
        let suffix = format!("[condition {index}, item {item_index}]");
        let message = if strict {
            format!(
                "Wrong type: '{value}' is {} but was expecting {} {suffix}",
                article(from_type),
                article(&expected)
            )
        } else {
            format!(
                "Conversion error: the {from_type} '{value}' can't be converted to {} {suffix}",
                article(&expected)
            )
        };
        let conversion = match expected.as_str() {
            "string" => Some(".toString()"),
            "number" => Some(".toNumber()"),
            "boolean" => Some(".toBoolean()"),
            _ => None,
        };
        let description = match conversion {
            Some(function) if strict => format!(
                "\n<p>Try either:</p>\n<ol>\n  <li>Enabling 'Convert types where required'</li>\n  <li>Converting the {position} field to {} by adding <code>{function}</code></li>\n</ol>\n\t\t\t",
                article(&expected)
            ),
            _ => general.to_owned(),
        };
        ConditionError::new(message, Some(description))
    }
}

/// `a number`, `an object`.
fn article(noun: &str) -> String {
    let first = noun.chars().next().unwrap_or('x');
    let article = if "aeiou".contains(first) { "an" } else { "a" };
    format!("{article} {noun}")
}

/// One operation on two read values.
fn compare(
    kind: OperandType,
    operation: &str,
    left: Operand,
    right: Operand,
    ignore_case: bool,
) -> bool {
    let exists = left.exists();
    match operation {
        "exists" => return exists,
        "notExists" => return !exists,
        _ => {}
    }
    match kind {
        OperandType::String => {
            let text = |o: Operand| match o {
                Operand::Text(s) => s,
                _ => String::new(),
            };
            let (mut left, mut right) = (text(left), text(right));
            let regex = operation == "regex" || operation == "notRegex";
            if ignore_case && !regex {
                left = left.to_lowercase();
                right = right.to_lowercase();
            }
            match operation {
                "empty" => left.is_empty(),
                "notEmpty" => !left.is_empty(),
                "equals" => left == right,
                "notEquals" => left != right,
                "contains" => left.contains(&right),
                "notContains" => !left.contains(&right),
                "startsWith" => left.starts_with(&right),
                "notStartsWith" => !left.starts_with(&right),
                "endsWith" => left.ends_with(&right),
                "notEndsWith" => !left.ends_with(&right),
                // An invalid expression never matches here; the nodes check patterns first.
                "regex" => js::regex(&right, ignore_case).is_ok_and(|r| js::is_match(&r, &left)),
                "notRegex" => {
                    !js::regex(&right, ignore_case).is_ok_and(|r| js::is_match(&r, &left))
                }
                _ => false,
            }
        }
        OperandType::Number => {
            // JavaScript's `<` reads `null` as 0 and `undefined` as NaN (never true).
            let relational = |o: &Operand| match o {
                Operand::Number(n) => Some(*n),
                Operand::Null => Some(0.0),
                _ => None,
            };
            let ordered = |test: fn(f64, f64) -> bool| match (relational(&left), relational(&right))
            {
                (Some(a), Some(b)) => test(a, b),
                _ => false,
            };
            match operation {
                "empty" => !exists,
                "notEmpty" => exists,
                "equals" => left == right,
                "notEquals" => left != right,
                "gt" => ordered(|a, b| a > b),
                "lt" => ordered(|a, b| a < b),
                "gte" => ordered(|a, b| a >= b),
                "lte" => ordered(|a, b| a <= b),
                _ => false,
            }
        }
        OperandType::DateTime => {
            match operation {
                "empty" => return !exists,
                "notEmpty" => return exists,
                _ => {}
            }
            let (Operand::Date(l), Operand::Date(r)) = (left, right) else {
                return false;
            };
            match operation {
                "equals" => l == r,
                "notEquals" => l != r,
                "after" => l > r,
                "before" => l < r,
                "afterOrEquals" => l >= r,
                "beforeOrEquals" => l <= r,
                _ => false,
            }
        }
        OperandType::Boolean => {
            let flag = |o: &Operand| match o {
                Operand::Boolean(b) => Some(*b),
                _ => None,
            };
            let (l, r) = (flag(&left), flag(&right));
            match operation {
                "empty" => !exists,
                "notEmpty" => exists,
                "true" => l == Some(true),
                "false" => l != Some(true),
                "equals" => l == r,
                "notEquals" => l != r,
                _ => false,
            }
        }
        OperandType::Array => {
            let list = match left {
                Operand::List(list) => list,
                _ => Vec::new(),
            };
            let length = list.len() as f64;
            let wanted = match &right {
                Operand::Number(n) => Some(*n),
                _ => None,
            };
            let by_length = |test: fn(f64, f64) -> bool| wanted.is_some_and(|n| test(length, n));
            match operation {
                "contains" => contains(&list, &right, ignore_case),
                "notContains" => !contains(&list, &right, ignore_case),
                "lengthEquals" => by_length(|a, b| a == b),
                "lengthNotEquals" => !by_length(|a, b| a == b),
                "lengthGt" => by_length(|a, b| a > b),
                "lengthLt" => by_length(|a, b| a < b),
                "lengthGte" => by_length(|a, b| a >= b),
                "lengthLte" => by_length(|a, b| a <= b),
                "empty" => list.is_empty(),
                "notEmpty" => !list.is_empty(),
                _ => false,
            }
        }
        OperandType::Object => {
            let size = match &left {
                Operand::Object(map) => map.len(),
                Operand::Missing | Operand::Null => 0,
                Operand::List(list) => list.len(),
                _ => 1,
            };
            match operation {
                "empty" => size == 0,
                "notEmpty" => size != 0,
                _ => false,
            }
        }
        OperandType::Any => false,
    }
}

/// n8n's `arrayContainsValue`: `includes`, or a case-blind match of text entries.
fn contains(list: &[Value], wanted: &Operand, ignore_case: bool) -> bool {
    let wanted = match wanted {
        Operand::Missing | Operand::Null => Value::Null,
        Operand::Text(s) => Value::String(s.clone()),
        Operand::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Operand::Boolean(b) => Value::Bool(*b),
        Operand::Raw(v) => v.clone(),
        // Lists, objects and dates are new objects: `includes` never finds them.
        _ => return false,
    };
    if let (true, Value::String(text)) = (ignore_case, &wanted) {
        let text = text.to_lowercase();
        return list
            .iter()
            .any(|v| v.as_str().is_some_and(|s| s.to_lowercase() == text));
    }
    list.iter().any(|v| js::strict_equals(v, &wanted))
}
