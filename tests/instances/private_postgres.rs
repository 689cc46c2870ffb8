//! A PostgreSQL server of a test's own (initdb + pg_ctl into a temporary directory, on a free
//! port), for tests that restart or stop the database: the shared server other tests use must
//! never go down under them.
//!
//! PostgreSQL refuses to run as root: under root the server runs as the `postgres` system
//! user (through `runuser`), which then owns the temporary directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::free_port;

pub struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The user to run the server's commands as, when the test runs as root.
    run_as: Option<&'static str>,
    pub port: u16,
}

impl PrivatePostgres {
    /// Creates and starts the server; `None` (with a line on stderr saying why) when this
    /// machine has no PostgreSQL server binaries or no user to run them as, unless
    /// `FLOWGATE_REQUIRE_POSTGRES=1`, which makes that a failure.
    pub fn start(test: &str) -> Option<PrivatePostgres> {
        let skip = |why: &str| {
            use std::io::Write as _;
            assert!(
                std::env::var("FLOWGATE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "{test} needs a private PostgreSQL server: {why}, and FLOWGATE_REQUIRE_POSTGRES=1 \
                 forbids skipping it"
            );
            let _ = writeln!(std::io::stderr(), "skipped: {why}: {test}");
        };
        let Some(bin) = server_binaries() else {
            skip("no PostgreSQL server binaries (initdb, pg_ctl) found through pg_config or under /usr/lib/postgresql");
            return None;
        };
        let root = output(Command::new("id").arg("-u")).trim() == "0";
        let run_as = if root {
            if !Command::new("id")
                .arg("postgres")
                .output()
                .is_ok_and(|o| o.status.success())
            {
                skip("running as root and no `postgres` user to run the server as");
                return None;
            }
            Some("postgres")
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("flowgate-pg-")
            .tempdir()
            .expect("temporary directory");
        if let Some(user) = run_as {
            let owned = Command::new("chown")
                .args([user, &dir.path().display().to_string()])
                .status()
                .expect("chown");
            assert!(owned.success(), "chown of the server's directory");
        }
        let server = PrivatePostgres {
            dir,
            bin,
            run_as,
            port: free_port(),
        };
        let data = server.data().display().to_string();
        server.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            server.port,
            server.dir.path().display()
        );
        let log = server.dir.path().join("server.log").display().to_string();
        server.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &options, "-w", "-t", "120", "start",
            ],
        );
        Some(server)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Restarts the server with shutdown mode `mode` (`fast`: connections are ended and the
    /// server stops cleanly; `immediate`: it stops at once and recovers from its log at
    /// start), waiting until it accepts connections again.
    pub fn restart(&self, mode: &str) {
        let data = self.data().display().to_string();
        // `-l` again: without it the new server writes to pg_ctl's output, which then never
        // ends for the reader here.
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-m", mode, "-w", "-t", "120", "restart",
            ],
        );
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        // The server's own settings, not the caller's PG* variables.
        for (name, _) in std::env::vars() {
            if name.starts_with("PG") {
                command.env_remove(name);
            }
        }
        command.current_dir(self.dir.path());
        command
    }

    fn run(&self, program: &str, args: &[&str]) {
        let out = self
            .command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        let _ = self
            .command("pg_ctl")
            .args(["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// The directory of `initdb` and `pg_ctl`: `pg_config --bindir`, else the newest version
/// under /usr/lib/postgresql (Debian's layout, where pg_config may be missing).
fn server_binaries() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_server(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn output(command: &mut Command) -> String {
    command
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}
