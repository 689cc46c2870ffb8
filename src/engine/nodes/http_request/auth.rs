//! Authentication of the HTTP Request node: the generic credential types (basic, bearer,
//! header, query, custom, digest, OAuth2), the rule of each predefined credential type this
//! server knows, and the predefined types whose n8n definition works in code (`aws` signs the
//! finished request, `googleApi` fetches a token), turned into additions to the request.
//! Secrets go only into the request, never into items or errors.

use serde_json::{Map, Value};

use super::{aws, google, oauth2};
use crate::domain::credential_types;
use crate::engine::node::{NodeError, NodeRun};
use crate::engine::nodes::types::js_string;

/// What a credential adds to a request. No `Debug`: it holds secrets.
#[derive(Clone, Default)]
pub struct AuthParts {
    /// Headers set over the node's own (same name: the credential wins).
    pub headers: Vec<(String, String)>,
    /// Query parameters set over the node's own.
    pub query: Vec<(String, Value)>,
    /// `Authorization: Basic` user and password.
    pub basic: Option<(String, String)>,
    /// Fields merged into a JSON or form body.
    pub body: Option<Map<String, Value>>,
    /// Digest user and password: the request is sent, then sent again answering the challenge.
    pub digest: Option<(String, String)>,
    /// An OAuth2 credential whose token may be fetched again when the service answers 401.
    pub oauth2: Option<oauth2::OAuth2>,
    /// An AWS credential: the request is signed once it is complete.
    pub aws: Option<aws::AwsSigner>,
    /// A Google service account whose token is renewed when the service answers 401.
    pub google: Option<google::Renewal>,
}

/// One rule of a predefined credential type: where a credential field goes.
enum Rule {
    /// A header whose value is a template of credential fields (`Bearer {accessToken}`).
    Header(&'static str, &'static str),
    /// As `Header`, only when the template's fields are not empty.
    HeaderIfSet(&'static str, &'static str),
    /// A query parameter.
    Query(&'static str, &'static str),
    /// Basic authentication with a user and a password template.
    Basic(&'static str, &'static str),
    /// Twilio: an API key pair or the account SID and auth token, by `authType`.
    Twilio,
}

/// The `authenticate` rule of each predefined credential type of the catalogue that has one
/// (as each type's n8n definition declares it).
const PREDEFINED: &[(&str, &[Rule])] = &[
    (
        "airtableTokenApi",
        &[Rule::Header("Authorization", "Bearer {accessToken}")],
    ),
    ("anthropicApi", &[Rule::Header("x-api-key", "{apiKey}")]),
    (
        "asanaApi",
        &[Rule::Header("Authorization", "Bearer {accessToken}")],
    ),
    (
        "clickUpApi",
        &[Rule::Header("Authorization", "{accessToken}")],
    ),
    (
        "cohereApi",
        &[Rule::Header("Authorization", "Bearer {apiKey}")],
    ),
    (
        "discordBotApi",
        &[Rule::Header("Authorization", "Bot {botToken}")],
    ),
    (
        "dropboxApi",
        &[Rule::Header("Authorization", "Bearer {accessToken}")],
    ),
    (
        "githubApi",
        &[Rule::Header("Authorization", "token {accessToken}")],
    ),
    (
        "gitlabApi",
        &[Rule::Header("Private-Token", "{accessToken}")],
    ),
    ("googlePalmApi", &[Rule::Query("key", "{apiKey}")]),
    (
        "groqApi",
        &[Rule::Header("Authorization", "Bearer {apiKey}")],
    ),
    (
        "hubspotAppToken",
        &[Rule::Header("Authorization", "Bearer {appToken}")],
    ),
    (
        "huggingFaceApi",
        &[Rule::Header("Authorization", "Bearer {apiKey}")],
    ),
    (
        "jiraSoftwareCloudApi",
        &[Rule::Basic("{email}", "{apiToken}")],
    ),
    (
        "jiraSoftwareServerApi",
        &[Rule::Basic("{email}", "{password}")],
    ),
    ("linearApi", &[Rule::Header("Authorization", "{apiKey}")]),
    (
        "mailchimpApi",
        &[Rule::Header("Authorization", "apikey {apiKey}")],
    ),
    ("mailgunApi", &[Rule::Basic("api", "{apiKey}")]),
    (
        "mattermostApi",
        &[Rule::Header("Authorization", "Bearer {accessToken}")],
    ),
    (
        "mistralCloudApi",
        &[Rule::Header("Authorization", "Bearer {apiKey}")],
    ),
    ("n8nApi", &[Rule::Header("X-N8N-API-KEY", "{apiKey}")]),
    (
        "notionApi",
        &[
            Rule::Header("Authorization", "Bearer {apiKey}"),
            Rule::Header("Notion-Version", "2022-02-22"),
        ],
    ),
    (
        "ollamaApi",
        &[Rule::HeaderIfSet("Authorization", "Bearer {apiKey}")],
    ),
    (
        "openAiApi",
        &[
            Rule::Header("Authorization", "Bearer {apiKey}"),
            Rule::HeaderIfSet("OpenAI-Organization", "{organizationId}"),
        ],
    ),
    ("pineconeApi", &[Rule::Header("Api-Key", "{apiKey}")]),
    ("pipedriveApi", &[Rule::Query("api_token", "{apiToken}")]),
    ("qdrantApi", &[Rule::Header("api-key", "{apiKey}")]),
    (
        "sendGridApi",
        &[Rule::Header("Authorization", "Bearer {apiKey}")],
    ),
    (
        "shopifyAccessTokenApi",
        &[Rule::Header("X-Shopify-Access-Token", "{accessToken}")],
    ),
    (
        "slackApi",
        &[Rule::Header("Authorization", "Bearer {accessToken}")],
    ),
    (
        "stripeApi",
        &[Rule::Header("Authorization", "Bearer {secretKey}")],
    ),
    (
        "supabaseApi",
        &[
            Rule::Header("apikey", "{serviceRole}"),
            Rule::Header("Authorization", "Bearer {serviceRole}"),
        ],
    ),
    (
        "todoistApi",
        &[Rule::Header("Authorization", "Bearer {apiKey}")],
    ),
    (
        "trelloApi",
        &[
            Rule::Query("key", "{apiKey}"),
            Rule::Query("token", "{apiToken}"),
        ],
    ),
    ("twilioApi", &[Rule::Twilio]),
    ("zendeskApi", &[Rule::Basic("{email}/token", "{apiToken}")]),
];

/// The generic credential types, usable both ways.
const GENERIC: &[&str] = &[
    "httpBasicAuth",
    "httpBearerAuth",
    "httpDigestAuth",
    "httpHeaderAuth",
    "httpQueryAuth",
    "httpCustomAuth",
    "oAuth2Api",
];

/// What the node's authentication adds to its requests (read from the first item, as n8n
/// reads it).
pub async fn resolve(run: &NodeRun<'_>) -> Result<AuthParts, NodeError> {
    match run.param_str("authentication", 0, "none")?.as_str() {
        "genericCredentialType" => {
            let kind = run.param_str("genericAuthType", 0, "")?;
            if !GENERIC.contains(&kind.as_str()) {
                return Err(unsupported(&kind));
            }
            let data = run.credentials(&kind).await?;
            generic(run, &kind, &data).await
        }
        "predefinedCredentialType" => {
            let kind = run.param_str("nodeCredentialType", 0, "")?;
            if GENERIC.contains(&kind.as_str()) {
                let data = run.credentials(&kind).await?;
                return generic(run, &kind, &data).await;
            }
            if let Some(parts) = signed(run, &kind).await? {
                return Ok(parts);
            }
            let Some((_, rules)) = PREDEFINED.iter().find(|(k, _)| *k == kind) else {
                return Err(unsupported(&kind));
            };
            let data = run.credentials(&kind).await?;
            Ok(predefined(&kind, rules, &data))
        }
        _ => Ok(AuthParts::default()),
    }
}

/// The predefined types whose n8n definition signs the request in code rather than by a rule
/// (`None` for every other type).
async fn signed(run: &NodeRun<'_>, kind: &str) -> Result<Option<AuthParts>, NodeError> {
    let parts = match kind {
        "aws" => {
            let data = run.credentials(kind).await?;
            AuthParts {
                aws: Some(aws::AwsSigner::from_credential(&data, run.env.fixed_now)),
                ..AuthParts::default()
            }
        }
        "googleApi" => {
            let data = run.credentials(kind).await?;
            let account = google::ServiceAccount::from_credential(&data)?;
            let services = run.env.services.clone().ok_or_else(|| {
                NodeError::operation("Google access tokens are not available in this run")
            })?;
            let token = account.access_token(services.as_ref()).await?;
            AuthParts {
                headers: vec![("Authorization".into(), format!("Bearer {token}"))],
                google: Some(google::Renewal { account, services }),
                ..AuthParts::default()
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(parts))
}

fn unsupported(kind: &str) -> NodeError {
    NodeError::operation(format!(
        "The credential type \"{kind}\" cannot be used by the HTTP Request node on this server"
    ))
}

async fn generic(
    run: &NodeRun<'_>,
    kind: &str,
    data: &Map<String, Value>,
) -> Result<AuthParts, NodeError> {
    let field = |name: &str| data.get(name).map(js_string).unwrap_or_default();
    let mut parts = AuthParts::default();
    match kind {
        "httpBasicAuth" => parts.basic = Some((field("user"), field("password"))),
        "httpDigestAuth" => parts.digest = Some((field("user"), field("password"))),
        "httpBearerAuth" => parts
            .headers
            .push(("Authorization".into(), format!("Bearer {}", field("token")))),
        "httpHeaderAuth" => parts.headers.push((field("name"), field("value"))),
        "httpQueryAuth" => parts
            .query
            .push((field("name"), Value::String(field("value")))),
        "httpCustomAuth" => custom(&field("json"), &mut parts)?,
        "oAuth2Api" => {
            let credential = oauth2::OAuth2::from_credential(run, data)?;
            let token = credential.access_token(false).await?;
            parts
                .headers
                .push(("Authorization".into(), format!("Bearer {token}")));
            parts.oauth2 = Some(credential);
        }
        other => return Err(unsupported(other)),
    }
    Ok(parts)
}

/// `httpCustomAuth`: a JSON object with `headers`, `qs` and `body` to add.
fn custom(text: &str, parts: &mut AuthParts) -> Result<(), NodeError> {
    let text = if text.trim().is_empty() { "{}" } else { text };
    let value: Value =
        serde_json::from_str(text).map_err(|_| NodeError::operation("Invalid Custom Auth JSON"))?;
    let section = |name: &str| value.get(name).and_then(Value::as_object).cloned();
    if let Some(headers) = section("headers") {
        parts
            .headers
            .extend(headers.iter().map(|(k, v)| (k.clone(), js_string(v))));
    }
    if let Some(query) = section("qs") {
        parts.query.extend(query);
    }
    parts.body = section("body");
    Ok(())
}

/// Reads a stored credential's fields as text, each falling back to its type's default in the
/// catalogue (a field the user never changed is not stored).
pub(super) fn credential_fields<'a>(
    kind: &str,
    data: &'a Map<String, Value>,
) -> impl Fn(&str) -> String + 'a {
    let catalogue = credential_types::find(kind);
    move |name: &str| {
        let value = match catalogue {
            Some(t) => t.value(data, name),
            None => data.get(name).filter(|v| !v.is_null()),
        };
        value.map(js_string).unwrap_or_default()
    }
}

fn predefined(kind: &str, rules: &[Rule], data: &Map<String, Value>) -> AuthParts {
    let field = credential_fields(kind, data);
    let fill = |template: &str| -> (String, bool) {
        let mut out = String::new();
        let mut all_set = true;
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            let value = field(&rest[start + 1..start + end]);
            all_set &= !value.is_empty();
            out.push_str(&value);
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        (out, all_set)
    };
    let mut parts = AuthParts::default();
    for rule in rules {
        match rule {
            Rule::Header(name, template) => parts.headers.push(((*name).into(), fill(template).0)),
            Rule::HeaderIfSet(name, template) => {
                let (value, set) = fill(template);
                if set {
                    parts.headers.push(((*name).into(), value));
                }
            }
            Rule::Query(name, template) => parts
                .query
                .push(((*name).into(), Value::String(fill(template).0))),
            Rule::Basic(user, password) => {
                parts.basic = Some((fill(user).0, fill(password).0));
            }
            Rule::Twilio => {
                parts.basic = Some(if field("authType") == "apiKey" {
                    (field("apiKeySid"), field("apiKeySecret"))
                } else {
                    (field("accountSid"), field("authToken"))
                });
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(value: Value) -> Map<String, Value> {
        value.as_object().cloned().expect("object")
    }

    #[test]
    fn predefined_rules_fill_headers_query_and_basic_auth() {
        let rule = |kind: &str| {
            PREDEFINED
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, r)| *r)
                .expect("known type")
        };
        let github = predefined(
            "githubApi",
            rule("githubApi"),
            &data(json!({"accessToken": "gh1"})),
        );
        assert_eq!(
            github.headers,
            vec![("Authorization".into(), "token gh1".into())]
        );

        let openai = predefined(
            "openAiApi",
            rule("openAiApi"),
            &data(json!({"apiKey": "sk"})),
        );
        assert_eq!(
            openai.headers,
            vec![("Authorization".into(), "Bearer sk".into())]
        );
        let with_org = predefined(
            "openAiApi",
            rule("openAiApi"),
            &data(json!({"apiKey": "sk", "organizationId": "org"})),
        );
        assert_eq!(
            with_org.headers[1],
            ("OpenAI-Organization".into(), "org".into())
        );

        let trello = predefined(
            "trelloApi",
            rule("trelloApi"),
            &data(json!({"apiKey": "k", "apiToken": "t"})),
        );
        assert_eq!(
            trello.query,
            vec![("key".into(), json!("k")), ("token".into(), json!("t"))]
        );

        let zendesk = predefined(
            "zendeskApi",
            rule("zendeskApi"),
            &data(json!({"email": "a@b.c", "apiToken": "z"})),
        );
        assert_eq!(zendesk.basic, Some(("a@b.c/token".into(), "z".into())));

        let twilio = predefined(
            "twilioApi",
            rule("twilioApi"),
            &data(
                json!({"authType": "apiKey", "apiKeySid": "SK1", "apiKeySecret": "s", "accountSid": "AC"}),
            ),
        );
        assert_eq!(twilio.basic, Some(("SK1".into(), "s".into())));
    }

    #[test]
    fn every_predefined_type_is_in_the_credential_catalogue() {
        let in_code = ["aws", "googleApi"];
        for kind in PREDEFINED.iter().map(|(kind, _)| *kind).chain(in_code) {
            assert!(credential_types::find(kind).is_some(), "{kind}");
        }
        assert!(PREDEFINED.len() >= 20);
    }

    #[test]
    fn custom_auth_adds_headers_query_and_body_or_refuses_bad_json() {
        let mut parts = AuthParts::default();
        custom(
            r#"{"headers": {"X-Key": "k"}, "qs": {"sig": "s"}, "body": {"token": "t"}}"#,
            &mut parts,
        )
        .expect("custom");
        assert_eq!(parts.headers, vec![("X-Key".into(), "k".into())]);
        assert_eq!(parts.query, vec![("sig".into(), json!("s"))]);
        assert_eq!(parts.body, Some(data(json!({"token": "t"}))));
        let error = custom("{nope", &mut AuthParts::default()).expect_err("bad json");
        assert_eq!(error.message, "Invalid Custom Auth JSON");
    }
}
