//! Wait (versions 1 and 1.1): pauses the run for a time, until a date, or until its resume
//! webhook (`/webhook-waiting/{executionId}`) is called. As in n8n, a wait shorter than 65
//! seconds keeps the run in memory; a longer one stores the execution as `waiting` (no thread
//! or task waits for it) and the engine resumes it when it is due.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Registry;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};
use crate::engine::workflow::Node;

/// Below this a wait stays in memory (n8n checks stored waits every 60 s, so it does the same).
const IN_MEMORY: Duration = Duration::from_secs(65);

/// n8n's "until resumed" date.
fn indefinitely() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(crate::engine::execute::WAIT_INDEFINITELY)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

struct Wait;

fn seconds_of(amount: f64, unit: &str) -> Option<f64> {
    let factor = match unit {
        "seconds" => 1.0,
        "minutes" => 60.0,
        "hours" => 3600.0,
        "days" => 86_400.0,
        _ => return None,
    };
    Some(amount * factor)
}

#[async_trait]
impl NodeType for Wait {
    /// A resume webhook whose authentication cannot be checked here is refused at publish.
    fn refusal(&self, node: &Node) -> Option<String> {
        crate::engine::webhook::access::refusal(node)
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let now = run.env.now();
        let resume = run.param_str("resume", 0, "timeInterval")?;
        let till = match resume.as_str() {
            "webhook" => {
                if run.param_bool("limitWaitTime", 0, false)? {
                    if run.param_str("limitType", 0, "afterTimeInterval")? == "afterTimeInterval" {
                        let amount = run.param_f64("resumeAmount", 0, 1.0)?;
                        let unit = run.param_str("resumeUnit", 0, "hours")?;
                        let seconds = seconds_of(amount, &unit).unwrap_or(0.0);
                        now + chrono::Duration::milliseconds((seconds * 1000.0) as i64)
                    } else {
                        let text = run.param_str("maxDateAndTime", 0, "")?;
                        parse_date(run, &text)?
                    }
                } else {
                    indefinitely()
                }
            }
            "form" => {
                return Err(NodeError::operation(
                    "Waiting for a form submission is not supported by this server",
                ))
            }
            "timeInterval" => {
                let unit = run.param_str("unit", 0, "hours")?;
                let amount = run.param_f64("amount", 0, 1.0)?;
                let Some(seconds) = seconds_of(amount, &unit) else {
                    return Err(NodeError::operation(
                        "Invalid wait unit. Valid units are 'seconds', 'minutes', 'hours', or 'days'.",
                    ));
                };
                if amount.is_nan() || amount < 0.0 {
                    return Err(NodeError::operation(
                        "Invalid wait amount. Please enter a number that is 0 or greater.",
                    ));
                }
                now + chrono::Duration::milliseconds((seconds * 1000.0).min(1e15) as i64)
            }
            _ => {
                let text = run.param_str("dateTime", 0, "")?;
                parse_date(run, &text)?
            }
        };
        if resume != "webhook" {
            let left = (till - now).to_std().unwrap_or(Duration::ZERO);
            if left < IN_MEMORY {
                tokio::select! {
                    () = tokio::time::sleep(left) => {}
                    () = run.env.cancel.cancelled() => {}
                }
                return Ok(Outcome::single(run.input.items(0).to_vec()));
            }
        }
        Ok(Outcome::Wait { till })
    }
}

fn parse_date(run: &NodeRun<'_>, text: &str) -> Result<DateTime<Utc>, NodeError> {
    let zone: chrono_tz::Tz = run.env.timezone.parse().unwrap_or(chrono_tz::UTC);
    super::types::to_datetime(&Value::String(text.to_owned()), zone)
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            NodeError::operation("Cannot put execution to wait because `dateTime` parameter is not a valid date. Please pick a specific date and time to wait until.")
        })
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.wait", &[1.0, 1.1], Arc::new(Wait));
}
