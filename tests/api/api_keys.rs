use serde_json::json;

use crate::helpers::TestApp;

fn names(scopes: &[&str]) -> Vec<String> {
    scopes.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_new_key_is_shown_once_and_listed_redacted() {
    let app = TestApp::spawn().await;

    let created = app
        .post("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .json(json!({ "label": "deploy", "scopes": ["tag:read", "tag:list"], "expiresAt": null }))
        .send()
        .await;

    assert_eq!(created.status, 200, "{}", created.text());
    assert_eq!(created.header("cache-control"), Some("no-store"));
    let data = &created.json()["data"];
    let raw = data["rawApiKey"].as_str().expect("raw key");
    assert!(raw.starts_with("n8n_api_"));
    assert_eq!(data["apiKey"], format!("******{}", &raw[raw.len() - 4..]));
    assert_eq!(data["scopes"], json!(["tag:read", "tag:list"]));
    assert_eq!(data["audience"], "public-api");
    assert_eq!(data["expiresAt"], json!(null));

    let list = app
        .get("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .send()
        .await;
    assert_eq!(list.status, 200);
    assert!(
        !list.text().contains(raw),
        "the raw key must never be listed"
    );
    let items = list.json()["data"]["items"]
        .as_array()
        .expect("items")
        .clone();
    let listed = items
        .iter()
        .find(|k| k["label"] == "deploy")
        .expect("listed");
    assert_eq!(listed["apiKey"].as_str().expect("redacted").len(), 10);
    assert_eq!(listed["owner"]["email"], "owner@example.com");
    assert!(listed.get("rawApiKey").is_none());

    let works = app.get("/api/v1/tags").key(raw).send().await;
    assert_eq!(works.status, 200);
}

#[tokio::test]
async fn the_raw_key_is_not_stored_anywhere_in_the_database() {
    let app = TestApp::spawn().await;
    let raw = app.key_with(&app.owner, &["tag:read"]).await;

    let mut conn = app.state.db.acquire().await.expect("conn");
    let rows: Vec<(String, String, String)> = flowgate::on_conn!(conn.conn(), c =>
        sqlx::query_as("select key_hash, key_hint, scopes from api_keys").fetch_all(c).await)
    .expect("rows");

    assert!(!rows.is_empty());
    for (hash, hint, scopes) in rows {
        assert!(!hash.contains(&raw[8..]) && !scopes.contains(&raw[8..]));
        assert_eq!(hint.len(), 4);
        assert_eq!(hash.len(), 64);
    }
}

#[tokio::test]
async fn key_creation_validates_label_scopes_and_expiry() {
    let app = TestApp::spawn().await;
    let create = |body: serde_json::Value| {
        app.post("/rest/api-keys")
            .cookie(&app.owner.cookie)
            .json(body)
            .send()
    };
    let past = flowgate::domain::time::now_unix() - 10;

    let cases = [
        (
            json!({ "label": "", "scopes": ["tag:read"], "expiresAt": null }),
            400,
            "Label must be 1 to 50 characters long",
        ),
        (
            json!({ "label": "x".repeat(51), "scopes": ["tag:read"], "expiresAt": null }),
            400,
            "Label must be 1 to 50 characters long",
        ),
        (
            json!({ "label": "<b>hi</b>", "scopes": ["tag:read"], "expiresAt": null }),
            400,
            "Label can only contain letters, numbers, spaces and punctuation",
        ),
        (
            json!({ "label": "a", "scopes": [], "expiresAt": null }),
            400,
            "At least one scope is required",
        ),
        (
            json!({ "label": "a", "scopes": ["workflow:export"], "expiresAt": null }),
            400,
            "Invalid scopes for user role",
        ),
        (
            json!({ "label": "a", "scopes": ["tag:read"], "expiresAt": past }),
            400,
            "Expiration date must be in the future or null",
        ),
        (
            json!({ "label": "a" }),
            400,
            "request/body must have required property 'scopes'",
        ),
    ];
    for (body, status, message) in cases {
        let response = create(body).await;
        assert_eq!(
            response.status.as_u16(),
            status,
            "{message}: {}",
            response.text()
        );
        assert_eq!(response.json()["message"], message);
    }
    assert_eq!(
        create(json!({ "label": "dup", "scopes": ["tag:read"], "expiresAt": null }))
            .await
            .status,
        200
    );
    let duplicate =
        create(json!({ "label": "dup", "scopes": ["tag:read"], "expiresAt": null })).await;
    assert_eq!(
        duplicate.json(),
        json!({ "code": 409, "message": "An API key with this label already exists" })
    );
}

#[tokio::test]
async fn members_may_only_grant_member_scopes() {
    let app = TestApp::spawn().await;
    let member = app.add_user("member@example.com", "global:member").await;

    let grantable = app.grantable_scopes(&member).await;
    let refused = app
        .post("/rest/api-keys")
        .cookie(&member.cookie)
        .json(json!({ "label": "a", "scopes": ["tag:read", "tag:delete"], "expiresAt": null }))
        .send()
        .await;

    assert_eq!(grantable.len(), 45);
    assert!(
        !grantable.contains(&"tag:delete".to_owned())
            && !grantable.contains(&"credential:read".to_owned())
    );
    assert_eq!(app.grantable_scopes(&app.owner).await.len(), 67);
    refused.assert_error(400, "Invalid scopes for user role");
}

#[tokio::test]
async fn an_expiring_key_works_until_it_expires() {
    let app = TestApp::spawn().await;
    let soon = flowgate::domain::time::now_unix() + 3600;
    let created = app
        .post("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .json(json!({ "label": "short", "scopes": ["tag:list"], "expiresAt": soon }))
        .send()
        .await;
    let raw = created.json()["data"]["rawApiKey"]
        .as_str()
        .expect("raw")
        .to_owned();
    assert_eq!(created.json()["data"]["expiresAt"], soon);
    assert_eq!(app.get("/api/v1/tags").key(&raw).send().await.status, 200);

    app.sql("update api_keys set expires_at = 1000 where label = 'short'")
        .await;

    app.get("/api/v1/tags")
        .key(&raw)
        .send()
        .await
        .assert_error(401, "Unauthorized");
    let id = created.json()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let rotate = app
        .post(&format!("/rest/api-keys/{id}/rotate"))
        .cookie(&app.owner.cookie)
        .send()
        .await;
    assert_eq!(
        rotate.json(),
        json!({ "code": 400, "message": "Cannot rotate an expired API key" })
    );
}

#[tokio::test]
async fn updating_scopes_takes_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let created = app
        .post("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .json(json!({ "label": "ci", "scopes": ["tag:list"], "expiresAt": null }))
        .send()
        .await;
    let id = created.json()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let raw = created.json()["data"]["rawApiKey"]
        .as_str()
        .expect("raw")
        .to_owned();
    assert_eq!(app.get("/api/v1/tags").key(&raw).send().await.status, 200);

    let update = app
        .patch(&format!("/rest/api-keys/{id}"))
        .cookie(&app.owner.cookie)
        .json(json!({ "label": "ci renamed", "scopes": ["tag:create"] }))
        .send()
        .await;

    assert_eq!(update.json(), json!({ "data": { "success": true } }));
    app.get("/api/v1/tags")
        .key(&raw)
        .send()
        .await
        .assert_error(403, "Forbidden");
    let list = app
        .get("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .send()
        .await;
    assert!(list.json()["data"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|k| k["label"] == "ci renamed" && k["scopes"] == json!(["tag:create"])));
}

#[tokio::test]
async fn deleting_a_key_revokes_it_at_once() {
    let app = TestApp::spawn().await;
    let created = app
        .post("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .json(json!({ "label": "temp", "scopes": ["tag:list"], "expiresAt": null }))
        .send()
        .await;
    let id = created.json()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let raw = created.json()["data"]["rawApiKey"]
        .as_str()
        .expect("raw")
        .to_owned();

    let deleted = app
        .delete(&format!("/rest/api-keys/{id}"))
        .cookie(&app.owner.cookie)
        .send()
        .await;
    let again = app
        .delete(&format!("/rest/api-keys/{id}"))
        .cookie(&app.owner.cookie)
        .send()
        .await;

    assert_eq!(deleted.json(), json!({ "data": { "success": true } }));
    assert_eq!(
        again.json(),
        json!({ "code": 404, "message": "API key not found" })
    );
    app.get("/api/v1/tags")
        .key(&raw)
        .send()
        .await
        .assert_error(401, "Unauthorized");
}

#[tokio::test]
async fn rotating_a_key_replaces_its_secret() {
    let app = TestApp::spawn().await;
    let created = app
        .post("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .json(json!({ "label": "rot", "scopes": ["tag:list"], "expiresAt": null }))
        .send()
        .await;
    let id = created.json()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let old = created.json()["data"]["rawApiKey"]
        .as_str()
        .expect("raw")
        .to_owned();

    let rotated = app
        .post(&format!("/rest/api-keys/{id}/rotate"))
        .cookie(&app.owner.cookie)
        .send()
        .await;

    assert_eq!(rotated.status, 200);
    assert_eq!(rotated.header("cache-control"), Some("no-store"));
    let new = rotated.json()["data"]["rawApiKey"]
        .as_str()
        .expect("raw")
        .to_owned();
    assert_ne!(new, old);
    assert_eq!(rotated.json()["data"]["id"], id.as_str());
    assert_eq!(rotated.json()["data"]["lastUsedAt"], json!(null));
    app.get("/api/v1/tags")
        .key(&old)
        .send()
        .await
        .assert_error(401, "Unauthorized");
    assert_eq!(app.get("/api/v1/tags").key(&new).send().await.status, 200);
}

#[tokio::test]
async fn users_cannot_touch_each_others_keys_but_owners_may_delete_them() {
    let app = TestApp::spawn().await;
    let member = app.add_user("member@example.com", "global:member").await;
    let other = app.add_user("other@example.com", "global:member").await;
    let created = app
        .post("/rest/api-keys")
        .cookie(&member.cookie)
        .json(json!({ "label": "mine", "scopes": ["tag:list"], "expiresAt": null }))
        .send()
        .await;
    let id = created.json()["data"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let raw = created.json()["data"]["rawApiKey"]
        .as_str()
        .expect("raw")
        .to_owned();

    let rotate = app
        .post(&format!("/rest/api-keys/{id}/rotate"))
        .cookie(&other.cookie)
        .send()
        .await;
    let delete = app
        .delete(&format!("/rest/api-keys/{id}"))
        .cookie(&other.cookie)
        .send()
        .await;
    let patch = app
        .patch(&format!("/rest/api-keys/{id}"))
        .cookie(&other.cookie)
        .json(json!({ "label": "stolen", "scopes": ["tag:list"] }))
        .send()
        .await;
    let others_list = app
        .get("/rest/api-keys?ownership=all")
        .cookie(&other.cookie)
        .send()
        .await;

    rotate.assert_error(404, "API key not found");
    delete.assert_error(404, "API key not found");
    // As in n8n, a foreign key is silently left alone by PATCH.
    assert_eq!(patch.status, 200);
    assert_eq!(others_list.status, 403);
    assert_eq!(app.get("/api/v1/tags").key(&raw).send().await.status, 200);
    let owner_view = app
        .get("/rest/api-keys?ownership=all")
        .cookie(&app.owner.cookie)
        .send()
        .await;
    let labels: Vec<String> = owner_view.json()["data"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|k| k["label"].as_str().expect("label").to_owned())
        .collect();
    assert!(labels.contains(&"mine".to_owned()), "{labels:?}");
    assert!(owner_view.json()["data"]["owners"]
        .as_array()
        .expect("owners")
        .iter()
        .any(|o| o["email"] == "member@example.com"));

    let by_owner = app
        .delete(&format!("/rest/api-keys/{id}"))
        .cookie(&app.owner.cookie)
        .send()
        .await;

    assert_eq!(by_owner.status, 200);
    app.get("/api/v1/tags")
        .key(&raw)
        .send()
        .await
        .assert_error(401, "Unauthorized");
}

#[tokio::test]
async fn the_key_list_filters_sorts_and_pages() {
    let app = TestApp::spawn().await;
    for (label, scopes) in [
        ("alpha", vec!["tag:read"]),
        ("Beta", vec!["tag:read", "tag:list", "tag:create"]),
        ("gamma", vec!["tag:read", "tag:list"]),
    ] {
        app.create_key(&app.owner, label, &names(&scopes)).await;
    }
    let get = |q: &str| {
        app.get(&format!("/rest/api-keys?{q}"))
            .cookie(&app.owner.cookie)
            .send()
    };
    let labels = |r: &crate::helpers::Resp| -> Vec<String> {
        r.json()["data"]["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|k| k["label"].as_str().expect("l").to_owned())
            .collect()
    };

    let by_label = get("sortBy=label:asc&take=3").await;
    let by_scopes = get("sortBy=scopes:desc&take=1").await;
    let filtered = get("label=AMM").await;
    let second_page = get("sortBy=label:asc&take=2&skip=2").await;

    assert_eq!(labels(&by_label), vec!["all scopes", "alpha", "Beta"]);
    assert_eq!(labels(&by_scopes), vec!["all scopes"]);
    assert_eq!(labels(&filtered), vec!["gamma"]);
    assert_eq!(filtered.json()["data"]["counts"]["mine"], 1);
    assert_eq!(filtered.json()["data"]["totals"]["mine"], 4);
    assert_eq!(labels(&second_page), vec!["Beta", "gamma"]);
    assert_eq!(get("sortBy=nonsense").await.status, 400);
    assert_eq!(get("take=1000").await.status, 400);
}

#[tokio::test]
async fn last_used_is_recorded_in_the_background() {
    let app = TestApp::spawn().await;
    assert_eq!(
        app.get("/api/v1/tags")
            .key(&app.owner_key)
            .send()
            .await
            .status,
        200
    );

    let mut recorded = false;
    for _ in 0..50 {
        let list = app
            .get("/rest/api-keys")
            .cookie(&app.owner.cookie)
            .send()
            .await;
        let items = list.json()["data"]["items"].clone();
        if items
            .as_array()
            .expect("items")
            .iter()
            .any(|k| k["label"] == "all scopes" && k["lastUsedAt"].is_string())
        {
            recorded = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    assert!(recorded, "lastUsedAt was never set");
}

#[tokio::test]
async fn the_api_key_routes_vanish_when_the_public_api_is_disabled() {
    let app = TestApp::spawn_with(|c| c.public_api_disabled = true).await;

    let scopes = app
        .get("/rest/api-keys/scopes")
        .cookie(&app.owner.cookie)
        .send()
        .await;
    let create = app
        .post("/rest/api-keys")
        .cookie(&app.owner.cookie)
        .json(json!({ "label": "a", "scopes": ["tag:read"], "expiresAt": null }))
        .send()
        .await;

    assert_eq!(scopes.status, 404);
    assert!(scopes.body.is_empty());
    assert_eq!(create.status, 404);
    assert!(create.body.is_empty());
}
