//! Instance-level secrets and background housekeeping.

use std::time::Duration;

use anyhow::{bail, Context};
use rand::RngCore;

use crate::crypto::{KeyRing, LookupHasher, OpenError};
use crate::db::{credentials, sessions, settings, Db};
use crate::domain::time::{now_iso, now_unix};

/// Settings key of the sealed secret behind API-key and session hashes.
pub const LOOKUP_SECRET: &str = "secrets.lookupKey";

/// Loads the secret that keys the look-up hashes, creating it on first start. It is stored
/// sealed by the key ring; failing to open it means `N8N_ENCRYPTION_KEY` is not the key this
/// instance was set up with, and the server must not start (every key and session would
/// silently stop working, and new secrets would be sealed under the wrong key).
pub async fn lookup_hasher(db: &Db, keys: &KeyRing) -> anyhow::Result<LookupHasher> {
    let mut fresh = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut fresh);
    let sealed = keys.seal(&fresh, LOOKUP_SECRET);
    {
        let mut tx = db.begin().await?;
        // Two instances starting at once: exactly one insert wins and both read it back.
        settings::insert_if_absent(tx.conn(), LOOKUP_SECRET, &sealed, &now_iso()).await?;
        tx.commit().await?;
    }
    let mut conn = db.acquire().await?;
    let stored = settings::get(conn.conn(), LOOKUP_SECRET)
        .await?
        .context("instance secret missing after insert")?;
    let secret = match keys.open(&stored, LOOKUP_SECRET) {
        Ok(secret) => secret,
        Err(OpenError::UnknownKey(id)) => bail!(
            "N8N_ENCRYPTION_KEY cannot decrypt this instance's data: it was encrypted with key {id}, which is not configured"
        ),
        Err(OpenError::Corrupt) => bail!("N8N_ENCRYPTION_KEY cannot decrypt this instance's data (wrong key or damaged data)"),
    };
    let key: [u8; 32] = secret
        .try_into()
        .map_err(|_| anyhow::anyhow!("instance secret has the wrong length"))?;
    Ok(LookupHasher::new(key))
}

/// Refuses to start when a stored credential was sealed with a key that is not configured:
/// the operator retired a key before re-encrypting (`flowgate credentials re-encrypt`), and
/// those credentials would fail at their first use instead of now.
pub async fn check_sealed_data(db: &Db, keys: &KeyRing) -> anyhow::Result<()> {
    let mut conn = db.acquire().await?;
    let missing: Vec<String> = credentials::key_ids(conn.conn())
        .await?
        .into_iter()
        .filter(|id| !keys.has_key(id))
        .collect();
    if !missing.is_empty() {
        bail!(
            "some credentials were encrypted with key(s) {} that are not configured: add the old key to N8N_ENCRYPTION_KEYS_PREVIOUS, then run `flowgate credentials re-encrypt`",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Re-seals every credential and the instance secret with the primary key; answers how many
/// credentials were re-sealed. Safe to interrupt and run again: each batch is a transaction.
pub async fn reencrypt(db: &Db, keys: &KeyRing) -> anyhow::Result<u64> {
    let mut done = 0;
    loop {
        let mut tx = db.begin().await?;
        let batch = credentials::sealed_with_other_key(tx.conn(), keys.primary_id(), 200).await?;
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            let context = format!("credential:{}", row.id);
            let plain = keys
                .open(&row.data, &context)
                .map_err(|e| anyhow::anyhow!("credential {}: {e}", row.id))?;
            credentials::reseal(
                tx.conn(),
                &row.id,
                &keys.seal(&plain, &context),
                keys.primary_id(),
            )
            .await?;
            done += 1;
        }
        tx.commit().await?;
    }
    let mut tx = db.begin().await?;
    if let Some(stored) = settings::get(tx.conn(), LOOKUP_SECRET).await? {
        if KeyRing::key_id_of(&stored) != Some(keys.primary_id()) {
            let plain = keys
                .open(&stored, LOOKUP_SECRET)
                .map_err(|e| anyhow::anyhow!("instance secret: {e}"))?;
            settings::put(
                tx.conn(),
                LOOKUP_SECRET,
                &keys.seal(&plain, LOOKUP_SECRET),
                &now_iso(),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(done)
}

/// Periodic clean-up: expired sessions are removed every hour.
pub fn spawn_housekeeping(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let result = async {
                let mut tx = db.begin().await?;
                let removed = sessions::delete_expired(tx.conn(), now_unix()).await?;
                tx.commit().await?;
                Ok::<_, sqlx::Error>(removed)
            }
            .await;
            match result {
                Ok(n) if n > 0 => tracing::debug!(removed = n, "expired sessions removed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session clean-up failed"),
            }
        }
    });
}
