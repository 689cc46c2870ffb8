//! Bulk data for tests that need many rows, written straight through the repositories (one
//! transaction) so that arranging them costs little.

use std::collections::HashSet;

use flowgate::db::{projects, workflows};
use flowgate::domain::ids::new_id;
use flowgate::domain::time::now_iso;

use crate::helpers::TestApp;

/// Creates `n` workflows in the owner's personal project; answers their ids.
pub async fn bulk_workflows(app: &TestApp, n: usize) -> HashSet<String> {
    let now = now_iso();
    let mut tx = app.state.db.begin().await.expect("tx");
    let project = projects::personal_project_id(tx.conn(), &app.owner.id)
        .await
        .expect("query")
        .expect("personal project");
    let mut ids = HashSet::new();
    for i in 0..n {
        let id = new_id();
        let version = uuid::Uuid::new_v4().to_string();
        let name = format!("bulk {i}");
        let content = workflows::Content {
            name: &name,
            description: None,
            nodes: "[]",
            connections: "{}",
            node_groups: "[]",
            settings: "{}",
            static_data: None,
            pin_data: None,
            meta: None,
            parent_folder_id: None,
        };
        workflows::insert(tx.conn(), &id, &version, &project, &content, &now)
            .await
            .expect("insert");
        ids.insert(id);
    }
    tx.commit().await.expect("commit");
    ids
}
