//! The connection test of a credential type that has one: a call to the service the
//! credential is for, made with the credential's data behind the outbound guard.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::domain::credential_types::{CredentialType, TestSpec};
use crate::service::outbound;

#[derive(Serialize)]
/// The answer of a connection test (a failed test is an answer, not an error).
pub struct TestOutcome {
    status: &'static str,
    message: String,
}

/// Fills `{field}` placeholders of a test URL from the credential's data (and defaults).
fn expand(template: &str, kind: &CredentialType, data: &Map<String, Value>) -> String {
    let mut out = template.to_owned();
    for field in &kind.properties {
        let placeholder = format!("{{{}}}", field.name);
        if out.contains(&placeholder) {
            let value = kind
                .value(data, &field.name)
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string())
                })
                .unwrap_or_default();
            out = out.replace(&placeholder, value.trim_end_matches('/'));
        }
    }
    out
}

fn text(kind: &CredentialType, data: &Map<String, Value>, field: &str) -> String {
    kind.value(data, field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn extra_headers(headers: &Map<String, Value>) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
        .collect()
}

/// Calls the service the credential is for, as its type's test describes, with the
/// credential's data; private addresses only when the configuration allows them.
pub(super) async fn test_connection(
    state: &AppState,
    kind: &CredentialType,
    data: &Map<String, Value>,
) -> TestOutcome {
    let Some(spec) = &kind.test else {
        return TestOutcome {
            status: "Error",
            message: "No testing function found for this credential.".into(),
        };
    };
    let (url, headers) = match spec {
        TestSpec::N8nApi => {
            let base = text(kind, data, "baseUrl");
            (
                format!("{}/credentials/schema/n8nApi", base.trim_end_matches('/')),
                vec![("X-N8N-API-KEY".to_owned(), text(kind, data, "apiKey"))],
            )
        }
        TestSpec::Bearer {
            url,
            field,
            headers,
        } => {
            let mut h = extra_headers(headers);
            h.push((
                "Authorization".to_owned(),
                format!("Bearer {}", text(kind, data, field)),
            ));
            (expand(url, kind, data), h)
        }
        TestSpec::Header {
            url,
            header,
            field,
            prefix,
            headers,
        } => {
            let mut h = extra_headers(headers);
            h.push((
                header.clone(),
                format!("{prefix}{}", text(kind, data, field)),
            ));
            (expand(url, kind, data), h)
        }
        TestSpec::Get { url } => (expand(url, kind, data), Vec::new()),
    };
    let mut policy = outbound::OutboundPolicy::from_config(&state.config.outbound);
    if !state.config.credential_test_allow_private {
        policy = policy.blocking_private();
    }
    match outbound::get(&url, &headers, &policy).await {
        Ok(status) if (200..300).contains(&status) => TestOutcome {
            status: "OK",
            message: "Connection successful!".into(),
        },
        Ok(401 | 403) => TestOutcome {
            status: "Error",
            message: "Authorization failed - please check your credentials".into(),
        },
        Ok(status) => TestOutcome {
            status: "Error",
            message: format!("The service answered with status {status}"),
        },
        Err(e) => TestOutcome {
            status: "Error",
            message: e.to_string(),
        },
    }
}
