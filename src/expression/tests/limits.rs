//! Limits: an expression that loops, eats memory or is too long fails alone, quickly, and the
//! next expression on the same thread still works. Nothing outside the sandbox is reachable.

use std::time::{Duration, Instant};

use serde_json::json;

use super::fixture::Fixture;
use super::{check, value};

#[test]
fn an_endless_loop_fails_at_the_deadline() {
    let mut fixture = Fixture::standard();
    fixture.limits.timeout = Duration::from_millis(200);
    let started = Instant::now();
    let outcome = fixture.eval("={{ (() => { while (true) {} })() }}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        outcome.map_err(|e| e.message),
        Err("The expression took too long to evaluate".into())
    );
    assert_eq!(fixture.eval("={{ 1 + 1 }}"), Ok(json!(2)));
}

#[test]
fn using_too_much_memory_fails_and_the_runtime_recovers() {
    let mut fixture = Fixture::standard();
    fixture.limits.memory_bytes = 32 * 1024 * 1024;
    let outcome = fixture.eval(
        "={{ (() => { const a = []; while (true) a.push('x'.repeat(1000) + a.length) })() }}",
    );
    assert_eq!(
        outcome.map_err(|e| e.message),
        Err("The expression used too much memory".into())
    );
    assert_eq!(
        fixture.eval("={{ $json.name.toUpperCase() }}"),
        Ok(json!("ADA LOVELACE"))
    );
}

#[test]
fn deep_recursion_is_an_ordinary_failure() {
    check(&[("={{ (function f(n) { return f(n + 1) })(0) }}", json!(null))]);
}

#[test]
fn a_too_long_expression_is_refused() {
    let mut fixture = Fixture::standard();
    fixture.limits.max_expression_length = 10;
    let message = fixture
        .eval("={{ 'a long expression' }}")
        .map_err(|e| e.message);
    assert!(message.is_err_and(|m| m.starts_with("The expression is too long")));
}

#[test]
fn nothing_outside_the_sandbox_is_reachable() {
    check(&[
        ("={{ typeof require }}", json!("undefined")),
        ("={{ typeof process.exit }}", json!("undefined")),
        ("={{ typeof std }}", json!("undefined")),
        ("={{ typeof os }}", json!("undefined")),
        ("={{ typeof __host }}", json!("object")),
        ("={{ typeof fetch }}", json!("object")),
        ("={{ Function }}", json!({})),
    ]);
    // The host functions are pure (hashing, time zones, splitting `$evaluateExpression`'s
    // text), and the Code node's log line, which writes nothing outside a Code node's run.
    assert_eq!(
        value("={{ Object.keys(__host).sort() }}"),
        json!([
            "base64Decode",
            "base64Encode",
            "hash",
            "log",
            "template",
            "zone"
        ])
    );
    assert_eq!(value("={{ __host.log('x') }}"), json!(null));
}

/// What evaluations cost, printed: `cargo test --lib costs -- --ignored --nocapture`.
#[test]
#[ignore]
fn costs() {
    let fixture = Fixture::standard();
    let thread = std::thread::spawn(move || {
        let started = Instant::now();
        let _ = fixture.eval("={{ 1 + 1 }}");
        let first = started.elapsed();
        let mut report = vec![
            format!("first evaluation on a new thread: {first:?}"),
            format!(
                "runtime memory after loading: {:?} bytes",
                crate::expression::js::memory_in_use()
            ),
        ];
        for expression in [
            "={{ $json.name }}",
            "=Hi {{ $json.name }}, {{ $json.age }}",
            "={{ 1 + 1 }}",
            "={{ $json.name.toUpperCase() }}",
            "={{ $json.name.toTitleCase() }}",
            "={{ $('Prepare').item.json.name }}",
            "={{ $now.toFormat('yyyy-MM-dd') }}",
        ] {
            let rounds = 2000;
            let started = Instant::now();
            for _ in 0..rounds {
                let _ = fixture.eval(expression);
            }
            report.push(format!(
                "{expression}: {:?} each",
                started.elapsed() / rounds
            ));
        }
        report
    });
    for line in thread.join().unwrap_or_default() {
        println!("{line}");
    }
}

#[test]
fn the_shared_parts_of_the_sandbox_are_frozen() {
    let _ = value("={{ (this.leak = 1, __host.zone = null, $if.leak = 2, window.leak = 3) }}");
    let _ = value("={{ (__n8nDateExtensions.plus = null, $input.first = null) }}");
    check(&[
        ("={{ this.leak }}", json!(null)),
        ("={{ $if.leak }}", json!(null)),
        ("={{ window.leak }}", json!(null)),
        ("={{ $now.plus(1, 'day').day }}", json!(16)),
        ("={{ $input.first().json.age }}", json!(36)),
    ]);
}

/// Short of memory, QuickJS can build its `InternalError` yet fail to allocate the message;
/// such an error is read as the memory limit, not as an unexplained failure. (Thrown here by
/// hand: the real case depends on where the allocation fails.)
#[test]
fn an_internal_error_without_a_message_is_read_as_running_out_of_memory() {
    let fixture = Fixture::standard();
    let outcome = fixture.eval("={{ (() => { throw new InternalError() })() }}");
    assert_eq!(
        outcome.map_err(|e| e.message),
        Err("The expression used too much memory".into())
    );
    assert_eq!(fixture.eval("={{ 1 + 1 }}"), Ok(json!(2)));
}
