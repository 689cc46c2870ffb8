//! Users: invitations over the public API and `/rest`, sign-up, roles, deletion.

use serde_json::{json, Value};

use crate::helpers::{workflow_body, TestApp, OWNER_EMAIL, PASSWORD};

fn token_of(url: &str) -> String {
    url.split("token=")
        .nth(1)
        .expect("token in the link")
        .to_owned()
}

#[tokio::test]
async fn an_invited_user_signs_up_signs_in_and_creates_keys() {
    let app = TestApp::spawn().await;

    let invited = app
        .post("/api/v1/users")
        .key(&app.owner_key)
        .json(json!([{ "email": "New@Example.com" }]))
        .send()
        .await;
    assert_eq!(invited.status, 201, "{}", invited.text());
    let entry = &invited.json()[0];
    assert_eq!(entry["error"], "");
    assert_eq!(entry["user"]["email"], "new@example.com");
    assert_eq!(entry["user"]["role"], "global:member");
    assert_eq!(entry["user"]["emailSent"], false);
    let url = entry["user"]["inviteAcceptUrl"]
        .as_str()
        .expect("link")
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:5678/signup?token="),
        "{url}"
    );
    let token = token_of(&url);

    let resolved = app
        .get(&format!("/rest/resolve-signup-token?token={token}"))
        .send()
        .await;
    assert_eq!(
        resolved.json()["data"]["inviter"],
        json!({ "firstName": "Olive", "lastName": "Owner" })
    );
    let pending = app
        .get("/api/v1/users/new@example.com")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(pending["isPending"], true);

    let weak = app
        .post("/rest/invitations/accept")
        .json(json!({ "token": token, "firstName": "Nia", "lastName": "New", "password": "weak" }))
        .send()
        .await;
    assert_eq!(
        weak.json()["message"],
        "Password must be 8 to 64 characters long."
    );
    let accepted = app
        .post("/rest/invitations/accept")
        .json(
            json!({ "token": token, "firstName": "Nia", "lastName": "New", "password": PASSWORD }),
        )
        .send()
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.text());
    assert!(accepted.cookie().is_some());
    assert_eq!(accepted.json()["data"]["isPending"], false);

    let again = app
        .post("/rest/invitations/accept")
        .json(json!({ "token": token, "firstName": "X", "lastName": "Y", "password": PASSWORD }))
        .send()
        .await;
    assert_eq!(again.status, 400);
    let member = app.login("new@example.com", PASSWORD).await;
    let key = app
        .key_with(&member, &["workflow:create", "workflow:list"])
        .await;
    assert_eq!(
        app.create_workflow(&key, workflow_body("mine")).await["shared"][0]["project"]["name"],
        "Nia New <new@example.com>"
    );
}

#[tokio::test]
async fn invitation_links_are_checked() {
    let app = TestApp::spawn().await;
    let invited = app
        .post("/api/v1/users")
        .key(&app.owner_key)
        .json(json!([{ "email": "p@example.com" }]))
        .send()
        .await
        .json();
    let token = token_of(
        invited[0]["user"]["inviteAcceptUrl"]
            .as_str()
            .expect("link"),
    );
    let forged = format!("{}x", &token[..token.len() - 1]);

    app.get("/rest/resolve-signup-token")
        .send()
        .await
        .assert_error(400, "Token is required");
    app.get("/rest/resolve-signup-token?token=garbage")
        .send()
        .await
        .assert_error(400, "Invalid invite URL");
    app.get(&format!("/rest/resolve-signup-token?token={forged}"))
        .send()
        .await
        .assert_error(400, "Invalid invite URL");

    // Inviting again voids the first link.
    let again = app
        .post("/api/v1/users")
        .key(&app.owner_key)
        .json(json!([{ "email": "p@example.com" }]))
        .send()
        .await
        .json();
    let second = token_of(again[0]["user"]["inviteAcceptUrl"].as_str().expect("link"));
    assert_ne!(second, token);
    app.get(&format!("/rest/resolve-signup-token?token={token}"))
        .send()
        .await
        .assert_error(400, "Invalid invite URL");
    assert_eq!(
        app.get(&format!("/rest/resolve-signup-token?token={second}"))
            .send()
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn invitations_validate_emails_and_roles_and_skip_existing_users() {
    let app = TestApp::spawn().await;
    let invite = |body: Value| {
        app.post("/api/v1/users")
            .key(&app.owner_key)
            .json(body)
            .send()
    };

    invite(json!([{ "email": "not-an-email" }]))
        .await
        .assert_error(400, "request/body/0/email must match format \"email\"");
    invite(json!([{ "email": "a@example.com", "role": "global:owner" }]))
        .await
        .assert_error(
            400,
            "request/body/0/role must be equal to one of the allowed values",
        );
    invite(json!({ "email": "a@example.com" }))
        .await
        .assert_error(400, "request/body must be array");
    let existing = invite(
        json!([{ "email": OWNER_EMAIL }, { "email": "admin@example.com", "role": "global:admin" }]),
    )
    .await;
    assert_eq!(existing.status, 201);
    let entries = existing.json();
    assert_eq!(
        entries.as_array().expect("array").len(),
        1,
        "the owner already has an account"
    );
    assert_eq!(entries[0]["user"]["role"], "global:admin");
}

#[tokio::test]
async fn users_are_listed_and_found_by_id_or_email() {
    let app = TestApp::spawn().await;
    let member = app.add_user("m@example.com", "global:member").await;

    let list = app
        .get("/api/v1/users?includeRole=true&limit=1")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(list["data"].as_array().expect("data").len(), 1);
    assert_eq!(list["data"][0]["email"], OWNER_EMAIL);
    assert_eq!(list["data"][0]["role"], "global:owner");
    let next = list["nextCursor"]
        .as_str()
        .expect("more")
        .replace('=', "%3D");
    let rest = app
        .get(&format!("/api/v1/users?cursor={next}"))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(rest["data"][0]["email"], "m@example.com");
    assert!(rest["data"][0].get("role").is_none());

    let by_id = app
        .get(&format!("/api/v1/users/{}", member.id))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    let by_email = app
        .get("/api/v1/users/M@example.com?includeRole=true")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(by_id["email"], "m@example.com");
    assert_eq!(by_email["id"], member.id.as_str());
    assert_eq!(by_email["role"], "global:member");
    app.get("/api/v1/users/nobody@example.com")
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(404, "Could not find user with id: nobody@example.com");
    // Users routes are legacy handler routes: their 401 wording differs.
    app.get("/api/v1/users")
        .send()
        .await
        .assert_error(401, "'X-N8N-API-KEY' header required");
    app.get("/api/v1/users")
        .key("nope")
        .send()
        .await
        .assert_error(401, "unauthorized");
}

#[tokio::test]
async fn role_changes_follow_n8ns_rules_and_apply_to_keys_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.add_user("admin@example.com", "global:admin").await;
    let admin_key = app.full_key(&admin).await;
    let tag = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .json(json!({ "name": "t" }))
        .send()
        .await
        .json();
    let change = |key: &str, id: &str, role: &str| {
        app.patch(&format!("/api/v1/users/{id}/role"))
            .key(key)
            .json(json!({ "newRoleName": role }))
            .send()
    };

    change(&admin_key, &app.owner.id, "global:member")
        .await
        .assert_error(403, "Admin cannot change role on global owner");
    change(&admin_key, &admin.id, "global:member")
        .await
        .assert_error(403, "Cannot change your own global role");
    change(&app.owner_key, &app.owner.id, "global:member")
        .await
        .assert_error(403, "Owner cannot change role on global owner");
    change(&app.owner_key, &admin.id, "global:owner")
        .await
        .assert_error(
            400,
            "request/body/newRoleName must be equal to one of the allowed values",
        );
    change(
        &app.owner_key,
        "00000000-0000-4000-8000-000000000000",
        "global:member",
    )
    .await
    .assert_error(404, "Target user not found");

    let demoted = change(&app.owner_key, &admin.id, "global:member").await;

    assert_eq!(demoted.status, 204);
    assert!(demoted.body.is_empty());
    app.delete(&format!("/api/v1/tags/{}", tag["id"].as_str().expect("id")))
        .key(&admin_key)
        .send()
        .await
        .assert_error(403, "Forbidden");
    assert_eq!(
        app.get("/api/v1/tags").key(&admin_key).send().await.status,
        200
    );
}

#[tokio::test]
async fn deleting_a_user_revokes_their_keys_and_can_hand_over_their_workflows() {
    let app = TestApp::spawn().await;
    let leaver = app.add_user("leaver@example.com", "global:member").await;
    let other = app.add_user("gone@example.com", "global:member").await;
    let leaver_key = app.full_key(&leaver).await;
    let other_key = app.full_key(&other).await;
    let kept = app
        .create_workflow(&leaver_key, workflow_body("keep me"))
        .await;
    let lost = app
        .create_workflow(&other_key, workflow_body("lose me"))
        .await;
    let project = app.create_project("Handover").await;

    app.delete(&format!("/api/v1/users/{}", app.owner.id))
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(400, "Cannot delete your own user");
    let handed = app
        .delete(&format!("/api/v1/users/{}?transferId={project}", leaver.id))
        .key(&app.owner_key)
        .send()
        .await;
    let dropped = app
        .delete(&format!("/api/v1/users/{}", other.id))
        .key(&app.owner_key)
        .send()
        .await;

    assert_eq!(handed.status, 204, "{}", handed.text());
    assert_eq!(dropped.status, 204);
    app.get("/api/v1/workflows")
        .key(&leaver_key)
        .send()
        .await
        .assert_error(401, "Unauthorized");
    let moved = app
        .get(&format!(
            "/api/v1/workflows/{}",
            kept["id"].as_str().expect("id")
        ))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(moved["shared"][0]["projectId"], project.as_str());
    app.get(&format!(
        "/api/v1/workflows/{}",
        lost["id"].as_str().expect("id")
    ))
    .key(&app.owner_key)
    .send()
    .await
    .assert_error(404, "Not Found");
    app.delete(&format!("/api/v1/users/{}", leaver.id))
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(
            400,
            "Request to delete a user failed because the user to delete was not found in DB",
        );
}

#[tokio::test]
async fn the_owner_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.add_user("admin@example.com", "global:admin").await;
    let admin_key = app.full_key(&admin).await;

    app.delete(&format!("/api/v1/users/{}", app.owner.id))
        .key(&admin_key)
        .send()
        .await
        .assert_error(400, "Instance owner cannot be deleted.");
}

#[tokio::test]
async fn the_rest_user_endpoints_serve_the_web_page() {
    let app = TestApp::spawn().await;
    let invited = app
        .post("/rest/invitations")
        .cookie(&app.owner.cookie)
        .json(json!([{ "email": "web@example.com", "role": "global:admin" }]))
        .send()
        .await;
    assert_eq!(invited.status, 200, "{}", invited.text());
    let user_id = invited.json()["data"][0]["user"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let list = app
        .get("/rest/users")
        .cookie(&app.owner.cookie)
        .send()
        .await
        .json();
    assert_eq!(list["data"]["count"], 2);
    let pending = list["data"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["id"] == user_id.as_str())
        .expect("listed")
        .clone();
    assert_eq!(pending["isPending"], true);
    assert!(
        pending["inviteAcceptUrl"]
            .as_str()
            .is_some_and(|u| u.contains("/signup?token=")),
        "the link can be copied again"
    );

    let role = app
        .patch(&format!("/rest/users/{user_id}/role"))
        .cookie(&app.owner.cookie)
        .json(json!({ "newRoleName": "global:member" }))
        .send()
        .await;
    assert_eq!(role.json(), json!({ "data": { "success": true } }));
    let removed = app
        .delete(&format!("/rest/users/{user_id}"))
        .cookie(&app.owner.cookie)
        .send()
        .await;
    assert_eq!(removed.json(), json!({ "data": { "success": true } }));

    let member = app.add_user("m@example.com", "global:member").await;
    let forbidden = app
        .post("/rest/invitations")
        .cookie(&member.cookie)
        .json(json!([{ "email": "x@example.com" }]))
        .send()
        .await;
    assert_eq!(
        forbidden.json(),
        json!({ "code": 403, "message": "Forbidden" })
    );
}

/// The leaver's credential, a workflow of theirs that uses it, and a variable of their
/// personal project: what a transfer must carry over.
struct LeaverContents {
    credential: String,
    workflow: String,
    personal_project: String,
}

async fn leaver_contents(app: &TestApp, leaver_key: &str, variable_key: &str) -> LeaverContents {
    let created = app
        .post("/api/v1/credentials")
        .key(leaver_key)
        .json(json!({ "name": "Leaver's header", "type": "httpHeaderAuth", "data": { "name": "X-Token", "value": "secret" } }))
        .send()
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    let credential = created.json()["id"].as_str().expect("id").to_owned();
    let mut body = workflow_body("uses the credential");
    body["nodes"]
        .as_array_mut()
        .expect("nodes")
        .push(json!({
            "name": "Call", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2, "position": [200, 0],
            "parameters": { "url": "http://example.com", "authentication": "genericCredentialType", "genericAuthType": "httpHeaderAuth" },
            "credentials": { "httpHeaderAuth": { "id": credential, "name": "Leaver's header" } }
        }));
    let workflow = app.create_workflow(leaver_key, body).await;
    let personal_project = workflow["shared"][0]["projectId"]
        .as_str()
        .expect("project")
        .to_owned();
    let variable = app
        .post("/api/v1/variables")
        .key(&app.owner_key)
        .json(json!({ "key": variable_key, "value": "leaver's", "projectId": personal_project }))
        .send()
        .await;
    assert_eq!(variable.status, 201, "{}", variable.text());
    LeaverContents {
        credential,
        workflow: workflow["id"].as_str().expect("id").to_owned(),
        personal_project,
    }
}

/// The project of credential `id`, as the owner's credential list shows it.
async fn credential_project(app: &TestApp, id: &str) -> Option<String> {
    let listed = app
        .get("/api/v1/credentials")
        .key(&app.owner_key)
        .send()
        .await
        .json();
    listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["shared"][0]["id"].as_str())
        .map(str::to_owned)
}

async fn variable_keys(app: &TestApp, project: &str) -> Vec<String> {
    let listed = app
        .get(&format!("/api/v1/variables?projectId={project}"))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    listed["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|v| v["key"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_transfer_carries_the_leavers_credentials_and_variables_over() {
    let app = TestApp::spawn().await;
    let leaver = app.add_user("leaver@example.com", "global:member").await;
    let leaver_key = app.full_key(&leaver).await;
    let contents = leaver_contents(&app, &leaver_key, "LEAVER_URL").await;
    let project = app.create_project("Handover").await;

    let handed = app
        .delete(&format!("/api/v1/users/{}?transferId={project}", leaver.id))
        .key(&app.owner_key)
        .send()
        .await;
    assert_eq!(handed.status, 204, "{}", handed.text());

    // The credential lives on in the project the workflow moved to, so the workflow's
    // reference (same id, same project) still reaches it.
    assert_eq!(
        credential_project(&app, &contents.credential).await,
        Some(project.clone())
    );
    let workflow = app
        .get(&format!("/api/v1/workflows/{}", contents.workflow))
        .key(&app.owner_key)
        .send()
        .await
        .json();
    assert_eq!(workflow["shared"][0]["projectId"], project.as_str());
    assert_eq!(
        workflow["nodes"][1]["credentials"]["httpHeaderAuth"]["id"],
        contents.credential.as_str()
    );
    assert_eq!(variable_keys(&app, &project).await, vec!["LEAVER_URL"]);
}

#[tokio::test]
async fn a_transfer_onto_a_clashing_variable_key_is_refused_whole() {
    let app = TestApp::spawn().await;
    let leaver = app.add_user("leaver@example.com", "global:member").await;
    let leaver_key = app.full_key(&leaver).await;
    let contents = leaver_contents(&app, &leaver_key, "SHARED_KEY").await;
    let project = app.create_project("Handover").await;
    let existing = app
        .post("/api/v1/variables")
        .key(&app.owner_key)
        .json(json!({ "key": "SHARED_KEY", "value": "the team's", "projectId": project }))
        .send()
        .await;
    assert_eq!(existing.status, 201, "{}", existing.text());

    app.delete(&format!("/api/v1/users/{}?transferId={project}", leaver.id))
        .key(&app.owner_key)
        .send()
        .await
        .assert_error(
            400,
            &format!("Cannot transfer the variable \"SHARED_KEY\": project \"{project}\" already has a variable with that key"),
        );

    // Nothing moved and nothing was deleted: the leaver, their key and everything they had.
    assert_eq!(
        app.get("/api/v1/workflows")
            .key(&leaver_key)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        credential_project(&app, &contents.credential).await,
        Some(contents.personal_project.clone())
    );
    assert_eq!(
        variable_keys(&app, &contents.personal_project).await,
        vec!["SHARED_KEY"]
    );
    assert_eq!(variable_keys(&app, &project).await, vec!["SHARED_KEY"]);
}
