//! Build script: records the git revision the binary is built from, for `--version` and the
//! metrics' version series.
//!
//! `FLOWGATE_GIT_REVISION` in the build environment wins (a Docker build context has no
//! `.git`, so the Dockerfile passes it as a build argument); otherwise `git rev-parse` is
//! asked; without git or history the revision is `unknown` rather than a failed build.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=FLOWGATE_GIT_REVISION");
    let revision = std::env::var("FLOWGATE_GIT_REVISION")
        .ok()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .or_else(git_revision)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=FLOWGATE_GIT_REVISION={revision}");
}

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn git_revision() -> Option<String> {
    let revision = git(&["rev-parse", "--short", "HEAD"])?;
    // Rebuild when HEAD moves: HEAD itself (branch switches, detached checkouts) and the
    // files that hold the branch's commit (loose ref or packed refs). A worktree keeps HEAD
    // in its own git dir and the refs in the common one.
    let git_dir = git(&["rev-parse", "--git-dir"]).map(PathBuf::from);
    let common_dir = git(&["rev-parse", "--git-common-dir"]).map(PathBuf::from);
    let mut watched = Vec::new();
    if let Some(dir) = &git_dir {
        watched.push(dir.join("HEAD"));
    }
    if let Some(dir) = common_dir.or(git_dir) {
        if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watched.push(dir.join(reference));
        }
        watched.push(dir.join("packed-refs"));
    }
    // A path that does not exist would make cargo rerun this script on every build.
    for path in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    Some(revision)
}
