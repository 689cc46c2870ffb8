//! [`Sql`]: a statement and its bound values, written once for both databases, whether its
//! text is a constant or built piece by piece.
//!
//! ```ignore
//! // A constant statement: `$n` placeholders, bound in order.
//! Sql::query("select id, name from tags where id = $1").bind(id).fetch_optional(conn).await
//!
//! // A statement built from parts: `push_bind` writes the placeholder and keeps the value.
//! let mut sql = Sql::build("select id from tags where name in (");
//! sql.push_list(names).push(")");
//! sql.fetch_all::<(String,)>(conn).await
//! ```
//!
//! Built statements get their placeholders when they run: numbered (`$1`, `$2`, ...) on
//! PostgreSQL, anonymous (`?`) on SQLite. For a numbered parameter, sqlx asks SQLite for each
//! parameter's name, a linear search per value, which made a 1,000-row insert (7,000 values)
//! quadratic; anonymous ones are bound by position. A statement uses either numbered
//! placeholders in constant text or built ones, never both.
//!
//! Every statement's value count is checked before it is sent: past [`MAX_BINDS`] it fails
//! with [`TooManyValues`], which the API answers 400, instead of each database failing in its
//! own way (SQLite: `too many SQL variables`, PostgreSQL: `too many arguments for query`).

use std::borrow::Cow;

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, Sqlite};

use crate::db::Conn;
use crate::on_conn;

/// The most values one statement may bind: under both databases' limits (SQLite's default is
/// 32,766, PostgreSQL's 65,535), so one rule holds on both.
pub const MAX_BINDS: usize = 30_000;

/// A statement would bind more than [`MAX_BINDS`] values.
#[derive(Debug, thiserror::Error)]
#[error("a statement may bind at most {MAX_BINDS} values; this one has {0}")]
pub struct TooManyValues(pub usize);

/// The SQL type of a `null`, so that it binds with its column's type on PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    /// A 32-bit integer (PostgreSQL `integer` columns).
    Int32,
    Float,
    Bool,
}

/// One bound value.
#[derive(Clone, Debug, PartialEq)]
pub enum Param<'q> {
    Text(Cow<'q, str>),
    Int(i64),
    Int32(i32),
    Float(f64),
    Bool(bool),
    /// Binary data (`blob` in SQLite, `bytea` in PostgreSQL).
    Bytes(Cow<'q, [u8]>),
    Null(Kind),
}

impl<'q> From<&'q [u8]> for Param<'q> {
    fn from(v: &'q [u8]) -> Self {
        Param::Bytes(Cow::Borrowed(v))
    }
}

impl<'q> From<&'q str> for Param<'q> {
    fn from(v: &'q str) -> Self {
        Param::Text(Cow::Borrowed(v))
    }
}

impl<'q> From<&'q String> for Param<'q> {
    fn from(v: &'q String) -> Self {
        Param::Text(Cow::Borrowed(v.as_str()))
    }
}

impl From<String> for Param<'_> {
    fn from(v: String) -> Self {
        Param::Text(Cow::Owned(v))
    }
}

impl From<i64> for Param<'_> {
    fn from(v: i64) -> Self {
        Param::Int(v)
    }
}

impl From<f64> for Param<'_> {
    fn from(v: f64) -> Self {
        Param::Float(v)
    }
}

impl From<bool> for Param<'_> {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}

impl<'q> From<Option<&'q str>> for Param<'q> {
    fn from(v: Option<&'q str>) -> Self {
        v.map_or(Param::Null(Kind::Text), Param::from)
    }
}

impl<'q> From<&'q Option<String>> for Param<'q> {
    fn from(v: &'q Option<String>) -> Self {
        Param::from(v.as_deref())
    }
}

impl From<Option<String>> for Param<'_> {
    fn from(v: Option<String>) -> Self {
        v.map_or(Param::Null(Kind::Text), Param::from)
    }
}

impl From<Option<i64>> for Param<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Param::Null(Kind::Int), Param::Int)
    }
}

/// A row type both backends can decode (`#[derive(sqlx::FromRow)]` over portable types).
pub trait FromRow:
    Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>
{
}

impl<T> FromRow for T where
    T: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>
{
}

/// A single value both backends can decode.
pub trait Scalar:
    Send
    + Unpin
    + for<'r> sqlx::Decode<'r, Sqlite>
    + sqlx::Type<Sqlite>
    + for<'r> sqlx::Decode<'r, Postgres>
    + sqlx::Type<Postgres>
{
}

impl<T> Scalar for T where
    T: Send
        + Unpin
        + for<'r> sqlx::Decode<'r, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'r> sqlx::Decode<'r, Postgres>
        + sqlx::Type<Postgres>
{
}

/// Rows as the backend returned them, for statements whose columns are only known at run
/// time (data-table rows).
pub enum Rows {
    Sqlite(Vec<SqliteRow>),
    Postgres(Vec<PgRow>),
}

/// Binds `$params` to `$query` in order, with the Rust type each database expects.
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                Param::Text(text) => query.bind(text.as_ref()),
                Param::Int(i) => query.bind(*i),
                Param::Int32(i) => query.bind(*i),
                Param::Float(f) => query.bind(*f),
                Param::Bool(b) => query.bind(*b),
                Param::Bytes(bytes) => query.bind(bytes.as_ref()),
                Param::Null(Kind::Text) => query.bind(None::<&str>),
                Param::Null(Kind::Int) => query.bind(None::<i64>),
                Param::Null(Kind::Int32) => query.bind(None::<i32>),
                Param::Null(Kind::Float) => query.bind(None::<f64>),
                Param::Null(Kind::Bool) => query.bind(None::<bool>),
            };
        }
        query
    }};
}

/// SQL text with its bound values.
#[derive(Debug)]
pub struct Sql<'q> {
    text: Cow<'q, str>,
    /// Where, in `text`, the placeholders of a built statement go (byte offsets, in order).
    marks: Vec<usize>,
    params: Vec<Param<'q>>,
}

impl<'q> Sql<'q> {
    /// A statement whose text is complete, with `$1..$n` placeholders; [`Sql::bind`] supplies
    /// their values in order.
    pub fn query(text: &'q str) -> Sql<'q> {
        Sql {
            text: Cow::Borrowed(text),
            marks: Vec::new(),
            params: Vec::new(),
        }
    }

    /// A statement to be built from `start` on with [`Sql::push`] and [`Sql::push_bind`].
    pub fn build(start: impl Into<String>) -> Sql<'q> {
        Sql {
            text: Cow::Owned(start.into()),
            marks: Vec::new(),
            params: Vec::new(),
        }
    }

    /// The value of the next `$n` of a constant statement.
    pub fn bind(mut self, value: impl Into<Param<'q>>) -> Sql<'q> {
        self.params.push(value.into());
        self
    }

    /// Appends SQL text (never a value: values are bound).
    pub fn push(&mut self, text: &str) -> &mut Sql<'q> {
        self.text.to_mut().push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub fn push_bind(&mut self, value: impl Into<Param<'q>>) -> &mut Sql<'q> {
        self.marks.push(self.text.len());
        self.params.push(value.into());
        self
    }

    /// Appends `a, b, c`: one placeholder per value.
    pub fn push_list<P: Into<Param<'q>>>(
        &mut self,
        values: impl IntoIterator<Item = P>,
    ) -> &mut Sql<'q> {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_bind(value);
        }
        self
    }

    /// The bound values, in order.
    pub(crate) fn params(&self) -> &[Param<'q>] {
        &self.params
    }

    /// How many values the statement binds so far.
    pub fn bind_count(&self) -> usize {
        self.params.len()
    }

    /// The text to send: a built statement's placeholders filled in for the backend. Fails
    /// when the statement binds too many values.
    pub(crate) fn text_for(&self, postgres: bool) -> sqlx::Result<Cow<'_, str>> {
        if self.params.len() > MAX_BINDS {
            return Err(sqlx::Error::Encode(Box::new(TooManyValues(
                self.params.len(),
            ))));
        }
        if self.marks.is_empty() {
            return Ok(Cow::Borrowed(&self.text));
        }
        let mut out = String::with_capacity(self.text.len() + self.marks.len() * 4);
        let mut from = 0;
        for (i, &mark) in self.marks.iter().enumerate() {
            out.push_str(&self.text[from..mark]);
            if postgres {
                out.push('$');
                out.push_str(&(i + 1).to_string());
            } else {
                out.push('?');
            }
            from = mark;
        }
        out.push_str(&self.text[from..]);
        Ok(Cow::Owned(out))
    }

    /// Runs the statement; answers how many rows it changed.
    pub async fn execute(&self, conn: Conn<'_>) -> sqlx::Result<u64> {
        let text = self.text_for(conn.is_postgres())?;
        let done = on_conn!(conn, c => bind_params!(sqlx::query(&text), &self.params).execute(c).await?.rows_affected());
        Ok(done)
    }

    pub async fn fetch_all<T: FromRow>(&self, conn: Conn<'_>) -> sqlx::Result<Vec<T>> {
        let text = self.text_for(conn.is_postgres())?;
        on_conn!(conn, c => bind_params!(sqlx::query_as(&text), &self.params).fetch_all(c).await)
    }

    pub async fn fetch_optional<T: FromRow>(&self, conn: Conn<'_>) -> sqlx::Result<Option<T>> {
        let text = self.text_for(conn.is_postgres())?;
        on_conn!(conn, c => bind_params!(sqlx::query_as(&text), &self.params).fetch_optional(c).await)
    }

    pub async fn fetch_one<T: FromRow>(&self, conn: Conn<'_>) -> sqlx::Result<T> {
        let text = self.text_for(conn.is_postgres())?;
        on_conn!(conn, c => bind_params!(sqlx::query_as(&text), &self.params).fetch_one(c).await)
    }

    /// The first column of the one row the statement answers.
    pub async fn fetch_scalar<T: Scalar>(&self, conn: Conn<'_>) -> sqlx::Result<T> {
        let text = self.text_for(conn.is_postgres())?;
        on_conn!(conn, c => bind_params!(sqlx::query_scalar(&text), &self.params).fetch_one(c).await)
    }

    /// The first column of the row the statement answers, if it answers one.
    pub async fn fetch_scalar_optional<T: Scalar>(
        &self,
        conn: Conn<'_>,
    ) -> sqlx::Result<Option<T>> {
        let text = self.text_for(conn.is_postgres())?;
        on_conn!(conn, c => bind_params!(sqlx::query_scalar(&text), &self.params).fetch_optional(c).await)
    }

    /// The first column of every row.
    pub async fn fetch_scalars<T: Scalar>(&self, conn: Conn<'_>) -> sqlx::Result<Vec<T>> {
        let text = self.text_for(conn.is_postgres())?;
        on_conn!(conn, c => bind_params!(sqlx::query_scalar(&text), &self.params).fetch_all(c).await)
    }

    /// The rows undecoded, for statements whose columns are known only at run time.
    pub async fn fetch_rows(&self, conn: Conn<'_>) -> sqlx::Result<Rows> {
        let text = self.text_for(conn.is_postgres())?;
        Ok(match conn {
            Conn::Sqlite(c) => Rows::Sqlite(
                bind_params!(sqlx::query(&text), &self.params)
                    .fetch_all(c)
                    .await?,
            ),
            Conn::Postgres(c) => Rows::Postgres(
                bind_params!(sqlx::query(&text), &self.params)
                    .fetch_all(c)
                    .await?,
            ),
        })
    }
}

/// A `like ... escape '\'` pattern matching text that contains `text` (its `\`, `%` and `_`
/// stand for themselves).
pub fn contains_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    out.push('%');
    for ch in text.chars() {
        if matches!(ch, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

/// Whether `error` is a statement refused for binding too many values.
pub fn is_too_many_values(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Encode(e) if e.is::<TooManyValues>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_placeholders_are_numbered_on_postgres_and_anonymous_on_sqlite() {
        let mut sql = Sql::build("select 1 from t where a = ");
        sql.push_bind("x")
            .push(" and b in (")
            .push_list([1i64, 2, 3])
            .push(")");
        assert_eq!(
            sql.text_for(true).unwrap(),
            "select 1 from t where a = $1 and b in ($2, $3, $4)"
        );
        assert_eq!(
            sql.text_for(false).unwrap(),
            "select 1 from t where a = ? and b in (?, ?, ?)"
        );
        assert_eq!(sql.bind_count(), 4);
    }

    #[test]
    fn contains_patterns_escape_the_wildcards() {
        assert_eq!(contains_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
    }

    #[test]
    fn constant_text_is_sent_as_it_is() {
        let sql = Sql::query("select 1 from t where a = $1").bind("x");
        assert!(matches!(sql.text_for(false).unwrap(), Cow::Borrowed(_)));
    }

    #[test]
    fn a_statement_over_the_bind_limit_is_refused_before_it_is_sent() {
        let mut sql = Sql::build("select 1 where 1 in (");
        sql.push_list((0..=MAX_BINDS as i64).map(Param::Int))
            .push(")");
        let error = sql.text_for(true).unwrap_err();
        assert!(is_too_many_values(&error));
        assert!(error.to_string().contains("30000"), "{error}");
    }
}
