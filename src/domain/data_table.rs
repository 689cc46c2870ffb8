//! Data tables' rules, without I/O: column types and how a JSON value becomes a typed cell,
//! dates, the names a table and a column may have, and n8n's filter language with its limits.
//! Each rule answers n8n's message for the place in the request it checks.

use serde::Deserialize;
use serde_json::{Map, Number, Value};

use crate::db::data_tables::ColumnRow;
use crate::domain::time::iso;
use crate::error::{ApiError, Result};
use crate::extract::from_value;

pub const TABLE_NAME_MAX: usize = 128;
pub const COLUMN_NAME_MAX: usize = 63;
pub const COLUMN_NAME_PATTERN: &str = "^[a-zA-Z][a-zA-Z0-9_]*$";
/// More columns than any sensible table has, and well under both databases' limits.
pub const MAX_COLUMNS: usize = 500;
/// The most conditions one row filter may have: each is a term of one SQL expression, and
/// SQLite refuses expressions nested deeper than 1,000 (a filter of a thousand `or`s); far
/// more than a person writes, and it keeps a statement well inside the bind limit.
pub const MAX_FILTER_CONDITIONS: usize = 100;
const TYPES: &str = "string, number, boolean, date";

/// The system columns every data table has, in the order rows show them.
pub const SYSTEM_COLUMNS: [&str; 3] = ["id", "createdAt", "updatedAt"];

/// The type of a data-table column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Number,
    Boolean,
    Date,
}

impl ColumnType {
    pub fn parse(text: &str) -> Option<ColumnType> {
        match text {
            "string" => Some(ColumnType::String),
            "number" => Some(ColumnType::Number),
            "boolean" => Some(ColumnType::Boolean),
            "date" => Some(ColumnType::Date),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Number => "number",
            ColumnType::Boolean => "boolean",
            ColumnType::Date => "date",
        }
    }
}

/// A value ready to bind: typed, so that a `null` binds with its column's SQL type.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null(ColumnType),
    Text(String),
    Number(f64),
    Boolean(bool),
    /// The integer `id` system column.
    Integer(i64),
}

/// A whole number as an integer (`5`, not `5.0`), as n8n's JavaScript shows it.
pub fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Value::from(n as i64)
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// A comparison of one column with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    Eq,
    Neq,
    Like,
    Ilike,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Condition {
    pub fn parse(text: &str) -> Option<Condition> {
        Some(match text {
            "eq" => Condition::Eq,
            "neq" => Condition::Neq,
            "like" => Condition::Like,
            "ilike" => Condition::Ilike,
            "gt" => Condition::Gt,
            "gte" => Condition::Gte,
            "lt" => Condition::Lt,
            "lte" => Condition::Lte,
            _ => return None,
        })
    }
}

/// One condition of a row filter. `column` is a name from the table's catalogue (or a
/// system column); the value is already typed for it.
#[derive(Clone, Debug)]
pub struct Predicate {
    pub column: String,
    pub condition: Condition,
    pub value: Cell,
}

/// A row filter: all predicates (`and`) or any of them (`or`).
#[derive(Clone, Debug, Default)]
pub struct RowFilter {
    pub any: bool,
    pub predicates: Vec<Predicate>,
}

pub fn no_nul(text: &str, what: &str) -> Result<()> {
    if text.contains('\0') {
        Err(ApiError::bad_request(format!(
            "{what} must not contain a NUL character"
        )))
    } else {
        Ok(())
    }
}

pub fn valid_table_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    no_nul(name, "request/body/name")?;
    match name.chars().count() {
        0 => Err(ApiError::bad_request(
            "request/body/name must NOT have fewer than 1 characters",
        )),
        n if n > TABLE_NAME_MAX => Err(ApiError::bad_request(format!(
            "request/body/name must NOT have more than {TABLE_NAME_MAX} characters"
        ))),
        _ => Ok(name.to_owned()),
    }
}

/// n8n's column-name rules; `at` is where the name sits in the body, for the message.
pub fn valid_column_name(name: &str, at: &str) -> Result<()> {
    if name.is_empty() {
        return Err(ApiError::bad_request(format!(
            "request/body/{at} must NOT have fewer than 1 characters"
        )));
    }
    if name.len() > COLUMN_NAME_MAX {
        return Err(ApiError::bad_request(format!(
            "request/body/{at} must NOT have more than {COLUMN_NAME_MAX} characters"
        )));
    }
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ApiError::bad_request(format!(
            "request/body/{at} must match pattern \"{COLUMN_NAME_PATTERN}\""
        )));
    }
    Ok(())
}

pub fn valid_column_type(text: &str, at: &str) -> Result<ColumnType> {
    ColumnType::parse(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "request/body/{at} must be equal to one of the allowed values: {TYPES}"
        ))
    })
}

/// System names are reserved; names that differ only in case clash too (SQLite's column
/// names ignore case, and one rule for both databases keeps tables portable).
pub fn check_column_free(name: &str, taken: &[&str], table_name: &str) -> Result<()> {
    if SYSTEM_COLUMNS.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        return Err(ApiError::conflict(format!(
            "Column name \"{name}\" is reserved as a system column name."
        )));
    }
    if taken.iter().any(|t| t.eq_ignore_ascii_case(name)) {
        return Err(ApiError::conflict(format!(
            "Data table column with name '{name}' already exists in data table '{table_name}'"
        )));
    }
    Ok(())
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as the column's type, or n8n's message naming the column.
pub fn cell(column: &str, column_type: ColumnType, value: &Value) -> Result<Cell> {
    if value.is_null() {
        return Ok(Cell::Null(column_type));
    }
    let mismatch = || {
        let expected = match column_type {
            ColumnType::String => "a string",
            ColumnType::Number => "a number",
            ColumnType::Boolean => "a boolean",
            ColumnType::Date => "a dateTime",
        };
        ApiError::bad_request(format!(
            "value '{}' does not match column type '{}': '{column}' expects {expected} but we got '{}'",
            shown(value),
            column_type.as_str(),
            shown(value)
        ))
    };
    match column_type {
        ColumnType::String => match value {
            Value::String(s) => {
                no_nul(s, &format!("value of '{column}'"))?;
                Ok(Cell::Text(s.clone()))
            }
            // As n8n's lenient validation: numbers and booleans are kept as their text.
            Value::Number(n) => Ok(Cell::Text(n.to_string())),
            Value::Bool(b) => Ok(Cell::Text(b.to_string())),
            _ => Err(mismatch()),
        },
        ColumnType::Number => value
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Cell::Number)
            .ok_or_else(mismatch),
        ColumnType::Boolean => value.as_bool().map(Cell::Boolean).ok_or_else(mismatch),
        ColumnType::Date => value
            .as_str()
            .and_then(parse_date)
            .map(Cell::Text)
            .ok_or_else(mismatch),
    }
}

/// A date as fixed-width ISO-8601 UTC text: RFC 3339 with an offset, or a date and time
/// without one (read as UTC), or a bare date.
pub fn parse_date(text: &str) -> Option<String> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let text = text.trim();
    let parsed: DateTime<Utc> = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        t.with_timezone(&Utc)
    } else if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        t.and_utc()
    } else if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f") {
        t.and_utc()
    } else if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0)?.and_utc()
    } else {
        return None;
    };
    // Fixed-width text (years 0 to 9999) is what keeps text order equal to time order.
    let year = chrono::Datelike::year(&parsed);
    (0..=9999).contains(&year).then(|| iso(parsed))
}

/// The type of a column a filter may name: a catalogue column or a system one.
pub fn filter_column_type(name: &str, columns: &[ColumnRow]) -> Option<ColumnType> {
    match name {
        "id" => Some(ColumnType::Number),
        "createdAt" | "updatedAt" => Some(ColumnType::Date),
        _ => columns
            .iter()
            .find(|c| c.name == name)
            .map(ColumnRow::column_type),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterBody {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    filters: Vec<FilterItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterItem {
    column_name: String,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    value: Value,
}

/// A filter as JSON (a body's `filter` or a query string's) checked against the table:
/// unknown columns, values of the wrong type and impossible conditions are 400s.
pub fn row_filter(
    raw: Value,
    location: &str,
    columns: &[ColumnRow],
    empty_message: &str,
) -> Result<RowFilter> {
    let body: FilterBody = from_value(location, raw)?;
    let any = match body.kind.as_deref() {
        None | Some("and") => false,
        Some("or") => true,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "request/{location}/type must be equal to one of the allowed values: and, or"
            )))
        }
    };
    if body.filters.is_empty() {
        return Err(ApiError::bad_request(empty_message));
    }
    if body.filters.len() > MAX_FILTER_CONDITIONS {
        return Err(ApiError::bad_request(format!(
            "request/{location}/filters must NOT have more than {MAX_FILTER_CONDITIONS} items"
        )));
    }
    let mut predicates = Vec::with_capacity(body.filters.len());
    for (i, item) in body.filters.into_iter().enumerate() {
        let condition = match item.condition.as_deref() {
            None => Condition::Eq,
            Some(text) => Condition::parse(text).ok_or_else(|| {
                ApiError::bad_request(format!("request/{location}/filters/{i}/condition must be equal to one of the allowed values: eq, neq, like, ilike, gt, gte, lt, lte"))
            })?,
        };
        let column_type = filter_column_type(&item.column_name, columns).ok_or_else(|| {
            ApiError::bad_request(format!("unknown column name '{}'", item.column_name))
        })?;
        let upper = match condition {
            Condition::Like => "LIKE",
            Condition::Ilike => "ILIKE",
            Condition::Gt => "GT",
            Condition::Gte => "GTE",
            Condition::Lt => "LT",
            Condition::Lte => "LTE",
            Condition::Eq | Condition::Neq => "",
        };
        if item.value.is_null() && !upper.is_empty() {
            return Err(ApiError::bad_request(format!(
                "{upper} filter value cannot be null or undefined"
            )));
        }
        let value = if matches!(condition, Condition::Like | Condition::Ilike) {
            match &item.value {
                Value::String(s) if column_type == ColumnType::String => {
                    no_nul(s, "filter value")?;
                    Cell::Text(s.clone())
                }
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "{upper} filter value must be a string"
                    )))
                }
            }
        } else if item.column_name == "id" {
            match item.value.as_f64() {
                Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Cell::Integer(n as i64),
                _ if item.value.is_null() => Cell::Null(ColumnType::Number),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "value '{}' does not match column type 'number': 'id' expects a number but we got '{}'",
                        shown(&item.value),
                        shown(&item.value)
                    )))
                }
            }
        } else {
            cell(&item.column_name, column_type, &item.value)?
        };
        predicates.push(Predicate {
            column: item.column_name,
            condition,
            value,
        });
    }
    Ok(RowFilter { any, predicates })
}

/// The `filter` query parameter: JSON text.
pub fn filter_json(text: &str) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|_| ApiError::bad_request("request/query/filter must be a valid JSON string"))
}

/// A query-string row filter.
pub fn query_filter(text: &str, columns: &[ColumnRow], empty_message: &str) -> Result<RowFilter> {
    row_filter(filter_json(text)?, "query/filter", columns, empty_message)
}

/// A row of a body checked against the table: every key a column, every value of its type.
/// Answers one cell per column, `null` for the columns the row leaves out.
pub fn row_cells(row: &Value, at: usize, columns: &[ColumnRow]) -> Result<Vec<Cell>> {
    let Some(object) = row.as_object() else {
        return Err(ApiError::bad_request(format!(
            "request/body/data/{at} must be object"
        )));
    };
    for key in object.keys() {
        if !columns.iter().any(|c| &c.name == key) {
            return Err(ApiError::bad_request(format!(
                "unknown column name '{key}'"
            )));
        }
    }
    columns
        .iter()
        .map(|c| match object.get(&c.name) {
            Some(v) => cell(&c.name, c.column_type(), v),
            None => Ok(Cell::Null(c.column_type())),
        })
        .collect()
}

/// The `data` of an update or upsert: the columns to set, checked as a row is.
pub fn update_values(
    data: &Map<String, Value>,
    columns: &[ColumnRow],
) -> Result<Vec<(String, Cell)>> {
    if data.is_empty() {
        return Err(ApiError::bad_request("Data columns must not be empty"));
    }
    data.iter()
        .map(|(key, value)| {
            let column = columns
                .iter()
                .find(|c| &c.name == key)
                .ok_or_else(|| ApiError::bad_request(format!("unknown column name '{key}'")))?;
            Ok((key.clone(), cell(key, column.column_type(), value)?))
        })
        .collect()
}

/// A rough count of the bytes a row takes, for the size limits between measurements.
pub fn estimated_bytes(cells: &[Cell]) -> i64 {
    48 + cells
        .iter()
        .map(|c| match c {
            Cell::Text(t) => t.len() as i64 + 2,
            Cell::Null(_) => 1,
            _ => 8,
        })
        .sum::<i64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_numbers_show_as_integers() {
        assert_eq!(number_value(5.0).to_string(), "5");
        assert_eq!(number_value(2.5).to_string(), "2.5");
        assert_eq!(number_value(-0.0).to_string(), "0");
    }

    #[test]
    fn a_filter_may_hold_at_most_the_capped_number_of_conditions() {
        let filter = |count: usize| {
            let filters: Vec<Value> = (0..count)
                .map(|_| json!({ "columnName": "id", "value": 1 }))
                .collect();
            json!({ "type": "or", "filters": filters })
        };
        assert!(row_filter(filter(MAX_FILTER_CONDITIONS), "body/filter", &[], "empty").is_ok());
        let refused = row_filter(
            filter(MAX_FILTER_CONDITIONS + 1),
            "body/filter",
            &[],
            "empty",
        );
        assert_eq!(
            refused.unwrap_err().to_string(),
            "request/body/filter/filters must NOT have more than 100 items"
        );
    }

    #[test]
    fn dates_become_fixed_width_utc_text() {
        assert_eq!(
            parse_date("2026-01-02T03:04:05+02:00").as_deref(),
            Some("2026-01-02T01:04:05.000Z")
        );
        assert_eq!(
            parse_date("2026-01-02").as_deref(),
            Some("2026-01-02T00:00:00.000Z")
        );
        assert_eq!(
            parse_date("2026-01-02 03:04:05.5").as_deref(),
            Some("2026-01-02T03:04:05.500Z")
        );
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("+12026-01-02T00:00:00Z"), None);
    }

    #[test]
    fn values_must_match_their_column_type() {
        assert_eq!(
            cell("n", ColumnType::Number, &json!(2.5)).unwrap(),
            Cell::Number(2.5)
        );
        let err = cell("price", ColumnType::Number, &json!("abc")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "value 'abc' does not match column type 'number': 'price' expects a number but we got 'abc'"
        );
        assert!(cell("b", ColumnType::Boolean, &json!(1)).is_err());
        assert!(cell("s", ColumnType::String, &json!({"a": 1})).is_err());
        assert!(cell("s", ColumnType::String, &json!("a\u{0}b")).is_err());
        assert_eq!(
            cell("s", ColumnType::Date, &Value::Null).unwrap(),
            Cell::Null(ColumnType::Date)
        );
    }

    #[test]
    fn column_names_follow_n8n_rules_and_system_names_are_reserved() {
        assert!(valid_column_name("price_1", "name").is_ok());
        assert!(valid_column_name("1price", "name").is_err());
        assert!(valid_column_name("a-b", "name").is_err());
        assert!(valid_column_name(&"a".repeat(64), "name").is_err());
        assert!(check_column_free("ID", &[], "t").is_err());
        assert!(check_column_free("Price", &["price"], "t").is_err());
        assert!(check_column_free("price", &["cost"], "t").is_ok());
    }
}
