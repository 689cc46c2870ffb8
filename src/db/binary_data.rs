//! Binary data of executions kept in the database (`N8N_DEFAULT_BINARY_DATA_MODE=database`).

use crate::db::sql::Sql;
use crate::db::Conn;

/// A file to keep.
pub struct NewFile<'a> {
    pub file_id: &'a str,
    pub execution_id: i64,
    pub mime_type: Option<&'a str>,
    pub file_name: Option<&'a str>,
    pub data: &'a [u8],
    pub created_at: &'a str,
}

pub async fn insert(conn: Conn<'_>, file: &NewFile<'_>) -> sqlx::Result<()> {
    const SQL: &str = "insert into binary_data \
        (file_id, execution_id, mime_type, file_name, file_size, data, created_at) \
        values ($1, $2, $3, $4, $5, $6, $7)";
    Sql::query(SQL)
        .bind(file.file_id)
        .bind(file.execution_id)
        .bind(file.mime_type)
        .bind(file.file_name)
        .bind(file.data.len() as i64)
        .bind(file.data)
        .bind(file.created_at)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The bytes of a file, when it is kept.
pub async fn data(conn: Conn<'_>, file_id: &str) -> sqlx::Result<Option<Vec<u8>>> {
    const SQL: &str = "select data from binary_data where file_id = $1";
    Sql::query(SQL)
        .bind(file_id)
        .fetch_scalar_optional(conn)
        .await
}

/// Deletes the files of an execution (the foreign key does it too when the row goes; this is
/// for an execution whose record is kept without them).
pub async fn delete_for_execution(conn: Conn<'_>, execution_id: i64) -> sqlx::Result<u64> {
    const SQL: &str = "delete from binary_data where execution_id = $1";
    Sql::query(SQL).bind(execution_id).execute(conn).await
}

/// How many files an execution has (tests and checks).
pub async fn count_for_execution(conn: Conn<'_>, execution_id: i64) -> sqlx::Result<i64> {
    const SQL: &str = "select count(*) from binary_data where execution_id = $1";
    Sql::query(SQL).bind(execution_id).fetch_scalar(conn).await
}

/// Which of `ids` still have an execution row (the filesystem store sweeps the folders of
/// the others).
pub async fn existing_executions(conn: Conn<'_>, ids: &[i64]) -> sqlx::Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::build("select id from executions where id in (");
    sql.push_list(ids.iter().copied());
    sql.push(")");
    sql.fetch_scalars(conn).await
}
