//! Community node packages from an npm registry: n8n's name rules, the registry's package
//! document, the tarball download (size-limited, never redirected to another host), its
//! integrity check, and unpacking (regular files and folders only, nothing outside the
//! package). The server keeps the files in the data folder and reads `package.json`; it never
//! loads or runs a package's code.
//!
//! Past 600 lines on purpose: each step of an install guards the next, and they read best in
//! the order they run.

use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use reqwest::Url;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha512};

/// n8n's prefix of community node package names.
pub const PACKAGE_PREFIX: &str = "n8n-nodes-";

/// n8n's messages (`RESPONSE_ERROR_MESSAGES`).
pub const PACKAGE_NOT_INSTALLED: &str = "This package is not installed - you must install it first";
pub const PACKAGE_NOT_FOUND: &str = "Package not found in npm";
pub const PACKAGE_VERSION_NOT_FOUND: &str = "The specified package version was not found";
pub const PACKAGE_DOES_NOT_CONTAIN_NODES: &str = "The specified package does not contain any nodes";
pub const PACKAGE_LOADING_FAILED: &str = "The specified package could not be loaded";
pub const INTEGRITY_MISMATCH: &str =
    "Checksum verification failed. Package integrity does not match.";

const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const PACKUMENT_MAX: usize = 64 * 1024 * 1024;
const TARBALL_MAX: usize = 64 * 1024 * 1024;
const UNPACKED_MAX: u64 = 256 * 1024 * 1024;
const ENTRIES_MAX: usize = 20_000;

/// A package name as n8n reads it: `n8n-nodes-x`, `@scope/n8n-nodes-x`, either with an
/// optional `@version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedName {
    pub package_name: String,
    pub version: Option<String>,
}

/// Whether `version` is something a registry can resolve: an exact version or a dist-tag.
pub fn valid_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 64
        && !version.starts_with(['-', '.'])
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+' | b'_'))
}

fn valid_exact_version(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && valid_version(version)
}

/// n8n's `parseNpmPackageName`, with npm's own name rules on top (length, leading
/// characters, one scope).
pub fn parse_name(raw: &str) -> Result<ParsedName, String> {
    if raw.is_empty() {
        return Err("Package name is required".to_owned());
    }
    if raw
        .chars()
        .any(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "@-._/".contains(c)))
    {
        return Err("Package name must be a single word".to_owned());
    }
    let (scope, rest) = match raw.split_once('/') {
        Some((scope, rest)) => (Some(scope), rest),
        None => (None, raw),
    };
    if let Some(scope) = scope {
        if !scope.starts_with('@')
            || scope.len() < 2
            || rest.contains('/')
            || scope[1..].contains('@')
        {
            return Err(format!(
                "Package name \"{raw}\" is not a valid npm package name"
            ));
        }
    }
    if !rest.starts_with(PACKAGE_PREFIX) {
        return Err(format!("Package name must start with {PACKAGE_PREFIX}"));
    }
    let (name, version) = match rest.split_once('@') {
        Some((name, version)) => (name, Some(version)),
        None => (rest, None),
    };
    if let Some(version) = version {
        if !valid_exact_version(version) {
            return Err(format!("Invalid version: {version}"));
        }
    }
    let package_name = match scope {
        Some(scope) => format!("{scope}/{name}"),
        None => name.to_owned(),
    };
    if package_name.len() > 214 || name.len() <= PACKAGE_PREFIX.len() || name.ends_with('.') {
        return Err(format!(
            "Package name \"{raw}\" is not a valid npm package name"
        ));
    }
    Ok(ParsedName {
        package_name,
        version: version.map(str::to_owned),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Something about the package or the registry's answer (answered 400).
    #[error("{0}")]
    Package(String),
    /// The registry could not be reached or answered with an error (answered 400 too: the
    /// request cannot succeed as it is).
    #[error("{0}")]
    Registry(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// An npm registry client.
pub struct Registry {
    base: Url,
    client: reqwest::Client,
}

/// What the registry says about one version.
#[derive(Debug, Clone)]
pub struct Release {
    pub version: String,
    pub tarball: Url,
    /// `dist.integrity` (an SRI string), or the SRI form of `dist.shasum`.
    pub integrity: String,
}

impl Registry {
    pub fn new(base: &str) -> Result<Registry, PackageError> {
        let base = Url::parse(base.trim_end_matches('/'))
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                PackageError::Registry(
                    "The community package registry URL is not a valid http(s) URL".to_owned(),
                )
            })?;
        // Redirects are followed only within the registry's own origin, so an answer cannot
        // send the server to another host (or to an internal address) on its behalf.
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let leaves = attempt
                .previous()
                .first()
                .is_some_and(|first| !same_origin(first, attempt.url()));
            if attempt.previous().len() > 5 || leaves {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .redirect(policy)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("flowgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PackageError::Internal(anyhow::anyhow!("http client: {e}")))?;
        Ok(Registry { base, client })
    }

    /// The URL of a package document: scoped names keep their `@` and encode the `/`.
    fn packument_url(&self, name: &str) -> Url {
        let mut url = self.base.clone();
        let path = format!(
            "{}/{}",
            url.path().trim_end_matches('/'),
            name.replace('/', "%2f")
        );
        url.set_path(&path);
        url
    }

    async fn get(
        &self,
        url: Url,
        limit: usize,
        timeout: Duration,
    ) -> Result<Option<Vec<u8>>, PackageError> {
        let unreachable = |e: reqwest::Error| {
            PackageError::Registry(format!(
                "The registry could not be reached: {}",
                if e.is_timeout() {
                    "timed out"
                } else {
                    "connection failed"
                }
            ))
        };
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(timeout)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if status.is_redirection() {
            return Err(PackageError::Registry(
                "The registry redirected to another host, which is not followed".to_owned(),
            ));
        }
        if !status.is_success() {
            return Err(PackageError::Registry(format!(
                "The registry answered {status}"
            )));
        }
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(PackageError::Package(format!(
                "The registry's answer is larger than {} MiB",
                limit / 1024 / 1024
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > limit {
                return Err(PackageError::Package(format!(
                    "The registry's answer is larger than {} MiB",
                    limit / 1024 / 1024
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }

    /// The package document, or `None` when the registry does not know the package.
    pub async fn packument(
        &self,
        name: &str,
        timeout: Option<Duration>,
    ) -> Result<Option<Value>, PackageError> {
        let Some(bytes) = self
            .get(
                self.packument_url(name),
                PACKUMENT_MAX,
                timeout.unwrap_or(REQUEST_TIMEOUT),
            )
            .await?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| PackageError::Registry("The registry's answer is not JSON".to_owned()))
    }

    /// The version to install: `requested` (an exact version or a dist-tag), else `latest`.
    pub fn release(
        &self,
        packument: &Value,
        requested: Option<&str>,
    ) -> Result<Release, PackageError> {
        let tag = |t: &str| packument["dist-tags"][t].as_str().map(str::to_owned);
        let version =
            match requested {
                Some(v) if packument["versions"].get(v).is_some() => v.to_owned(),
                Some(v) => tag(v)
                    .ok_or_else(|| PackageError::Package(PACKAGE_VERSION_NOT_FOUND.to_owned()))?,
                None => tag("latest")
                    .ok_or_else(|| PackageError::Package(PACKAGE_NOT_FOUND.to_owned()))?,
            };
        let manifest = packument["versions"]
            .get(&version)
            .ok_or_else(|| PackageError::Package(PACKAGE_VERSION_NOT_FOUND.to_owned()))?;
        let dist = &manifest["dist"];
        let tarball = dist["tarball"]
            .as_str()
            .and_then(|t| Url::parse(t).ok())
            .ok_or_else(|| {
                PackageError::Package("The registry gives no tarball for this version".to_owned())
            })?;
        if !same_origin(&tarball, &self.base) {
            return Err(PackageError::Package(
                "The registry's tarball URL is on another host, which is not followed".to_owned(),
            ));
        }
        let integrity = match (dist["integrity"].as_str(), dist["shasum"].as_str()) {
            (Some(sri), _) if sri.split_whitespace().any(|h| h.starts_with("sha512-")) => {
                sri.to_owned()
            }
            (_, Some(hex)) if hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let bytes: Vec<u8> = (0..20)
                    .filter_map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).ok())
                    .collect();
                format!("sha1-{}", B64.encode(bytes))
            }
            _ => {
                return Err(PackageError::Package(
                    "The registry gives no integrity hash (sha512 or sha1) for this version"
                        .to_owned(),
                ))
            }
        };
        Ok(Release {
            version,
            tarball,
            integrity,
        })
    }

    pub async fn tarball(&self, release: &Release) -> Result<Vec<u8>, PackageError> {
        self.get(release.tarball.clone(), TARBALL_MAX, REQUEST_TIMEOUT)
            .await?
            .ok_or_else(|| PackageError::Package(PACKAGE_VERSION_NOT_FOUND.to_owned()))
    }
}

/// Whether `bytes` match the SRI string: any of its sha512 (or, failing those, sha1) hashes.
pub fn integrity_matches(integrity: &str, bytes: &[u8]) -> bool {
    let sha512 = B64.encode(Sha512::digest(bytes));
    let sha1 = B64.encode(Sha1::digest(bytes));
    let hashes: Vec<&str> = integrity.split_whitespace().collect();
    let strong: Vec<&str> = hashes
        .iter()
        .filter_map(|h| h.strip_prefix("sha512-"))
        .collect();
    if !strong.is_empty() {
        // An SRI hash may carry options after '?'.
        return strong
            .iter()
            .any(|h| h.split('?').next() == Some(sha512.as_str()));
    }
    hashes
        .iter()
        .filter_map(|h| h.strip_prefix("sha1-"))
        .any(|h| h.split('?').next() == Some(sha1.as_str()))
}

/// A path of the package, checked to stay inside it.
fn inside(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Unpacks an npm tarball (gzip + tar, one top folder, usually `package/`) into `dest`.
/// Links, devices and paths that leave the package refuse the whole package.
pub fn unpack(tarball: &[u8], dest: &Path) -> Result<(), PackageError> {
    let refuse = |m: String| PackageError::Package(format!("{PACKAGE_LOADING_FAILED}: {m}"));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let entries = archive
        .entries()
        .map_err(|e| refuse(format!("not a tar archive ({e})")))?;
    let mut total: u64 = 0;
    for (count, entry) in entries.enumerate() {
        if count >= ENTRIES_MAX {
            return Err(refuse(format!("more than {ENTRIES_MAX} files")));
        }
        let mut entry = entry.map_err(|e| refuse(format!("damaged archive ({e})")))?;
        let kind = entry.header().entry_type();
        let raw = entry
            .path()
            .map_err(|_| refuse("a file name is not valid".to_owned()))?
            .into_owned();
        if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            continue;
        }
        // npm strips the top folder, whatever its name.
        let mut components = raw.components();
        let top = components.next();
        let Some(relative) = inside(components.as_path()) else {
            if top.is_some_and(|c| matches!(c, Component::Normal(_)))
                && components.as_path().as_os_str().is_empty()
            {
                continue;
            }
            return Err(refuse(format!("{} leaves the package", raw.display())));
        };
        if !matches!(top, Some(Component::Normal(_))) {
            return Err(refuse(format!("{} leaves the package", raw.display())));
        }
        let target = dest.join(&relative);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| PackageError::Internal(e.into()))?;
        } else if kind.is_file() || kind == tar::EntryType::Continuous {
            let size = entry.header().size().unwrap_or(0);
            total += size;
            if total > UNPACKED_MAX {
                return Err(refuse(format!(
                    "larger than {} MiB unpacked",
                    UNPACKED_MAX / 1024 / 1024
                )));
            }
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| PackageError::Internal(e.into()))?;
            }
            let mut file =
                std::fs::File::create(&target).map_err(|e| PackageError::Internal(e.into()))?;
            let copied = std::io::copy(&mut (&mut entry).take(size), &mut file)
                .map_err(|e| refuse(format!("damaged archive ({e})")))?;
            if copied != size {
                return Err(refuse("damaged archive (a file is cut short)".to_owned()));
            }
        } else if kind.is_symlink() || kind.is_hard_link() {
            return Err(refuse(format!("{} is a link", raw.display())));
        } else {
            return Err(refuse(format!("{} is not a regular file", raw.display())));
        }
    }
    Ok(())
}

/// A node a package declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredNode {
    pub kind: String,
    pub name: String,
}

/// What the unpacked `package.json` says.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub version: String,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub nodes: Vec<DeclaredNode>,
}

/// `"Name <email> (url)"` or `{name, email}`.
fn author(value: &Value) -> (Option<String>, Option<String>) {
    match value {
        Value::Object(o) => (
            o.get("name").and_then(Value::as_str).map(str::to_owned),
            o.get("email").and_then(Value::as_str).map(str::to_owned),
        ),
        Value::String(s) => {
            let name = s.split(['<', '(']).next().unwrap_or("").trim();
            let email = s
                .split_once('<')
                .and_then(|(_, rest)| rest.split_once('>'))
                .map(|(email, _)| email.trim().to_owned());
            ((!name.is_empty()).then(|| name.to_owned()), email)
        }
        _ => (None, None),
    }
}

/// Reads `package.json` of an unpacked package: its name must be `package_name`, and
/// `n8n.nodes` must list at least one node file that exists in the package. Node types are
/// `<package>.<node>`, the node's name taken from its file name (`Foo.node.js` → `foo`), as
/// the code that would say otherwise is never run.
pub fn read_manifest(dir: &Path, package_name: &str) -> Result<Manifest, PackageError> {
    let loading = |m: &str| PackageError::Package(format!("{PACKAGE_LOADING_FAILED}: {m}"));
    let bytes =
        std::fs::read(dir.join("package.json")).map_err(|_| loading("it has no package.json"))?;
    let json: Value = serde_json::from_slice(&bytes)
        .map_err(|_| loading("its package.json is not valid JSON"))?;
    if json["name"].as_str() != Some(package_name) {
        return Err(loading("its package.json names another package"));
    }
    let version = json["version"]
        .as_str()
        .ok_or_else(|| loading("its package.json has no version"))?
        .to_owned();
    let files: Vec<&str> = json["n8n"]["nodes"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if files.is_empty() {
        return Err(PackageError::Package(
            PACKAGE_DOES_NOT_CONTAIN_NODES.to_owned(),
        ));
    }
    let mut nodes: Vec<DeclaredNode> = Vec::new();
    for file in files {
        let path = inside(Path::new(file))
            .ok_or_else(|| loading(&format!("the node file {file} leaves the package")))?;
        match std::fs::symlink_metadata(dir.join(&path)) {
            Ok(meta) if meta.is_file() => {}
            _ => return Err(loading(&format!("the node file {file} is missing"))),
        }
        let stem = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('.').next())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| loading(&format!("the node file {file} has no name")))?;
        let mut chars = stem.chars();
        let node_name: String = chars
            .next()
            .map(|c| c.to_ascii_lowercase())
            .into_iter()
            .chain(chars)
            .collect();
        let kind = format!("{package_name}.{node_name}");
        if !nodes.iter().any(|n| n.kind == kind) {
            nodes.push(DeclaredNode {
                kind,
                name: stem.to_owned(),
            });
        }
    }
    let (author_name, author_email) = author(&json["author"]);
    Ok(Manifest {
        version,
        author_name,
        author_email,
        nodes,
    })
}

/// Where installed packages live: `<data folder>/nodes/node_modules/<name>`, n8n's layout.
pub fn package_dir(data_folder: &Path, package_name: &str) -> PathBuf {
    let mut dir = data_folder.join("nodes").join("node_modules");
    for part in package_name.split('/') {
        dir.push(part);
    }
    dir
}

/// A fresh folder for unpacking, next to the installed packages (so the final move is a
/// rename on the same file system).
pub fn staging_dir(data_folder: &Path) -> PathBuf {
    data_folder
        .join("nodes")
        .join(".staging")
        .join(crate::domain::ids::random_alphanumeric(12))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_follow_n8ns_rules() {
        assert_eq!(
            parse_name("n8n-nodes-foo").expect("valid"),
            ParsedName {
                package_name: "n8n-nodes-foo".into(),
                version: None
            }
        );
        assert_eq!(
            parse_name("@acme/n8n-nodes-foo@1.2.3").expect("valid"),
            ParsedName {
                package_name: "@acme/n8n-nodes-foo".into(),
                version: Some("1.2.3".into())
            }
        );
        assert_eq!(
            parse_name("lodash").unwrap_err(),
            "Package name must start with n8n-nodes-"
        );
        assert_eq!(
            parse_name("n8n-nodes-Foo").unwrap_err(),
            "Package name must be a single word"
        );
        assert_eq!(
            parse_name("n8n-nodes-x; rm -rf").unwrap_err(),
            "Package name must be a single word"
        );
        assert_eq!(
            parse_name("n8n-nodes-x@latest").unwrap_err(),
            "Invalid version: latest"
        );
        assert!(parse_name("acme/n8n-nodes-x").is_err());
        assert!(parse_name("@a/b/n8n-nodes-x").is_err());
        assert!(parse_name("n8n-nodes-").is_err());
    }

    #[test]
    fn integrity_accepts_matching_sha512_or_sha1_only() {
        let bytes = b"tarball";
        let sha512 = format!("sha512-{}", B64.encode(Sha512::digest(bytes)));
        let sha1 = format!("sha1-{}", B64.encode(Sha1::digest(bytes)));
        assert!(integrity_matches(&sha512, bytes));
        assert!(integrity_matches(&sha1, bytes));
        assert!(!integrity_matches(&sha512, b"other"));
        // A strong hash that fails is not rescued by a weak one that matches.
        assert!(!integrity_matches(&format!("sha512-AAAA {sha1}"), bytes));
        assert!(!integrity_matches("md5-xyz", bytes));
    }

    #[test]
    fn authors_are_read_from_both_npm_forms() {
        assert_eq!(
            author(&Value::String(
                "Ada Lovelace <ada@example.com> (https://ada.dev)".into()
            )),
            (Some("Ada Lovelace".into()), Some("ada@example.com".into()))
        );
        assert_eq!(
            author(&serde_json::json!({"name": "Ada", "email": "a@b.c"})),
            (Some("Ada".into()), Some("a@b.c".into()))
        );
    }

    #[test]
    fn paths_that_leave_the_package_are_refused() {
        assert_eq!(
            inside(Path::new("dist/a.js")),
            Some(PathBuf::from("dist/a.js"))
        );
        assert_eq!(inside(Path::new("../a")), None);
        assert_eq!(inside(Path::new("/etc/passwd")), None);
        assert_eq!(inside(Path::new("")), None);
    }
}
