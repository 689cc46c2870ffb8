//! The engine's part of `/metrics`: executions started and ended by mode and status, those
//! running and queued, and a histogram of run times.

use super::*;

impl Engine {
    /// The engine's families of the `/metrics` text.
    pub fn render_metrics(&self, out: &mut String, prefix: &str) {
        use std::fmt::Write as _;
        let counters = &self.inner().counters;
        crate::metrics::family(
            out,
            prefix,
            "workflow_executions_started_total",
            "counter",
            "Executions started on this instance, by mode.",
        );
        for mode in Mode::ALL {
            let _ = writeln!(
                out,
                "{prefix}workflow_executions_started_total{{mode=\"{}\"}} {}",
                mode.as_str(),
                counters.started[mode.slot()].load(Ordering::Relaxed)
            );
        }
        crate::metrics::family(out, prefix, "workflow_executions_total", "counter", "Executions that ended (or paused, status waiting) on this instance, by mode and status.");
        for mode in Mode::ALL {
            for (i, status) in ENDED_STATUSES.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{prefix}workflow_executions_total{{mode=\"{}\",status=\"{}\"}} {}",
                    mode.as_str(),
                    status.as_str(),
                    counters.ended[mode.slot()][i].load(Ordering::Relaxed)
                );
            }
        }
        crate::metrics::family(out, prefix, "workflow_executions_active", "gauge", "Executions of this instance in progress (running) or waiting for a free slot (queued).");
        let _ = writeln!(
            out,
            "{prefix}workflow_executions_active{{state=\"running\"}} {}",
            self.inner().running.len()
        );
        let _ = writeln!(
            out,
            "{prefix}workflow_executions_active{{state=\"queued\"}} {}",
            counters.queued.load(Ordering::Relaxed).max(0)
        );
        if self.inner().config.queue_mode() {
            self.render_queue_metrics(out, prefix);
        }
        crate::metrics::family(
            out,
            prefix,
            "workflow_execution_duration_seconds",
            "histogram",
            "Run time of executions on this instance, from start to end or pause.",
        );
        counters.duration.render(
            out,
            &format!("{prefix}workflow_execution_duration_seconds"),
            "",
        );
    }

    /// Queue mode: the queue's depth (as counted at the last heartbeat), what this instance
    /// queued, claimed and refused, and how long executions waited to be claimed.
    fn render_queue_metrics(&self, out: &mut String, prefix: &str) {
        use std::fmt::Write as _;
        let counters = &self.inner().counters;
        crate::metrics::family(out, prefix, "queue_depth", "gauge", "Executions waiting in the queue (all instances), as counted at this instance's last heartbeat.");
        let _ = writeln!(
            out,
            "{prefix}queue_depth {}",
            counters.queue_depth.load(Ordering::Relaxed).max(0)
        );
        for (name, help, value) in [
            (
                "queue_enqueued_total",
                "Executions this instance put in the queue.",
                &counters.enqueued,
            ),
            (
                "queue_claimed_total",
                "Queued executions this instance claimed to run.",
                &counters.claimed,
            ),
            (
                "queue_refused_total",
                "Executions refused because the queue was full (answered 503).",
                &counters.refused,
            ),
        ] {
            crate::metrics::family(out, prefix, name, "counter", help);
            let _ = writeln!(out, "{prefix}{name} {}", value.load(Ordering::Relaxed));
        }
        crate::metrics::family(
            out,
            prefix,
            "queue_claim_latency_seconds",
            "histogram",
            "Time from queueing an execution to its claim by this instance.",
        );
        counters
            .claim_latency
            .render(out, &format!("{prefix}queue_claim_latency_seconds"), "");
    }
}
