//! Recording the end of a run: by n8n's saving rules (kept, or deleted when the workflow says
//! not to keep such runs), and again while the database cannot be reached.

use super::*;

impl Engine {
    /// Writes the end of a run, again while the database cannot be reached (a restart, a
    /// failover): the run is over and its result must outlive a short outage, or its row stays
    /// `running` under a lease this instance goes on renewing. Retried for one lease duration:
    /// an outage longer than that also stopped the heartbeat, and the run is then `crashed` by
    /// n8n's rule (the write is idempotent and never overwrites `crashed`).
    pub(super) async fn record_through_outage(
        &self,
        id: i64,
        run: &Run,
        mode: Mode,
    ) -> Result<(), ApiError> {
        let give_up = Instant::now() + self.inner().config.lock_duration();
        let mut pause = Duration::from_millis(100);
        loop {
            match self.record(id, run, mode).await {
                Err(e) if e.is_outage() && Instant::now() + pause < give_up => {
                    tracing::warn!(error = %e, execution.id = id, "could not record the end of an execution; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                ended => return ended,
            }
        }
    }

    /// Writes the end of a run by the saving rules of its workflow and of the instance.
    async fn record(&self, id: i64, run: &Run, mode: Mode) -> Result<(), ApiError> {
        let config = &self.inner().config;
        let settings = &run.workflow.settings;
        let status = run.status;
        let waiting = status == ExecutionStatus::Waiting;
        let keep = waiting
            || if mode == Mode::Manual {
                setting_bool(settings.get("saveManualExecutions"), config.save_manual)
            } else if status == ExecutionStatus::Success {
                setting_all(
                    settings.get("saveDataSuccessExecution"),
                    config.save_on_success == crate::engine::config::SaveData::All,
                )
            } else {
                setting_all(
                    settings.get("saveDataErrorExecution"),
                    config.save_on_error == crate::engine::config::SaveData::All,
                )
            };
        let db = &self.inner().db;
        if !keep {
            repo::delete_alone(db, id).await?;
            self.inner()
                .binary
                .delete_execution(&run.workflow.id, id)
                .await;
            return Ok(());
        }
        let data = serde_json::to_string(&run.data).map_err(anyhow::Error::from)?;
        let wait_till = run.data.wait_till.clone();
        // The executions API shows `$execution.customData` as `customData`, as n8n does.
        let custom_data = match &run.data.result_data.metadata {
            Some(metadata) if !metadata.is_empty() => {
                Some(serde_json::to_string(metadata).map_err(anyhow::Error::from)?)
            }
            _ => None,
        };
        repo::finish_alone(
            db,
            id,
            &Finished {
                status: status.as_str(),
                finished: status == ExecutionStatus::Success,
                stopped_at: &now_iso(),
                data: Some(&data),
                wait_till: wait_till.as_deref(),
                custom_data: custom_data.as_deref(),
            },
        )
        .await?;
        Ok(())
    }
}
