//! Where finished nodes send their items: queueing children in n8n's order (`v1` by canvas
//! position at the front of the stack, the older order at the back), the inputs of
//! multi-input nodes collected in `waitingExecution`, and the waiting nodes run once the
//! stack is empty.

use super::*;

impl Run {
    /// Queues the nodes that the finished node's outputs feed.
    pub(super) fn queue_children(&mut self, node: &Node, outputs: &[Vec<Item>], run_index: usize) {
        let workflow = Arc::clone(&self.workflow);
        let order = workflow.execution_order();
        let mut to_add: Vec<(usize, &crate::engine::workflow::Edge)> = Vec::new();
        for (output, items) in outputs.iter().enumerate() {
            for edge in workflow.children(&node.name, output) {
                let legacy_empty_feed = order == ExecutionOrder::V0 && edge.input > 0;
                if !items.is_empty() || legacy_empty_feed {
                    to_add.push((output, edge));
                }
            }
        }
        if order == ExecutionOrder::V1 {
            // Bottom-right first, each put at the front: the top-left child runs first.
            to_add.sort_by(|(_, a), (_, b)| {
                let pa = workflow.node(&a.node).map_or([0.0; 2], |n| n.position);
                let pb = workflow.node(&b.node).map_or([0.0; 2], |n| n.position);
                pb[1]
                    .partial_cmp(&pa[1])
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(
                        pb[0]
                            .partial_cmp(&pa[0])
                            .unwrap_or(std::cmp::Ordering::Equal),
                    )
            });
        }
        for (output, edge) in to_add {
            self.add_node_to_be_executed(edge, output, &node.name, &outputs[output], run_index);
        }
    }

    pub(super) fn enqueue(&mut self, entry: ExecuteData) {
        let v1 = self.workflow.execution_order() == ExecutionOrder::V1;
        let stack = &mut self.state().node_execution_stack;
        if v1 {
            stack.insert(0, entry);
        } else {
            stack.push(entry);
        }
    }

    pub(super) fn add_node_to_be_executed(
        &mut self,
        edge: &crate::engine::workflow::Edge,
        output: usize,
        parent: &str,
        items: &[Item],
        run_index: usize,
    ) {
        let workflow = Arc::clone(&self.workflow);
        let Some(target) = workflow.node(&edge.node) else {
            return;
        };
        let source = SourceData {
            previous_node: parent.to_owned(),
            previous_node_output: output,
            previous_node_run: run_index,
        };
        let inputs = workflow.connected_inputs(&edge.node);
        if inputs <= 1 {
            let mut main: Vec<Option<Vec<Item>>> = vec![None; edge.input + 1];
            main[edge.input] = Some(items.to_vec());
            self.enqueue(ExecuteData {
                node: target.raw.clone(),
                data: Connections { main },
                source: Some(ConnectionsSource {
                    main: vec![Some(source)],
                }),
            });
            return;
        }

        // A node with several inputs waits until every input has arrived.
        let state = self.state();
        let was_waiting = state.waiting_execution.contains_key(&edge.node);
        let waiting = state
            .waiting_execution
            .entry(edge.node.clone())
            .or_default();
        let slot = waiting
            .iter()
            .find(|(_, c)| c.main.get(edge.input).is_none_or(Option::is_none))
            .map(|(k, _)| *k)
            .unwrap_or_else(|| waiting.keys().max().map_or(0, |k| k + 1));
        let entry = waiting.entry(slot).or_insert_with(|| Connections {
            main: vec![None; inputs],
        });
        if entry.main.len() < inputs {
            entry.main.resize(inputs, None);
        }
        entry.main[edge.input] = Some(items.to_vec());
        let complete = entry.main.iter().all(Option::is_some);
        let sources = state
            .waiting_execution_source
            .entry(edge.node.clone())
            .or_default()
            .entry(slot)
            .or_insert_with(|| ConnectionsSource {
                main: vec![None; inputs],
            });
        if sources.main.len() < inputs {
            sources.main.resize(inputs, None);
        }
        sources.main[edge.input] = Some(source);

        if complete {
            let data = state
                .waiting_execution
                .get_mut(&edge.node)
                .and_then(|w| w.shift_remove(&slot))
                .unwrap_or_default();
            let source = state
                .waiting_execution_source
                .get_mut(&edge.node)
                .and_then(|w| w.shift_remove(&slot));
            if state
                .waiting_execution
                .get(&edge.node)
                .is_some_and(|w| w.is_empty())
            {
                state.waiting_execution.shift_remove(&edge.node);
                state.waiting_execution_source.shift_remove(&edge.node);
            }
            self.enqueue(ExecuteData {
                node: target.raw.clone(),
                data,
                source,
            });
            return;
        }
        if !was_waiting && workflow.execution_order() == ExecutionOrder::V0 {
            self.force_parents(&edge.node, parent, output, items, run_index);
        }
    }

    /// The older order makes sure a waiting multi-input node gets all its inputs: a parent
    /// branch that has not run and is not queued is started with one empty item.
    pub(super) fn force_parents(
        &mut self,
        target: &str,
        parent: &str,
        output: usize,
        items: &[Item],
        run_index: usize,
    ) {
        let workflow = Arc::clone(&self.workflow);
        let siblings: Vec<&str> = (0..workflow.connected_outputs(parent))
            .flat_map(|o| workflow.children(parent, o))
            .map(|e| e.node.as_str())
            .collect();
        for input in 0..workflow.connected_inputs(target) {
            for feeder in workflow.parents(target, input) {
                let feeder = feeder.node.as_str();
                if feeder == parent {
                    continue;
                }
                if siblings.contains(&feeder) && !self.input_is_empty(feeder, run_index) {
                    continue;
                }
                if self.on_stack(feeder) || self.data.result_data.run_data.contains_key(feeder) {
                    continue;
                }
                let mut chain: Vec<&str> = workflow.ancestors(feeder);
                chain.reverse();
                chain.push(feeder);
                let mut to_add = Some(feeder);
                for candidate in chain {
                    if candidate != feeder && siblings.contains(&candidate) {
                        to_add = None;
                        break;
                    }
                    if self.on_stack(candidate) {
                        to_add = None;
                        break;
                    }
                    if self.data.result_data.run_data.contains_key(candidate) {
                        break;
                    }
                    to_add = Some(candidate);
                }
                let Some(to_add) = to_add else {
                    continue;
                };
                if workflow.ancestors(to_add).contains(&parent) && items.is_empty() {
                    continue;
                }
                let starts_empty = workflow.connected_inputs(to_add) == 0
                    || self.input_is_empty(to_add, run_index);
                if !starts_empty {
                    continue;
                }
                let Some(node) = workflow.node(to_add) else {
                    continue;
                };
                self.enqueue(ExecuteData {
                    node: node.raw.clone(),
                    data: Connections::single(vec![Item::default()]),
                    source: Some(ConnectionsSource {
                        main: vec![Some(SourceData {
                            previous_node: parent.to_owned(),
                            previous_node_output: output,
                            previous_node_run: run_index,
                        })],
                    }),
                });
            }
        }
    }

    /// Whether nothing arrived on input 0 of `node` from its parents' run `run_index`.
    pub(super) fn input_is_empty(&self, node: &str, run_index: usize) -> bool {
        self.workflow.parents(node, 0).iter().all(|edge| {
            self.data
                .result_data
                .run_data
                .get(&edge.node)
                .and_then(|runs| runs.get(run_index))
                .and_then(|t| t.data.as_ref())
                .is_none_or(|d| d.items(edge.output).is_empty())
        })
    }

    pub(super) fn on_stack(&self, node: &str) -> bool {
        self.data.execution_data.as_ref().is_some_and(|s| {
            s.node_execution_stack
                .iter()
                .any(|e| e.node.get("name").and_then(Value::as_str) == Some(node))
        })
    }

    /// When the stack is empty, a multi-input node still waiting runs with what it has.
    pub(super) fn run_waiting_nodes(&mut self) {
        let workflow = Arc::clone(&self.workflow);
        let v1 = workflow.execution_order() == ExecutionOrder::V1;
        loop {
            let waiting: Vec<String> = self
                .data
                .execution_data
                .as_ref()
                .map(|s| s.waiting_execution.keys().cloned().collect())
                .unwrap_or_default();
            let mut restarted = false;
            for name in &waiting {
                let Some(node) = workflow.node(name) else {
                    continue;
                };
                let inputs = self
                    .env
                    .registry
                    .get(node)
                    .map_or(workflow.connected_inputs(name), |t| {
                        t.inputs(node).max(workflow.connected_inputs(name))
                    });
                let required = self
                    .env
                    .registry
                    .get(node)
                    .map(|t| t.required_inputs(node))
                    .filter(|_| v1);
                let covers_all = match &required {
                    Some(RequiredInputs::Count(n)) => *n >= inputs,
                    Some(RequiredInputs::Indexes(list)) => list.len() >= inputs,
                    _ => false,
                };
                if covers_all {
                    continue;
                }
                if workflow
                    .ancestors(name)
                    .iter()
                    .any(|a| waiting.iter().any(|w| w == a))
                {
                    continue;
                }
                let state = self.state();
                let Some(slots) = state.waiting_execution.get_mut(name) else {
                    continue;
                };
                let Some(&first) = slots.keys().min() else {
                    continue;
                };
                let with_data: Vec<usize> = slots[&first]
                    .main
                    .iter()
                    .enumerate()
                    .filter(|(_, d)| d.is_some())
                    .map(|(i, _)| i)
                    .collect();
                let satisfied = match &required {
                    Some(RequiredInputs::Count(n)) => with_data.len() >= *n,
                    Some(RequiredInputs::Indexes(list)) => {
                        list.iter().all(|r| with_data.contains(r))
                    }
                    _ => true,
                };
                if !satisfied {
                    continue;
                }
                let data = slots.shift_remove(&first).unwrap_or_default();
                let empty_slots = slots.is_empty();
                let source = state
                    .waiting_execution_source
                    .get_mut(name)
                    .and_then(|s| s.shift_remove(&first));
                if empty_slots {
                    state.waiting_execution.shift_remove(name);
                    state.waiting_execution_source.shift_remove(name);
                }
                let mut main: Vec<Option<Vec<Item>>> = data
                    .main
                    .into_iter()
                    .map(|d| Some(d.unwrap_or_default()))
                    .collect();
                let has_items = main.iter().flatten().any(|d| !d.is_empty());
                if has_items {
                    while main.len() < inputs {
                        main.push(Some(Vec::new()));
                    }
                    state.node_execution_stack.push(ExecuteData {
                        node: node.raw.clone(),
                        data: Connections { main },
                        source,
                    });
                    return;
                }
                restarted = true;
                break;
            }
            if !restarted {
                return;
            }
        }
    }
}
