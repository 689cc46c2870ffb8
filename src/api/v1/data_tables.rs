//! `/data-tables`: tables with typed columns and their rows (n8n's fifteen data-table
//! routes). These routes accept only the API-key header, as in n8n.
//!
//! A data table belongs to a project; a caller reaches it through their access to that
//! project (see `access.rs`): viewers read, editors and admins write, and a table of a
//! project the caller does not belong to is answered like one that does not exist. How rows
//! are stored, and why, is in `db/data_tables.rs`.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::openapi::{list_of, path_param, query_param, schema_ref, Doc};
use super::Endpoint;
use crate::access::{self, ProjectAccess};
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::data_tables::{
    self as repo, physical_table, Cell, ColumnRow, ColumnType, Condition, Predicate, Returning,
    RowFilter, RowOrder, RowStart, TableRow, SYSTEM_COLUMNS,
};
use crate::db::{projects, Conn, Tx};
use crate::domain::ids::{is_plausible_id, new_id};
use crate::domain::time::{iso, now_iso};
use crate::error::{ApiError, Result, ResultExt};
use crate::extract::{from_value, ApiJson, ApiQuery};
use crate::pagination::{ListResponse, PageQuery};

const TABLE_NAME_MAX: usize = 128;
const COLUMN_NAME_MAX: usize = 63;
const COLUMN_NAME_PATTERN: &str = "^[a-zA-Z][a-zA-Z0-9_]*$";
/// More columns than any sensible table has, and well under both databases' limits.
const MAX_COLUMNS: usize = 500;
const TYPES: &str = "string, number, boolean, date";

pub fn endpoints() -> Vec<Endpoint> {
    let table = || path_param("dataTableId", "The ID of the data table.");
    let column = || path_param("columnId", "The ID of the column.");
    let filter_param = |required: bool, text: &str| {
        let mut p = query_param("filter", json!({"type": "string"}), text);
        if required {
            p["required"] = json!(true);
        }
        p
    };
    let bool_param = |name: &str, text: &str| {
        query_param(name, json!({"type": "boolean", "default": false}), text)
    };
    let rows_or_true = || json!({"oneOf": [{"type": "boolean"}, {"type": "array", "items": schema_ref("dataTableRow")}]});
    let routes = vec![
        Endpoint::new(Method::GET, "/data-tables", Some(Scope::DataTableList), get(list),
            Doc::new("listDataTables", "DataTable", "List data tables")
                .describe("The data tables of the projects the caller can see, with their columns and storage size.")
                .paginated()
                .param(filter_param(false, "JSON: {\"id\"?, \"name\"? (part of the name, any case), \"projectId\"?}; id and projectId may be arrays."))
                .param(query_param("sortBy", json!({"type": "string", "enum": SORT_TABLES.iter().map(|(k, _)| *k).collect::<Vec<_>>()}), "Sort order (default updatedAt:desc)."))
                .response(200, "Operation successful.", list_of(schema_ref("dataTable")))
                .errors(&[400])),
        Endpoint::new(Method::POST, "/data-tables", Some(Scope::DataTableCreate), post(create),
            Doc::new("createDataTable", "DataTable", "Create a data table")
                .describe("Creates a table with typed columns in a project (the caller's personal project by default).")
                .body(schema_ref("createDataTableRequest"))
                .response(201, "The data table.", schema_ref("dataTable"))
                .errors(&[400, 403, 409])),
        Endpoint::new(Method::GET, "/data-tables/{dataTableId}", Some(Scope::DataTableRead), get(read),
            Doc::new("getDataTable", "DataTable", "Retrieve a data table").param(table())
                .response(200, "Operation successful.", schema_ref("dataTable")).errors(&[400, 404])),
        Endpoint::new(Method::PATCH, "/data-tables/{dataTableId}", Some(Scope::DataTableUpdate), patch(rename),
            Doc::new("updateDataTable", "DataTable", "Rename a data table").param(table())
                .body(json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": TABLE_NAME_MAX}}}))
                .response(200, "The data table.", schema_ref("dataTable")).errors(&[400, 403, 404, 409])),
        Endpoint::new(Method::DELETE, "/data-tables/{dataTableId}", Some(Scope::DataTableDelete), delete(remove),
            Doc::new("deleteDataTable", "DataTable", "Delete a data table").param(table())
                .empty_response(204, "Operation successful.").errors(&[400, 403, 404])),
        Endpoint::new(Method::GET, "/data-tables/{dataTableId}/rows", Some(Scope::DataTableRowRead), get(rows),
            Doc::new("getDataTableRows", "DataTable", "List the rows of a data table").param(table())
                .paginated()
                .param(filter_param(false, "JSON: {\"type\": \"and\"|\"or\", \"filters\": [{\"columnName\", \"condition\": eq|neq|like|ilike|gt|gte|lt|lte, \"value\"}]}."))
                .param(query_param("sortBy", json!({"type": "string"}), "`<column>:asc` or `<column>:desc` (default id:asc)."))
                .param(query_param("search", json!({"type": "string"}), "Rows whose string columns contain this text, in any case."))
                .response(200, "Operation successful.", list_of(schema_ref("dataTableRow")))
                .errors(&[400, 404])),
        Endpoint::new(Method::POST, "/data-tables/{dataTableId}/rows", Some(Scope::DataTableRowCreate), post(insert),
            Doc::new("insertDataTableRows", "DataTable", "Insert rows").param(table())
                .body(schema_ref("insertRowsRequest"))
                .response(200, "`{count}`, the new ids, or the new rows, as `returnType` asks.", json!({"oneOf": [
                    {"type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}},
                    {"type": "array", "items": {"type": "integer"}},
                    {"type": "array", "items": schema_ref("dataTableRow")}]}))
                .errors(&[400, 403, 404])),
        Endpoint::new(Method::PATCH, "/data-tables/{dataTableId}/rows/update", Some(Scope::DataTableRowUpdate), patch(update),
            Doc::new("updateDataTableRows", "DataTable", "Update the rows matching a filter").param(table())
                .body(schema_ref("updateRowsRequest"))
                .response(200, "`true`, or the changed rows (`returnData`), or their before and after states (`dryRun`).", rows_or_true())
                .errors(&[400, 403, 404])),
        Endpoint::new(Method::POST, "/data-tables/{dataTableId}/rows/upsert", Some(Scope::DataTableRowUpsert), post(upsert),
            Doc::new("upsertDataTableRow", "DataTable", "Update the rows matching a filter, or insert one").param(table())
                .body(schema_ref("updateRowsRequest"))
                .response(200, "`true`, or the row (`returnData`), or the before and after states (`dryRun`).", json!({"oneOf": [
                    {"type": "boolean"}, schema_ref("dataTableRow"), {"type": "array", "items": schema_ref("dataTableRow")}]}))
                .errors(&[400, 403, 404])),
        Endpoint::new(Method::DELETE, "/data-tables/{dataTableId}/rows/clear", Some(Scope::DataTableRowDelete), delete(clear),
            Doc::new("clearDataTableRows", "DataTable", "Delete every row").param(table())
                .response(200, "How many rows went.", json!({"type": "object", "required": ["deletedCount"], "properties": {"deletedCount": {"type": "integer"}}}))
                .errors(&[400, 403, 404])),
        Endpoint::new(Method::DELETE, "/data-tables/{dataTableId}/rows/delete", Some(Scope::DataTableRowDelete), delete(delete_rows),
            Doc::new("deleteDataTableRows", "DataTable", "Delete the rows matching a filter").param(table())
                .param(filter_param(true, "JSON row filter, as for listing rows; at least one condition."))
                .param(bool_param("returnData", "Answer the deleted rows."))
                .param(bool_param("dryRun", "Delete nothing; answer the rows that would go."))
                .response(200, "`true`, or the deleted rows, or their before and after states.", rows_or_true())
                .errors(&[400, 403, 404])),
        Endpoint::new(Method::GET, "/data-tables/{dataTableId}/columns", Some(Scope::DataTableColumnRead), get(columns),
            Doc::new("listDataTableColumns", "DataTable", "List the columns of a data table").param(table())
                .response(200, "Operation successful.", json!({"type": "array", "items": schema_ref("dataTableColumn")}))
                .errors(&[400, 404])),
        Endpoint::new(Method::POST, "/data-tables/{dataTableId}/columns", Some(Scope::DataTableColumnCreate), post(add_column),
            Doc::new("createDataTableColumn", "DataTable", "Add a column").param(table())
                .body(schema_ref("createColumnRequest"))
                .response(201, "The column.", schema_ref("dataTableColumn")).errors(&[400, 403, 404, 409])),
        Endpoint::new(Method::PATCH, "/data-tables/{dataTableId}/columns/{columnId}", Some(Scope::DataTableColumnUpdate), patch(change_column),
            Doc::new("updateDataTableColumn", "DataTable", "Rename or move a column").param(table()).param(column())
                .body(json!({"type": "object", "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": COLUMN_NAME_MAX, "pattern": COLUMN_NAME_PATTERN},
                    "index": {"type": "integer", "minimum": 0}}}))
                .response(200, "The column.", schema_ref("dataTableColumn")).errors(&[400, 403, 404, 409])),
        Endpoint::new(Method::DELETE, "/data-tables/{dataTableId}/columns/{columnId}", Some(Scope::DataTableColumnDelete), delete(drop_column),
            Doc::new("deleteDataTableColumn", "DataTable", "Delete a column and its values").param(table()).param(column())
                .empty_response(204, "Operation successful.").errors(&[400, 403, 404])),
    ];
    routes
        .into_iter()
        .map(|e| e.handler_kind().api_key_only())
        .collect()
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    let column_type = json!({"type": "string", "enum": ["string", "number", "boolean", "date"]});
    let column_name = json!({"type": "string", "minLength": 1, "maxLength": COLUMN_NAME_MAX, "pattern": COLUMN_NAME_PATTERN});
    let filter = json!({"type": "object", "required": ["filters"], "properties": {
        "type": {"type": "string", "enum": ["and", "or"], "default": "and"},
        "filters": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["columnName"], "properties": {
            "columnName": {"type": "string"},
            "condition": {"type": "string", "enum": ["eq", "neq", "like", "ilike", "gt", "gte", "lt", "lte"], "default": "eq"},
            "value": {"nullable": true, "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}}}}}});
    vec![
        (
            "dataTable",
            json!({"type": "object", "required": ["id", "name", "columns", "projectId", "createdAt", "updatedAt", "sizeBytes"], "properties": {
                "id": {"type": "string"}, "name": {"type": "string"},
                "columns": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "type": column_type, "index": {"type": "integer"}}}},
                "projectId": {"type": "string"},
                "createdAt": {"type": "string", "format": "date-time"},
                "updatedAt": {"type": "string", "format": "date-time"},
                "sizeBytes": {"type": "integer"}}}),
        ),
        (
            "dataTableColumn",
            json!({"type": "object", "required": ["id", "name", "dataTableId", "type", "index"], "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}, "dataTableId": {"type": "string"},
                "type": column_type, "index": {"type": "integer"}}}),
        ),
        (
            "dataTableRow",
            json!({"type": "object", "description": "The system columns, then one property per column of the table.", "properties": {
                "id": {"type": "integer", "nullable": true},
                "createdAt": {"type": "string", "nullable": true},
                "updatedAt": {"type": "string", "nullable": true},
                "dryRunState": {"type": "string", "enum": ["before", "after"]}}}),
        ),
        ("dataTableFilter", filter.clone()),
        (
            "createDataTableRequest",
            json!({"type": "object", "required": ["name", "columns"], "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": TABLE_NAME_MAX},
                "columns": {"type": "array", "items": {"type": "object", "required": ["name", "type"], "properties": {
                    "name": column_name, "type": column_type}}},
                "projectId": {"type": "string"}}}),
        ),
        (
            "createColumnRequest",
            json!({"type": "object", "required": ["name", "type"], "properties": {
                "name": column_name, "type": column_type, "index": {"type": "integer", "minimum": 0}}}),
        ),
        (
            "insertRowsRequest",
            json!({"type": "object", "required": ["data"], "properties": {
                "data": {"type": "array", "minItems": 1, "items": {"type": "object"}},
                "returnType": {"type": "string", "enum": ["count", "id", "all"], "default": "count"}}}),
        ),
        (
            "updateRowsRequest",
            json!({"type": "object", "required": ["filter", "data"], "properties": {
                "filter": filter, "data": {"type": "object"},
                "returnData": {"type": "boolean", "default": false},
                "dryRun": {"type": "boolean", "default": false}}}),
        ),
    ]
}

// ---- Shapes ------------------------------------------------------------------------------

fn column_json(column: &ColumnRow) -> Value {
    json!({
        "id": column.id,
        "name": column.name,
        "dataTableId": column.data_table_id,
        "type": column.type_name,
        "index": column.position,
    })
}

fn table_json(table: &TableRow, columns: &[ColumnRow], size_bytes: i64) -> Value {
    let columns: Vec<Value> = columns
        .iter()
        .map(|c| json!({"id": c.id, "name": c.name, "type": c.type_name, "index": c.position}))
        .collect();
    json!({
        "id": table.id,
        "name": table.name,
        "columns": columns,
        "projectId": table.project_id,
        "createdAt": table.created_at,
        "updatedAt": table.updated_at,
        "sizeBytes": size_bytes,
    })
}

// ---- Access --------------------------------------------------------------------------------

fn table_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Data table with ID \"{id}\" not found."))
}

fn name_conflict(name: &str) -> ApiError {
    ApiError::conflict(format!(
        "Data table with name '{name}' already exists in this project"
    ))
}

fn column_not_found(table_id: &str, column_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Could not find the column '{column_id}' in the data table: {table_id}"
    ))
}

/// The id in the path must be a nanoid (16 alphanumerics), as n8n's validator demands; that
/// is also what makes it safe to name the table's storage after it.
fn valid_table_id(id: &str) -> Result<()> {
    if physical_table(id).is_some() {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "request/params/dataTableId must match format \"nanoid\"",
        ))
    }
}

/// The table of the path, if the caller can see it, with the caller's access.
async fn visible_table(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &str,
) -> Result<(TableRow, ProjectAccess)> {
    valid_table_id(id)?;
    let found = repo::find(conn.reborrow(), id).await?;
    access::visible(
        conn,
        principal,
        found,
        |t| &t.project_id,
        || table_not_found(id),
    )
    .await
}

/// As [`visible_table`], for a change: viewers are refused, and the table's catalogue row is
/// locked for the transaction (see `repo::lock`).
async fn writable_table(mut conn: Conn<'_>, principal: &Principal, id: &str) -> Result<TableRow> {
    valid_table_id(id)?;
    if !repo::lock(conn.reborrow(), id).await? {
        return Err(table_not_found(id));
    }
    access::writable(visible_table(conn, principal, id).await?)
}

// ---- Validation ----------------------------------------------------------------------------

fn no_nul(text: &str, what: &str) -> Result<()> {
    if text.contains('\0') {
        Err(ApiError::bad_request(format!(
            "{what} must not contain a NUL character"
        )))
    } else {
        Ok(())
    }
}

fn valid_table_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    no_nul(name, "request/body/name")?;
    match name.chars().count() {
        0 => Err(ApiError::bad_request(
            "request/body/name must NOT have fewer than 1 characters",
        )),
        n if n > TABLE_NAME_MAX => Err(ApiError::bad_request(format!(
            "request/body/name must NOT have more than {TABLE_NAME_MAX} characters"
        ))),
        _ => Ok(name.to_owned()),
    }
}

/// n8n's column-name rules; `at` is where the name sits in the body, for the message.
fn valid_column_name(name: &str, at: &str) -> Result<()> {
    if name.is_empty() {
        return Err(ApiError::bad_request(format!(
            "request/body/{at} must NOT have fewer than 1 characters"
        )));
    }
    if name.len() > COLUMN_NAME_MAX {
        return Err(ApiError::bad_request(format!(
            "request/body/{at} must NOT have more than {COLUMN_NAME_MAX} characters"
        )));
    }
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic());
    if !first_ok || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ApiError::bad_request(format!(
            "request/body/{at} must match pattern \"{COLUMN_NAME_PATTERN}\""
        )));
    }
    Ok(())
}

fn valid_column_type(text: &str, at: &str) -> Result<ColumnType> {
    ColumnType::parse(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "request/body/{at} must be equal to one of the allowed values: {TYPES}"
        ))
    })
}

/// System names are reserved; names that differ only in case clash too (SQLite's column
/// names ignore case, and one rule for both databases keeps tables portable).
fn check_column_free(name: &str, taken: &[&str], table_name: &str) -> Result<()> {
    if SYSTEM_COLUMNS.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        return Err(ApiError::conflict(format!(
            "Column name \"{name}\" is reserved as a system column name."
        )));
    }
    if taken.iter().any(|t| t.eq_ignore_ascii_case(name)) {
        return Err(ApiError::conflict(format!(
            "Data table column with name '{name}' already exists in data table '{table_name}'"
        )));
    }
    Ok(())
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value as the column's type, or n8n's message naming the column.
fn cell(column: &str, column_type: ColumnType, value: &Value) -> Result<Cell> {
    if value.is_null() {
        return Ok(Cell::Null(column_type));
    }
    let mismatch = || {
        let expected = match column_type {
            ColumnType::String => "a string",
            ColumnType::Number => "a number",
            ColumnType::Boolean => "a boolean",
            ColumnType::Date => "a dateTime",
        };
        ApiError::bad_request(format!(
            "value '{}' does not match column type '{}': '{column}' expects {expected} but we got '{}'",
            shown(value),
            column_type.as_str(),
            shown(value)
        ))
    };
    match column_type {
        ColumnType::String => match value {
            Value::String(s) => {
                no_nul(s, &format!("value of '{column}'"))?;
                Ok(Cell::Text(s.clone()))
            }
            // As n8n's lenient validation: numbers and booleans are kept as their text.
            Value::Number(n) => Ok(Cell::Text(n.to_string())),
            Value::Bool(b) => Ok(Cell::Text(b.to_string())),
            _ => Err(mismatch()),
        },
        ColumnType::Number => value
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Cell::Number)
            .ok_or_else(mismatch),
        ColumnType::Boolean => value.as_bool().map(Cell::Boolean).ok_or_else(mismatch),
        ColumnType::Date => value
            .as_str()
            .and_then(parse_date)
            .map(Cell::Text)
            .ok_or_else(mismatch),
    }
}

/// A date as fixed-width ISO-8601 UTC text: RFC 3339 with an offset, or a date and time
/// without one (read as UTC), or a bare date.
fn parse_date(text: &str) -> Option<String> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let text = text.trim();
    let parsed: DateTime<Utc> = if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        t.with_timezone(&Utc)
    } else if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        t.and_utc()
    } else if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f") {
        t.and_utc()
    } else if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0)?.and_utc()
    } else {
        return None;
    };
    // Fixed-width text (years 0 to 9999) is what keeps text order equal to time order.
    let year = chrono::Datelike::year(&parsed);
    (0..=9999).contains(&year).then(|| iso(parsed))
}

/// The type of a column a filter may name: a catalogue column or a system one.
fn filter_column_type(name: &str, columns: &[ColumnRow]) -> Option<ColumnType> {
    match name {
        "id" => Some(ColumnType::Number),
        "createdAt" | "updatedAt" => Some(ColumnType::Date),
        _ => columns
            .iter()
            .find(|c| c.name == name)
            .map(ColumnRow::column_type),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterBody {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    filters: Vec<FilterItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterItem {
    column_name: String,
    #[serde(default)]
    condition: Option<String>,
    #[serde(default)]
    value: Value,
}

/// A filter as JSON (a body's `filter` or a query string's) checked against the table:
/// unknown columns, values of the wrong type and impossible conditions are 400s.
fn row_filter(
    raw: Value,
    location: &str,
    columns: &[ColumnRow],
    empty_message: &str,
) -> Result<RowFilter> {
    let body: FilterBody = from_value(location, raw)?;
    let any = match body.kind.as_deref() {
        None | Some("and") => false,
        Some("or") => true,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "request/{location}/type must be equal to one of the allowed values: and, or"
            )))
        }
    };
    if body.filters.is_empty() {
        return Err(ApiError::bad_request(empty_message));
    }
    let mut predicates = Vec::with_capacity(body.filters.len());
    for (i, item) in body.filters.into_iter().enumerate() {
        let condition = match item.condition.as_deref() {
            None => Condition::Eq,
            Some(text) => Condition::parse(text).ok_or_else(|| {
                ApiError::bad_request(format!("request/{location}/filters/{i}/condition must be equal to one of the allowed values: eq, neq, like, ilike, gt, gte, lt, lte"))
            })?,
        };
        let column_type = filter_column_type(&item.column_name, columns).ok_or_else(|| {
            ApiError::bad_request(format!("unknown column name '{}'", item.column_name))
        })?;
        let upper = match condition {
            Condition::Like => "LIKE",
            Condition::Ilike => "ILIKE",
            Condition::Gt => "GT",
            Condition::Gte => "GTE",
            Condition::Lt => "LT",
            Condition::Lte => "LTE",
            Condition::Eq | Condition::Neq => "",
        };
        if item.value.is_null() && !upper.is_empty() {
            return Err(ApiError::bad_request(format!(
                "{upper} filter value cannot be null or undefined"
            )));
        }
        let value = if matches!(condition, Condition::Like | Condition::Ilike) {
            match &item.value {
                Value::String(s) if column_type == ColumnType::String => {
                    no_nul(s, "filter value")?;
                    Cell::Text(s.clone())
                }
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "{upper} filter value must be a string"
                    )))
                }
            }
        } else if item.column_name == "id" {
            match item.value.as_f64() {
                Some(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Cell::Integer(n as i64),
                _ if item.value.is_null() => Cell::Null(ColumnType::Number),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "value '{}' does not match column type 'number': 'id' expects a number but we got '{}'",
                        shown(&item.value),
                        shown(&item.value)
                    )))
                }
            }
        } else {
            cell(&item.column_name, column_type, &item.value)?
        };
        predicates.push(Predicate {
            column: item.column_name,
            condition,
            value,
        });
    }
    Ok(RowFilter { any, predicates })
}

/// The `filter` query parameter: JSON text.
fn filter_json(text: &str) -> Result<Value> {
    serde_json::from_str(text)
        .map_err(|_| ApiError::bad_request("request/query/filter must be a valid JSON string"))
}

/// A query-string row filter. (Public for the property tests of the parser.)
pub fn query_filter(text: &str, columns: &[ColumnRow], empty_message: &str) -> Result<RowFilter> {
    row_filter(filter_json(text)?, "query/filter", columns, empty_message)
}

/// A row of a body checked against the table: every key a column, every value of its type.
/// Answers one cell per column, `null` for the columns the row leaves out.
fn row_cells(row: &Value, at: usize, columns: &[ColumnRow]) -> Result<Vec<Cell>> {
    let Some(object) = row.as_object() else {
        return Err(ApiError::bad_request(format!(
            "request/body/data/{at} must be object"
        )));
    };
    for key in object.keys() {
        if !columns.iter().any(|c| &c.name == key) {
            return Err(ApiError::bad_request(format!(
                "unknown column name '{key}'"
            )));
        }
    }
    columns
        .iter()
        .map(|c| match object.get(&c.name) {
            Some(v) => cell(&c.name, c.column_type(), v),
            None => Ok(Cell::Null(c.column_type())),
        })
        .collect()
}

/// The `data` of an update or upsert: the columns to set, checked as a row is.
fn update_values(data: &Map<String, Value>, columns: &[ColumnRow]) -> Result<Vec<(String, Cell)>> {
    if data.is_empty() {
        return Err(ApiError::bad_request("Data columns must not be empty"));
    }
    data.iter()
        .map(|(key, value)| {
            let column = columns
                .iter()
                .find(|c| &c.name == key)
                .ok_or_else(|| ApiError::bad_request(format!("unknown column name '{key}'")))?;
            Ok((key.clone(), cell(key, column.column_type(), value)?))
        })
        .collect()
}

/// A rough count of the bytes a row takes, for the size limits between measurements.
fn estimated_bytes(cells: &[Cell]) -> i64 {
    48 + cells
        .iter()
        .map(|c| match c {
            Cell::Text(t) => t.len() as i64 + 2,
            Cell::Null(_) => 1,
            _ => 8,
        })
        .sum::<i64>()
}

// ---- Tables ----------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    name: String,
    columns: Vec<ColumnSpec>,
    #[serde(default)]
    project_id: Option<String>,
}

#[derive(Deserialize)]
struct ColumnSpec {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let name = valid_table_name(&body.name)?;
    if body.columns.len() > MAX_COLUMNS {
        return Err(ApiError::bad_request(format!(
            "request/body/columns must NOT have more than {MAX_COLUMNS} items"
        )));
    }
    let mut specs: Vec<(String, String, ColumnType)> = Vec::with_capacity(body.columns.len());
    for (i, spec) in body.columns.iter().enumerate() {
        valid_column_name(&spec.name, &format!("columns/{i}/name"))?;
        let column_type = valid_column_type(&spec.type_name, &format!("columns/{i}/type"))?;
        let taken: Vec<&str> = specs.iter().map(|(_, n, _)| n.as_str()).collect();
        check_column_free(&spec.name, &taken, &name)?;
        specs.push((new_id(), spec.name.clone(), column_type));
    }

    let mut tx = state.db.begin().await?;
    let project_id = match &body.project_id {
        Some(id) => {
            let missing = || ApiError::bad_request(format!("Project with ID \"{id}\" not found"));
            if !is_plausible_id(id) {
                return Err(missing());
            }
            let access = access::project_access(tx.conn(), &principal, id)
                .await?
                .ok_or_else(missing)?;
            if !access.can_write() {
                return Err(ApiError::Forbidden);
            }
            id.clone()
        }
        None => projects::personal_project_id(tx.conn(), &principal.user_id)
            .await?
            .ok_or_else(|| ApiError::bad_request("The caller has no personal project"))?,
    };
    let conflict = || name_conflict(&name);
    if repo::name_taken(tx.conn(), &project_id, &name).await? {
        return Err(conflict());
    }
    let now = now_iso();
    let table = TableRow {
        id: new_id(),
        name: name.clone(),
        project_id,
        created_at: now.clone(),
        updated_at: now,
    };
    repo::create(tx.conn(), &table, &specs)
        .await
        .on_unique(repo::NAME_UNIQUE, conflict)?;
    let columns = repo::columns(tx.conn(), &table.id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(table_json(&table, &columns, 0))))
}

/// The list's sort orders: the query value and its SQL (a closed list, never user text).
const SORT_TABLES: &[(&str, &str)] = &[
    ("updatedAt:desc", "updated_at desc, id"),
    ("updatedAt:asc", "updated_at asc, id"),
    ("createdAt:desc", "created_at desc, id"),
    ("createdAt:asc", "created_at asc, id"),
    ("name:asc", "name asc, id"),
    ("name:desc", "name desc, id"),
    ("sizeBytes:asc", "id"),
    ("sizeBytes:desc", "id"),
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    sort_by: Option<String>,
}

/// `"x"` or `["x", "y"]` as a list of strings.
fn string_or_list(value: &Value, field: &str) -> Result<Vec<String>> {
    let bad = || {
        ApiError::bad_request(format!(
            "request/query/filter/{field} must be string or array of strings"
        ))
    };
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        _ => Err(bad()),
    }
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListResponse<Value>>> {
    let page = query.page.page()?;
    let sort = query.sort_by.as_deref().unwrap_or("updatedAt:desc");
    let (sort, order) = SORT_TABLES
        .iter()
        .find(|(k, _)| *k == sort)
        .copied()
        .ok_or_else(|| {
            let allowed: Vec<&str> = SORT_TABLES.iter().map(|(k, _)| *k).collect();
            ApiError::bad_request(format!(
                "request/query/sortBy must be equal to one of the allowed values: {}",
                allowed.join(", ")
            ))
        })?;
    let mut filter = repo::ListFilter::default();
    if let Some(text) = query.filter.as_deref().filter(|t| !t.trim().is_empty()) {
        let raw = filter_json(text)?;
        let Some(object) = raw.as_object() else {
            return Err(ApiError::bad_request("request/query/filter must be object"));
        };
        for (key, value) in object {
            match key.as_str() {
                "id" => filter.ids = Some(string_or_list(value, "id")?),
                "projectId" => filter.project_ids = Some(string_or_list(value, "projectId")?),
                "name" => {
                    let name = value.as_str().ok_or_else(|| {
                        ApiError::bad_request("request/query/filter/name must be string")
                    })?;
                    no_nul(name, "request/query/filter/name")?;
                    filter.name = Some(name.to_owned());
                }
                other => {
                    return Err(ApiError::bad_request(format!(
                        "request/query/filter must NOT have additional properties: {other}"
                    )))
                }
            }
        }
    }

    let by_size = sort.starts_with("sizeBytes");
    let mut tx = state.db.begin_read().await?;
    let member = access::visible_to(&principal);
    // Sizes are not a column, so a size order sorts the visible tables here; other orders
    // page in the database.
    let mut tables = if by_size {
        repo::list(tx.conn(), member, &filter, order, 0, None).await?
    } else {
        repo::list(
            tx.conn(),
            member,
            &filter,
            order,
            page.offset,
            Some(page.fetch_limit()),
        )
        .await?
    };
    let sizes = state
        .data_table_sizes
        .sizes(&state.db, &state.config)
        .await?;
    if by_size {
        tables.sort_by_key(|t| sizes.of(&t.id));
        if sort.ends_with("desc") {
            tables.reverse();
        }
        tables = tables
            .into_iter()
            .skip(page.offset as usize)
            .take(page.fetch_limit() as usize)
            .collect();
    }
    let (tables, next_cursor) = page.finish_by_offset(tables);
    let ids: Vec<String> = tables.iter().map(|t| t.id.clone()).collect();
    let all_columns = repo::columns_of(tx.conn(), &ids).await?;
    drop(tx);
    let data = tables
        .iter()
        .map(|t| {
            let columns: Vec<ColumnRow> = all_columns
                .iter()
                .filter(|c| c.data_table_id == t.id)
                .cloned()
                .collect();
            table_json(t, &columns, sizes.of(&t.id))
        })
        .collect();
    Ok(Json(ListResponse { data, next_cursor }))
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let mut tx = state.db.begin_read().await?;
    let (table, _) = visible_table(tx.conn(), &principal, &id).await?;
    let columns = repo::columns(tx.conn(), &id).await?;
    drop(tx);
    let sizes = state
        .data_table_sizes
        .sizes(&state.db, &state.config)
        .await?;
    Ok(Json(table_json(&table, &columns, sizes.of(&id))))
}

#[derive(Deserialize)]
struct RenameBody {
    name: String,
}

async fn rename(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenameBody>,
) -> Result<Json<Value>> {
    let name = valid_table_name(&body.name)?;
    let mut tx = state.db.begin().await?;
    let mut table = writable_table(tx.conn(), &principal, &id).await?;
    let conflict = || name_conflict(&name);
    if table.name != name {
        if repo::name_taken(tx.conn(), &table.project_id, &name).await? {
            return Err(conflict());
        }
        let now = now_iso();
        repo::rename(tx.conn(), &id, &name, &now)
            .await
            .on_unique(repo::NAME_UNIQUE, conflict)?;
        table.name = name.clone();
        table.updated_at = now;
    }
    let columns = repo::columns(tx.conn(), &id).await?;
    tx.commit().await?;
    let sizes = state
        .data_table_sizes
        .sizes(&state.db, &state.config)
        .await?;
    Ok(Json(table_json(&table, &columns, sizes.of(&id))))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin().await?;
    writable_table(tx.conn(), &principal, &id).await?;
    repo::delete(tx.conn(), &id).await?;
    tx.commit().await?;
    state.data_table_sizes.forget();
    Ok(StatusCode::NO_CONTENT)
}

// ---- Columns ---------------------------------------------------------------------------------

async fn columns(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<Value>>> {
    let mut tx = state.db.begin_read().await?;
    visible_table(tx.conn(), &principal, &id).await?;
    let columns = repo::columns(tx.conn(), &id).await?;
    Ok(Json(columns.iter().map(column_json).collect()))
}

#[derive(Deserialize)]
struct AddColumnBody {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
    #[serde(default)]
    index: Option<i64>,
}

async fn add_column(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddColumnBody>,
) -> Result<(StatusCode, Json<Value>)> {
    valid_column_name(&body.name, "name")?;
    let column_type = valid_column_type(&body.type_name, "type")?;
    if body.index.is_some_and(|i| i < 0) {
        return Err(ApiError::bad_request("request/body/index must be >= 0"));
    }
    let mut tx = state.db.begin().await?;
    let table = writable_table(tx.conn(), &principal, &id).await?;
    let existing = repo::columns(tx.conn(), &id).await?;
    if existing.len() >= MAX_COLUMNS {
        return Err(ApiError::bad_request(format!(
            "A data table can have at most {MAX_COLUMNS} columns"
        )));
    }
    let taken: Vec<&str> = existing.iter().map(|c| c.name.as_str()).collect();
    check_column_free(&body.name, &taken, &table.name)?;
    let count = existing.len() as i64;
    let column = ColumnRow {
        id: new_id(),
        data_table_id: id.clone(),
        name: body.name.clone(),
        type_name: column_type.as_str().to_owned(),
        position: body.index.map_or(count, |i| i.min(count)),
    };
    let now = now_iso();
    repo::add_column(tx.conn(), &column, column_type, &now).await?;
    repo::touch(tx.conn(), &id, &now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(column_json(&column))))
}

/// A column of the table, by id.
fn find_column<'a>(
    columns: &'a [ColumnRow],
    table_id: &str,
    column_id: &str,
) -> Result<&'a ColumnRow> {
    columns
        .iter()
        .find(|c| c.id == column_id)
        .ok_or_else(|| column_not_found(table_id, column_id))
}

async fn change_column(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, column_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::bad_request("request/body must be object"));
    };
    if let Some(other) = object.keys().find(|k| *k != "name" && *k != "index") {
        return Err(ApiError::bad_request(format!(
            "request/body must NOT have additional properties: {other}"
        )));
    }
    let name = match object.get("name") {
        None => None,
        Some(Value::String(s)) => {
            valid_column_name(s, "name")?;
            Some(s.clone())
        }
        Some(_) => return Err(ApiError::bad_request("request/body/name must be string")),
    };
    let index = match object.get("index") {
        None => None,
        Some(v) => match v.as_i64() {
            Some(i) if i >= 0 => Some(i),
            Some(_) => return Err(ApiError::bad_request("request/body/index must be >= 0")),
            None => return Err(ApiError::bad_request("request/body/index must be integer")),
        },
    };
    if name.is_none() && index.is_none() {
        return Err(ApiError::bad_request(
            "request/body must have at least one of the properties: name, index",
        ));
    }

    let mut tx = state.db.begin().await?;
    let table = writable_table(tx.conn(), &principal, &id).await?;
    let existing = repo::columns(tx.conn(), &id).await?;
    let mut column = find_column(&existing, &id, &column_id)?.clone();
    let now = now_iso();
    if let Some(new_name) = name.filter(|n| *n != column.name) {
        let taken: Vec<&str> = existing
            .iter()
            .filter(|c| c.id != column.id)
            .map(|c| c.name.as_str())
            .collect();
        check_column_free(&new_name, &taken, &table.name)?;
        repo::rename_column(tx.conn(), &column, &new_name, &now).await?;
        column.name = new_name;
    }
    if let Some(target) = index {
        repo::move_column(tx.conn(), &column, target, existing.len() as i64, &now).await?;
    }
    repo::touch(tx.conn(), &id, &now).await?;
    let after = repo::columns(tx.conn(), &id).await?;
    let changed = find_column(&after, &id, &column_id)?.clone();
    tx.commit().await?;
    Ok(Json(column_json(&changed)))
}

async fn drop_column(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, column_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin().await?;
    writable_table(tx.conn(), &principal, &id).await?;
    let existing = repo::columns(tx.conn(), &id).await?;
    let column = find_column(&existing, &id, &column_id)?;
    repo::drop_column(tx.conn(), column).await?;
    repo::touch(tx.conn(), &id, &now_iso()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Rows ------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RowsQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    sort_by: Option<String>,
    #[serde(default)]
    search: Option<String>,
}

async fn rows(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<RowsQuery>,
) -> Result<Json<ListResponse<Map<String, Value>>>> {
    let page = query.page.page()?;
    let mut tx = state.db.begin_read().await?;
    visible_table(tx.conn(), &principal, &id).await?;
    let columns = repo::columns(tx.conn(), &id).await?;
    let filter = match query.filter.as_deref().filter(|t| !t.trim().is_empty()) {
        Some(text) => {
            // An empty list of conditions filters nothing, as an absent filter.
            let raw = filter_json(text)?;
            if raw["filters"].as_array().is_some_and(Vec::is_empty) {
                RowFilter::default()
            } else {
                row_filter(raw, "query/filter", &columns, "Filter must not be empty")?
            }
        }
        None => RowFilter::default(),
    };
    let order = match query.sort_by.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => {
            let (column, direction) = text.split_once(':').unwrap_or((text, "asc"));
            let descending = match direction.to_ascii_lowercase().as_str() {
                "asc" => false,
                "desc" => true,
                _ => {
                    return Err(ApiError::bad_request(
                        "request/query/sortBy must be <column>:asc or <column>:desc",
                    ))
                }
            };
            if filter_column_type(column, &columns).is_none() {
                return Err(ApiError::bad_request(format!(
                    "unknown column name '{column}'"
                )));
            }
            Some(RowOrder {
                column: column.to_owned(),
                descending,
            })
        }
    };
    if let Some(search) = &query.search {
        no_nul(search, "request/query/search")?;
    }
    let search = query.search.as_deref().filter(|s| !s.trim().is_empty());
    // In id order a page starts after the last id it saw, through the primary key: page
    // 1000 costs what page 1 does. Other orders page by offset.
    let keyset = order
        .as_ref()
        .is_none_or(|o| o.column == "id" && !o.descending);
    let start = match (&page.after, keyset) {
        (Some(after), true) => match after.parse::<i64>() {
            Ok(id) => RowStart::AfterId(id),
            Err(_) => return Err(ApiError::bad_request("An invalid cursor was provided")),
        },
        _ => RowStart::Offset(page.offset),
    };
    let found = repo::select(
        tx.conn(),
        &id,
        &columns,
        &repo::RowPage {
            filter: &filter,
            search,
            order: order.as_ref(),
            start,
            limit: page.fetch_limit(),
        },
    )
    .await?;
    drop(tx);
    let (data, next_cursor) = if keyset {
        page.finish(found, |row| {
            row.get("id")
                .and_then(Value::as_i64)
                .unwrap_or_default()
                .to_string()
        })
    } else {
        page.finish_by_offset(found)
    };
    Ok(Json(ListResponse { data, next_cursor }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InsertBody {
    data: Vec<Value>,
    #[serde(default)]
    return_type: Option<String>,
}

async fn insert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InsertBody>,
) -> Result<Json<Value>> {
    let returning = match body.return_type.as_deref() {
        None | Some("count") => Returning::Count,
        Some("id") => Returning::Ids,
        Some("all") => Returning::Rows,
        Some(_) => return Err(ApiError::bad_request(
            "request/body/returnType must be equal to one of the allowed values: count, id, all",
        )),
    };
    if body.data.is_empty() {
        return Err(ApiError::bad_request(
            "request/body/data must NOT have fewer than 1 items",
        ));
    }
    valid_table_id(&id)?;
    state
        .data_table_sizes
        .check(&state.db, &state.config, &id)
        .await?;
    let mut tx = state.db.begin().await?;
    writable_table(tx.conn(), &principal, &id).await?;
    let columns = repo::columns(tx.conn(), &id).await?;
    // Every row is checked before anything is written: one bad row and nothing is.
    let rows: Vec<Vec<Cell>> = body
        .data
        .iter()
        .enumerate()
        .map(|(i, row)| row_cells(row, i, &columns))
        .collect::<Result<_>>()?;
    let bytes: i64 = rows.iter().map(|r| estimated_bytes(r)).sum();
    let count = rows.len();
    let now = now_iso();
    let inserted = repo::insert(tx.conn(), &id, &columns, rows, &now, returning).await?;
    repo::touch(tx.conn(), &id, &now).await?;
    tx.commit().await?;
    state.data_table_sizes.grew(&id, bytes);
    Ok(Json(match returning {
        Returning::Count => json!({ "count": count }),
        Returning::Ids => Value::Array(
            inserted
                .iter()
                .map(|r| r.get("id").cloned().unwrap_or(Value::Null))
                .collect(),
        ),
        Returning::Rows => Value::Array(inserted.into_iter().map(Value::Object).collect()),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeBody {
    filter: Value,
    data: Map<String, Value>,
    #[serde(default)]
    return_data: bool,
    #[serde(default)]
    dry_run: bool,
}

/// n8n's answer to an update or delete: the rows with `returnData`, else `true`.
fn rows_or_true(return_data: bool, rows: Vec<Map<String, Value>>) -> Value {
    if return_data {
        Value::Array(rows.into_iter().map(Value::Object).collect())
    } else {
        Value::Bool(true)
    }
}

/// A row with its dry-run state.
fn with_state(mut row: Map<String, Value>, state: &str) -> Value {
    row.insert("dryRunState".into(), Value::from(state));
    Value::Object(row)
}

/// The row a dry run shows for "no row": every key of `template` set to null.
fn null_row(template: &Map<String, Value>) -> Map<String, Value> {
    template.keys().map(|k| (k.clone(), Value::Null)).collect()
}

/// What an update would make of `before`.
fn applied(
    before: &Map<String, Value>,
    values: &[(String, Cell)],
    now: &str,
) -> Map<String, Value> {
    let mut after = before.clone();
    for (name, cell) in values {
        after.insert(name.clone(), cell_json(cell));
    }
    after.insert("updatedAt".into(), Value::from(now));
    after
}

fn cell_json(cell: &Cell) -> Value {
    match cell {
        Cell::Null(_) => Value::Null,
        Cell::Text(t) => Value::from(t.as_str()),
        Cell::Number(n) => repo::number_value(*n),
        Cell::Boolean(b) => Value::from(*b),
        Cell::Integer(i) => Value::from(*i),
    }
}

/// Dry-run pairs: each row before and after.
fn dry_run_pairs(
    before: Vec<Map<String, Value>>,
    after: impl Fn(&Map<String, Value>) -> Option<Map<String, Value>>,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(before.len() * 2);
    for row in before {
        let next = after(&row).unwrap_or_else(|| null_row(&row));
        out.push(with_state(row, "before"));
        out.push(with_state(next, "after"));
    }
    out
}

/// What an update and an upsert share: the size check (none for a dry run), the table
/// locked for the transaction, and the body checked against the table's columns.
struct Change {
    tx: Tx,
    columns: Vec<ColumnRow>,
    filter: RowFilter,
    values: Vec<(String, Cell)>,
    now: String,
}

async fn begin_change(
    state: &AppState,
    principal: &Principal,
    id: &str,
    body: &ChangeBody,
) -> Result<Change> {
    valid_table_id(id)?;
    if !body.dry_run {
        state
            .data_table_sizes
            .check(&state.db, &state.config, id)
            .await?;
    }
    let mut tx = state.db.begin().await?;
    // The lock also makes two upserts with one filter run in turn: never both find nothing
    // and both insert.
    writable_table(tx.conn(), principal, id).await?;
    let columns = repo::columns(tx.conn(), id).await?;
    let filter = row_filter(
        body.filter.clone(),
        "body/filter",
        &columns,
        "Filter must not be empty",
    )?;
    let values = update_values(&body.data, &columns)?;
    Ok(Change {
        tx,
        columns,
        filter,
        values,
        now: now_iso(),
    })
}

impl Change {
    /// The rows the filter matches now, each with what the change would make of it.
    async fn dry_run_updates(&mut self, id: &str) -> Result<Vec<Value>> {
        let before = repo::matching(self.tx.conn(), id, &self.columns, &self.filter).await?;
        Ok(dry_run_pairs(before, |row| {
            Some(applied(row, &self.values, &self.now))
        }))
    }

    /// The row an upsert inserts: the given values, null elsewhere.
    fn new_row(&self) -> Vec<Cell> {
        self.columns
            .iter()
            .map(|c| {
                self.values
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .map_or(Cell::Null(c.column_type()), |(_, v)| v.clone())
            })
            .collect()
    }
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Json<Value>> {
    let mut change = begin_change(&state, &principal, &id, &body).await?;
    if body.dry_run {
        return Ok(Json(Value::Array(change.dry_run_updates(&id).await?)));
    }
    let Change {
        mut tx,
        columns,
        filter,
        values,
        now,
    } = change;
    let (changed, rows) = repo::update(
        tx.conn(),
        &id,
        &columns,
        &filter,
        &values,
        &now,
        body.return_data,
    )
    .await?;
    if changed > 0 {
        repo::touch(tx.conn(), &id, &now).await?;
    }
    tx.commit().await?;
    Ok(Json(rows_or_true(body.return_data, rows)))
}

async fn upsert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Json<Value>> {
    let mut change = begin_change(&state, &principal, &id, &body).await?;
    if body.dry_run {
        let pairs = change.dry_run_updates(&id).await?;
        if !pairs.is_empty() {
            return Ok(Json(Value::Array(pairs)));
        }
        // Nothing matches: the insert it would make, with a placeholder id of 0.
        let mut inserted = Map::new();
        inserted.insert("id".into(), Value::from(0));
        inserted.insert("createdAt".into(), Value::from(change.now.as_str()));
        inserted.insert("updatedAt".into(), Value::from(change.now.as_str()));
        for (column, cell) in change.columns.iter().zip(change.new_row()) {
            inserted.insert(column.name.clone(), cell_json(&cell));
        }
        let empty = null_row(&inserted);
        return Ok(Json(json!([
            with_state(empty, "before"),
            with_state(inserted, "after")
        ])));
    }
    let cells = change.new_row();
    let Change {
        mut tx,
        columns,
        filter,
        values,
        now,
    } = change;
    let (changed, rows) =
        repo::update(tx.conn(), &id, &columns, &filter, &values, &now, true).await?;
    let answer = if changed > 0 {
        rows.into_iter().next()
    } else {
        let bytes = estimated_bytes(&cells);
        let inserted =
            repo::insert(tx.conn(), &id, &columns, vec![cells], &now, Returning::Rows).await?;
        state.data_table_sizes.grew(&id, bytes);
        inserted.into_iter().next()
    };
    repo::touch(tx.conn(), &id, &now).await?;
    tx.commit().await?;
    Ok(Json(match answer {
        Some(row) if body.return_data => Value::Object(row),
        _ => Value::Bool(true),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeleteQuery {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    return_data: Option<String>,
    #[serde(default)]
    dry_run: Option<String>,
}

fn query_bool(value: Option<&str>, name: &str) -> Result<bool> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::bad_request(format!(
            "request/query/{name} must be boolean"
        ))),
    }
}

async fn delete_rows(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<Json<Value>> {
    let return_data = query_bool(query.return_data.as_deref(), "returnData")?;
    let dry_run = query_bool(query.dry_run.as_deref(), "dryRun")?;
    let Some(text) = query.filter.as_deref() else {
        return Err(ApiError::bad_request(
            "request/query must have required property 'filter'",
        ));
    };
    let mut tx = state.db.begin().await?;
    writable_table(tx.conn(), &principal, &id).await?;
    let columns = repo::columns(tx.conn(), &id).await?;
    let empty =
        "Filter is required for delete operations to prevent accidental deletion of all data";
    let filter = query_filter(text, &columns, empty)?;
    if dry_run {
        let before = repo::matching(tx.conn(), &id, &columns, &filter).await?;
        return Ok(Json(Value::Array(dry_run_pairs(before, |_| None))));
    }
    let (deleted, rows) = repo::delete_rows(tx.conn(), &id, &columns, &filter, return_data).await?;
    if deleted > 0 {
        repo::touch(tx.conn(), &id, &now_iso()).await?;
    }
    tx.commit().await?;
    Ok(Json(rows_or_true(return_data, rows)))
}

async fn clear(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let mut tx = state.db.begin().await?;
    writable_table(tx.conn(), &principal, &id).await?;
    let (deleted, _) = repo::delete_rows(tx.conn(), &id, &[], &RowFilter::default(), false).await?;
    if deleted > 0 {
        repo::touch(tx.conn(), &id, &now_iso()).await?;
    }
    tx.commit().await?;
    Ok(Json(json!({ "deletedCount": deleted })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_become_fixed_width_utc_text() {
        assert_eq!(
            parse_date("2026-01-02T03:04:05+02:00").as_deref(),
            Some("2026-01-02T01:04:05.000Z")
        );
        assert_eq!(
            parse_date("2026-01-02").as_deref(),
            Some("2026-01-02T00:00:00.000Z")
        );
        assert_eq!(
            parse_date("2026-01-02 03:04:05.5").as_deref(),
            Some("2026-01-02T03:04:05.500Z")
        );
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("+12026-01-02T00:00:00Z"), None);
    }

    #[test]
    fn values_must_match_their_column_type() {
        assert_eq!(
            cell("n", ColumnType::Number, &json!(2.5)).unwrap(),
            Cell::Number(2.5)
        );
        let err = cell("price", ColumnType::Number, &json!("abc")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "value 'abc' does not match column type 'number': 'price' expects a number but we got 'abc'"
        );
        assert!(cell("b", ColumnType::Boolean, &json!(1)).is_err());
        assert!(cell("s", ColumnType::String, &json!({"a": 1})).is_err());
        assert!(cell("s", ColumnType::String, &json!("a\u{0}b")).is_err());
        assert_eq!(
            cell("s", ColumnType::Date, &Value::Null).unwrap(),
            Cell::Null(ColumnType::Date)
        );
    }

    #[test]
    fn column_names_follow_n8n_rules_and_system_names_are_reserved() {
        assert!(valid_column_name("price_1", "name").is_ok());
        assert!(valid_column_name("1price", "name").is_err());
        assert!(valid_column_name("a-b", "name").is_err());
        assert!(valid_column_name(&"a".repeat(64), "name").is_err());
        assert!(check_column_free("ID", &[], "t").is_err());
        assert!(check_column_free("Price", &["price"], "t").is_err());
        assert!(check_column_free("price", &["cost"], "t").is_ok());
    }
}
