//! Where the API answers: `/api/v1`, `N8N_PUBLIC_API_ENDPOINT`, and under `N8N_PATH`.

use crate::helpers::TestApp;

#[tokio::test]
async fn with_n8n_path_the_api_answers_with_and_without_the_prefix() {
    let app = TestApp::spawn_with(|c| c.path = "/automation/".to_owned()).await;

    let prefixed = app
        .get("/automation/api/v1/tags")
        .key(&app.owner_key)
        .send()
        .await;
    let bare = app.get("/api/v1/tags").key(&app.owner_key).send().await;
    let rest = app.get("/automation/rest/settings").send().await;

    assert_eq!(prefixed.status, 200);
    assert_eq!(bare.status, 200);
    assert_eq!(rest.status, 200);
    let document = app
        .get("/automation/api/v1/openapi.json")
        .send()
        .await
        .json();
    assert_eq!(document["servers"][0]["url"], "/automation/api/v1");
}

#[tokio::test]
async fn the_public_api_endpoint_setting_renames_the_first_segment() {
    let app = TestApp::spawn_with(|c| c.public_api_endpoint = "public".to_owned()).await;

    assert_eq!(
        app.get("/public/v1/tags")
            .key(&app.owner_key)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        app.get("/api/v1/tags")
            .key(&app.owner_key)
            .send()
            .await
            .status,
        404
    );
}
