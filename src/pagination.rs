//! n8n's list pagination: `?limit=&cursor=` in, `{"data": [...], "nextCursor": ...}` out.
//!
//! The cursor is base64 (standard alphabet, padded) of JSON. n8n's offset cursor is
//! `{"limit": L, "offset": O}`; ours adds `"after"`, the sort key of the page's last row, so
//! the next page starts from that row through an index instead of skipping `O` rows: page
//! 1000 costs what page 1 does. Clients treat cursors as opaque; a cursor without `after`
//! (say, one built by hand in n8n's form) still works, by offset.
//!
//! Whether a next page exists is learnt by fetching one row more than the page holds, not by
//! counting the table.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 250;
const INVALID_CURSOR: &str = "An invalid cursor was provided";

/// The largest offset a page may start at: JavaScript's largest safe integer, far past any
/// real list, and small enough that `offset + limit` fits every database's integer.
pub const MAX_OFFSET: u64 = (1 << 53) - 1;

/// A page size from the query string: a whole number of at least 1; above 250 it is capped at
/// 250, as n8n does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit(pub u32);

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Text(String),
        }
        let n: i64 = match Raw::deserialize(deserializer)? {
            Raw::Number(n) => n,
            Raw::Text(t) => match t.trim().parse::<i64>() {
                Ok(n) => n,
                Err(_) if t.trim().parse::<f64>().is_ok() => {
                    return Err(D::Error::custom("must be integer"))
                }
                Err(_) => return Err(D::Error::custom("must be number")),
            },
        };
        if n < 1 {
            return Err(D::Error::custom("must be >= 1"));
        }
        Ok(Limit(n.min(i64::from(MAX_LIMIT)) as u32))
    }
}

/// The `limit` and `cursor` query parameters; flatten into a resource's query struct.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    pub limit: Option<Limit>,
    #[serde(default)]
    pub cursor: Option<String>,
}

/// The decoded position of a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u32,
    pub offset: u64,
    /// The sort key of the previous page's last row, when the cursor carries it.
    pub after: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct OffsetCursor {
    limit: serde_json::Value,
    offset: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

impl PageQuery {
    /// The page asked for. A cursor overrides `limit` (and `offset`); a cursor that does not
    /// decode is 400 `An invalid cursor was provided`.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        self.page_with_offset(0)
    }

    /// As [`page`](Self::page), for lists that also take an `offset` parameter.
    pub fn page_with_offset(&self, offset: u64) -> Result<PageRequest, ApiError> {
        if offset > MAX_OFFSET {
            return Err(ApiError::bad_request(format!(
                "request/query/offset must be <= {MAX_OFFSET}"
            )));
        }
        match &self.cursor {
            None => Ok(PageRequest {
                limit: self.limit.map_or(DEFAULT_LIMIT, |l| l.0),
                offset,
                after: None,
            }),
            Some(cursor) => {
                decode_cursor(cursor).ok_or_else(|| ApiError::bad_request(INVALID_CURSOR))
            }
        }
    }
}

fn decode_cursor(cursor: &str) -> Option<PageRequest> {
    // A `+` of the base64 text arrives as a space when a client forgot to URL-encode it.
    let json = B64.decode(cursor.trim().replace(' ', "+")).ok()?;
    let raw: OffsetCursor = serde_json::from_slice(&json).ok()?;
    let offset = raw.offset.as_u64().filter(|o| *o <= MAX_OFFSET)?;
    // A cursor may claim any limit; it never buys more than a full page.
    let limit = raw
        .limit
        .as_u64()
        .filter(|l| *l >= 1)?
        .min(u64::from(MAX_LIMIT)) as u32;
    Some(PageRequest {
        limit,
        offset,
        after: raw.after,
    })
}

impl PageRequest {
    /// How many rows to fetch: one more than the page holds.
    pub fn fetch_limit(&self) -> u64 {
        u64::from(self.limit) + 1
    }

    /// Trims the extra row and makes the cursor of the next page; `key` gives the sort key of
    /// a row, stored in the cursor for the keyset start of the next page.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> String,
    ) -> (Vec<T>, Option<String>) {
        if rows.len() <= self.limit as usize {
            return (rows, None);
        }
        rows.truncate(self.limit as usize);
        let after = rows.last().map(key);
        (rows, Some(self.next_cursor(after)))
    }

    /// As [`finish`](Self::finish), for lists that page by offset only.
    pub fn finish_by_offset<T>(&self, mut rows: Vec<T>) -> (Vec<T>, Option<String>) {
        if rows.len() <= self.limit as usize {
            return (rows, None);
        }
        rows.truncate(self.limit as usize);
        (rows, Some(self.next_cursor(None)))
    }

    fn next_cursor(&self, after: Option<String>) -> String {
        let cursor = OffsetCursor {
            limit: self.limit.into(),
            offset: (self.offset + u64::from(self.limit)).into(),
            after,
        };
        B64.encode(serde_json::to_vec(&cursor).unwrap_or_default())
    }
}

/// A page of a list that pages by id (executions): n8n's cursor `{"lastId", "limit"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdPage {
    pub limit: u32,
    /// Rows with ids below this one (the list runs newest first).
    pub before_id: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct IdCursor {
    #[serde(rename = "lastId")]
    last_id: serde_json::Value,
    limit: serde_json::Value,
}

impl PageQuery {
    /// The page of an id-paged list. As in n8n, a cursor's limit that is not a number falls
    /// back to the query's, and any limit is clamped to 1..=250.
    pub fn id_page(&self) -> Result<IdPage, ApiError> {
        let query_limit = self.limit.map_or(DEFAULT_LIMIT, |l| l.0);
        let Some(cursor) = &self.cursor else {
            return Ok(IdPage {
                limit: query_limit,
                before_id: None,
            });
        };
        let invalid = || ApiError::bad_request(INVALID_CURSOR);
        let json = B64
            .decode(cursor.trim().replace(' ', "+"))
            .map_err(|_| invalid())?;
        let raw: IdCursor = serde_json::from_slice(&json).map_err(|_| invalid())?;
        let last_id = match &raw.last_id {
            serde_json::Value::String(s) => s.parse::<i64>().map_err(|_| invalid())?,
            serde_json::Value::Number(n) => n.as_i64().ok_or_else(invalid)?,
            _ => return Err(invalid()),
        };
        let limit = raw
            .limit
            .as_i64()
            .map_or(i64::from(query_limit), |l| l)
            .clamp(1, i64::from(MAX_LIMIT)) as u32;
        Ok(IdPage {
            limit,
            before_id: Some(last_id),
        })
    }
}

impl IdPage {
    pub fn fetch_limit(&self) -> u64 {
        u64::from(self.limit) + 1
    }

    /// Trims the extra row and makes n8n's `{"lastId", "limit"}` cursor of the next page.
    pub fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> i64) -> (Vec<T>, Option<String>) {
        if rows.len() <= self.limit as usize {
            return (rows, None);
        }
        rows.truncate(self.limit as usize);
        let last = rows.last().map_or(0, id);
        let cursor = IdCursor {
            last_id: last.to_string().into(),
            limit: self.limit.into(),
        };
        (
            rows,
            Some(B64.encode(serde_json::to_vec(&cursor).unwrap_or_default())),
        )
    }
}

/// The list envelope.
#[derive(Debug, Serialize)]
pub struct ListResponse<T> {
    pub data: Vec<T>,
    #[serde(rename = "nextCursor")]
    pub next_cursor: Option<String>,
}

/// Splits a keyset token made by [`join_key`] back into its parts.
pub fn split_key(after: &str) -> Option<(&str, &str)> {
    after.split_once('|')
}

/// A keyset token of a sort value and the row id (the tie-breaker).
pub fn join_key(sort_value: &str, id: &str) -> String {
    format!("{sort_value}|{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_query;

    fn query(q: &str) -> Result<PageRequest, ApiError> {
        parse_query::<PageQuery>(q)?.page()
    }

    fn message(r: Result<PageRequest, ApiError>) -> String {
        match r {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected 400, got {other:?}"),
        }
    }

    #[test]
    fn limits_default_to_100_and_cap_at_250() {
        assert_eq!(query("").expect("ok").limit, 100);
        assert_eq!(query("limit=7").expect("ok").limit, 7);
        assert_eq!(query("limit=1000").expect("ok").limit, 250);
    }

    #[test]
    fn bad_limits_are_400() {
        assert_eq!(
            message(query("limit=0")),
            "request/query/limit must be >= 1"
        );
        assert_eq!(
            message(query("limit=-5")),
            "request/query/limit must be >= 1"
        );
        assert_eq!(
            message(query("limit=abc")),
            "request/query/limit must be number"
        );
        assert_eq!(
            message(query("limit=1.5")),
            "request/query/limit must be integer"
        );
    }

    #[test]
    fn n8n_cursors_decode_and_ours_round_trip() {
        // n8n's own example.
        let page = query("cursor=eyJsaW1pdCI6MTAwLCJvZmZzZXQiOjEwMH0=").expect("ok");
        assert_eq!(
            page,
            PageRequest {
                limit: 100,
                offset: 100,
                after: None
            }
        );
        let (rows, next) = PageRequest {
            limit: 2,
            offset: 0,
            after: None,
        }
        .finish(vec![1, 2, 3], |n| n.to_string());
        assert_eq!(rows, vec![1, 2]);
        let next = next.expect("more rows");
        let decoded = decode_cursor(&next).expect("decodes");
        assert_eq!(
            decoded,
            PageRequest {
                limit: 2,
                offset: 2,
                after: Some("2".into())
            }
        );
        assert!(PageRequest {
            limit: 3,
            offset: 0,
            after: None
        }
        .finish(vec![1, 2, 3], |n| n.to_string())
        .1
        .is_none());
    }

    #[test]
    fn invalid_cursors_are_refused_and_greedy_ones_capped() {
        for bad in [
            "cursor=%%%",
            "cursor=bm90IGpzb24=",
            "cursor=eyJsaW1pdCI6MTB9",
            "cursor=eyJsaW1pdCI6MCwib2Zmc2V0IjowfQ==",
        ] {
            assert_eq!(
                message(query(bad)),
                "An invalid cursor was provided",
                "{bad}"
            );
        }
        // Offsets past any integer a database binds are refused, not wrapped or a 500.
        for huge in [
            "9223372036854775808",
            "9223372036854775807",
            "18446744073709551615",
        ] {
            let cursor = B64.encode(format!(r#"{{"limit":10,"offset":{huge}}}"#));
            assert!(decode_cursor(&cursor).is_none(), "{huge}");
        }
        let largest = B64.encode(format!(r#"{{"limit":10,"offset":{MAX_OFFSET}}}"#));
        assert_eq!(decode_cursor(&largest).map(|p| p.offset), Some(MAX_OFFSET));
        // {"limit":100000,"offset":0}
        let greedy = B64.encode(br#"{"limit":100000,"offset":0}"#);
        assert_eq!(
            query(&format!("cursor={}", greedy.replace('=', "%3D")))
                .expect("ok")
                .limit,
            250
        );
    }
}
