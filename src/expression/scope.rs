//! What the JavaScript side is told about the run, for one evaluation.
//!
//! Converting the run's data to JavaScript costs time in proportion to its size, so only what
//! the expression's text mentions is sent: the current item for `$json`, all input items for
//! `$input`, and for each node named in `$('Name')`, `$node["Name"]` or `$items("Name")` its
//! items, parameters and the item paired with the current one. A node named by a computed
//! value (`$(name)`) makes every node that ran part of the request.

use serde_json::{json, Map, Value};

use super::lineage;
use super::template::Template;
use super::{Context, EnvAccess};

/// What the expression's text asks for.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Needs {
    pub item: bool,
    pub input: bool,
    pub nodes: Vec<String>,
    pub all_nodes: bool,
    pub all_runs: bool,
    pub matching: bool,
    /// `$()`: the node the input came from.
    pub previous: bool,
}

impl Needs {
    pub fn scan(template: &Template) -> Needs {
        let mut needs = Needs::default();
        for code in template.codes() {
            needs.scan_code(code);
        }
        needs
    }

    fn scan_code(&mut self, code: &str) {
        if code.contains("$json") || code.contains("$binary") || code.contains("$data") {
            self.item = true;
        }
        if code.contains("$input") || code.contains("$item(") || code.contains("$items()") {
            self.input = true;
        }
        if code.contains("itemMatching") || code.contains("pairedItem(") {
            self.matching = true;
            self.input = true;
        }
        for (marker, dotted) in [
            ("$(", false),
            ("$node[", false),
            ("$node.", true),
            ("$items(", false),
        ] {
            let mut rest = code;
            while let Some(at) = rest.find(marker) {
                let after = &rest[at + marker.len()..];
                if dotted {
                    let end = after
                        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
                        .unwrap_or(after.len());
                    if end > 0 {
                        self.add_node(&after[..end]);
                    }
                } else {
                    match literal_name(after) {
                        Some(name) => self.add_node(&name),
                        None if after.trim_start().starts_with(')') => self.previous = true,
                        None => self.all_nodes = true,
                    }
                }
                rest = after;
            }
        }
        // A run or output chosen by argument: send every run of the nodes named.
        for call in [".all(", ".first(", ".last(", "$items("] {
            let mut rest = code;
            while let Some(at) = rest.find(call) {
                let after = &rest[at + call.len()..];
                let args = after.split(')').next().unwrap_or("");
                if args.contains(',') {
                    self.all_runs = true;
                }
                rest = after;
            }
        }
    }

    fn add_node(&mut self, name: &str) {
        if !self.nodes.iter().any(|n| n == name) {
            self.nodes.push(name.to_owned());
        }
    }
}

/// A quoted string at the start of `text` (after spaces), unquoted; `None` when the argument
/// is anything else.
fn literal_name(text: &str) -> Option<String> {
    let text = text.trim_start();
    let quote = text
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let body = &text[1..];
    let mut name = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => name.push(chars.next()?),
            c if c == quote => {
                let rest = chars.as_str().trim_start();
                // `$('a' + b)` is computed: only a whole literal names a node.
                return (rest.starts_with(')') || rest.starts_with(']') || rest.starts_with(','))
                    .then_some(name);
            }
            '$' if quote == '`' && chars.as_str().starts_with('{') => return None,
            c => name.push(c),
        }
    }
    None
}

/// The request's `data`: everything the prelude builds the expression's scope from.
pub(crate) fn data(ctx: &Context<'_>, needs: &Needs) -> Value {
    let mut data = Map::new();
    data.insert("itemIndex".into(), json!(ctx.item_index));
    data.insert("runIndex".into(), json!(ctx.run_index));
    data.insert(
        "node".into(),
        json!({
            "name": ctx.node.name,
            "id": ctx.node.id,
            "type": ctx.node.kind,
            "typeVersion": ctx.node.type_version,
            "parameters": ctx.node.parameters,
        }),
    );
    data.insert(
        "workflow".into(),
        json!({"id": ctx.workflow.id, "name": ctx.workflow.name, "active": ctx.workflow.active}),
    );
    data.insert(
        "execution".into(),
        json!({
            "id": ctx.execution.id,
            "mode": ctx.execution.mode,
            "resumeUrl": ctx.execution.resume_url,
            "customData": ctx.execution.custom_data,
        }),
    );
    let previous = ctx.source.first().and_then(Option::as_ref);
    data.insert(
        "prevNode".into(),
        previous.map_or(Value::Null, |s| {
            json!({"name": s.previous_node, "outputIndex": s.previous_node_output, "runIndex": s.previous_node_run})
        }),
    );
    data.insert(
        "prevNodeParameters".into(),
        previous
            .and_then(|s| ctx.workflow.node(&s.previous_node))
            .map_or(Value::Null, |n| Value::Object(n.parameters.clone())),
    );
    data.insert("now".into(), json!(ctx.now.timestamp_millis()));
    data.insert("timezone".into(), json!(ctx.timezone));
    data.insert("vars".into(), Value::Object(ctx.vars.clone()));
    data.insert(
        "env".into(),
        match ctx.env {
            EnvAccess::Blocked => Value::Null,
            EnvAccess::Allowed(vars) => json!(vars),
        },
    );
    if needs.input {
        data.insert(
            "items".into(),
            Value::Array(ctx.input.iter().map(lineage::item_json).collect()),
        );
    } else if needs.item {
        if let Some(item) = ctx.input.get(ctx.item_index) {
            data.insert("item".into(), lineage::item_json(item));
        }
    }
    let mut names: Vec<String> = if needs.all_nodes {
        ctx.workflow.nodes.iter().map(|n| n.name.clone()).collect()
    } else {
        needs.nodes.clone()
    };
    if let Some(previous) = previous.filter(|_| needs.previous) {
        if !names.contains(&previous.previous_node) {
            names.push(previous.previous_node.clone());
        }
    }
    let mut nodes = Map::new();
    for name in names {
        let info = node_info(ctx, &name, needs);
        nodes.insert(name, info);
    }
    data.insert("nodes".into(), Value::Object(nodes));
    Value::Object(data)
}

/// What `$('name')` and `$node["name"]` answer from.
fn node_info(ctx: &Context<'_>, name: &str, needs: &Needs) -> Value {
    let Some(node) = ctx.workflow.node(name) else {
        return json!({"exists": false});
    };
    let runs = ctx.run_data.get(name);
    let mut info = Map::new();
    info.insert("exists".into(), json!(true));
    info.insert("executed".into(), json!(runs.is_some()));
    info.insert("parameters".into(), Value::Object(node.parameters.clone()));
    let branch = connection_output(ctx, name);
    info.insert("connected".into(), json!(branch.is_some()));
    info.insert("branch".into(), json!(branch.unwrap_or(0)));
    let ancestor = ctx.workflow.ancestors(&ctx.node.name).contains(&name);
    info.insert("ancestor".into(), json!(ancestor));
    if let Some(runs) = runs {
        let outputs_of = |run: &crate::engine::data::TaskData| -> Value {
            match &run.data {
                None => Value::Null,
                Some(data) => Value::Array(
                    data.main
                        .iter()
                        .map(|output| match output {
                            None => Value::Null,
                            Some(items) => {
                                Value::Array(items.iter().map(lineage::item_json).collect())
                            }
                        })
                        .collect(),
                ),
            }
        };
        let last = runs.len().saturating_sub(1);
        let sent: Vec<Value> = runs
            .iter()
            .enumerate()
            .map(|(i, run)| {
                if needs.all_runs || i == last {
                    outputs_of(run)
                } else {
                    Value::Null
                }
            })
            .collect();
        info.insert("runs".into(), Value::Array(sent));
        if ancestor {
            info.insert("paired".into(), paired(ctx, name, ctx.item_index, "item"));
            if needs.matching {
                let all: Vec<Value> = (0..ctx.input.len())
                    .map(|i| paired(ctx, name, i, "itemMatching"))
                    .collect();
                info.insert("matching".into(), Value::Array(all));
            }
        }
    }
    Value::Object(info)
}

/// `{"item": ...}` or `{"error": ...}` for one paired-item lookup.
fn paired(ctx: &Context<'_>, name: &str, index: usize, method: &str) -> Value {
    match lineage::paired_item(ctx, name, index, method) {
        Ok(item) => json!({ "item": lineage::item_json(item) }),
        Err(e) => json!({"error": {"message": e.message, "description": e.description}}),
    }
}

/// The output of `name` through which the current node is reached (n8n's
/// `getNodeConnectionIndexes`): searched upstream, nearest first.
fn connection_output(ctx: &Context<'_>, name: &str) -> Option<usize> {
    let workflow = ctx.workflow;
    let mut seen: Vec<&str> = Vec::new();
    let mut queue: std::collections::VecDeque<&str> = [ctx.node.name.as_str()].into();
    while let Some(current) = queue.pop_front() {
        for input in 0..workflow.connected_inputs(current) {
            for edge in workflow.parents(current, input) {
                if edge.node == name {
                    return Some(edge.output);
                }
                if !seen.contains(&edge.node.as_str()) {
                    seen.push(edge.node.as_str());
                    queue.push_back(edge.node.as_str());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(code: &str) -> Needs {
        Needs::scan(&Template::parse(&format!("{{{{ {code} }}}}")))
    }

    #[test]
    fn literal_node_names_are_found() {
        let n = needs("$('Set A').item.json.x + $node[\"B\"].json.y + $items('C', 0).length");
        assert_eq!(n.nodes, vec!["Set A", "B", "C"]);
        assert!(!n.all_nodes);
        assert!(n.all_runs);
        assert_eq!(needs("$node.Web_hook.json").nodes, vec!["Web_hook"]);
    }

    #[test]
    fn a_computed_node_name_asks_for_every_node() {
        assert!(needs("$(name).item").all_nodes);
        assert!(needs("$('a' + b).item").all_nodes);
        assert!(!needs("$().item").all_nodes);
    }

    #[test]
    fn the_current_item_is_sent_only_when_mentioned() {
        assert!(needs("$json.a").item);
        assert!(!needs("$now.toISO()").item);
        assert!(needs("$input.all()").input);
    }
}
