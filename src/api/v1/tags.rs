//! `/tags`: the global tag registry (n8n's five tag routes).

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::openapi::{list_of, path_param, schema_ref, Doc};
use super::Endpoint;
use crate::app::AppState;
use crate::auth::Scope;
use crate::db::tags::TagRow;
use crate::domain::ids::{Named, TagId};
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{ListResponse, PageQuery};
use crate::service::tags;

pub fn endpoints() -> Vec<Endpoint> {
    let id = || path_param("id", "The ID of the tag.");
    vec![
        Endpoint::new(
            Method::GET,
            "/tags",
            Some(Scope::TagList),
            get(list),
            Doc::new("getTags", "Tags", "Retrieve all tags")
                .describe("Retrieve all tags from your instance.")
                .paginated()
                .response(200, "Operation successful.", list_of(schema_ref("tag"))),
        ),
        Endpoint::new(
            Method::POST,
            "/tags",
            Some(Scope::TagCreate),
            post(create),
            Doc::new("createTag", "Tags", "Create a tag")
                .describe("Create a tag in your instance.")
                .body(schema_ref("tag"))
                .response(201, "A tag object", schema_ref("tag"))
                .errors(&[400, 409]),
        ),
        Endpoint::new(
            Method::GET,
            "/tags/{id}",
            Some(Scope::TagRead),
            get(read),
            Doc::new("getTag", "Tags", "Retrieves a tag")
                .describe("Retrieves a tag.")
                .param(id())
                .response(200, "Operation successful.", schema_ref("tag"))
                .errors(&[404]),
        ),
        Endpoint::new(
            Method::PUT,
            "/tags/{id}",
            Some(Scope::TagUpdate),
            put(update),
            Doc::new("updateTag", "Tags", "Update a tag")
                .describe("Update a tag.")
                .param(id())
                .body(schema_ref("tag"))
                .response(200, "Tag object", schema_ref("tag"))
                .errors(&[400, 404, 409]),
        ),
        Endpoint::new(
            Method::DELETE,
            "/tags/{id}",
            Some(Scope::TagDelete),
            delete(remove),
            Doc::new("deleteTag", "Tags", "Delete a tag")
                .describe("Deletes a tag.")
                .param(id())
                .response(200, "Operation successful.", schema_ref("tag"))
                .errors(&[404]),
        ),
    ]
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![(
        "tag",
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["name"],
            "properties": {
                "id": { "type": "string", "readOnly": true, "example": "2tUt1wbLX592XDdX" },
                "name": { "type": "string", "minLength": 1, "maxLength": 24, "example": "Production" },
                "createdAt": { "type": "string", "format": "date-time", "readOnly": true },
                "updatedAt": { "type": "string", "format": "date-time", "readOnly": true }
            }
        }),
    )]
}

/// A tag as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tag {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

impl TagRow {
    pub fn into_api(self) -> Tag {
        Tag {
            id: self.id,
            name: self.name,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The body of create and update. Read-only fields (`id`, `createdAt`, `updatedAt`) are
/// accepted and ignored, as n8n does.
#[derive(Debug, Deserialize)]
pub struct TagBody {
    name: String,
}

async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ListResponse<Tag>>> {
    let (rows, next_cursor) = tags::list(&state, &query.page()?).await?;
    Ok(Json(ListResponse {
        data: rows.into_iter().map(TagRow::into_api).collect(),
        next_cursor,
    }))
}

async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TagBody>,
) -> Result<(StatusCode, Json<Tag>)> {
    let row = tags::create(&state, &body.name).await?;
    Ok((StatusCode::CREATED, Json(row.into_api())))
}

async fn read(State(state): State<AppState>, Path(id): Path<Named<TagId>>) -> Result<Json<Tag>> {
    let id = id.or_missing(|_| tags::not_found())?;
    Ok(Json(tags::read(&state, id).await?.into_api()))
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<Named<TagId>>,
    ApiJson(body): ApiJson<TagBody>,
) -> Result<Json<Tag>> {
    let id = id.or_missing(|_| tags::not_found())?;
    Ok(Json(tags::rename(&state, id, &body.name).await?.into_api()))
}

async fn remove(State(state): State<AppState>, Path(id): Path<Named<TagId>>) -> Result<Json<Tag>> {
    let id = id.or_missing(|_| tags::not_found())?;
    Ok(Json(tags::delete(&state, id).await?.into_api()))
}
