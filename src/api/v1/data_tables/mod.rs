//! `/data-tables`: tables with typed columns and their rows (n8n's fifteen data-table
//! routes). These routes accept only the API-key header, as in n8n. The route table, the
//! OpenAPI schemas and the answer shapes are here; the handlers in [`tables`], [`columns`]
//! and [`rows`]; the rules in [`crate::service::data_tables`] and
//! [`crate::domain::data_table`].
//!
//! A data table belongs to a project; a caller reaches it through their access to that
//! project (see `access.rs`): viewers read, editors and admins write, and a table of a
//! project the caller does not belong to is answered like one that does not exist. How rows
//! are stored, and why, is in `db/data_tables.rs`.

mod columns;
mod rows;
mod tables;

use axum::http::Method;
use axum::routing::{delete, get, patch, post};
use serde_json::{json, Value};

use super::openapi::{list_of, path_param, query_param, schema_ref, Doc};
use super::Endpoint;
use crate::auth::Scope;
use crate::db::data_tables::ColumnRow;
pub use crate::domain::data_table::query_filter;
use crate::domain::data_table::{COLUMN_NAME_MAX, COLUMN_NAME_PATTERN, TABLE_NAME_MAX};
use crate::service::data_tables::{TableView, SORT_TABLES};
use columns::{add_column, change_column, columns, drop_column};
use rows::{clear, delete_rows, insert, rows, update, upsert};
use tables::{create, list, read, remove, rename};

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

/// A column as its own routes show it.
fn column_json(column: &ColumnRow) -> Value {
    json!({
        "id": column.id,
        "name": column.name,
        "dataTableId": column.data_table_id,
        "type": column.type_name,
        "index": column.position,
    })
}

/// A table as the table routes show it: with its columns and storage size.
fn table_json(view: &TableView) -> Value {
    let columns: Vec<Value> = view
        .columns
        .iter()
        .map(|c| json!({"id": c.id, "name": c.name, "type": c.type_name, "index": c.position}))
        .collect();
    let table = &view.table;
    json!({
        "id": table.id,
        "name": table.name,
        "columns": columns,
        "projectId": table.project_id,
        "createdAt": table.created_at,
        "updatedAt": table.updated_at,
        "sizeBytes": view.size_bytes,
    })
}
