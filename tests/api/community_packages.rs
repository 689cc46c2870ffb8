//! `/community-packages` against a small npm registry the test serves on 127.0.0.1 (package
//! documents and tarballs built here); no test reaches the network.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha512};

use crate::helpers::TestApp;

/// Raw request path → (status, headers, body).
type Routes = Arc<Mutex<HashMap<String, (StatusCode, Vec<(String, String)>, Vec<u8>)>>>;

struct Registry {
    url: String,
    routes: Routes,
}

impl Registry {
    async fn start() -> Registry {
        let routes: Routes = Arc::default();
        let served = routes.clone();
        let router = axum::Router::new().fallback(move |uri: Uri| {
            let served = served.clone();
            async move {
                let found = served.lock().expect("lock").get(uri.path()).cloned();
                match found {
                    Some((status, headers, body)) => {
                        let mut response = Response::builder().status(status);
                        for (name, value) in headers {
                            response = response.header(name, value);
                        }
                        response.body(Body::from(body)).expect("response")
                    }
                    None => (StatusCode::NOT_FOUND, "{\"error\":\"Not found\"}").into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Registry { url, routes }
    }

    fn serve(&self, path: &str, status: StatusCode, headers: Vec<(&str, &str)>, body: Vec<u8>) {
        let headers = headers
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        self.routes
            .lock()
            .expect("lock")
            .insert(path.to_owned(), (status, headers, body));
    }

    /// Publishes `versions` of `name` (each a tarball), `latest` being the dist-tag.
    fn publish(&self, name: &str, versions: &[(&str, Vec<u8>)], latest: &str) {
        let encoded = name.replace('/', "%2f");
        let short = name.rsplit('/').next().expect("name");
        let mut doc = json!({"name": name, "dist-tags": {"latest": latest}, "versions": {}});
        for (version, tarball) in versions {
            let path = format!("/{name}/-/{short}-{version}.tgz");
            doc["versions"][*version] = json!({
                "name": name, "version": version,
                "dist": {"tarball": format!("{}{path}", self.url), "integrity": sri(tarball)}
            });
            self.serve(&path, StatusCode::OK, vec![], tarball.clone());
        }
        self.serve(
            &format!("/{encoded}"),
            StatusCode::OK,
            vec![("content-type", "application/json")],
            serde_json::to_vec(&doc).expect("json"),
        );
    }
}

fn sri(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(bytes))
    )
}

fn gzip(tar: Vec<u8>) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

/// A tarball with the given files under `package/`.
fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("package/{path}"), *data)
            .expect("append");
    }
    gzip(builder.into_inner().expect("tar"))
}

fn manifest(name: &str, version: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "name": name, "version": version,
        "author": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "keywords": ["n8n-community-node-package"],
        "n8n": {"n8nNodesApiVersion": 1, "nodes": ["dist/nodes/Hello/Hello.node.js"], "credentials": []}
    }))
    .expect("json")
}

fn node_package(name: &str, version: &str) -> Vec<u8> {
    tarball(&[
        ("package.json", &manifest(name, version)),
        (
            "dist/nodes/Hello/Hello.node.js",
            b"throw new Error('never run');",
        ),
    ])
}

async fn spawn(registry: &Registry) -> TestApp {
    let url = registry.url.clone();
    TestApp::spawn_with(move |c| c.community_packages_registry = url).await
}

async fn install(app: &TestApp, body: Value) -> crate::helpers::Resp {
    app.post("/api/v1/community-packages")
        .key(&app.owner_key)
        .json(body)
        .send()
        .await
}

fn package_dir(app: &TestApp, name: &str) -> std::path::PathBuf {
    app.folder
        .join(".n8n")
        .join("nodes")
        .join("node_modules")
        .join(name)
}

#[tokio::test]
async fn installing_a_package_checks_it_keeps_its_files_and_answers_n8ns_shape() {
    let registry = Registry::start().await;
    registry.publish(
        "n8n-nodes-hello",
        &[
            ("1.0.0", node_package("n8n-nodes-hello", "1.0.0")),
            ("1.1.0", node_package("n8n-nodes-hello", "1.1.0")),
        ],
        "1.1.0",
    );
    let app = spawn(&registry).await;

    let response = install(&app, json!({"name": "n8n-nodes-hello"})).await;

    assert_eq!(response.status, 200, "{}", response.text());
    let package = response.json();
    assert_eq!(package["packageName"], "n8n-nodes-hello");
    assert_eq!(package["installedVersion"], "1.1.0");
    assert_eq!(package["authorName"], "Ada Lovelace");
    assert_eq!(package["authorEmail"], "ada@example.com");
    assert_eq!(
        package["installedNodes"],
        json!([{"name": "Hello", "type": "n8n-nodes-hello.hello", "latestVersion": 1}])
    );
    assert!(package["createdAt"].is_string() && package["updatedAt"].is_string());
    let dir = package_dir(&app, "n8n-nodes-hello");
    assert!(dir.join("package.json").is_file());
    assert!(dir.join("dist/nodes/Hello/Hello.node.js").is_file());

    let list = app
        .get("/api/v1/community-packages")
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(list.status, 200);
    let list = list.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["packageName"], "n8n-nodes-hello");
    assert!(list[0].get("updateAvailable").is_none(), "{list}");
    assert!(list[0].get("failedLoading").is_none(), "{list}");

    install(&app, json!({"name": "n8n-nodes-hello"}))
        .await
        .assert_error(400, "Package \"n8n-nodes-hello\" is already installed");
}

#[tokio::test]
async fn a_package_is_updated_to_the_latest_or_a_given_version_and_uninstalled() {
    let registry = Registry::start().await;
    registry.publish(
        "n8n-nodes-hello",
        &[
            ("1.0.0", node_package("n8n-nodes-hello", "1.0.0")),
            ("1.1.0", node_package("n8n-nodes-hello", "1.1.0")),
        ],
        "1.1.0",
    );
    let app = spawn(&registry).await;
    let installed = install(&app, json!({"name": "n8n-nodes-hello", "version": "1.0.0"})).await;
    assert_eq!(installed.json()["installedVersion"], "1.0.0");
    let list = app
        .get("/api/v1/community-packages")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(list[0]["updateAvailable"], "1.1.0");

    let updated = app
        .patch("/api/v1/community-packages/n8n-nodes-hello")
        .key(&app.owner_key)
        .send()
        .await;

    assert_eq!(updated.status, 200, "{}", updated.text());
    assert_eq!(updated.json()["installedVersion"], "1.1.0");
    assert_eq!(updated.json()["createdAt"], installed.json()["createdAt"]);
    let pinned = app
        .patch("/api/v1/community-packages/n8n-nodes-hello")
        .key(&app.owner_key)
        .json(json!({"version": "1.0.0"}))
        .send()
        .await;
    assert_eq!(pinned.json()["installedVersion"], "1.0.0");
    let on_disk: Value = serde_json::from_slice(
        &std::fs::read(package_dir(&app, "n8n-nodes-hello").join("package.json")).expect("read"),
    )
    .expect("json");
    assert_eq!(on_disk["version"], "1.0.0");

    let removed = app
        .delete("/api/v1/community-packages/n8n-nodes-hello")
        .key(&app.owner_key)
        .send()
        .await;

    assert_eq!(removed.status, 204);
    assert!(removed.body.is_empty());
    assert!(!package_dir(&app, "n8n-nodes-hello").exists());
    assert_eq!(
        app.get("/api/v1/community-packages")
            .key(&app.owner_key)
            .send()
            .await
            .json(),
        json!([])
    );
    app.delete("/api/v1/community-packages/n8n-nodes-hello")
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(
            404,
            "This package is not installed - you must install it first",
        );
    app.patch("/api/v1/community-packages/n8n-nodes-hello")
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(
            404,
            "This package is not installed - you must install it first",
        );
}

#[tokio::test]
async fn names_versions_and_unknown_packages_answer_n8ns_messages() {
    let registry = Registry::start().await;
    let app = spawn(&registry).await;

    install(&app, json!({}))
        .await
        .assert_error(400, "request/body must have required property 'name'");
    install(&app, json!({"name": "lodash"}))
        .await
        .assert_error(400, "Package name must start with n8n-nodes-");
    install(&app, json!({"name": "n8n-nodes-x && curl evil"}))
        .await
        .assert_error(400, "Package name must be a single word");
    install(
        &app,
        json!({"name": "n8n-nodes-x", "version": "1.0.0 || >2"}),
    )
    .await
    .assert_error(400, "Invalid version: 1.0.0 || >2");
    install(&app, json!({"name": "n8n-nodes-nope"}))
        .await
        .assert_error(
            400,
            "Error loading package \"n8n-nodes-nope\" :Package not found in npm",
        );
    registry.publish(
        "n8n-nodes-hello",
        &[("1.0.0", node_package("n8n-nodes-hello", "1.0.0"))],
        "1.0.0",
    );
    install(&app, json!({"name": "n8n-nodes-hello", "version": "9.9.9"})).await
        .assert_error(400, "Error loading package \"n8n-nodes-hello\" :The specified package version was not found");
}

#[tokio::test]
async fn a_tarball_that_does_not_match_its_integrity_hash_is_refused() {
    let registry = Registry::start().await;
    registry.publish(
        "n8n-nodes-hello",
        &[("1.0.0", node_package("n8n-nodes-hello", "1.0.0"))],
        "1.0.0",
    );
    // The registry now serves other bytes than the ones it published the hash of.
    registry.serve(
        "/n8n-nodes-hello/-/n8n-nodes-hello-1.0.0.tgz",
        StatusCode::OK,
        vec![],
        node_package("n8n-nodes-hello", "1.0.1"),
    );
    let app = spawn(&registry).await;

    let response = install(&app, json!({"name": "n8n-nodes-hello"})).await;

    response.assert_error(400, "Error loading package \"n8n-nodes-hello\" :Checksum verification failed. Package integrity does not match.");
    assert!(!package_dir(&app, "n8n-nodes-hello").exists());
    assert_eq!(
        app.get("/api/v1/community-packages")
            .key(&app.owner_key)
            .send()
            .await
            .json(),
        json!([])
    );
}

#[tokio::test]
async fn a_package_without_nodes_is_not_an_n8n_community_node_package() {
    let registry = Registry::start().await;
    let plain = tarball(&[(
        "package.json",
        br#"{"name":"n8n-nodes-empty","version":"1.0.0"}"#,
    )]);
    registry.publish("n8n-nodes-empty", &[("1.0.0", plain)], "1.0.0");
    let app = spawn(&registry).await;

    install(&app, json!({"name": "n8n-nodes-empty"})).await
        .assert_error(400, "Error loading package \"n8n-nodes-empty\" :The specified package does not contain any nodes");
    assert!(!package_dir(&app, "n8n-nodes-empty").exists());
}

/// A tar entry written byte by byte, for names and kinds the builder refuses to make.
fn raw_entry(name: &str, kind: tar::EntryType, link: &str, data: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_old();
    header.as_mut_bytes()[..name.len()].copy_from_slice(name.as_bytes());
    header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    header.set_entry_type(kind);
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    let mut out = header.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn archive(entries: Vec<Vec<u8>>) -> Vec<u8> {
    let mut tar: Vec<u8> = entries.concat();
    tar.extend_from_slice(&[0u8; 1024]);
    gzip(tar)
}

#[tokio::test]
async fn tarballs_with_links_or_paths_outside_the_package_are_refused() {
    let registry = Registry::start().await;
    let manifest = manifest("n8n-nodes-evil", "1.0.0");
    let escape = archive(vec![
        raw_entry(
            "package/package.json",
            tar::EntryType::Regular,
            "",
            &manifest,
        ),
        raw_entry(
            "package/../../escaped.txt",
            tar::EntryType::Regular,
            "",
            b"outside",
        ),
    ]);
    let link = archive(vec![
        raw_entry(
            "package/package.json",
            tar::EntryType::Regular,
            "",
            &manifest,
        ),
        raw_entry(
            "package/dist/nodes/Hello/Hello.node.js",
            tar::EntryType::Symlink,
            "/etc/passwd",
            b"",
        ),
    ]);
    let app = spawn(&registry).await;

    registry.publish("n8n-nodes-evil", &[("1.0.0", escape)], "1.0.0");
    let response = install(&app, json!({"name": "n8n-nodes-evil"})).await;
    assert_eq!(response.status, 400, "{}", response.text());
    assert!(
        response.message().contains("leaves the package"),
        "{}",
        response.message()
    );
    assert!(!app.folder.join(".n8n").join("escaped.txt").exists());
    assert!(!app
        .folder
        .join(".n8n")
        .join("nodes")
        .join("escaped.txt")
        .exists());

    registry.publish("n8n-nodes-evil", &[("1.0.0", link)], "1.0.0");
    let response = install(&app, json!({"name": "n8n-nodes-evil"})).await;
    assert_eq!(response.status, 400, "{}", response.text());
    assert!(
        response.message().contains("is a link"),
        "{}",
        response.message()
    );
    assert!(!package_dir(&app, "n8n-nodes-evil").exists());
}

#[tokio::test]
async fn scoped_packages_and_sha1_only_registries_work() {
    let registry = Registry::start().await;
    let bytes = node_package("@acme/n8n-nodes-hello", "2.0.0");
    let sha1: String = sha1::Sha1::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let doc = json!({"name": "@acme/n8n-nodes-hello", "dist-tags": {"latest": "2.0.0"}, "versions": {"2.0.0": {
        "name": "@acme/n8n-nodes-hello", "version": "2.0.0",
        "dist": {"tarball": format!("{}/@acme/n8n-nodes-hello/-/n8n-nodes-hello-2.0.0.tgz", registry.url), "shasum": sha1}}}});
    registry.serve(
        "/@acme%2fn8n-nodes-hello",
        StatusCode::OK,
        vec![],
        serde_json::to_vec(&doc).expect("json"),
    );
    registry.serve(
        "/@acme/n8n-nodes-hello/-/n8n-nodes-hello-2.0.0.tgz",
        StatusCode::OK,
        vec![],
        bytes,
    );
    let app = spawn(&registry).await;

    let response = install(&app, json!({"name": "@acme/n8n-nodes-hello"})).await;

    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.json()["installedNodes"][0]["type"],
        "@acme/n8n-nodes-hello.hello"
    );
    assert!(package_dir(&app, "@acme/n8n-nodes-hello")
        .join("package.json")
        .is_file());
    let removed = app
        .delete("/api/v1/community-packages/%40acme%2Fn8n-nodes-hello")
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(removed.status, 204, "{}", removed.text());
}

#[tokio::test]
async fn tarballs_on_other_hosts_and_redirects_away_are_not_followed() {
    let registry = Registry::start().await;
    let other = Registry::start().await;
    let bytes = node_package("n8n-nodes-hello", "1.0.0");
    let doc = json!({"name": "n8n-nodes-hello", "dist-tags": {"latest": "1.0.0"}, "versions": {"1.0.0": {
        "name": "n8n-nodes-hello", "version": "1.0.0",
        "dist": {"tarball": format!("{}/t.tgz", other.url), "integrity": sri(&bytes)}}}});
    registry.serve(
        "/n8n-nodes-hello",
        StatusCode::OK,
        vec![],
        serde_json::to_vec(&doc).expect("json"),
    );
    other.serve("/t.tgz", StatusCode::OK, vec![], bytes);
    let location = format!("{}/n8n-nodes-moved", other.url);
    registry.serve(
        "/n8n-nodes-moved",
        StatusCode::FOUND,
        vec![("location", location.as_str())],
        Vec::new(),
    );
    let app = spawn(&registry).await;

    let elsewhere = install(&app, json!({"name": "n8n-nodes-hello"})).await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.text());
    assert!(
        elsewhere.message().contains("another host"),
        "{}",
        elsewhere.message()
    );

    let redirected = install(&app, json!({"name": "n8n-nodes-moved"})).await;
    assert_eq!(redirected.status, 400, "{}", redirected.text());
    assert!(
        redirected.message().contains("another host"),
        "{}",
        redirected.message()
    );
}

#[tokio::test]
async fn switched_off_packages_answer_404() {
    let app = TestApp::spawn_with(|c| c.community_packages_enabled = false).await;

    let response = app
        .get("/api/v1/community-packages")
        .key(&app.owner_key)
        .send()
        .await;

    response.assert_error(404, "not found");
    let install = install(&app, json!({"name": "n8n-nodes-hello"})).await;
    install.assert_error(404, "not found");
}
