//! Request parameters as Mastodon accepts them: a JSON body, a form body (with `key[]` arrays and
//! repeated keys), or, for an empty body, the query string. All become one JSON object, which
//! the handler's own type is read from — so each endpoint has one definition of its parameters.

use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::api::error::ApiError;

/// Bodies beyond this are refused before parsing (media has its own, larger limit).
const MAX_BODY: usize = 1024 * 1024;

pub struct Params<T>(pub T);

/// Keys nest at most this deep (`a[b][c]` is 3), as in Rack, which Mastodon runs on: the nesting
/// becomes recursion here and in every later walk of the value, so it is refused, not followed.
pub const MAX_DEPTH: usize = 32;
/// At most this many parameters in one form or query string (Rack's limit too).
pub const MAX_PARAMS: usize = 65_536;

/// Form pairs → JSON, as Rails reads them: `a[]=1&a[]=2` and `a=1&a=2` make arrays,
/// `a[b]=1` an object, `a[0][name]=x` an object of objects (Mastodon's `fields_attributes`).
/// Deeper keys than [`MAX_DEPTH`] or more pairs than [`MAX_PARAMS`] are a 400.
pub fn form_to_json(pairs: Vec<(String, String)>) -> Result<Value, ApiError> {
    if pairs.len() > MAX_PARAMS {
        return Err(ApiError::BadRequest(format!("more than {MAX_PARAMS} parameters")));
    }
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let (base, rest) = match key.find('[') {
            Some(i) if key.ends_with(']') => (&key[..i], &key[i..]),
            _ => (key.as_str(), ""),
        };
        // `[x][y][]` → ["x", "y", ""]
        let mut path: Vec<&str> = vec![base];
        path.extend(rest.trim_start_matches('[').trim_end_matches(']').split("][").filter(|_| !rest.is_empty()));
        if path.len() > MAX_DEPTH {
            return Err(ApiError::BadRequest(format!("parameter keys nest deeper than {MAX_DEPTH} levels")));
        }
        insert(&mut root, &path, value);
    }
    Ok(root)
}

fn insert(node: &mut Value, path: &[&str], value: String) {
    let Value::Object(map) = node else { return };
    let Some((first, rest)) = path.split_first() else { return };
    match rest {
        [] => match map.get_mut(*first) {
            Some(Value::Array(a)) => a.push(Value::String(value)),
            Some(existing) => *existing = Value::Array(vec![existing.take(), Value::String(value)]),
            None => {
                map.insert(first.to_string(), Value::String(value));
            }
        },
        [""] => match map.entry(first.to_string()).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(a) => a.push(Value::String(value)),
            other => *other = Value::Array(vec![other.take(), Value::String(value)]),
        },
        _ => {
            let child = map.entry(first.to_string()).or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            insert(child, rest, value);
        }
    }
}

pub fn parse_query(query: Option<&str>) -> Result<Value, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))?;
    form_to_json(pairs)
}

pub fn from_value<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::Unprocessable(e.to_string()))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type =
            req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
        let query = req.uri().query().map(str::to_string);
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiError::BadRequest(format!("request body over {MAX_BODY} bytes")))?;
        let value = if bytes.iter().all(u8::is_ascii_whitespace) {
            parse_query(query.as_deref())?
        } else if content_type.starts_with("application/json") {
            serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))?
        } else if content_type.starts_with("application/x-www-form-urlencoded") || content_type.is_empty() {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
                .map_err(|e| ApiError::BadRequest(format!("malformed form: {e}")))?;
            form_to_json(pairs)?
        } else {
            return Err(ApiError::BadRequest(format!("unsupported content type `{content_type}`")));
        };
        Ok(Params(from_value(value)?))
    }
}

/// Query parameters read the same lenient way (`max_id`, `limit`, `id[]`…).
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(QueryParams(from_value(parse_query(parts.uri.query())?)?))
    }
}

/// Deserializers that take a value as a JSON type or as the string a form carries.
pub mod lenient {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(b),
            Some(Value::String(s)) => match s.as_str() {
                "true" | "1" | "on" => Some(true),
                "false" | "0" | "off" | "" => Some(false),
                other => return Err(serde::de::Error::custom(format!("`{other}` is not a boolean"))),
            },
            Some(Value::Number(n)) => Some(n.as_i64() != Some(0)),
            Some(other) => return Err(serde::de::Error::custom(format!("{other} is not a boolean"))),
        })
    }

    pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_u64().map(|n| n.min(u64::from(u32::MAX)) as u32),
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => {
                Some(s.parse().map_err(|_| serde::de::Error::custom(format!("`{s}` is not a number")))?)
            }
            Some(other) => return Err(serde::de::Error::custom(format!("{other} is not a number"))),
        })
    }

    /// A string, or a number written as one (ids), or absent.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => return Err(serde::de::Error::custom(format!("{other} is not a string"))),
        })
    }

    /// One string or many (`redirect_uris`, `scopes`, `media_ids`).
    pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(match Option::<Value>::deserialize(d)? {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => vec![s],
            Some(Value::Number(n)) => vec![n.to_string()],
            Some(Value::Array(a)) => a
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(serde::de::Error::custom(format!("{other} is not a string"))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(serde::de::Error::custom(format!("{other} is not a list"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn rails_style_keys() {
        let v = form_to_json(pairs(&[
            ("media_ids[]", "1"),
            ("media_ids[]", "2"),
            ("status", "hi"),
            ("fields_attributes[0][name]", "Site"),
            ("fields_attributes[0][value]", "x"),
            ("poll[options][]", "a"),
            ("id", "1"),
            ("id", "2"),
        ]))
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "media_ids": ["1", "2"], "status": "hi",
                "fields_attributes": {"0": {"name": "Site", "value": "x"}},
                "poll": {"options": ["a"]}, "id": ["1", "2"],
            })
        );
    }
}
