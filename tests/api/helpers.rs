//! The test application: the real router over a fresh database, driven in-process.
//!
//! SQLite is used by default (a new file per test). With `TEST_DATABASE_URL` set to a
//! PostgreSQL URL, every test runs on PostgreSQL instead, each in a schema of its own. The
//! schemas are left behind (dropping one while the test's pool still holds connections could
//! wait forever); `.ci/run` recreates the test database before each run.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use flowgate::app::{self, AppState};
use flowgate::config::Config;
use flowgate::db::Db;
use flowgate::service::workflows::WorkflowLifecycle;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

pub const OWNER_EMAIL: &str = "owner@example.com";
pub const PASSWORD: &str = "Test-Passw0rd";

/// A signed-in user of the test app.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    /// `n8n-auth=<token>`, ready for a `Cookie` header.
    pub cookie: String,
}

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub owner: TestUser,
    /// A key of the owner's with every scope.
    pub owner_key: String,
    pub folder: PathBuf,
    _dir: tempfile::TempDir,
    /// The PostgreSQL URL and schema of this app's database, if it runs on PostgreSQL.
    pub pg_schema: Option<(String, String)>,
}

/// The PostgreSQL URL the suite runs against, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
}

/// A configuration over a fresh database (SQLite file in `folder`, or a new PostgreSQL schema).
pub fn test_config(folder: &std::path::Path) -> (Config, Option<(String, String)>) {
    let mut config = Config::for_data_folder(folder);
    config.secure_cookie = false;
    config.log_level = flowgate::config::LogLevel::Warn;
    config.encryption_key = Some("test-encryption-key".to_owned());
    let mut schema = None;
    match postgres_url() {
        Some(url) => {
            let name = format!(
                "t_{}",
                flowgate::domain::ids::random_alphanumeric(12).to_lowercase()
            );
            config.database_url = Some(url.clone());
            config.postgres_schema = name.clone();
            config.postgres_pool_size = 4;
            schema = Some((url, name));
        }
        None => {
            config.database_url = None;
            config.db_type = flowgate::config::DbType::Sqlite;
            config.sqlite_database = Some(folder.join("test.sqlite"));
        }
    }
    (config, schema)
}

impl TestApp {
    /// A new instance with the owner set up and an all-scopes key.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// As [`spawn`](Self::spawn), with the configuration adjusted first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        Self::set_up_owner(Self::spawn_empty_with(adjust).await).await
    }

    /// As [`spawn`](Self::spawn), with `lifecycle` told of workflow changes (as the engine is).
    pub async fn spawn_with_lifecycle(lifecycle: Arc<dyn WorkflowLifecycle>) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (config, pg_schema) = test_config(dir.path());
        Self::set_up_owner(Self::open_with(dir, config, pg_schema, Some(lifecycle)).await).await
    }

    /// Sets up the owner of an empty instance, with an all-scopes key.
    async fn set_up_owner(mut app: TestApp) -> TestApp {
        let setup = app
            .post("/rest/owner/setup")
            .json(json!({ "email": OWNER_EMAIL, "firstName": "Olive", "lastName": "Owner", "password": PASSWORD }))
            .send()
            .await;
        assert_eq!(
            setup.status,
            StatusCode::OK,
            "owner setup: {}",
            setup.text()
        );
        let cookie = setup.cookie().expect("owner setup sets the session cookie");
        app.owner = TestUser {
            id: setup.json()["data"]["id"].as_str().expect("id").to_owned(),
            email: OWNER_EMAIL.to_owned(),
            cookie,
        };
        if !app.state.config.public_api_disabled {
            let owner = app.owner.clone();
            let scopes = app.grantable_scopes(&owner).await;
            app.owner_key = app.create_key(&owner, "all scopes", &scopes).await;
        }
        app
    }

    /// A new instance with no owner yet.
    pub async fn spawn_empty() -> TestApp {
        Self::spawn_empty_with(|_| {}).await
    }

    pub async fn spawn_empty_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (mut config, pg_schema) = test_config(dir.path());
        adjust(&mut config);
        Self::open(dir, config, pg_schema).await
    }

    /// An app over the database `config` names (which may already hold data).
    pub async fn open(
        dir: tempfile::TempDir,
        config: Config,
        pg_schema: Option<(String, String)>,
    ) -> TestApp {
        Self::open_with(dir, config, pg_schema, None).await
    }

    /// Opens the instance with the engine as the workflow lifecycle, or with `lifecycle`.
    async fn open_with(
        dir: tempfile::TempDir,
        config: Config,
        pg_schema: Option<(String, String)>,
        lifecycle: Option<Arc<dyn WorkflowLifecycle>>,
    ) -> TestApp {
        let db = Db::connect(&config).await.expect("database connects");
        db.migrate().await.expect("migrations run");
        let state = match lifecycle {
            None => AppState::new(config, db).await,
            Some(lifecycle) => AppState::new_with_lifecycle(config, db, lifecycle).await,
        }
        .expect("state builds");
        let router = app::router(state.clone());
        TestApp {
            state,
            router,
            owner: TestUser {
                id: String::new(),
                email: String::new(),
                cookie: String::new(),
            },
            owner_key: String::new(),
            folder: dir.path().to_path_buf(),
            _dir: dir,
            pg_schema,
        }
    }

    pub fn request(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        self.request(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Req<'_> {
        self.request(Method::POST, path)
    }

    pub fn put(&self, path: &str) -> Req<'_> {
        self.request(Method::PUT, path)
    }

    pub fn patch(&self, path: &str) -> Req<'_> {
        self.request(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Req<'_> {
        self.request(Method::DELETE, path)
    }

    /// The scopes `user` may grant, as `/rest/api-keys/scopes` answers.
    pub async fn grantable_scopes(&self, user: &TestUser) -> Vec<String> {
        let response = self
            .get("/rest/api-keys/scopes")
            .cookie(&user.cookie)
            .send()
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()["data"]
            .as_array()
            .expect("array")
            .iter()
            .map(|s| s.as_str().expect("str").to_owned())
            .collect()
    }

    /// Creates a key for `user` over `/rest/api-keys` and returns the raw key.
    pub async fn create_key(&self, user: &TestUser, label: &str, scopes: &[String]) -> String {
        let response = self
            .post("/rest/api-keys")
            .cookie(&user.cookie)
            .json(json!({ "label": label, "scopes": scopes, "expiresAt": null }))
            .send()
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "create key: {}",
            response.text()
        );
        response.json()["data"]["rawApiKey"]
            .as_str()
            .expect("rawApiKey")
            .to_owned()
    }

    /// Creates a key with the given scope names.
    pub async fn key_with(&self, user: &TestUser, scopes: &[&str]) -> String {
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let label = format!("key {}", flowgate::domain::ids::random_alphanumeric(8));
        self.create_key(user, &label, &scopes).await
    }

    /// Adds a user with `role` directly in the database (invitations are another issue's
    /// work) and signs them in over `/rest/login`.
    pub async fn add_user(&self, email: &str, role: &str) -> TestUser {
        let id = flowgate::domain::ids::new_user_id();
        let hash = flowgate::domain::password::hash(PASSWORD.to_owned())
            .await
            .expect("hash");
        let now = flowgate::domain::time::now_iso();
        let mut tx = self.state.db.begin().await.expect("tx");
        flowgate::db::users::insert(
            tx.conn(),
            &flowgate::db::users::NewUser {
                id: &id,
                email,
                first_name: Some("Test"),
                last_name: Some("User"),
                password_hash: Some(&hash),
                role,
                now: &now,
            },
        )
        .await
        .expect("insert user");
        flowgate::service::owner::create_personal_project(&mut tx, &id, email, &now)
            .await
            .expect("personal project");
        tx.commit().await.expect("commit");
        self.login(email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> TestUser {
        let response = self
            .post("/rest/login")
            .json(json!({ "emailOrLdapLoginId": email, "password": password }))
            .send()
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "login: {}",
            response.text()
        );
        TestUser {
            id: response.json()["data"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
            email: email.to_owned(),
            cookie: response.cookie().expect("cookie"),
        }
    }

    /// Runs one SQL statement against the app's database (for arranging states the API
    /// cannot reach, like an expired key).
    pub async fn sql(&self, statement: &str) {
        let mut tx = self.state.db.begin().await.expect("tx");
        flowgate::on_conn!(tx.conn(), c => sqlx::query(statement).execute(c).await.map(|_| ()))
            .expect("sql");
        tx.commit().await.expect("commit");
    }
}

/// A request being built.
pub struct Req<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Req<'_> {
    pub fn key(self, key: &str) -> Self {
        self.header("x-n8n-api-key", key)
    }

    pub fn cookie(self, cookie: &str) -> Self {
        self.header("cookie", cookie)
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(serde_json::to_vec(&body).expect("json"));
        self.header("content-type", "application/json")
    }

    /// A raw body, with no content type unless one is added.
    pub fn raw(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    pub async fn send(self) -> Resp {
        let mut builder = Request::builder().method(self.method).uri(&self.path);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(self.body.map(Body::from).unwrap_or_else(Body::empty))
            .expect("request");
        let response = self
            .app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }
}

/// A response, fully read.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {}", self.text()))
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `n8n-auth=<token>` pair of the `Set-Cookie` header.
    pub fn cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("n8n-auth="))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    }

    /// Asserts the status and the `message` of an error answer.
    #[track_caller]
    pub fn assert_error(&self, status: u16, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        assert_eq!(self.message(), message);
    }
}

/// A workflow body as the n8n node sends it (with `staticData: null`).
pub fn workflow_body(name: &str) -> Value {
    json!({
        "name": name,
        "nodes": [{ "name": "Start", "type": "n8n-nodes-base.manualTrigger", "typeVersion": 1, "position": [0, 0], "parameters": {} }],
        "connections": {},
        "settings": {},
        "staticData": null
    })
}

/// A workflow that can be published (it has a schedule trigger).
pub fn publishable_body(name: &str) -> Value {
    json!({
        "name": name,
        "nodes": [
            { "id": "n1", "name": "Every hour", "type": "n8n-nodes-base.scheduleTrigger", "typeVersion": 1.2, "position": [0, 0], "parameters": {} },
            { "id": "n2", "name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4, "position": [200, 0], "parameters": { "values": {} } }
        ],
        "connections": { "Every hour": { "main": [[{ "node": "Set", "type": "main", "index": 0 }]] } },
        "settings": { "timezone": "Europe/Berlin" }
    })
}

impl TestApp {
    /// Creates a workflow with `key` and answers it.
    pub async fn create_workflow(&self, key: &str, body: Value) -> Value {
        let response = self
            .post("/api/v1/workflows")
            .key(key)
            .json(body)
            .send()
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "create workflow: {}",
            response.text()
        );
        response.json()
    }

    /// Creates a team project (as the owner) and answers its id.
    pub async fn create_project(&self, name: &str) -> String {
        let response = self
            .post("/api/v1/projects")
            .key(&self.owner_key)
            .json(json!({ "name": name }))
            .send()
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "create project: {}",
            response.text()
        );
        response.json()["id"].as_str().expect("id").to_owned()
    }

    /// Adds `user` to `project` with `role` (as the owner).
    pub async fn add_member(&self, project: &str, user: &TestUser, role: &str) {
        let response = self
            .post(&format!("/api/v1/projects/{project}/users"))
            .key(&self.owner_key)
            .json(json!({ "relations": [{ "userId": user.id, "role": role }] }))
            .send()
            .await;
        assert_eq!(
            response.status,
            StatusCode::CREATED,
            "add member: {}",
            response.text()
        );
    }

    /// A key of `user` with every scope their role allows.
    pub async fn full_key(&self, user: &TestUser) -> String {
        let scopes = self.grantable_scopes(user).await;
        let label = format!("full {}", flowgate::domain::ids::random_alphanumeric(6));
        self.create_key(user, &label, &scopes).await
    }
}
