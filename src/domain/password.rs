//! Passwords: n8n's rules (8 to 64 characters, a digit, an upper-case letter, with n8n's
//! messages) and argon2id hashing off the async runtime, on threads of its own.

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::{oneshot, Semaphore};

use crate::error::ApiError;

/// How long a sign-in waits for a hashing slot before it is answered 503.
const SLOT_WAIT: Duration = Duration::from_secs(5);

/// A hashing job: runs on one of the hashing threads, answers through its channel.
type Job = Box<dyn FnOnce() + Send>;

/// Each hash or verification holds 19 MiB for its whole run. Two bounds keep memory fixed
/// under a burst of sign-ins (failed ones included): at most one job per CPU runs at once
/// (the others wait briefly, then 503), and jobs run on that many long-lived threads rather
/// than the blocking pool. Each job's argon2 memory is its own mapping, handed back to the
/// system when the job ends (see [`argon2_into`]): nothing of it stays in the heap, neither
/// kept nor as fragments between the small allocations of hundreds of connections.
struct Hashers {
    slots: Semaphore,
    jobs: Mutex<mpsc::Sender<Job>>,
}

fn hashers() -> &'static Hashers {
    static HASHERS: OnceLock<Hashers> = OnceLock::new();
    HASHERS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..cpus {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{i}"))
                .spawn(move || loop {
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("a password hashing thread starts");
        }
        Hashers {
            slots: Semaphore::new(cpus),
            jobs: Mutex::new(sender),
        }
    })
}

/// Runs `work` on a hashing thread once a slot is free (waiting up to [`SLOT_WAIT`]; past
/// that the server is too busy: 503), with the caller's span.
async fn run_hashing<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let busy = ApiError::Busy {
        message: "Too many sign-ins at once, please try again shortly",
        retry_after_secs: 5,
    };
    let hashers = hashers();
    let _slot = match tokio::time::timeout(SLOT_WAIT, hashers.slots.acquire()).await {
        Ok(Ok(permit)) => permit,
        Ok(Err(_)) | Err(_) => return Err(busy),
    };
    let span = tracing::Span::current();
    let (answer, answered) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _entered = span.enter();
        let _ = answer.send(work());
    });
    hashers
        .jobs
        .lock()
        .map_err(|_| anyhow::anyhow!("password hashing threads are gone"))?
        .send(job)
        .map_err(|_| anyhow::anyhow!("password hashing threads are gone"))?;
    let done = answered
        .await
        .map_err(|_| anyhow::anyhow!("a password hashing job was dropped"))??;
    Ok(done)
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
fn new_hash_params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters")
}

/// The largest memory cost a stored hash may ask for; a hash asking more is not verified
/// rather than allowed to allocate it.
const MAX_MEMORY_KIB: u32 = 64 * 1024;

/// Blocks asked of the allocator for one job's argon2 memory, whatever the job needs: more
/// than 32 MiB. glibc's malloc serves a request that large from a mapping of its own and
/// unmaps it on free (its threshold for that adapts, but never past 32 MiB). A smaller
/// request would come from the heap once a first one was freed, and stay there: after one
/// sign-in the server kept 19 MiB per hashing thread for good. Only the blocks argon2 uses are
/// ever touched, so only those become resident.
const MAPPED_BLOCKS: usize = 33 * 1024;

/// argon2id of `password` with the raw `salt` into `out`, in memory of this job's own.
fn argon2_into(
    version: Version,
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> anyhow::Result<()> {
    let argon = Argon2::new(Algorithm::Argon2id, version, params.clone());
    let needed = params.block_count();
    let mut memory: Vec<Block> = Vec::with_capacity(needed.max(MAPPED_BLOCKS));
    memory.resize(needed, Block::default());
    argon
        .hash_password_into_with_memory(password, salt, out, &mut memory)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Hashes a password into a PHC string. CPU-heavy: runs on a hashing thread so it never
/// stalls the request executor, and carries the caller's span with it.
pub async fn hash(password: String) -> Result<String, ApiError> {
    run_hashing(move || {
        let salt = SaltString::generate(&mut OsRng);
        let mut salt_raw = [0u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut salt_raw)
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let params = new_hash_params();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        argon2_into(
            Version::V0x13,
            &params,
            password.as_bytes(),
            salt_bytes,
            &mut out,
        )?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
        };
        Ok(phc.to_string())
    })
    .await
}

/// A hash of a random password, verified against when the user is unknown (or has no
/// password yet), so that a sign-in costs the same whether or not the account exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0mUlK6ieTGFYXYd+x7qyb5nY8o5J6d9dHvZ0sSJ4oFw";

/// Whether `password` hashes to the stored PHC string `phc` (argon2id only).
fn matches(password: &[u8], phc: &str) -> anyhow::Result<bool> {
    let parsed =
        PasswordHash::new(phc).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
    if parsed.algorithm != Algorithm::Argon2id.ident() {
        anyhow::bail!("stored hash is not argon2id");
    }
    let params = Params::try_from(&parsed).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    if params.m_cost() > MAX_MEMORY_KIB {
        anyhow::bail!("stored hash asks for more memory than allowed");
    }
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| anyhow::anyhow!("stored hash: {e}"))?
        .unwrap_or_default();
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        anyhow::bail!("stored hash has no salt or no hash");
    };
    let mut salt_raw = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_raw)
        .map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
    let mut out = vec![0u8; expected.len()];
    argon2_into(version, &params, password, salt_bytes, &mut out)?;
    // `Output`'s equality compares in constant time.
    let computed = Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(computed == expected)
}

/// Verifies `password` against `stored` (or against a dummy hash when `stored` is `None`,
/// which always fails). Runs on a hashing thread.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, ApiError> {
    run_hashing(move || {
        let known = stored.is_some();
        let phc = stored.as_deref().unwrap_or(DUMMY_HASH);
        let matched = matches(password.as_bytes(), phc)?;
        Ok(known && matched)
    })
    .await
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

    /// Hashes stored before the hashing threads kept their memory were made by the argon2
    /// crate's own hasher: both ways must agree with it.
    #[test]
    fn kept_memory_hashes_agree_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let standard = Argon2::new(Algorithm::Argon2id, Version::V0x13, new_hash_params());
        let salt = SaltString::generate(&mut OsRng);
        let theirs = standard
            .hash_password(b"Good-Passw0rd", &salt)
            .expect("hash")
            .to_string();
        // Twice: the second run reuses the thread's memory from the first.
        assert!(matches(b"Good-Passw0rd", &theirs).expect("verify"));
        assert!(matches(b"Good-Passw0rd", &theirs).expect("verify"));
        assert!(!matches(b"Good-Passw0rd!", &theirs).expect("verify"));
        let ours = tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(hash("Good-Passw0rd".into()))
            .expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(standard.verify_password(b"Good-Passw0rd", &parsed).is_ok());
        assert!(matches(b"x", "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$AAAA").is_err());
        assert!(matches(b"x", "$2b$10$abcdefghijklmnopqrstuv").is_err());
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
