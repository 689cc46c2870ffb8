use crate::helpers::TestApp;

#[tokio::test]
async fn liveness_and_readiness_answer_ok_without_authentication() {
    let app = TestApp::spawn_empty().await;

    let live = app.get("/healthz").send().await;
    let ready = app.get("/healthz/readiness").send().await;

    assert_eq!(live.status, 200);
    assert_eq!(live.json()["status"], "ok");
    assert_eq!(ready.status, 200);
    assert_eq!(ready.json()["status"], "ok");
}

#[tokio::test]
async fn readiness_reports_not_ready_when_the_database_is_gone() {
    let app = TestApp::spawn_empty().await;
    app.state.db.close().await;

    let ready = app.get("/healthz/readiness").send().await;

    assert_eq!(ready.status, 503);
    assert_eq!(ready.json()["status"], "error");
}
