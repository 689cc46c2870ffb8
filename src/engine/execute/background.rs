//! The engine's background work: the heartbeat that renews the claims of this instance's
//! executions (and stops those stopped through another instance), the sweep that marks crashed the executions whose claim ran out (their
//! instance died), resuming waiting executions, and pruning (by the leader only).

use super::*;

/// What an instance does besides running executions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `flowgate start`: API, webhooks, schedules and pruning (when it leads), executions.
    Main,
    /// `flowgate worker`: queued executions only.
    Worker,
}

/// Starts the engine's background loops.
pub(crate) fn spawn_background(engine: Engine, role: Role) {
    let shutdown = engine.inner().shutdown.clone();
    let config = &engine.inner().config;

    // The heartbeat: every QUEUE_WORKER_LOCK_RENEW_TIME, one statement renews the claims of
    // every execution this instance runs.
    let beat = engine.clone();
    let stop = shutdown.clone();
    let renew = config.lock_renew();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(renew);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = heartbeat(&beat).await {
                tracing::warn!(error = %e, "could not renew the claims of running executions");
            }
        }
    });

    // The sweep: executions whose claim ran out were left by an instance that stopped; n8n
    // marks them crashed. At start-up this also catches what this host's previous process
    // left behind.
    let sweeper = engine.clone();
    let stop = shutdown.clone();
    let every = config.stalled_interval();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = mark_crashed(&sweeper).await {
                tracing::warn!(error = %e, "could not mark crashed executions");
            }
        }
    });

    if config.queue_mode() {
        super::queue::spawn_claimer(engine.clone());
    }

    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut last_prune = Instant::now() - Duration::from_secs(3600);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = resume_due(&engine).await {
                tracing::warn!(error = %e, "could not resume waiting executions");
            }
            let leads = engine.inner().leader.load(Ordering::Relaxed);
            if role == Role::Main
                && leads
                && engine.inner().config.prune
                && last_prune.elapsed() >= Duration::from_secs(300)
            {
                last_prune = Instant::now();
                if let Err(e) = prune(&engine).await {
                    tracing::warn!(error = %e, "could not prune executions");
                }
            }
        }
    });
}

async fn heartbeat(engine: &Engine) -> Result<(), ApiError> {
    let mut tx = engine.inner().db.begin().await?;
    crate::db::queue::heartbeat(tx.conn(), &engine.inner().instance, &engine.lease_until()).await?;
    tx.commit().await?;
    // A stop request answered by another instance reaches this one's runs here, within one
    // QUEUE_WORKER_LOCK_RENEW_TIME.
    if !engine.inner().running.is_empty() {
        let mut conn = engine.inner().db.acquire().await?;
        let stopped =
            crate::db::queue::stopped_elsewhere(conn.conn(), &engine.inner().instance).await?;
        drop(conn);
        for id in stopped {
            if engine.cancel(id) {
                tracing::info!(execution.id = id, "stopped through another instance");
            }
        }
    }
    if engine.inner().config.queue_mode() {
        let mut conn = engine.inner().db.acquire().await?;
        let depth = crate::db::queue::depth(conn.conn()).await?;
        engine
            .inner()
            .counters
            .queue_depth
            .store(depth, Ordering::Relaxed);
    }
    Ok(())
}

async fn mark_crashed(engine: &Engine) -> Result<(), ApiError> {
    let mut tx = engine.inner().db.begin().await?;
    let crashed = repo::mark_crashed(tx.conn(), None, &now_iso()).await?;
    tx.commit().await?;
    if crashed > 0 {
        tracing::warn!(
            crashed,
            "executions whose instance stopped renewing their claim were marked crashed"
        );
    }
    Ok(())
}

async fn resume_due(engine: &Engine) -> Result<(), ApiError> {
    let due = {
        let mut conn = engine.inner().db.acquire().await?;
        repo::due_waiting(conn.conn(), &now_iso(), 100).await?
    };
    for id in due {
        let engine = engine.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.resume(id, None).await {
                tracing::warn!(error = %e, execution.id = id, "a waiting execution could not resume");
            }
        });
    }
    Ok(())
}

async fn prune(engine: &Engine) -> Result<(), ApiError> {
    let config = &engine.inner().config;
    let cutoff = chrono::Utc::now()
        .checked_sub_signed(chrono::Duration::hours(config.prune_max_age_hours as i64))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let keep = (config.prune_max_count > 0).then_some(config.prune_max_count as i64);
    let mut tx = engine.inner().db.begin().await?;
    let removed = repo::prune(tx.conn(), &crate::domain::time::iso(cutoff), keep).await?;
    // Ticks and unread webhook answers are only needed for a short while.
    let day_ago = crate::domain::time::iso(chrono::Utc::now() - chrono::Duration::hours(24));
    crate::db::queue::prune(tx.conn(), &day_ago).await?;
    tx.commit().await?;
    if removed > 0 {
        tracing::info!(removed, "old executions pruned");
    }
    // Files of executions that are gone, however they went (pruned here, deleted with their
    // workflow, or dropped on another instance sharing the folder).
    match engine.binary().sweep().await {
        Ok(0) => {}
        Ok(swept) => tracing::info!(swept, "binary data of deleted executions removed"),
        Err(e) => tracing::warn!(error = %e, "could not remove binary data of deleted executions"),
    }
    Ok(())
}
