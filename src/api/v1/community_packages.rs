//! `/community-packages`: install, list, update and uninstall community node packages (n8n's
//! four handler routes, API-key header only). See [`crate::service::community_packages`] for
//! what an install checks; the package's code is never run.

use std::path::Path as FsPath;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::openapi::{path_param, schema_ref, Doc};
use super::Endpoint;
use crate::app::AppState;
use crate::auth::Scope;
use crate::db::community_packages::{self as repo, NewNode, NodeRow, PackageRow};
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, OptionalJson};
use crate::service::community_packages::{
    self as packages, PackageError, Registry, PACKAGE_NOT_INSTALLED,
};

pub fn endpoints() -> Vec<Endpoint> {
    let name = || {
        path_param(
            "name",
            "The package name (a scoped name's `/` encoded as %2F).",
        )
    };
    vec![
        Endpoint::new(Method::POST, "/community-packages", Some(Scope::CommunityPackageInstall), post(install),
            Doc::new("installPackage", "CommunityPackage", "Install a community package")
                .describe("Downloads the package from the configured npm registry, checks its integrity hash and keeps its files. The server never runs a package's code.")
                .body(schema_ref("communityPackageInstall")).response(200, "The installed package.", schema_ref("communityPackage")).errors(&[400]))
            .handler_kind().api_key_only(),
        Endpoint::new(Method::GET, "/community-packages", Some(Scope::CommunityPackageList), get(list),
            Doc::new("getPackages", "CommunityPackage", "List installed community packages")
                .response(200, "Installed packages.", json!({"type": "array", "items": schema_ref("communityPackage")})))
            .handler_kind().api_key_only(),
        Endpoint::new(Method::PATCH, "/community-packages/{name}", Some(Scope::CommunityPackageUpdate), patch(update),
            Doc::new("updatePackage", "CommunityPackage", "Update a community package").param(name())
                .optional_body(schema_ref("communityPackageUpdate")).response(200, "The updated package.", schema_ref("communityPackage")).errors(&[400, 404]))
            .handler_kind().api_key_only(),
        Endpoint::new(Method::DELETE, "/community-packages/{name}", Some(Scope::CommunityPackageUninstall), delete(uninstall),
            Doc::new("uninstallPackage", "CommunityPackage", "Uninstall a community package").param(name())
                .empty_response(204, "Uninstalled.").errors(&[400, 404]))
            .handler_kind().api_key_only(),
    ]
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "communityPackage",
            json!({"type": "object", "properties": {
                "packageName": {"type": "string"}, "installedVersion": {"type": "string"},
                "authorName": {"type": "string"}, "authorEmail": {"type": "string"},
                "installedNodes": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "type": {"type": "string"}, "latestVersion": {"type": "number"}}}},
                "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"},
                "updateAvailable": {"type": "string"}, "failedLoading": {"type": "boolean"}
            }}),
        ),
        (
            "communityPackageInstall",
            json!({"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "example": "n8n-nodes-example"},
                "version": {"type": "string", "description": "An exact version or a dist-tag (default: latest)."},
                "verify": {"type": "boolean", "description": "Accepted for compatibility; the registry's integrity hash is always checked."}
            }}),
        ),
        (
            "communityPackageUpdate",
            json!({"type": "object", "properties": {
                "version": {"type": "string"}, "verify": {"type": "boolean"}
            }}),
        ),
    ]
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstalledNode {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    latest_version: i64,
}

/// A package as the API shows it (n8n's `communityPackage`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    package_name: String,
    installed_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    author_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    author_email: Option<String>,
    installed_nodes: Vec<InstalledNode>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_available: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    failed_loading: Option<bool>,
}

fn view(row: PackageRow, nodes: &[NodeRow]) -> Package {
    Package {
        installed_nodes: nodes
            .iter()
            .filter(|n| n.package_name == row.package_name)
            .map(|n| InstalledNode {
                name: n.name.clone(),
                kind: n.kind.clone(),
                latest_version: n.latest_version,
            })
            .collect(),
        package_name: row.package_name,
        installed_version: row.installed_version,
        author_name: row.author_name,
        author_email: row.author_email,
        created_at: row.created_at,
        updated_at: row.updated_at,
        update_available: None,
        failed_loading: None,
    }
}

/// When packages are switched off the routes answer as if they did not exist.
fn enabled(state: &AppState) -> Result<()> {
    if state.config.community_packages_enabled {
        Ok(())
    } else {
        Err(ApiError::not_found("not found"))
    }
}

fn registry(state: &AppState) -> Result<Registry> {
    Registry::new(&state.config.community_packages_registry).map_err(|e| match e {
        PackageError::Internal(e) => ApiError::Internal(e),
        other => ApiError::BadRequest(other.to_string()),
    })
}

/// n8n's wording for a failed install: `Error loading package "<name>" :<reason>`.
fn loading_error(name: &str, error: PackageError) -> ApiError {
    match error {
        PackageError::Internal(e) => ApiError::Internal(e),
        other => ApiError::BadRequest(format!("Error loading package \"{name}\" :{other}")),
    }
}

fn check_version(version: Option<&str>) -> Result<()> {
    match version {
        Some(v) if !packages::valid_version(v) => {
            Err(ApiError::bad_request(format!("Invalid version: {v}")))
        }
        _ => Ok(()),
    }
}

/// Fetches, checks and unpacks a release into a staging folder; answers the folder, the
/// manifest and the integrity string that matched.
async fn fetch_package(
    state: &AppState,
    name: &str,
    version: Option<&str>,
) -> std::result::Result<(std::path::PathBuf, packages::Manifest, String), PackageError> {
    let registry = registry(state).map_err(|e| PackageError::Registry(e.to_string()))?;
    let packument = registry
        .packument(name, None)
        .await?
        .ok_or_else(|| PackageError::Package(packages::PACKAGE_NOT_FOUND.to_owned()))?;
    let release = registry.release(&packument, version)?;
    let tarball = registry.tarball(&release).await?;
    if !packages::integrity_matches(&release.integrity, &tarball) {
        return Err(PackageError::Package(
            packages::INTEGRITY_MISMATCH.to_owned(),
        ));
    }
    let staging = packages::staging_dir(&state.config.data_folder());
    let dir = staging.clone();
    let package_name = name.to_owned();
    let release_version = release.version.clone();
    let unpacked = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir).map_err(|e| PackageError::Internal(e.into()))?;
        packages::unpack(&tarball, &dir)?;
        let manifest = packages::read_manifest(&dir, &package_name)?;
        if manifest.version != release_version {
            return Err(PackageError::Package(format!(
                "{}: its package.json says version {}, the registry {release_version}",
                packages::PACKAGE_LOADING_FAILED,
                manifest.version
            )));
        }
        Ok(manifest)
    })
    .await
    .map_err(|e| PackageError::Internal(anyhow::anyhow!("unpacking panicked: {e}")))?;
    match unpacked {
        Ok(manifest) => Ok((staging, manifest, release.integrity)),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

/// Moves the staged package into place, keeping the previous files aside until `commit`
/// confirms; answers the folder of the previous files, if any.
fn place(staging: &FsPath, target: &FsPath) -> std::io::Result<Option<std::path::PathBuf>> {
    let previous = if target.exists() {
        let aside = staging.with_extension("previous");
        std::fs::rename(target, &aside)?;
        Some(aside)
    } else {
        None
    };
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if let Err(e) = std::fs::rename(staging, target) {
        if let Some(aside) = &previous {
            let _ = std::fs::rename(aside, target);
        }
        return Err(e);
    }
    Ok(previous)
}

/// Installs (or replaces) the files and the record in one step: the record is written in a
/// transaction, and the files are put back as they were when it fails.
async fn store(
    state: &AppState,
    name: &str,
    version: Option<&str>,
    created_at: Option<String>,
) -> Result<Package> {
    let (staging, manifest, integrity) = fetch_package(state, name, version)
        .await
        .map_err(|e| loading_error(name, e))?;
    let target = packages::package_dir(&state.config.data_folder(), name);
    let previous = place(&staging, &target).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staging);
        ApiError::Internal(anyhow::anyhow!("cannot move the package into place: {e}"))
    })?;
    let restore = |previous: &Option<std::path::PathBuf>| {
        let _ = std::fs::remove_dir_all(&target);
        if let Some(aside) = previous {
            let _ = std::fs::rename(aside, &target);
        }
    };
    let now = now_iso();
    let row = PackageRow {
        package_name: name.to_owned(),
        installed_version: manifest.version.clone(),
        author_name: manifest.author_name.clone(),
        author_email: manifest.author_email.clone(),
        integrity,
        created_at: created_at.unwrap_or_else(|| now.clone()),
        updated_at: now,
    };
    let nodes: Vec<NewNode<'_>> = manifest
        .nodes
        .iter()
        .map(|n| NewNode {
            kind: &n.kind,
            name: &n.name,
            latest_version: 1,
        })
        .collect();
    let saved = async {
        let mut tx = state.db.begin().await?;
        repo::save(tx.conn(), &row, &nodes).await?;
        let stored = repo::nodes_of(tx.conn(), &[name]).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(stored)
    }
    .await;
    match saved {
        Ok(stored) => {
            if let Some(aside) = &previous {
                let _ = std::fs::remove_dir_all(aside);
            }
            Ok(view(row, &stored))
        }
        Err(e) => {
            restore(&previous);
            Err(ApiError::Database(e))
        }
    }
}

#[derive(Deserialize)]
pub struct InstallBody {
    name: String,
    version: Option<String>,
    #[allow(dead_code)]
    verify: Option<bool>,
}

async fn install(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<InstallBody>,
) -> Result<Json<Package>> {
    enabled(&state)?;
    let parsed = packages::parse_name(&body.name).map_err(ApiError::BadRequest)?;
    check_version(body.version.as_deref())?;
    let version = body.version.as_deref().or(parsed.version.as_deref());
    let mut conn = state.db.acquire().await?;
    if repo::find(conn.conn(), &parsed.package_name)
        .await?
        .is_some()
    {
        return Err(ApiError::bad_request(format!(
            "Package \"{}\" is already installed",
            parsed.package_name
        )));
    }
    drop(conn);
    Ok(Json(
        store(&state, &parsed.package_name, version, None).await?,
    ))
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Package>>> {
    enabled(&state)?;
    let mut conn = state.db.acquire().await?;
    let rows = repo::all(conn.conn()).await?;
    let names: Vec<&str> = rows.iter().map(|r| r.package_name.as_str()).collect();
    let nodes = repo::nodes_of(conn.conn(), &names).await?;
    drop(conn);
    let data_folder = state.config.data_folder();
    let registry = Registry::new(&state.config.community_packages_registry).ok();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut package = view(row, &nodes);
        if !packages::package_dir(&data_folder, &package.package_name)
            .join("package.json")
            .is_file()
        {
            package.failed_loading = Some(true);
        }
        // A newer release is reported when the registry answers quickly; a slow or unreachable
        // registry leaves the field out rather than the list waiting.
        if let Some(registry) = &registry {
            if let Ok(Some(doc)) = registry
                .packument(&package.package_name, Some(Duration::from_secs(5)))
                .await
            {
                if let Some(latest) = doc["dist-tags"]["latest"].as_str() {
                    if latest != package.installed_version {
                        package.update_available = Some(latest.to_owned());
                    }
                }
            }
        }
        out.push(package);
    }
    Ok(Json(out))
}

#[derive(Deserialize, Default)]
pub struct UpdateBody {
    version: Option<String>,
    #[allow(dead_code)]
    verify: Option<bool>,
}

async fn update(
    State(state): State<AppState>,
    Path(name): Path<String>,
    OptionalJson(body): OptionalJson<UpdateBody>,
) -> Result<Json<Package>> {
    enabled(&state)?;
    let body = body.unwrap_or_default();
    let parsed = packages::parse_name(&name).map_err(ApiError::BadRequest)?;
    check_version(body.version.as_deref())?;
    let mut conn = state.db.acquire().await?;
    let current = repo::find(conn.conn(), &parsed.package_name)
        .await?
        .ok_or_else(|| ApiError::not_found(PACKAGE_NOT_INSTALLED))?;
    drop(conn);
    let version = body.version.as_deref().or(parsed.version.as_deref());
    let package = store(
        &state,
        &parsed.package_name,
        version,
        Some(current.created_at),
    )
    .await
    .map_err(|e| match e {
        ApiError::BadRequest(m) => {
            let n = &parsed.package_name;
            ApiError::BadRequest(m.replacen(
                &format!("Error loading package \"{n}\" :"),
                &format!("Error updating package \"{n}\":"),
                1,
            ))
        }
        other => other,
    })?;
    Ok(Json(package))
}

async fn uninstall(State(state): State<AppState>, Path(name): Path<String>) -> Result<StatusCode> {
    enabled(&state)?;
    let parsed = packages::parse_name(&name).map_err(ApiError::BadRequest)?;
    let mut tx = state.db.begin().await?;
    if !repo::delete(tx.conn(), &parsed.package_name).await? {
        return Err(ApiError::not_found(PACKAGE_NOT_INSTALLED));
    }
    tx.commit().await?;
    let dir = packages::package_dir(&state.config.data_folder(), &parsed.package_name);
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(package = %parsed.package_name, error = %e, "could not remove the files of an uninstalled package");
        }
    }
    Ok(StatusCode::NO_CONTENT)
}
