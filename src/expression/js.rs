//! The JavaScript side of expressions: one QuickJS runtime per thread, loaded once with Luxon,
//! jmespath and our own prelude (the `$` API, n8n's extension functions, a small `Intl`),
//! with a memory cap and a deadline on every evaluation.
//!
//! Why one runtime per thread: QuickJS runtimes are not `Send`, and `resolve` is called
//! synchronously from the engine's tasks. A thread-local runtime costs nothing to reach (no
//! channel round trip, no context switch), and each worker thread of the server keeps one for
//! its life; loading the bundled scripts takes a few milliseconds once per thread. A runtime
//! that hit its memory cap or its deadline is dropped and built again on the next evaluation,
//! since QuickJS gives no guarantee about its state after an uncatchable interrupt.
//!
//! The context has no module loader and no host objects beyond the few pure functions below
//! (time zone offsets, hashing, base64): no `require`, no `process`, no file system. Built-in
//! prototypes are frozen after loading, so an expression cannot change what the next one sees.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{Context as JsContext, Ctx, Function, Object, Runtime};
use tokio_util::sync::CancellationToken;

use super::host;

const INTL: &str = include_str!("../../assets/expression/intl.js");
const LUXON: &str = include_str!("../../assets/luxon/luxon.min.js");
const JMESPATH: &str = include_str!("../../assets/jmespath/jmespath.js");
const REWRITE: &str = include_str!("../../assets/expression/rewrite.js");
const PRELUDE: &str = include_str!("../../assets/expression/prelude.js");
const EXTENSIONS: &str = include_str!("../../assets/expression/extensions.js");
const DATES: &str = include_str!("../../assets/expression/dates.js");
const SEAL: &str = include_str!("../../assets/expression/seal.js");
const CODE_BUFFER: &str = include_str!("../../assets/code/buffer.js");
const CODE_RUNNER: &str = include_str!("../../assets/code/runner.js");

/// The limits one evaluation runs under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct JsLimits {
    pub timeout: Duration,
    pub memory_bytes: usize,
}

/// Why the JavaScript side could not answer.
#[derive(Debug)]
pub(crate) enum JsFailure {
    /// The evaluation ran past its deadline.
    TimedOut,
    /// The evaluation needed more memory than allowed.
    OutOfMemory,
    /// The run was stopped from outside (the execution was canceled or timed out).
    Canceled,
    /// A Code node's promise can never settle: nothing is queued and no timer is waiting.
    NeverSettled,
    /// The runtime itself failed (a bug on our side, reported as an expression error).
    Internal(String),
}

struct Engine {
    // Field order matters: the context must be dropped before its runtime.
    context: JsContext,
    runtime: Runtime,
    deadline: Rc<Cell<Option<Instant>>>,
    /// Set while a Code node runs: its execution's stop signal, checked by the interrupt.
    stop: Rc<RefCell<Option<CancellationToken>>>,
    /// Work a Code node left behind (promise jobs still queued): the runtime is not reused.
    spoiled: Cell<bool>,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    /// The execution and node a Code node's `console.log` lines are tagged with.
    static LOG_TAGS: RefCell<Option<(String, String)>> = const { RefCell::new(None) };
}

/// Runs a Code node's request (`__n8nCodeStart`) on this thread's runtime until its promise
/// settles, then answers its JSON. Blocks the thread: call it where blocking is allowed.
pub(crate) fn run_code(
    request: &str,
    limits: JsLimits,
    stop: &CancellationToken,
    tags: (String, String),
) -> Result<String, JsFailure> {
    LOG_TAGS.with(|t| *t.borrow_mut() = Some(tags));
    let outcome = with_engine(|engine| engine.run_code(request, limits, stop));
    LOG_TAGS.with(|t| *t.borrow_mut() = None);
    outcome
}

/// Runs `f` on this thread's runtime (built on first use); a runtime that failed in a way
/// that may have left it in a bad state is dropped.
fn with_engine(f: impl FnOnce(&Engine) -> Result<String, JsFailure>) -> Result<String, JsFailure> {
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Engine::new().map_err(JsFailure::Internal)?);
        }
        let engine = slot
            .as_ref()
            .ok_or_else(|| JsFailure::Internal("no JavaScript runtime".into()))?;
        let outcome = f(engine);
        if outcome.is_err() || engine.spoiled.get() {
            // Start from a clean runtime next time.
            *slot = None;
        }
        outcome
    })
}

/// Drops this thread's runtime, so the next evaluation builds a fresh one (the benchmark
/// measures what the warm runtime saves).
#[cfg(test)]
pub(crate) fn discard_runtime() {
    ENGINE.with(|cell| *cell.borrow_mut() = None);
}

/// Runs `__n8n.evaluate(request)` on this thread's runtime and returns its JSON answer.
pub(crate) fn evaluate(request: &str, limits: JsLimits) -> Result<String, JsFailure> {
    with_engine(|engine| engine.run(request, limits))
}

impl Engine {
    fn new() -> Result<Engine, String> {
        let runtime = Runtime::new().map_err(|e| e.to_string())?;
        // Deep recursion in an expression must end as a RangeError well before the thread's
        // own stack does.
        runtime.set_max_stack_size(512 * 1024);
        let deadline: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(None));
        let stop: Rc<RefCell<Option<CancellationToken>>> = Rc::new(RefCell::new(None));
        let watched = deadline.clone();
        let stopped = stop.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            watched.get().is_some_and(|d| Instant::now() >= d)
                || stopped
                    .borrow()
                    .as_ref()
                    .is_some_and(CancellationToken::is_cancelled)
        })));
        let context = JsContext::full(&runtime).map_err(|e| e.to_string())?;
        context.with(|ctx| -> Result<(), String> {
            install_host(&ctx).map_err(|e| format!("host functions: {e}"))?;
            for (name, source) in [
                ("intl", INTL),
                ("luxon", LUXON),
                ("jmespath", JMESPATH),
                ("rewrite", REWRITE),
                ("prelude", PRELUDE),
                ("extensions", EXTENSIONS),
                ("dates", DATES),
                ("code buffer", CODE_BUFFER),
                ("code runner", CODE_RUNNER),
                ("seal", SEAL),
            ] {
                ctx.eval::<(), _>(source)
                    .map_err(|e| format!("{name}: {}", describe(&ctx, e)))?;
            }
            Ok(())
        })?;
        Ok(Engine {
            context,
            runtime,
            deadline,
            stop,
            spoiled: Cell::new(false),
        })
    }

    fn run(&self, request: &str, limits: JsLimits) -> Result<String, JsFailure> {
        self.runtime.set_memory_limit(limits.memory_bytes);
        self.deadline.set(Some(Instant::now() + limits.timeout));
        let answer = self.context.with(|ctx| {
            let evaluate: Function = ctx
                .globals()
                .get("__n8nEvaluate")
                .map_err(|e| JsFailure::Internal(e.to_string()))?;
            match evaluate.call::<_, String>((request,)) {
                Ok(answer) => Ok(answer),
                Err(e) => Err(failure(&ctx, e, self.deadline.get())),
            }
        });
        self.deadline.set(None);
        // Leave the cap off between evaluations so garbage collection is never starved.
        self.runtime.set_memory_limit(0);
        answer
    }
}

impl Engine {
    fn run_code(
        &self,
        request: &str,
        limits: JsLimits,
        stop: &CancellationToken,
    ) -> Result<String, JsFailure> {
        self.runtime.set_memory_limit(limits.memory_bytes);
        let deadline = Instant::now() + limits.timeout;
        self.deadline.set(Some(deadline));
        *self.stop.borrow_mut() = Some(stop.clone());
        let answer = self.drive_code(request, deadline, stop);
        // Promises the code left running would run during the next run: start afresh.
        if self.runtime.is_job_pending() {
            self.spoiled.set(true);
        }
        self.deadline.set(None);
        *self.stop.borrow_mut() = None;
        self.runtime.set_memory_limit(0);
        answer
    }

    /// Starts the code, then alternates between QuickJS's job queue (promise reactions) and
    /// the code's timers until the answer is there.
    fn drive_code(
        &self,
        request: &str,
        deadline: Instant,
        stop: &CancellationToken,
    ) -> Result<String, JsFailure> {
        let classify = |ctx: &Ctx<'_>, e: rquickjs::Error| {
            if stop.is_cancelled() {
                JsFailure::Canceled
            } else {
                failure(ctx, e, Some(deadline))
            }
        };
        self.context.with(|ctx| {
            let start: Function = ctx
                .globals()
                .get("__n8nCodeStart")
                .map_err(|e| JsFailure::Internal(e.to_string()))?;
            start
                .call::<_, ()>((request,))
                .map_err(|e| classify(&ctx, e))
        })?;
        loop {
            loop {
                match self.runtime.execute_pending_job() {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(job) => {
                        return Err(job.0.with(|ctx| classify(&ctx, rquickjs::Error::Exception)))
                    }
                }
            }
            let (answer, next_timer) = self.context.with(|ctx| {
                let globals = ctx.globals();
                let get = |name: &str| -> Result<Function<'_>, JsFailure> {
                    globals
                        .get(name)
                        .map_err(|e| JsFailure::Internal(e.to_string()))
                };
                let answer = get("__n8nCodeAnswer")?
                    .call::<_, Option<String>>(())
                    .map_err(|e| classify(&ctx, e))?;
                let next = get("__n8nCodeNextTimer")?
                    .call::<_, f64>(())
                    .map_err(|e| classify(&ctx, e))?;
                Ok::<_, JsFailure>((answer, next))
            })?;
            if let Some(answer) = answer {
                return Ok(answer);
            }
            if next_timer < 0.0 {
                return Err(JsFailure::NeverSettled);
            }
            // Wait for the timer in short steps, so a stop or the deadline is seen in time.
            let due = Instant::now() + Duration::from_millis(next_timer as u64);
            loop {
                if stop.is_cancelled() {
                    return Err(JsFailure::Canceled);
                }
                let now = Instant::now();
                if now >= deadline {
                    return Err(JsFailure::TimedOut);
                }
                if now >= due {
                    break;
                }
                let step = due.min(deadline) - now;
                std::thread::sleep(step.min(Duration::from_millis(50)));
            }
            self.context.with(|ctx| {
                let fire: Function = ctx
                    .globals()
                    .get("__n8nCodeFireTimers")
                    .map_err(|e| JsFailure::Internal(e.to_string()))?;
                fire.call::<_, ()>(()).map_err(|e| classify(&ctx, e))
            })?;
        }
    }
}

/// Classifies an error that escaped the evaluator (everything catchable is caught in JS).
fn failure(ctx: &Ctx<'_>, error: rquickjs::Error, deadline: Option<Instant>) -> JsFailure {
    if deadline.is_some_and(|d| Instant::now() >= d) {
        return JsFailure::TimedOut;
    }
    let text = describe(ctx, error);
    if text.contains("out of memory") {
        JsFailure::OutOfMemory
    } else if text.contains("interrupted") {
        JsFailure::TimedOut
    } else {
        JsFailure::Internal(text)
    }
}

/// The message of a JavaScript exception (or of the Rust error when there is none).
fn describe(ctx: &Ctx<'_>, error: rquickjs::Error) -> String {
    if matches!(error, rquickjs::Error::Exception) {
        let caught = ctx.catch();
        if let Some(exception) = caught.as_exception() {
            let message = exception.message().unwrap_or_default();
            // Short of memory, QuickJS may build its InternalError but not the message
            // string: an InternalError without a message is that case.
            if message.is_empty() && is_internal_error(&caught) {
                return "out of memory".into();
            }
            if message.is_empty() {
                return "exception".into();
            }
            return message;
        }
        if let Some(text) = caught.as_string().and_then(|s| s.to_string().ok()) {
            return text;
        }
        // QuickJS throws a bare null (or nothing) when it cannot allocate the error itself.
        if caught.is_null()
            || caught.is_undefined()
            || caught.type_of() == rquickjs::Type::Uninitialized
        {
            return "out of memory".into();
        }
        return format!("{caught:?}");
    }
    error.to_string()
}

/// Whether a thrown value is one of QuickJS's `InternalError`s (memory, interruption).
fn is_internal_error(value: &rquickjs::Value<'_>) -> bool {
    let class = value
        .ctx()
        .globals()
        .get::<_, rquickjs::Value>("InternalError");
    match (value.as_object(), class) {
        (Some(object), Ok(class)) => object.is_instance_of(class),
        _ => false,
    }
}

/// The longest `console.log` line written to the server's log.
const MAX_LOG_LINE: usize = 16 * 1024;

/// The host functions the prelude calls (all in `__host`): pure ones, and the Code node's
/// log line.
fn install_host(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let host_object = Object::new(ctx.clone())?;
    host_object.set(
        "zone",
        Function::new(ctx.clone(), |name: String, ts: f64| {
            host::zone_offset(&name, ts)
                .map(|(offset, abbreviation)| vec![offset.to_string(), abbreviation])
        })?,
    )?;
    host_object.set(
        "hash",
        Function::new(ctx.clone(), |algorithm: String, text: String| {
            host::hash(&algorithm, &text)
        })?,
    )?;
    host_object.set(
        "base64Encode",
        Function::new(ctx.clone(), |text: String| host::base64_encode(&text))?,
    )?;
    host_object.set(
        "base64Decode",
        Function::new(ctx.clone(), |text: String| host::base64_decode(&text))?,
    )?;
    // `$evaluateExpression` splits its text by the same rules as every parameter.
    host_object.set(
        "template",
        Function::new(ctx.clone(), |text: String| {
            serde_json::to_string(&super::template::Template::parse(&text).chunks)
                .unwrap_or_else(|_| "[]".to_owned())
        })?,
    )?;
    host_object.set(
        "log",
        Function::new(ctx.clone(), |text: String| {
            LOG_TAGS.with(|tags| {
                // Only a Code node's run writes (an expression calling this writes nothing).
                let tags = tags.borrow();
                let Some((execution, node)) = tags.as_ref() else {
                    return;
                };
                tracing::debug!(
                    target: "flowgate::code",
                    execution_id = %execution,
                    node = %node,
                    "{}",
                    host::clip(&text, MAX_LOG_LINE)
                );
            });
        })?,
    )?;
    ctx.globals().set("__host", host_object)?;
    Ok(())
}

/// Bytes this thread's runtime holds (for the cost measurement).
#[cfg(test)]
pub(crate) fn memory_in_use() -> Option<i64> {
    ENGINE.with(|cell| {
        cell.borrow()
            .as_ref()
            .map(|engine| engine.runtime.memory_usage().memory_used_size)
    })
}
