//! Several instances of the real binary on one PostgreSQL database: they start at the same
//! time without applying a migration twice, and what one instance changes (a new key, a
//! revoked key, a demoted user) holds on the other from the very next request, because no
//! instance caches credentials.
//!
//! PostgreSQL only (SQLite is one process's file): skipped, with a line on stderr, unless
//! `TEST_DATABASE_URL` is set (and failed instead on CI with `FLOWGATE_REQUIRE_POSTGRES=1`).

use serde_json::json;

use crate::support::*;

/// Two instances on `schema`, started together: neither waits for the other before it
/// connects, so their migrators race for real.
async fn start_pair(dir: &std::path::Path, url: &str, schema: &str) -> (Instance, Instance) {
    let env = |folder: &str| {
        let folder = dir.join(folder);
        std::fs::create_dir_all(&folder).expect("user folder");
        vec![
            ("DATABASE_URL", url.to_owned()),
            ("DB_POSTGRESDB_SCHEMA", schema.to_owned()),
            ("DB_POSTGRESDB_POOL_SIZE", "4".to_owned()),
            ("N8N_ENCRYPTION_KEY", ENCRYPTION_KEY.to_owned()),
            ("N8N_USER_FOLDER", folder.display().to_string()),
            ("N8N_LOG_LEVEL", "info".to_owned()),
        ]
    };
    let mut a = Instance::start(dir, "a", &env("a"));
    let mut b = Instance::start(dir, "b", &env("b"));
    a.wait_ready().await;
    b.wait_ready().await;
    (a, b)
}

#[tokio::test]
async fn two_instances_starting_at_once_apply_each_migration_exactly_once() {
    let Some(url) =
        postgres_only("two_instances_starting_at_once_apply_each_migration_exactly_once")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let schema = unique_schema("inst");

    let (a, b) = start_pair(dir.path(), &url, &schema).await;

    let pool = pg_pool(&url, &schema).await;
    let versions: Vec<(i64, i64)> = sqlx::query_as(
        "select version, count(*) from _sqlx_migrations group by version order by version",
    )
    .fetch_all(&pool)
    .await
    .expect("migrations table");
    let shipped = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .expect("migrations folder")
        .count();
    assert_eq!(
        versions.len(),
        shipped,
        "every migration applied: {versions:?}"
    );
    assert!(
        versions.iter().all(|(_, count)| *count == 1),
        "each version once: {versions:?}"
    );
    let failed: i64 = sqlx::query_scalar("select count(*) from _sqlx_migrations where not success")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(failed, 0);
    // Both serve, with the same instance secret (one of the two racing inserts won).
    for instance in [&a, &b] {
        let health = request(instance.port, "GET", "/healthz/readiness", &[], None).await;
        assert_eq!(health.status, 200);
    }
    let secrets: i64 =
        sqlx::query_scalar("select count(*) from settings where key = 'secrets.lookupKey'")
            .fetch_one(&pool)
            .await
            .expect("settings");
    assert_eq!(secrets, 1);
}

#[tokio::test]
async fn keys_revocations_and_demotions_on_one_instance_hold_on_the_other_at_once() {
    let Some(url) =
        postgres_only("keys_revocations_and_demotions_on_one_instance_hold_on_the_other_at_once")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let schema = unique_schema("inst");
    let (a, b) = start_pair(dir.path(), &url, &schema).await;

    // Owner set-up, sign-in and two keys, all on A.
    let setup = a
        .send(
            "POST",
            "/rest/owner/setup",
            &[],
            Some(&json!({ "email": OWNER_EMAIL, "firstName": "Olive", "lastName": "Owner", "password": PASSWORD })),
        )
        .await;
    assert_eq!(setup.status, 200, "{}", setup.text());
    let owner_id = setup.json()["data"]["id"].as_str().expect("id").to_owned();
    let login = a
        .send(
            "POST",
            "/rest/login",
            &[],
            Some(&json!({ "emailOrLdapLoginId": OWNER_EMAIL, "password": PASSWORD })),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text());
    let cookie = login.cookie().expect("session cookie");
    let create_key = |label: &'static str, scopes: &'static [&'static str]| {
        let cookie = cookie.clone();
        let a = &a;
        async move {
            let response = a
                .send(
                    "POST",
                    "/rest/api-keys",
                    &[("cookie", &cookie)],
                    Some(&json!({ "label": label, "scopes": scopes, "expiresAt": null })),
                )
                .await;
            assert_eq!(response.status, 200, "{}", response.text());
            let data = &response.json()["data"];
            (
                data["id"].as_str().expect("id").to_owned(),
                data["rawApiKey"].as_str().expect("rawApiKey").to_owned(),
            )
        }
    };
    let (reader_id, reader) = create_key("reader", &["tag:list"]).await;
    let (_, admin) = create_key("tag admin", &["tag:list", "tag:create", "tag:delete"]).await;

    // A key made on A works on B at once.
    let listed = b.get("/api/v1/tags", &reader).await;
    assert_eq!(listed.status, 200, "{}", listed.text());

    // A key revoked on A is refused by B on the very next request.
    let revoked = a
        .send(
            "DELETE",
            &format!("/rest/api-keys/{reader_id}"),
            &[("cookie", &cookie)],
            None,
        )
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    assert_eq!(b.get("/api/v1/tags", &reader).await.status, 401);

    // A demoted owner's key loses the admin-only scope on the other instance at once.
    let tag_ids: Vec<String> = {
        let mut ids = Vec::new();
        for name in ["kept", "doomed"] {
            let created = a
                .send(
                    "POST",
                    "/api/v1/tags",
                    &[("x-n8n-api-key", &admin)],
                    Some(&json!({ "name": name })),
                )
                .await;
            assert_eq!(created.status, 201, "{}", created.text());
            ids.push(created.json()["id"].as_str().expect("id").to_owned());
        }
        ids
    };
    let delete_on_b = |id: &str| {
        let path = format!("/api/v1/tags/{id}");
        let admin = admin.clone();
        let port = b.port;
        async move {
            request(port, "DELETE", &path, &[("x-n8n-api-key", &admin)], None)
                .await
                .status
        }
    };
    assert_eq!(delete_on_b(&tag_ids[1]).await, 200, "allowed while owner");

    let pool = pg_pool(&url, &schema).await;
    sqlx::query("update users set role = 'global:member' where id = $1")
        .bind(&owner_id)
        .execute(&pool)
        .await
        .expect("demote");

    assert_eq!(
        delete_on_b(&tag_ids[0]).await,
        403,
        "tag:delete is admin-only"
    );
    assert_eq!(
        b.get("/api/v1/tags", &admin).await.status,
        200,
        "member scopes remain"
    );
}

#[test]
fn a_missing_postgres_fails_only_on_ci_when_required() {
    assert!(postgres_required(Some("true"), Some("1")));
    assert!(postgres_required(Some("1"), Some("1")));
    assert!(!postgres_required(None, Some("1")));
    assert!(!postgres_required(Some("false"), Some("1")));
    assert!(!postgres_required(Some(""), Some("1")));
    assert!(!postgres_required(Some("true"), None));
    assert!(!postgres_required(Some("true"), Some("0")));
}
