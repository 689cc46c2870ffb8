//! Passwords: n8n's rules (8 to 64 characters, a digit, an upper-case letter, with n8n's
//! messages) and argon2id hashing off the async runtime.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::ApiError;

/// How long a sign-in waits for a hashing slot before it is answered 503.
const SLOT_WAIT: Duration = Duration::from_secs(5);

/// Each hash or verification holds 19 MiB for its whole run; without a bound, a burst of
/// sign-ins (failed ones included) would grow memory with every request. One slot per CPU
/// keeps the CPUs busy and the memory fixed.
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Semaphore::new(cpus)
    })
}

/// Waits up to [`SLOT_WAIT`] for a hashing slot; past that the server is too busy: 503.
async fn acquire_slot() -> Result<SemaphorePermit<'static>, ApiError> {
    let busy = ApiError::Busy {
        message: "Too many sign-ins at once, please try again shortly",
        retry_after_secs: 5,
    };
    match tokio::time::timeout(SLOT_WAIT, slots().acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) | Err(_) => Err(busy),
    }
}

/// Checks n8n's password rules and answers the first broken rule with n8n's message.
pub fn validate(password: &str, min_length: usize) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < min_length || length > 64 {
        return Err(if min_length == 8 {
            "Password must be 8 to 64 characters long."
        } else {
            "Password is too short or too long."
        });
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        return Err("Password must contain at least 1 number.");
    }
    if !password.chars().any(|c| c.is_uppercase()) {
        return Err("Password must contain at least 1 uppercase letter.");
    }
    Ok(())
}

/// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string. CPU-heavy: runs on the blocking pool so it never
/// stalls the request executor, and carries the caller's span with it.
pub async fn hash(password: String) -> Result<String, ApiError> {
    let _slot = acquire_slot().await?;
    let span = tracing::Span::current();
    let hashed = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok(hashed)
}

/// A hash of a random password, verified against when the user is unknown (or has no
/// password yet), so that a sign-in costs the same whether or not the account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0mUlK6ieTGFYXYd+x7qyb5nY8o5J6d9dHvZ0sSJ4oFw";

/// Verifies `password` against `stored` (or against a dummy hash when `stored` is `None`,
/// which always fails). Runs on the blocking pool.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    let _slot = acquire_slot().await?;
    let span = tracing::Span::current();
    let verdict = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed =
            PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
        let matches = hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        anyhow::Ok(known && matches)
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok(verdict)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_give_n8ns_messages() {
        assert_eq!(
            validate("Sh0rt", 8),
            Err("Password must be 8 to 64 characters long.")
        );
        assert_eq!(
            validate(&format!("A1{}", "a".repeat(63)), 8),
            Err("Password must be 8 to 64 characters long.")
        );
        assert_eq!(
            validate("NoDigitsHere", 8),
            Err("Password must contain at least 1 number.")
        );
        assert_eq!(
            validate("nouppercase1", 8),
            Err("Password must contain at least 1 uppercase letter.")
        );
        assert_eq!(validate("Good-Passw0rd", 8), Ok(()));
    }

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_match() {
        let stored = hash("Good-Passw0rd".into()).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("Good-Passw0rd".into(), Some(stored.clone()))
            .await
            .expect("verify"));
        assert!(!verify("Wrong-Passw0rd".into(), Some(stored))
            .await
            .expect("verify"));
        assert!(!verify("Good-Passw0rd".into(), None).await.expect("verify"));
    }
}
