//! What the JavaScript side is told about the run, for one evaluation.
//!
//! Converting the run's data to JavaScript costs time in proportion to its size, so only what
//! the expression's text mentions is sent: the current item for `$json`, all input items for
//! `$input`, and for each node named in `$('Name')`, `$node["Name"]` or `$items("Name")` its
//! items, parameters and the item paired with the current one. A node named by a computed
//! value (`$(name)`) makes every node that ran part of the request.

use serde::Serialize;

use super::lineage;
use super::template::Template;
use super::{Context, EnvAccess, ExpressionError};
use crate::engine::data::{Item, JsonObject};
use crate::engine::workflow::Node;

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
    pub env: bool,
    pub vars: bool,
    pub parameters: bool,
}

impl Needs {
    pub fn scan(template: &Template) -> Needs {
        let mut needs = Needs::default();
        for code in template.codes() {
            needs.scan_code(code);
        }
        needs
    }

    pub fn scan_code(&mut self, code: &str) {
        if ["$json", "$binary", "$data", "$thisItem"]
            .iter()
            .any(|name| code.contains(name))
        {
            self.item = true;
        }
        if code.contains("$input") || code.contains("$item(") || code.contains("$items()") {
            self.input = true;
        }
        self.env |= code.contains("$env");
        self.vars |= code.contains("$vars");
        self.parameters |= code.contains("$parameter") || code.contains("$rawParameter");
        // `$evaluateExpression` runs text only known at run time: send what it may use.
        if code.contains("$evaluateExpression") {
            self.item = true;
            self.input = true;
            self.all_nodes = true;
            self.matching = true;
            self.env = true;
            self.vars = true;
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

/// The request's `data`: everything the prelude builds the expression's scope from. It
/// borrows the run and is written straight to JSON (no copy of the items).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Data<'a> {
    item_index: usize,
    run_index: usize,
    node: NodeView<'a>,
    workflow: WorkflowView<'a>,
    execution: ExecutionView<'a>,
    prev_node: Option<PreviousNode<'a>>,
    prev_node_parameters: Option<&'a JsonObject>,
    now: i64,
    timezone: &'a str,
    vars: Option<&'a JsonObject>,
    /// `null` when `$env` is blocked (or not mentioned).
    env: Option<&'a std::collections::HashMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<&'a [Item]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<&'a Item>,
    nodes: indexmap::IndexMap<String, NodeInfo<'a>>,
    /// Variables the node offers its own expressions (`$response`, `$pageCount`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    additional: Option<&'a JsonObject>,
    /// `$parameter`'s values: per parameter holding an expression, `{"value": v}` or
    /// `{"error": {...}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_parameters: Option<JsonObject>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeView<'a> {
    name: &'a str,
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    type_version: f64,
    parameters: Option<&'a JsonObject>,
}

#[derive(Serialize)]
struct WorkflowView<'a> {
    id: &'a str,
    name: &'a str,
    active: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionView<'a> {
    id: &'a str,
    mode: &'a str,
    resume_url: &'a str,
    custom_data: JsonObject,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PreviousNode<'a> {
    name: &'a str,
    output_index: usize,
    run_index: usize,
}

/// The outputs of one run: items per output, `null` for an output with no data.
type Outputs<'a> = &'a [Option<Vec<Item>>];

/// What `$('name')` and `$node["name"]` answer from.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NodeInfo<'a> {
    exists: bool,
    executed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<&'a JsonObject>,
    connected: bool,
    branch: usize,
    ancestor: bool,
    /// Per run, the outputs (`null` for runs not sent, or that failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    runs: Option<Vec<Option<Outputs<'a>>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paired: Option<Paired<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    matching: Option<Vec<Paired<'a>>>,
}

/// One paired-item lookup: `{"item": ...}`, `{"error": {message, description}}` or
/// `"undefined"`.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Paired<'a> {
    Item(&'a Item),
    Error(ExpressionError),
    /// `{"undefined": null}`
    Undefined,
}

impl Serialize for ExpressionError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("ExpressionError", 2)?;
        state.serialize_field("message", &self.message)?;
        state.serialize_field("description", &self.description)?;
        state.end()
    }
}

pub(crate) fn data<'a>(ctx: &'a Context<'a>, needs: &Needs) -> Data<'a> {
    let previous = ctx.source.first().and_then(Option::as_ref);
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
    let nodes = names
        .into_iter()
        .map(|name| {
            let info = node_info(ctx, &name, needs);
            (name, info)
        })
        .collect();
    Data {
        item_index: ctx.item_index,
        run_index: ctx.run_index,
        node: NodeView {
            name: &ctx.node.name,
            id: &ctx.node.id,
            kind: &ctx.node.kind,
            type_version: ctx.node.type_version,
            parameters: needs.parameters.then_some(&ctx.node.parameters),
        },
        workflow: WorkflowView {
            id: &ctx.workflow.id,
            name: &ctx.workflow.name,
            active: ctx.workflow.active,
        },
        execution: ExecutionView {
            id: &ctx.execution.id,
            mode: &ctx.execution.mode,
            resume_url: &ctx.execution.resume_url,
            custom_data: ctx.execution.custom_data.snapshot(),
        },
        prev_node: previous.map(|s| PreviousNode {
            name: &s.previous_node,
            output_index: s.previous_node_output,
            run_index: s.previous_node_run,
        }),
        prev_node_parameters: previous
            .filter(|_| needs.input)
            .and_then(|s| ctx.workflow.node(&s.previous_node))
            .map(|n| &n.parameters),
        now: ctx.now.timestamp_millis(),
        timezone: ctx.timezone,
        vars: needs.vars.then_some(ctx.vars),
        env: match ctx.env {
            EnvAccess::Allowed(vars) if needs.env => Some(vars),
            _ => None,
        },
        items: needs.input.then_some(ctx.input),
        item: (needs.item && !needs.input)
            .then(|| ctx.input.get(ctx.item_index))
            .flatten(),
        nodes,
        additional: ctx.additional,
        resolved_parameters: None,
    }
}

fn node_info<'a>(ctx: &'a Context<'a>, name: &str, needs: &Needs) -> NodeInfo<'a> {
    let Some(node) = ctx.workflow.node(name) else {
        return NodeInfo {
            exists: false,
            executed: false,
            parameters: None,
            connected: false,
            branch: 0,
            ancestor: false,
            runs: None,
            paired: None,
            matching: None,
        };
    };
    let runs = ctx.run_data.get(name);
    let branch = connection_output(ctx, name);
    let ancestor = ctx.workflow.ancestors(&ctx.node.name).contains(&name);
    let last = runs.map_or(0, |r| r.len().saturating_sub(1));
    let sent = runs.map(|runs| {
        runs.iter()
            .enumerate()
            .map(|(i, run)| {
                (needs.all_runs || i == last)
                    .then(|| run.data.as_ref().map(|d| d.main.as_slice()))
                    .flatten()
            })
            .collect()
    });
    let pairing = runs.is_some() && ancestor;
    NodeInfo {
        exists: true,
        executed: runs.is_some(),
        parameters: Some(&node.parameters),
        connected: branch.is_some(),
        branch: branch.unwrap_or(0),
        ancestor,
        runs: sent,
        paired: pairing.then(|| paired(ctx, node, ctx.item_index, "item")),
        matching: (pairing && needs.matching).then(|| {
            (0..ctx.input.len())
                .map(|i| paired(ctx, node, i, "itemMatching"))
                .collect()
        }),
    }
}

fn paired<'a>(ctx: &'a Context<'a>, node: &'a Node, index: usize, method: &'a str) -> Paired<'a> {
    match lineage::paired_item(ctx, &node.name, index, method) {
        Ok(Some(item)) => Paired::Item(item),
        Ok(None) => Paired::Undefined,
        Err(e) => Paired::Error(e),
    }
}

/// The output of `name` through which the current node is reached (n8n's
/// `getNodeConnectionIndexes`): searched upstream, nearest first.
pub(crate) fn connection_output(ctx: &Context<'_>, name: &str) -> Option<usize> {
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
