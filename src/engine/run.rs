//! The run loop: takes nodes off the execution stack one at a time, runs them, records each run
//! in `runData`, and queues their children, in n8n's order.
//!
//! The behaviour follows n8n's workflow executor as its documentation and its executions show
//! it: a child is queued only when the output feeding it has items; `executionOrder: "v1"`
//! puts children at the front of the stack sorted by canvas position (depth-first, top-left
//! first), the older order appends them (breadth-first) and makes sure the parents of a
//! multi-input node run; multi-input nodes wait in `waitingExecution` until every input
//! arrived, or until the stack is empty; a failing node stops the run and stays on the stack,
//! so a retry resumes from it.

mod queue;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::data::{
    Connections, ConnectionsSource, ExecuteData, ExecutionState, ExecutionStatus, Item, JsonObject,
    PairedItem, PairedItems, RunExecutionData, SourceData, TaskData,
};
use super::node::{NodeError, NodeRun, Outcome, RequiredInputs};
use super::nodes::Registry;
use super::workflow::{ExecutionOrder, Node, OnError, Workflow};
use crate::expression::code::CodeLimits;
use crate::expression::{EnvAccess, ExecutionInfo, Expressions};

/// What every node of one execution shares: who runs it, expression services, limits, and
/// the ways out of the run (cancellation, the webhook answer, sub-workflows).
pub struct RunEnv {
    pub execution: ExecutionInfo,
    pub vars: JsonObject,
    /// `None` when `$env` is blocked.
    pub env_vars: Option<Arc<HashMap<String, String>>>,
    pub timezone: String,
    pub expressions: Expressions,
    /// The Code node's time and memory limits.
    pub code: CodeLimits,
    pub registry: Arc<Registry>,
    /// Stops the run (a stop request, a timeout, the server shutting down).
    pub cancel: CancellationToken,
    /// When the run must end (the workflow's or the instance's execution timeout).
    pub deadline: Option<Instant>,
    /// A fixed clock for tests; `None` is the wall clock.
    pub fixed_now: Option<chrono::DateTime<chrono::Utc>>,
    /// Services the flow nodes reach through (webhook answers, sub-workflows); absent in
    /// runs that have none (unit tests).
    pub services: Option<Arc<dyn super::services::Services>>,
}

impl RunEnv {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.fixed_now.unwrap_or_else(chrono::Utc::now)
    }

    pub fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    pub fn env_access(&self) -> EnvAccess<'_> {
        match &self.env_vars {
            Some(vars) => EnvAccess::Allowed(vars),
            None => EnvAccess::Blocked,
        }
    }

    /// Whether the run must stop now (canceled or past its deadline).
    pub fn stopped(&self) -> Option<StopReason> {
        if self.cancel.is_cancelled() {
            return Some(StopReason::Canceled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Some(StopReason::TimedOut);
        }
        None
    }
}

/// Why a run ended before its stack was empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    Canceled,
    TimedOut,
}

/// One execution in progress: the workflow it runs and its `data` document.
pub struct Run {
    pub workflow: Arc<Workflow>,
    pub data: RunExecutionData,
    pub env: Arc<RunEnv>,
    pub status: ExecutionStatus,
    /// The next `executionIndex` to give a node run.
    next_index: usize,
}

/// n8n's message when the same node would run with the same run index twice in a row.
const ENDLESS_LOOP: &str = "Stopped execution because it seems to be in an endless loop";

impl Run {
    /// A run that starts at `start` with `input` as its input (a trigger's data: one list of
    /// items, or one per output for a webhook that listens to several methods).
    pub fn start(
        workflow: Arc<Workflow>,
        env: Arc<RunEnv>,
        start: &Node,
        input: Connections,
    ) -> Run {
        let state = ExecutionState {
            node_execution_stack: vec![ExecuteData {
                node: start.raw.clone(),
                data: input,
                source: None,
            }],
            ..ExecutionState::default()
        };
        Run::resume(
            workflow,
            env,
            RunExecutionData {
                execution_data: Some(state),
                ..RunExecutionData::default()
            },
        )
    }

    /// A run that continues a stored `data` document (a retry, a resumed wait).
    pub fn resume(workflow: Arc<Workflow>, env: Arc<RunEnv>, data: RunExecutionData) -> Run {
        let next_index = data
            .result_data
            .run_data
            .values()
            .flatten()
            .map(|t| t.execution_index + 1)
            .max()
            .unwrap_or(0);
        Run {
            workflow,
            data,
            env,
            status: ExecutionStatus::Running,
            next_index,
        }
    }

    fn state(&mut self) -> &mut ExecutionState {
        self.data
            .execution_data
            .get_or_insert_with(ExecutionState::default)
    }

    /// Runs until the stack is empty, a node fails, a node waits, or the run is stopped.
    /// Answers the final status (`success`, `error`, `canceled` or `waiting`).
    pub async fn execute(&mut self) -> ExecutionStatus {
        let mut last_try: Option<(String, usize)> = None;
        // A resumed or retried run carries on with the custom data it had.
        if let Some(kept) = &self.data.result_data.metadata {
            self.env.execution.custom_data.replace(kept.clone());
        }
        loop {
            if let Some(reason) = self.env.stopped() {
                return self.finish_stopped(reason);
            }
            let Some(mut entry) = self.pop() else {
                break;
            };
            let name = node_name(&entry);
            let Some(mut node) = self.workflow.node(&name).cloned() else {
                // The stored stack names a node the workflow no longer has (a retry with a
                // newer version): nothing can run it.
                return self.fail_execution(json!({
                    "message": format!("Node \"{name}\" is not in the workflow"),
                    "name": "WorkflowOperationError",
                }));
            };
            // A resumed Wait node is marked disabled on the stack: it hands on its input.
            if entry.node.get("disabled").and_then(Value::as_bool) == Some(true) {
                node.disabled = true;
            }
            link_inputs_to_themselves(&mut entry.data);
            let run_index = self
                .data
                .result_data
                .run_data
                .get(&name)
                .map_or(0, Vec::len);
            if last_try.as_ref() == Some(&(name.clone(), run_index)) {
                return self
                    .fail_execution(json!({"message": ENDLESS_LOOP, "name": "ApplicationError"}));
            }
            if !self.has_required_input(&node, &entry) {
                self.state().node_execution_stack.push(entry);
                last_try = Some((name, run_index));
                continue;
            }
            last_try = Some((name.clone(), run_index));
            let step = self.run_node(&node, &entry, run_index).await;
            let custom = self.env.execution.custom_data.snapshot();
            if !custom.is_empty() {
                self.data.result_data.metadata = Some(custom);
            }
            match step {
                Step::Skipped => continue,
                Step::Failed(task) => {
                    let error = task.error.clone();
                    self.record(&name, run_index, task);
                    self.data.result_data.last_node_executed = Some(name);
                    self.data.result_data.error = error;
                    self.state().node_execution_stack.insert(0, entry);
                    self.status = ExecutionStatus::Error;
                    return self.status;
                }
                Step::Waiting(task, till) => {
                    self.record(&name, run_index, task);
                    self.data.result_data.last_node_executed = Some(name);
                    self.data.wait_till = Some(crate::domain::time::iso(till));
                    self.state().node_execution_stack.insert(0, entry);
                    self.status = ExecutionStatus::Waiting;
                    return self.status;
                }
                Step::Done(task, outputs) => {
                    self.record(&name, run_index, task);
                    self.data.result_data.last_node_executed = Some(name.clone());
                    self.queue_children(&node, &outputs, run_index);
                }
            }
            if self.state().node_execution_stack.is_empty() {
                self.run_waiting_nodes();
            }
        }
        self.status = ExecutionStatus::Success;
        self.status
    }

    fn pop(&mut self) -> Option<ExecuteData> {
        let stack = &mut self.state().node_execution_stack;
        if stack.is_empty() {
            None
        } else {
            Some(stack.remove(0))
        }
    }

    fn record(&mut self, name: &str, run_index: usize, task: TaskData) {
        let runs = self
            .data
            .result_data
            .run_data
            .entry(name.to_owned())
            .or_default();
        if run_index < runs.len() {
            runs[run_index] = task;
        } else {
            runs.push(task);
        }
    }

    fn finish_stopped(&mut self, reason: StopReason) -> ExecutionStatus {
        if reason == StopReason::TimedOut {
            self.data.result_data.error = Some(json!({
                "name": "TimeoutExecutionCancelledError",
                "message": "The execution was cancelled because it timed out",
                "level": "warning",
            }));
        }
        self.status = ExecutionStatus::Canceled;
        self.status
    }

    fn fail_execution(&mut self, error: Value) -> ExecutionStatus {
        let mut error = error;
        error["stack"] = json!(format!(
            "{}: {}",
            error["name"].as_str().unwrap_or("Error"),
            error["message"].as_str().unwrap_or("")
        ));
        self.data.result_data.error = Some(error);
        self.status = ExecutionStatus::Error;
        self.status
    }

    /// n8n's check before a node runs: in the older order, a multi-input node whose input is
    /// still missing goes back to the end of the stack.
    fn has_required_input(&self, node: &Node, entry: &ExecuteData) -> bool {
        if self.workflow.execution_order() == ExecutionOrder::V1 {
            return true;
        }
        let inputs = self.workflow.connected_inputs(&node.name);
        (0..inputs).all(|i| {
            self.workflow.parents(&node.name, i).is_empty()
                || entry.data.main.get(i).is_some_and(Option::is_some)
        })
    }

    /// Runs one node (with its retries) and says what became of it.
    async fn run_node(&mut self, node: &Node, entry: &ExecuteData, run_index: usize) -> Step {
        let start_time = self.env.now_ms();
        let started = Instant::now();
        let execution_index = self.next_index;
        self.next_index += 1;
        let source: Vec<Option<SourceData>> = entry
            .source
            .as_ref()
            .map(|s| s.main.clone())
            .unwrap_or_default();
        let task =
            |status: ExecutionStatus, data: Option<Connections>, error: Option<Value>| TaskData {
                start_time,
                execution_index,
                execution_time: started.elapsed().as_millis() as i64,
                execution_status: status,
                source: source.clone(),
                data,
                error,
                hints: Vec::new(),
            };

        let result = if node.disabled {
            Ok(match entry.data.main.first() {
                Some(Some(items)) => Outcome::single(items.clone()),
                _ => Outcome::Nothing,
            })
        } else if let Some(pinned) = self.pinned(node) {
            Ok(Outcome::single(pinned))
        } else {
            let Some(node_type) = self.env.registry.get(node) else {
                let error = NodeError::operation(format!("Unrecognized node type: {}", node.kind));
                return Step::Failed(task(
                    ExecutionStatus::Error,
                    None,
                    Some(error.to_json(node, self.env.now_ms())),
                ));
            };
            let input = execute_once(node, &entry.data);
            let items = match connection_items(&self.workflow, node_type.is_trigger(), &input) {
                Some(items) => items,
                None => return Step::Skipped,
            };
            let tries = if node.retry_on_fail {
                node.max_tries.unwrap_or(3.0).clamp(2.0, 5.0) as usize
            } else {
                1
            };
            let pause = if node.retry_on_fail {
                node.wait_between_tries.unwrap_or(1000.0).clamp(0.0, 5000.0) as u64
            } else {
                0
            };
            let context_key = format!("node:{}", node.name);
            let context = std::sync::Mutex::new(
                self.data
                    .execution_data
                    .as_ref()
                    .and_then(|s| s.context_data.get(&context_key))
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
            );
            let mut attempt = 0;
            let outcome = loop {
                let view = NodeRun {
                    node,
                    workflow: &self.workflow,
                    input: &input,
                    items: &items,
                    source: &source,
                    run_index,
                    run_data: &self.data.result_data.run_data,
                    env: &self.env,
                    context: &context,
                };
                let outcome = tokio::select! {
                    outcome = node_type.execute(&view) => outcome,
                    () = self.env.cancel.cancelled() => Err(NodeError::operation("The execution was canceled")),
                };
                attempt += 1;
                // n8n also retries a node whose first output item is an `{error}` item.
                let failed_item = matches!(&outcome, Ok(Outcome::Output(o))
                    if o.first().and_then(|i| i.first()).is_some_and(|i| i.json.contains_key("error")));
                let failed = outcome.is_err() || (node.retry_on_fail && failed_item);
                if !failed || attempt >= tries || self.env.cancel.is_cancelled() {
                    break outcome;
                }
                if pause > 0 {
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(pause)) => {},
                        () = self.env.cancel.cancelled() => {},
                    }
                }
            };
            // The node's context lives on in the execution (n8n's `contextData`), so a node
            // that runs again in this execution, or after a retry, finds what it kept.
            let context = context.into_inner().unwrap_or_else(|e| e.into_inner());
            if !context.is_empty() {
                self.state()
                    .context_data
                    .insert(context_key, Value::Object(context));
            }
            outcome
        };

        // Binary data the node made goes to the store before its output is kept anywhere.
        let result = match result {
            Ok(Outcome::Output(mut outputs)) => {
                match super::binary::keep_outputs(&self.env, &self.workflow.id, &mut outputs).await
                {
                    Ok(()) => Ok(Outcome::Output(outputs)),
                    Err(error) => Err(error),
                }
            }
            other => other,
        };
        let outputs = match result {
            Ok(Outcome::Wait { till }) => {
                let items = entry
                    .data
                    .main
                    .first()
                    .cloned()
                    .flatten()
                    .unwrap_or_default();
                return Step::Waiting(
                    task(
                        ExecutionStatus::Waiting,
                        Some(Connections::single(items)),
                        None,
                    ),
                    till,
                );
            }
            Ok(Outcome::Output(outputs)) => Some(outputs),
            Ok(Outcome::Nothing) => None,
            Err(error) => {
                let error_json = error.to_json(node, self.env.now_ms());
                if node.on_error() == OnError::StopWorkflow {
                    return Step::Failed(task(ExecutionStatus::Error, None, Some(error_json)));
                }
                // The node continues: its input goes on as its output, the run keeps the error.
                let passed = entry.data.main.first().cloned().flatten();
                let outputs = passed.map(|items| vec![items]);
                let outputs = self.finish_outputs(node, entry, outputs);
                let Some(outputs) = outputs else {
                    return Step::Skipped;
                };
                return Step::Done(
                    task(
                        ExecutionStatus::Error,
                        Some(Connections {
                            main: outputs.iter().cloned().map(Some).collect(),
                        }),
                        Some(error_json),
                    ),
                    outputs,
                );
            }
        };
        let outputs = self.finish_outputs(node, entry, outputs);
        let Some(mut outputs) = outputs else {
            return Step::Skipped;
        };
        if node.on_error() == OnError::ContinueErrorOutput && !node.disabled {
            self.split_error_items(node, entry, &mut outputs);
        }
        Step::Done(
            task(
                ExecutionStatus::Success,
                Some(Connections {
                    main: outputs.iter().cloned().map(Some).collect(),
                }),
                None,
            ),
            outputs,
        )
    }

    /// Pinned data replaces a node's run, in manual runs only.
    fn pinned(&self, node: &Node) -> Option<Vec<Item>> {
        if self.env.execution.mode != "manual" {
            return None;
        }
        let pinned = self.workflow.pin_data.get(&node.name)?.as_array()?;
        Some(
            pinned
                .iter()
                .map(|entry| match entry.get("json") {
                    Some(Value::Object(json)) => Item::new(json.clone()),
                    _ => Item::new(entry.as_object().cloned().unwrap_or_default()),
                })
                .collect(),
        )
    }

    /// Paired items filled in where n8n infers them, and `alwaysOutputData`.
    fn finish_outputs(
        &self,
        node: &Node,
        entry: &ExecuteData,
        outputs: Option<Vec<Vec<Item>>>,
    ) -> Option<Vec<Vec<Item>>> {
        let mut outputs = outputs;
        if let Some(outputs) = outputs.as_mut() {
            infer_paired_items(outputs, &entry.data);
        }
        let empty = outputs
            .as_ref()
            .and_then(|o| o.first())
            .is_none_or(Vec::is_empty);
        if empty && node.always_output_data {
            let mut links = Vec::new();
            for (input, items) in entry.data.main.iter().enumerate() {
                if let Some(items) = items {
                    links.extend((0..items.len()).map(|i| PairedItem {
                        item: i,
                        input: Some(input),
                        source_overwrite: None,
                    }));
                }
            }
            let list = outputs.get_or_insert_with(Vec::new);
            let item = Item {
                paired_item: Some(PairedItems::Many(links)),
                ..Item::default()
            };
            if list.is_empty() {
                list.push(vec![item]);
            } else {
                list[0] = vec![item];
            }
        }
        outputs
    }

    /// `onError: continueErrorOutput`: items that carry an error move to the extra last
    /// output, merged with the json of the input item they came from.
    fn split_error_items(&self, node: &Node, entry: &ExecuteData, outputs: &mut Vec<Vec<Item>>) {
        let Some(node_type) = self.env.registry.get(node) else {
            return;
        };
        let regular = node_type.outputs(node);
        outputs.resize_with(regular + 1, Vec::new);
        let mut errors = Vec::new();
        for output in outputs.iter_mut().take(regular) {
            let items = std::mem::take(output);
            for item in items {
                let is_error = item.error.is_some()
                    || (item.json.contains_key("error")
                        && (item.json.len() == 1
                            || (item.json.len() == 2 && item.json.contains_key("message"))));
                if !is_error {
                    output.push(item);
                    continue;
                }
                let origin = item.lineage().first().and_then(|link| {
                    entry
                        .data
                        .main
                        .get(link.input())
                        .and_then(Option::as_ref)
                        .and_then(|items| items.get(link.item))
                });
                let mut merged = item.clone();
                if let Some(origin) = origin {
                    let mut json = origin.json.clone();
                    json.extend(item.json);
                    merged.json = json;
                }
                errors.push(merged);
            }
        }
        outputs[regular] = errors;
    }
}

/// What became of one node.
enum Step {
    /// The node had no input to run with (it is not recorded, as in n8n).
    Skipped,
    Done(TaskData, Vec<Vec<Item>>),
    Failed(TaskData),
    Waiting(TaskData, chrono::DateTime<chrono::Utc>),
}

fn node_name(entry: &ExecuteData) -> String {
    entry
        .node
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// n8n links every input item to its own index before the node runs, so a node that passes
/// items through keeps their lineage without doing anything.
fn link_inputs_to_themselves(data: &mut Connections) {
    for (input, items) in data.main.iter_mut().enumerate() {
        if let Some(items) = items {
            for (index, item) in items.iter_mut().enumerate() {
                item.paired_item = Some(PairedItems::One(PairedItem::on_input(index, input)));
            }
        }
    }
}

/// `executeOnce`: only the first item of each input goes in.
fn execute_once(node: &Node, data: &Connections) -> Connections {
    if !node.execute_once {
        return data.clone();
    }
    Connections {
        main: data
            .main
            .iter()
            .map(|i| {
                i.as_ref()
                    .map(|items| items.iter().take(1).cloned().collect())
            })
            .collect(),
    }
}

/// The items a node's expressions see; `None` when a regular node has nothing to run with.
fn connection_items(workflow: &Workflow, trigger: bool, input: &Connections) -> Option<Vec<Item>> {
    if trigger {
        return Some(input.items(0).to_vec());
    }
    if input.main.is_empty() {
        return None;
    }
    let mut chosen = input.main[0].as_ref();
    if workflow.execution_order() == ExecutionOrder::V1 {
        if let Some(found) = input.main.iter().flatten().find(|items| !items.is_empty()) {
            chosen = Some(found);
        }
    }
    chosen.filter(|items| !items.is_empty()).cloned()
}

/// Where a node left `pairedItem` out, n8n fills it in when it can tell: one item in and out,
/// as many items out as in, or many items into one.
fn infer_paired_items(outputs: &mut [Vec<Item>], input: &Connections) {
    let single_input = input.main.len() == 1;
    let input_len = input.items(0).len();
    let one_to_one = single_input && input_len == 1;
    let same_count = outputs.len() == 1 && single_input && outputs[0].len() == input_len;
    let many_to_one = outputs.len() == 1 && outputs[0].len() == 1 && single_input && input_len > 1;
    for output in outputs.iter_mut() {
        for (index, item) in output.iter_mut().enumerate() {
            if item.paired_item.is_some() {
                continue;
            }
            let link = if one_to_one || many_to_one {
                0
            } else if same_count {
                index
            } else {
                return;
            };
            item.paired_item = Some(PairedItems::One(PairedItem::new(link)));
        }
    }
}
