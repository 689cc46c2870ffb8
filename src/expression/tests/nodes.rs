//! The run as expressions see it: the current item, the input, other nodes, the workflow and
//! the execution.

use serde_json::json;

use super::fixture::Fixture;
use super::{check, error};

#[test]
fn the_current_item_and_the_input() {
    check(&[
        ("={{ $json.email }}", json!("ada@example.com")),
        ("={{ $input.item.json.name }}", json!("Ada Lovelace")),
        ("={{ $input.first().json.name }}", json!("Ada Lovelace")),
        ("={{ $input.last().json.name }}", json!("Alan Turing")),
        ("={{ $input.all().length }}", json!(2)),
        ("={{ $input.all().map(i => i.json.age) }}", json!([36, 41])),
        ("={{ $input.params.mode }}", json!("raw")),
        ("={{ $itemIndex }}", json!(0)),
        ("={{ $runIndex }}", json!(0)),
        ("={{ $binary }}", json!({})),
        ("={{ $items().length }}", json!(2)),
        ("={{ $item(1).$json.name }}", json!("Alan Turing")),
    ]);
}

#[test]
fn the_second_item_sees_its_own_json() {
    let mut fixture = Fixture::standard();
    fixture.item_index = 1;
    assert_eq!(fixture.eval("={{ $json.name }}"), Ok(json!("Alan Turing")));
    assert_eq!(fixture.eval("={{ $itemIndex }}"), Ok(json!(1)));
    assert_eq!(
        fixture.eval("={{ $('Webhook').item.json.body.people[1].name }}"),
        Ok(json!("Alan Turing"))
    );
}

#[test]
fn other_nodes_by_name() {
    check(&[
        ("={{ $('Prepare').item.json.name }}", json!("Ada Lovelace")),
        ("={{ $('Webhook').item.json.query.debug }}", json!("1")),
        ("={{ $('Prepare').first().json.age }}", json!(36)),
        ("={{ $('Prepare').last().json.age }}", json!(41)),
        ("={{ $('Prepare').all().length }}", json!(2)),
        (
            "={{ $('Prepare').all(0, 0)[1].json.name }}",
            json!("Alan Turing"),
        ),
        ("={{ $('Prepare').isExecuted }}", json!(true)),
        ("={{ $('Unrun').isExecuted }}", json!(false)),
        ("={{ $('Prepare').params.mode }}", json!("raw")),
        (
            "={{ $('Prepare').itemMatching(1).json.name }}",
            json!("Alan Turing"),
        ),
        ("={{ $node['Prepare'].json.name }}", json!("Ada Lovelace")),
        ("={{ $node[\"Webhook\"].parameter.path }}", json!("people")),
        ("={{ $node.Prepare.runIndex }}", json!(0)),
        ("={{ $items('Prepare').length }}", json!(2)),
        ("={{ $items('Prepare', 0, 0)[0].json.age }}", json!(36)),
        ("={{ $().item.json.name }}", json!("Ada Lovelace")),
        ("={{ (n => $(n).first().json.age)('Prepare') }}", json!(36)),
    ]);
}

#[test]
fn referencing_nodes_that_cannot_answer_fails_with_n8ns_messages() {
    assert_eq!(
        error("={{ $('Nope').item.json }}"),
        "Referenced node doesn't exist"
    );
    assert_eq!(
        error("={{ $('Unrun').first().json }}"),
        "Node 'Unrun' hasn't been executed"
    );
    assert_eq!(error("={{ $('Unrun').item.json }}"), "Invalid expression");
    assert_eq!(
        error("={{ $node['Nope'].json }}"),
        "Referenced node doesn't exist"
    );
    assert_eq!(
        error("={{ $('Prepare').all(3) }}"),
        "Node \"Prepare\" has no branch with index 3."
    );
    assert_eq!(
        error("={{ $input.first(1) }}"),
        "$input.first() should have no arguments"
    );
}

#[test]
fn an_item_without_lineage_cannot_be_paired() {
    let mut fixture = Fixture::standard();
    if let Some(runs) = fixture.run_data.get_mut("Prepare") {
        if let Some(items) = runs[0].data.as_mut().and_then(|d| d.main[0].as_mut()) {
            items[0].paired_item = None;
        }
    }
    let message = fixture
        .eval("={{ $('Webhook').item.json }}")
        .map_err(|e| e.message);
    assert_eq!(
        message,
        Err("Paired item data for item from node 'Prepare' is unavailable. Ensure 'Prepare' is providing the required output.".into())
    );
}

#[test]
fn workflow_execution_and_variables() {
    check(&[
        ("={{ $workflow.id }}", json!("wf1")),
        ("={{ $workflow.name }}", json!("People")),
        ("={{ $workflow.active }}", json!(true)),
        ("={{ $execution.id }}", json!("42")),
        ("={{ $execution.mode }}", json!("production")),
        (
            "={{ $execution.resumeUrl }}",
            json!("http://localhost:5678/webhook-waiting/42"),
        ),
        (
            "={{ $execution.customData.set('k', 1), $execution.customData.get('k') }}",
            json!("1"),
        ),
        ("={{ $vars.region }}", json!("eu")),
        ("={{ $prevNode.name }}", json!("Prepare")),
        ("={{ $prevNode.outputIndex }}", json!(0)),
        ("={{ $nodeVersion }}", json!(3.4)),
    ]);
}

#[test]
fn env_is_blocked_unless_allowed() {
    assert_eq!(error("={{ $env.HOME }}"), "access to env vars denied");
    let mut fixture = Fixture::standard();
    fixture.env = Some([("GREETING".to_owned(), "hi".to_owned())].into());
    assert_eq!(fixture.eval("={{ $env.GREETING }}"), Ok(json!("hi")));
}

#[test]
fn helpers_if_ifempty_min_max_jmespath() {
    check(&[
        ("={{ $if($json.age > 30, 'old', 'young') }}", json!("old")),
        ("={{ $if(false, 1) }}", json!(false)),
        ("={{ $ifEmpty($json.empty, 'dflt') }}", json!("dflt")),
        (
            "={{ $ifEmpty($json.tags, 'dflt') }}",
            json!(["math", "poetry", "math"]),
        ),
        ("={{ $min(3, 1, 2) }}", json!(1)),
        ("={{ $max(3, 1, 2) }}", json!(3)),
        ("={{ $jmespath($json, 'nested.a.b[1]') }}", json!(2)),
        (
            "={{ $jmespath($input.all(), '[*].json.name') }}",
            json!(["Ada Lovelace", "Alan Turing"]),
        ),
    ]);
    // n8n rejects a one-argument $if while rewriting the code: a syntax error to the user.
    assert_eq!(error("={{ $if(true) }}"), "invalid syntax");
}

#[test]
fn the_if_helper_only_evaluates_the_branch_it_takes() {
    check(&[(
        "={{ $if($json.missing, $json.missing.deep, 'none') }}",
        json!("none"),
    )]);
}

/// Gives Webhook a second item and links Prepare's first item to `links` of Webhook.
fn with_lineage(links: Vec<crate::engine::data::PairedItem>) -> Fixture {
    use crate::engine::data::{Item, PairedItems};
    let mut fixture = Fixture::standard();
    if let Some(runs) = fixture.run_data.get_mut("Webhook") {
        if let Some(items) = runs[0].data.as_mut().and_then(|d| d.main[0].as_mut()) {
            let mut second = items[0].json.clone();
            second.insert("query".into(), json!({"debug": "2"}));
            items.push(Item::new(second));
        }
    }
    if let Some(runs) = fixture.run_data.get_mut("Prepare") {
        if let Some(items) = runs[0].data.as_mut().and_then(|d| d.main[0].as_mut()) {
            items[0].paired_item = Some(PairedItems::Many(links));
        }
    }
    fixture
}

#[test]
fn an_item_made_from_several_items_pairs_when_they_agree() {
    use crate::engine::data::PairedItem;
    let fixture = with_lineage(vec![PairedItem::new(1), PairedItem::new(1)]);
    assert_eq!(
        fixture.eval("={{ $('Webhook').item.json.query.debug }}"),
        Ok(json!("2"))
    );
    let fixture = with_lineage(vec![PairedItem::new(0), PairedItem::new(1)]);
    assert_eq!(
        fixture
            .eval("={{ $('Webhook').item.json }}")
            .map_err(|e| e.message),
        Err("Multiple matches found".into())
    );
    // A link to an input the node never had is skipped; with none left, n8n's lookup ends
    // in undefined (its own TypeError, swallowed like any other).
    let fixture = with_lineage(vec![PairedItem::on_input(0, 3)]);
    assert_eq!(fixture.eval("={{ $('Webhook').item }}"), Ok(json!(null)));
}

#[test]
fn custom_data_set_by_one_expression_is_seen_by_the_next() {
    let fixture = Fixture::standard();
    assert_eq!(
        fixture.eval("={{ $execution.customData.set('k', 42), $execution.customData.set('bad key', 1), $execution.customData.get('k') }}"),
        Ok(json!("42"))
    );
    assert_eq!(
        fixture.eval("={{ $execution.customData.getAll() }}"),
        Ok(json!({"k": "42"}))
    );
    assert_eq!(
        fixture.execution.custom_data.snapshot(),
        json!({"k": "42"}).as_object().cloned().unwrap_or_default()
    );
}

#[test]
fn parameter_gives_the_nodes_parameters_evaluated_for_the_item() {
    let mut fixture = Fixture::standard();
    if let Some(node) = fixture
        .workflow
        .nodes
        .iter_mut()
        .find(|n| n.name == "Edit Fields")
    {
        node.parameters
            .insert("greeting".into(), json!("=Hi {{ $json.name }}"));
        node.parameters
            .insert("itself".into(), json!("={{ $parameter.itself }}"));
        node.parameters.insert(
            "list".into(),
            json!({"__rl": true, "value": "abc", "mode": "id"}),
        );
    }
    check_with(
        &fixture,
        &[
            ("={{ $parameter.greeting }}", json!("Hi Ada Lovelace")),
            ("={{ $parameter['options'] }}", json!({})),
            ("={{ $parameter.list }}", json!("abc")),
            ("={{ $parameter.itself }}", json!(null)),
            ("={{ $parameter.missing }}", json!(null)),
            (
                "={{ $rawParameter.greeting }}",
                json!("=Hi {{ $json.name }}"),
            ),
        ],
    );
}

fn check_with(fixture: &Fixture, cases: &[(&str, serde_json::Value)]) {
    for (expression, expected) in cases {
        assert_eq!(
            fixture.eval(expression).as_ref(),
            Ok(expected),
            "{expression}"
        );
    }
}

/// `$evaluateExpression(text, index)`: the text as a parameter value (checked on n8n 2.8 with
/// the text coming from the webhook's body, since `}}` inside a block ends the block).
#[test]
fn evaluate_expression_runs_text_as_a_parameter() {
    check(&[
        ("={{ $evaluateExpression('{{ 1 + 1 }' + '}') }}", json!(2)),
        (
            "={{ typeof $evaluateExpression('{{ 1 + 1 }' + '}') }}",
            json!("number"),
        ),
        ("={{ $evaluateExpression('abc') }}", json!("abc")),
        // Text without a block stays text, as in any parameter.
        (
            "={{ $evaluateExpression('$json.name') }}",
            json!("$json.name"),
        ),
        (
            "={{ $evaluateExpression('{{ $json.name }' + '}!') }}",
            json!("Ada Lovelace!"),
        ),
        // n8n adds the `=` itself: one written in the text is literal.
        ("={{ $evaluateExpression('={{ 2 }' + '}') }}", json!("=2")),
        (
            "={{ $evaluateExpression('a{{ 1 }' + '}b{{ [1,2] }' + '}') }}",
            json!("a1b1,2"),
        ),
        (
            "={{ $evaluateExpression('{{ $(\"Prepare\").item.json.email }' + '}') }}",
            json!("ada@example.com"),
        ),
        ("={{ $evaluateExpression() }}", json!("undefined")),
        ("={{ $evaluateExpression(5) }}", json!("5")),
        ("={{ $evaluateExpression(null) }}", json!("null")),
        // Another item; 0 means the current one, as in n8n.
        (
            "={{ $evaluateExpression('{{ $json.name }' + '}', 1) }}",
            json!("Alan Turing"),
        ),
        (
            "={{ $evaluateExpression('{{ $itemIndex }' + '}', 1) }}",
            json!(1),
        ),
        (
            "={{ $evaluateExpression('{{ $itemIndex }' + '}', 0) }}",
            json!(0),
        ),
        (
            "={{ $evaluateExpression('{{ $(\"Prepare\").item.json.name }' + '}', 1) }}",
            json!("Alan Turing"),
        ),
        // The caller's scope is back afterwards.
        (
            "={{ $evaluateExpression('{{ $json.age }' + '}', 1) + $json.age }}",
            json!(77),
        ),
    ]);
}

#[test]
fn evaluate_expression_failures_follow_n8n() {
    // A syntax error or a JavaScript error inside makes the block undefined (n8n 2.8).
    check(&[
        (
            "={{ typeof $evaluateExpression('{{ nope( }' + '}') }}",
            json!(null),
        ),
        (
            "={{ $evaluateExpression('{{ $json.missing.x }' + '}') }}",
            json!(null),
        ),
    ]);
    // An n8n error inside fails the expression.
    assert_eq!(
        error("={{ $evaluateExpression('{{ $(\"Nope\").item }' + '}') }}"),
        "Referenced node doesn't exist"
    );
}
