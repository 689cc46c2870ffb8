//! What nodes reach outside their run: the caller of a webhook waiting for its answer, other
//! workflows (sub-workflows), stored credentials and outbound HTTP. A run gets these through
//! one trait so nodes stay testable without a server.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use async_trait::async_trait;

use super::data::{Item, JsonObject};
use super::node::NodeError;
use crate::service::outbound::{Outbound, OutboundPolicy};

/// What nodes calling out over HTTP share across runs.
pub struct HttpShared {
    pub outbound: Outbound,
    /// OAuth2 access tokens got with client credentials, by credential, until they expire.
    pub tokens: Mutex<HashMap<String, CachedToken>>,
    /// Where Google service-account credentials get their access tokens.
    pub google_token_url: String,
}

/// An access token and when to stop using it.
#[derive(Clone)]
pub struct CachedToken {
    pub access_token: String,
    pub token_type: String,
    pub expires: Option<Instant>,
}

impl HttpShared {
    pub fn new(policy: OutboundPolicy, google_token_url: String) -> HttpShared {
        HttpShared {
            outbound: Outbound::new(policy),
            tokens: Mutex::new(HashMap::new()),
            google_token_url,
        }
    }
}

/// The answer a Respond to Webhook node gives.
#[derive(Clone, Debug)]
pub struct WebhookResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A sub-workflow to run for an Execute Workflow node.
#[derive(Clone, Debug)]
pub struct SubWorkflowCall {
    /// The workflow's id.
    pub workflow_id: String,
    pub items: Vec<Item>,
    /// Wait for it to finish and take its output.
    pub wait: bool,
    /// Who calls: checked against the sub-workflow's caller policy.
    pub caller_workflow_id: String,
    pub caller_project_id: Option<String>,
}

#[async_trait]
pub trait Services: Send + Sync {
    /// Sends the webhook's answer now (the first answer wins; later ones are ignored, as in
    /// n8n). Fails when the execution was not started by a webhook that waits for one.
    fn respond(&self, response: WebhookResponse) -> Result<(), NodeError>;

    /// Runs a sub-workflow; with `wait`, answers the items of its last node.
    async fn run_sub_workflow(&self, call: SubWorkflowCall) -> Result<Vec<Item>, NodeError>;

    /// The decrypted data of credential `id` of type `kind`, when a workflow of `project_id`
    /// may use it; errors in n8n's words otherwise.
    async fn credential(
        &self,
        project_id: Option<&str>,
        kind: &str,
        id: &str,
    ) -> Result<JsonObject, NodeError>;

    /// Writes a credential's new OAuth2 token data (`oauthTokenData`) back, sealed, keeping
    /// its other fields as stored.
    async fn store_oauth_token_data(
        &self,
        _project_id: Option<&str>,
        _kind: &str,
        _id: &str,
        _token_data: serde_json::Value,
    ) -> Result<(), NodeError> {
        Err(NodeError::operation(
            "Credentials cannot be updated in this run",
        ))
    }

    /// The instance's outbound HTTP.
    fn http(&self) -> &HttpShared;

    /// The binary data store; `None` keeps binary data inline (runs without a server).
    fn binary(&self) -> Option<&super::binary::BinaryStore> {
        None
    }
}

/// Reads and opens a credential a node refers to. n8n checks the workflow's access to its
/// credentials before a run starts; here the check happens when the node asks, with n8n's words.
pub(crate) async fn open_credential(
    engine: &super::Engine,
    project_id: Option<&str>,
    kind: &str,
    id: &str,
) -> Result<JsonObject, NodeError> {
    let inner = engine.inner();
    let unavailable = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, "a credential could not be read");
        NodeError::operation("The credential could not be read")
    };
    let row = {
        let mut conn = inner.db.acquire().await.map_err(|e| unavailable(&e))?;
        crate::db::credentials::find(conn.conn(), id)
            .await
            .map_err(|e| unavailable(&e))?
    };
    let row = row.filter(|r| r.kind == kind).ok_or_else(|| {
        NodeError::operation(format!(
            "Credential with ID \"{id}\" does not exist for type \"{kind}\"."
        ))
    })?;
    if !row.is_global && project_id != Some(row.project_id.as_str()) {
        return Err(
            NodeError::operation("Node has no access to credential").with_description(
                "Please recreate the credential or ask its owner to share it with you.",
            ),
        );
    }
    crate::service::credentials::open(&inner.keys, &row).map_err(|e| unavailable(&e))
}

/// Writes a refreshed OAuth2 token into credential `id` (as n8n's
/// `updateCredentialsOauthTokenData`): the stored data is read again and only its
/// `oauthTokenData` replaced, then sealed again under the current key.
pub(crate) async fn store_oauth_token_data(
    engine: &super::Engine,
    project_id: Option<&str>,
    kind: &str,
    id: &str,
    token_data: serde_json::Value,
) -> Result<(), NodeError> {
    let inner = engine.inner();
    let failed = |e: &dyn std::fmt::Display| {
        tracing::warn!(error = %e, credential = id, "a refreshed OAuth2 token could not be saved");
        NodeError::operation("The refreshed OAuth2 token could not be saved")
    };
    let mut tx = inner.db.begin().await.map_err(|e| failed(&e))?;
    let row = crate::db::credentials::find(tx.conn(), id)
        .await
        .map_err(|e| failed(&e))?
        .filter(|r| r.kind == kind && (r.is_global || project_id == Some(r.project_id.as_str())))
        .ok_or_else(|| failed(&"the credential is gone or no longer usable"))?;
    let mut data = crate::service::credentials::open(&inner.keys, &row).map_err(|e| failed(&e))?;
    data.insert("oauthTokenData".into(), token_data);
    let sealed = crate::service::credentials::seal(&inner.keys, id, &data);
    crate::db::credentials::replace_data(
        tx.conn(),
        id,
        &sealed,
        inner.keys.primary_id(),
        &crate::domain::time::now_iso(),
    )
    .await
    .map_err(|e| failed(&e))?;
    tx.commit().await.map_err(|e| failed(&e))
}
