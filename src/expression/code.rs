//! Running a Code node's JavaScript: the request the runner (`assets/code/runner.js`) gets,
//! the blocking run on a thread of its own, and its answer read back.
//!
//! The code sees the same variables as expressions, built from the same request data
//! ([`scope`]); what it mentions decides what is sent, as for expressions. The run happens on
//! a blocking thread of the async runtime (each keeps its own QuickJS runtime), so a node
//! that computes for minutes holds that thread only, never the server's workers, and the
//! execution's stop signal and the node's time limit interrupt it.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{js, scope, Context, CustomData, ExpressionError, Expressions};
use crate::engine::data::{Item, PairedItems};

/// Limits on one Code node run.
#[derive(Clone, Copy, Debug)]
pub struct CodeLimits {
    /// n8n's `N8N_RUNNERS_TASK_TIMEOUT` (300 s).
    pub timeout: Duration,
    pub memory_bytes: usize,
}

impl Default for CodeLimits {
    fn default() -> CodeLimits {
        CodeLimits {
            timeout: Duration::from_secs(300),
            memory_bytes: 256 * 1024 * 1024,
        }
    }
}

/// How the code is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CodeMode {
    /// Code: Run Once for All Items.
    All,
    /// Code: Run Once for Each Item.
    Each,
    /// The legacy Function node (`items` in, items out).
    Function,
    /// The legacy Function Item node (`item` is the json; its new json out).
    FunctionItem,
}

/// A run ready to start: the request, written while the run's data was at hand.
pub struct CodeRun {
    request: String,
    custom_data: CustomData,
    tags: (String, String),
}

/// Why the code produced no items.
#[derive(Debug)]
pub enum CodeFailure {
    /// The code threw, or returned something n8n does not accept (n8n's message).
    Failed(CodeError),
    TimedOut(Duration),
    OutOfMemory(usize),
    /// The execution was stopped while the code ran.
    Canceled,
    /// The code's promise can never settle.
    NeverSettled,
    /// Our side failed (logged; the node fails with a general message).
    Internal(String),
}

/// An error the code's run reported, in n8n's words.
#[derive(Debug, Default)]
pub struct CodeError {
    pub message: String,
    pub description: Option<String>,
    pub item_index: Option<usize>,
    pub line_number: Option<u64>,
    /// `user` (thrown by the code) or `validation` (what it returned).
    pub kind: String,
}

impl Expressions {
    /// Writes the request for running `code` in `mode` with what `ctx` knows of the run.
    /// `binary_bytes` holds the base64 text of the input's stored binary entries by item
    /// index and property, when the code reads bytes (`this.helpers.getBinaryDataBuffer`).
    pub fn prepare_code(
        &self,
        code: &str,
        mode: CodeMode,
        continue_on_fail: bool,
        ctx: &Context<'_>,
        binary_bytes: Option<&Value>,
    ) -> Result<CodeRun, ExpressionError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Request<'r> {
            code: &'r str,
            mode: CodeMode,
            continue_on_fail: bool,
            data: scope::Data<'r>,
            #[serde(skip_serializing_if = "Option::is_none")]
            binary_bytes: Option<&'r Value>,
        }
        let mut needs = scope::Needs::default();
        needs.scan_code(code);
        needs.input = true;
        needs.item = false;
        // Run for each item, `$('Node').item` follows each item's own lineage.
        needs.matching = matches!(mode, CodeMode::Each | CodeMode::FunctionItem)
            && !needs.nodes.is_empty()
            || needs.matching
            || needs.all_nodes;
        let mut data = scope::data(ctx, &needs);
        if needs.parameters {
            data.resolved_parameters = Some(self.resolve_parameters(ctx));
        }
        let request = Request {
            code,
            mode,
            continue_on_fail,
            data,
            binary_bytes,
        };
        let request = serde_json::to_string(&request).map_err(|e| {
            ExpressionError::new(format!(
                "The run's data could not be handed to the code: {e}"
            ))
        })?;
        Ok(CodeRun {
            request,
            custom_data: ctx.execution.custom_data.clone(),
            tags: (ctx.execution.id.clone(), ctx.node.name.clone()),
        })
    }
}

impl CodeRun {
    /// Runs the code on a blocking thread and answers its items.
    pub async fn run(
        self,
        limits: CodeLimits,
        stop: CancellationToken,
    ) -> Result<Vec<Item>, CodeFailure> {
        let CodeRun {
            request,
            custom_data,
            tags,
        } = self;
        let js_limits = js::JsLimits {
            timeout: limits.timeout,
            memory_bytes: limits.memory_bytes,
        };
        // The run must end when the execution stops, and also when nobody waits for it any
        // more (the node's future dropped): it holds a token of its own, canceled with the
        // execution's or by the guard.
        let own = stop.child_token();
        let guard = own.clone().drop_guard();
        let answer =
            tokio::task::spawn_blocking(move || js::run_code(&request, js_limits, &own, tags))
                .await;
        // The run is over: nothing is left to stop.
        drop(guard.disarm());
        let answer = match answer {
            Ok(answer) => answer,
            Err(e) => return Err(CodeFailure::Internal(e.to_string())),
        };
        let answer = answer.map_err(|failure| match failure {
            js::JsFailure::TimedOut => CodeFailure::TimedOut(limits.timeout),
            js::JsFailure::OutOfMemory => CodeFailure::OutOfMemory(limits.memory_bytes),
            js::JsFailure::Canceled => CodeFailure::Canceled,
            js::JsFailure::NeverSettled => CodeFailure::NeverSettled,
            js::JsFailure::Internal(message) => CodeFailure::Internal(message),
        })?;
        read_answer(&answer, &custom_data)
    }
}

/// `{"items": [...]}` or `{"error": {...}}`, with `customData` when the code changed it.
fn read_answer(answer: &str, custom_data: &CustomData) -> Result<Vec<Item>, CodeFailure> {
    let parsed: Value = serde_json::from_str(answer)
        .map_err(|e| CodeFailure::Internal(format!("unreadable answer: {e}")))?;
    if let Some(Value::Object(custom)) = parsed.get("customData") {
        custom_data.replace(custom.clone());
    }
    if let Some(error) = parsed.get("error") {
        let text = |key: &str| error.get(key).and_then(Value::as_str).map(str::to_owned);
        return Err(CodeFailure::Failed(CodeError {
            message: text("message").unwrap_or_else(|| "Unknown error".into()),
            description: text("description"),
            item_index: error
                .get("itemIndex")
                .and_then(Value::as_u64)
                .map(|i| i as usize),
            line_number: error.get("lineNumber").and_then(Value::as_u64),
            kind: text("kind").unwrap_or_default(),
        }));
    }
    let items = parsed
        .get("items")
        .and_then(Value::as_array)
        .ok_or_else(|| CodeFailure::Internal("answer without items".into()))?;
    Ok(items.iter().map(item).collect())
}

/// One checked item: `json` is an object (the runner made sure), `binary` an object; a
/// `pairedItem` n8n could not read is left out.
fn item(value: &Value) -> Item {
    let json = value
        .get("json")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let binary = value.get("binary").and_then(Value::as_object).cloned();
    let paired_item = value
        .get("pairedItem")
        .and_then(|p| serde_json::from_value::<PairedItems>(p.clone()).ok());
    let error = value.get("error").filter(|e| !e.is_null()).cloned();
    Item {
        json,
        binary,
        paired_item,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(code: &str) -> String {
        raw_with(code, &CancellationToken::new(), Duration::from_secs(5))
    }

    fn raw_with(code: &str, stop: &CancellationToken, timeout: Duration) -> String {
        let request = serde_json::json!({
            "code": code, "mode": "all", "continueOnFail": false,
            "data": {"itemIndex": 0, "runIndex": 0,
                     "node": {"name": "Code", "id": "c", "type": "n8n-nodes-base.code", "typeVersion": 2, "parameters": null},
                     "workflow": {"id": "w", "name": "w", "active": true},
                     "execution": {"id": "1", "mode": "webhook", "resumeUrl": "", "customData": {}},
                     "prevNode": null, "prevNodeParameters": null, "now": 0, "timezone": "UTC",
                     "vars": null, "env": null, "items": [{"json": {"n": 1}}], "nodes": {}}
        });
        js::run_code(
            &request.to_string(),
            js::JsLimits {
                timeout,
                memory_bytes: 64 << 20,
            },
            stop,
            ("1".into(), "Code".into()),
        )
        .unwrap_or_else(|e| format!("{e:?}"))
    }

    fn error(code: &str) -> Value {
        let answer: Value = serde_json::from_str(&raw(code)).expect("json answer");
        answer["error"].clone()
    }

    #[test]
    fn thrown_errors_name_the_line_of_the_users_code() {
        assert_eq!(error("throw new Error('one');")["message"], "one [line 1]");
        assert_eq!(error("\n\nthrow new Error('three');")["lineNumber"], 3);
        // The innermost frame of the user's code counts, not the caller's.
        let nested = error("function f() {\n  const a = null;\n  return a.x;\n}\nf();");
        assert_eq!(nested["lineNumber"], 3);
        assert_eq!(nested["description"], "TypeError");
        // An error raised by n8n's variables keeps its own message.
        let missing = error("const a = 1;\nreturn $('Nope').all();");
        assert_eq!(missing["message"], "Referenced node doesn't exist");
        // Awaited code keeps its line too.
        let later = error("await null;\nawait Promise.resolve();\nthrow new RangeError('late');");
        assert_eq!(later["message"], "late [line 3]");
        assert_eq!(later["description"], "RangeError");
    }

    #[test]
    fn syntax_errors_and_non_errors_have_no_line() {
        let syntax = error("return [{json: {a: 1}}");
        assert_eq!(syntax["description"], "SyntaxError");
        assert!(syntax.get("lineNumber").is_none(), "{syntax}");
        assert_eq!(error("throw 'plain';")["message"], "Unknown error ");
        assert_eq!(
            error("throw { message: 'x' };")["message"],
            "Unknown error "
        );
    }

    #[test]
    fn a_run_leaves_nothing_for_the_next() {
        let first =
            raw("globalThis.leak = 1; Array.prototype.leak = 2; return [{ json: { a: 1 } }];");
        assert!(
            first.contains("\"a\":1") || first.contains("error"),
            "{first}"
        );
        let second = raw("return [{ json: { global: typeof leak, proto: typeof [].leak } }];");
        assert_eq!(
            second,
            r#"{"items":[{"json":{"global":"undefined","proto":"undefined"}}]}"#
        );
    }

    #[test]
    fn the_same_code_twice_keeps_its_compiled_form_but_no_state() {
        let code = "const seen = [typeof globalThis.mark, typeof this.mark, typeof arguments.callee.mark];\n\
                    try { globalThis.mark = 1; } catch (e) {}\n\
                    this.mark = 1; arguments.callee.mark = 1;\n\
                    return [{ json: { seen } }];";
        let expected = r#"{"items":[{"json":{"seen":["undefined","undefined","undefined"]}}]}"#;
        for _ in 0..3 {
            assert_eq!(raw(code), expected);
        }
    }

    #[test]
    fn a_stop_interrupts_a_running_loop() {
        let stop = CancellationToken::new();
        let stopper = stop.clone();
        let started = std::time::Instant::now();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            stopper.cancel();
        });
        let answer = raw_with("while (true) {}", &stop, Duration::from_secs(60));
        assert_eq!(answer, "Canceled");
        assert!(started.elapsed() < Duration::from_secs(5));
        // The thread's next run starts from a fresh runtime and works.
        assert_eq!(raw("return [];"), r#"{"items":[]}"#);
    }

    #[test]
    fn console_log_writes_a_debug_line_tagged_with_the_execution_and_node() {
        #[derive(Clone, Default)]
        struct Lines(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("lines").extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            raw("console.log('hello', { n: 1 }, [2]);\nreturn [];");
        });
        let text = String::from_utf8(lines.0.lock().expect("lines").clone()).expect("utf-8");
        let line = text
            .lines()
            .find(|l| l.contains("flowgate::code"))
            .unwrap_or_else(|| panic!("no log line in {text}"));
        assert!(line.contains("DEBUG"), "{line}");
        assert!(line.contains(r#"'hello' {"n":1} [2]"#), "{line}");
        assert!(
            line.contains("execution_id=1") && line.contains("node=Code"),
            "{line}"
        );
    }
}
