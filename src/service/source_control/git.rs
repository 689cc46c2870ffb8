//! Fetching the configured branch into a working copy with the system `git` binary.
//!
//! Git is started with explicit arguments (never through a shell), with no standard input and
//! no terminal prompts, under a time limit. The working copy is the server's own repository
//! (made with `git init`), so no hook of the remote ever runs; symbolic links are checked out
//! as plain files, so a link in the repository cannot make the import read outside it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// How long one git command may run: less than the default request time limit (60 s), so a
/// stuck fetch is answered with a message rather than cut off.
const GIT_TIMEOUT: Duration = Duration::from_secs(45);

/// The ref the fetched branch is kept under in the working copy.
const PULLED_REF: &str = "refs/flowgate/pulled";

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git is not installed on the server")]
    Missing,
    #[error("{0}")]
    Failed(String),
    #[error("git did not finish within {} seconds", GIT_TIMEOUT.as_secs())]
    Timeout,
}

/// Where to fetch from.
pub struct Remote<'a> {
    pub url: &'a str,
    pub branch: &'a str,
    pub ssh_key_file: Option<&'a Path>,
    /// The SSH known-hosts file (kept in the data folder; new hosts are added on first use).
    pub known_hosts: &'a Path,
}

/// Whether `branch` is a plain branch name git will not read as an option or a ref pattern.
pub fn valid_branch(branch: &str) -> bool {
    !branch.is_empty()
        && branch.len() <= 255
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.ends_with(".lock")
        && branch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
}

/// The repository argument for git: URLs and `user@host:path` as given, local paths made
/// absolute (git runs inside the working copy, where a relative path would mean something
/// else).
fn repository_argument(url: &str) -> Result<String, GitError> {
    if url.starts_with('-') {
        return Err(GitError::Failed(
            "The repository URL must not start with '-'".to_owned(),
        ));
    }
    let scp_like = url
        .split_once(':')
        .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/') && host.len() > 1);
    if url.contains("://") || scp_like {
        return Ok(url.to_owned());
    }
    std::fs::canonicalize(url)
        .map(|p| p.to_string_lossy().into_owned())
        .map_err(|_| GitError::Failed(format!("The repository path {url} does not exist")))
}

/// `'text'` for a POSIX shell: git runs `GIT_SSH_COMMAND` through `sh`, so the key path is
/// quoted rather than trusted.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Removes the user-info part (`user:token@`) of every URL in `text`, so a credential in the
/// configured URL never reaches a response or a log line.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("***@");
                rest = &tail[at + 1..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

async fn run(work_dir: &Path, args: &[&str], remote: &Remote<'_>) -> Result<String, GitError> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(work_dir)
        .args([
            "-c",
            "core.symlinks=false",
            "-c",
            "advice.detachedHead=false",
        ])
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    match remote.ssh_key_file {
        Some(key) => {
            command.env(
                "GIT_SSH_COMMAND",
                format!(
                    "ssh -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={}",
                    shell_quote(&key.to_string_lossy()),
                    shell_quote(&remote.known_hosts.to_string_lossy())
                ),
            );
        }
        None if std::env::var_os("GIT_SSH_COMMAND").is_none() => {
            // Never wait for a passphrase or password typed on the server's terminal.
            command.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        None => {}
    }
    let child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => GitError::Missing,
        _ => GitError::Failed(format!("git could not be started: {e}")),
    })?;
    let output = tokio::time::timeout(GIT_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| GitError::Timeout)?
        .map_err(|e| GitError::Failed(format!("git failed: {e}")))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned());
    }
    let stderr = redact(&String::from_utf8_lossy(&output.stderr));
    tracing::warn!(git.args = ?args.first(), stderr = %stderr.trim(), "git failed");
    // git's last "fatal:" line says why; earlier lines are progress and hints.
    let reason = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .rfind(|l| l.starts_with("fatal:") || l.starts_with("error:"))
        .or_else(|| stderr.lines().map(str::trim).rfind(|l| !l.is_empty()))
        .unwrap_or("git failed")
        .to_owned();
    Err(GitError::Failed(reason))
}

/// Fetches the branch into `work_dir` (a repository of the server's own, created on first use)
/// and checks it out, replacing whatever the working copy held. Answers the commit id.
pub async fn fetch(work_dir: &Path, remote: &Remote<'_>) -> Result<String, GitError> {
    let repository = repository_argument(remote.url)?;
    if !valid_branch(remote.branch) {
        return Err(GitError::Failed(format!(
            "The branch name \"{}\" is not valid",
            remote.branch
        )));
    }
    std::fs::create_dir_all(work_dir)
        .map_err(|e| GitError::Failed(format!("cannot create the working copy: {e}")))?;
    if !work_dir.join(".git").exists() {
        run(work_dir, &["init", "--quiet"], remote).await?;
    }
    let refspec = format!("+refs/heads/{}:{PULLED_REF}", remote.branch);
    run(
        work_dir,
        &[
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-recurse-submodules",
            "--depth=1",
            &repository,
            &refspec,
        ],
        remote,
    )
    .await?;
    run(
        work_dir,
        &["checkout", "--quiet", "--force", "--detach", PULLED_REF],
        remote,
    )
    .await?;
    run(work_dir, &["clean", "-ffdxq"], remote).await?;
    run(work_dir, &["rev-parse", "HEAD"], remote).await
}

/// The folder of the working copy and the SSH known-hosts file. Not n8n's `git/` and `ssh/`:
/// an n8n sharing the data folder keeps its own working copy there, which a forced checkout
/// here would overwrite.
pub fn state_dir(data_folder: &Path) -> PathBuf {
    data_folder.join("source-control")
}

/// The working copy's folder.
pub fn work_dir(data_folder: &Path) -> PathBuf {
    state_dir(data_folder).join("repository")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_urls_are_redacted() {
        assert_eq!(
            redact("fatal: unable to access 'https://bob:s3cret@git.example.com/r.git/': 403"),
            "fatal: unable to access 'https://***@git.example.com/r.git/': 403"
        );
        assert_eq!(
            redact("ssh://git@host/x and file:///tmp/r"),
            "ssh://***@host/x and file:///tmp/r"
        );
        assert_eq!(redact("no url here"), "no url here");
    }

    #[test]
    fn branch_names_that_git_could_misread_are_refused() {
        assert!(valid_branch("main"));
        assert!(valid_branch("release/2.1"));
        for bad in ["", "-x", "a..b", "a b", "refs/*", "x.lock", "/x", "x/"] {
            assert!(!valid_branch(bad), "{bad}");
        }
    }

    #[test]
    fn key_paths_are_quoted_for_the_shell() {
        assert_eq!(shell_quote("/k/it's"), "'/k/it'\\''s'");
    }
}
