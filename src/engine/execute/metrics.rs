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
}
