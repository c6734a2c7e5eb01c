//! The Mastodon streaming API (4.3) without a streaming server: who is connected, and to which
//! streams, is kept in the table (`repo::streaming`); the code that creates an event (a post, an
//! edit, a delete, a notification, a filter change) sends it through the Connections port to
//! the connections that want it, rendered for each viewer by `mastodon::render` — the rendering
//! of the REST timelines, so visibility, mutes, blocks and `hide` filters apply alike.
//!
//! Messages are Mastodon's: `{"stream":["hashtag","rust"],"event":"update","payload":"<json>"}`,
//! where `payload` is the entity as a JSON string, the bare id for `delete`, and absent for
//! `filters_changed`. Sending never fails what caused the event: errors are logged.
//!
//! Store operations per event: one query of the connections (and nothing else when nobody is
//! connected, or nobody wants the event); then one batch get of the connected accounts, and per
//! connection that wants it what rendering one status costs (a batch get, one more for another
//! author, the viewer's filters when it has some), one read of its home (or list) timeline entry
//! for `user` (or `list`), and one PostToConnection per message.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::api::scopes;
use crate::mastodon::{convert, render};
use crate::model::{Account, Notification, Status, Visibility};
use crate::repo::streaming::Connection;
use crate::repo::{accounts, keys, lists, streaming as conns, visibility, RepoError};
use crate::store::StoreError;
use crate::Ctx;

/// A stream a client can subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stream {
    User,
    UserNotification,
    Public,
    PublicLocal,
    PublicRemote,
    Hashtag(String),
    HashtagLocal(String),
    List(String),
    Direct,
}

impl Stream {
    /// From a `stream` name and its `tag` or `list` parameter, as Mastodon's subscribe
    /// messages and query strings give them. The error is Mastodon's message.
    pub fn parse(name: &str, tag: Option<&str>, list: Option<&str>) -> Result<Stream, String> {
        let tag = || {
            let t = tag.map(|t| t.trim_start_matches('#').to_lowercase()).filter(|t| !t.is_empty());
            t.filter(|t| t.chars().all(|c| c.is_alphanumeric() || c == '_')).ok_or("No tag for stream provided")
        };
        Ok(match name {
            "user" => Stream::User,
            "user:notification" => Stream::UserNotification,
            "public" => Stream::Public,
            "public:local" => Stream::PublicLocal,
            "public:remote" => Stream::PublicRemote,
            "hashtag" => Stream::Hashtag(tag()?),
            "hashtag:local" => Stream::HashtagLocal(tag()?),
            "list" => Stream::List(list.filter(|l| !l.is_empty()).ok_or("No list for stream provided")?.to_string()),
            "direct" => Stream::Direct,
            _ => return Err("Unknown stream type".into()),
        })
    }

    /// The stream as messages name it: `["user"]`, `["hashtag", "rust"]`, `["list", "12"]`.
    pub fn name(&self) -> Vec<String> {
        let one = |s: &str| vec![s.to_string()];
        match self {
            Stream::User => one("user"),
            Stream::UserNotification => one("user:notification"),
            Stream::Public => one("public"),
            Stream::PublicLocal => one("public:local"),
            Stream::PublicRemote => one("public:remote"),
            Stream::Hashtag(t) => vec!["hashtag".into(), t.clone()],
            Stream::HashtagLocal(t) => vec!["hashtag:local".into(), t.clone()],
            Stream::List(l) => vec!["list".into(), l.clone()],
            Stream::Direct => one("direct"),
        }
    }

    pub fn from_name(name: &[String]) -> Option<Stream> {
        let arg = name.get(1).map(String::as_str);
        Stream::parse(name.first()?, arg, arg).ok()
    }

    /// The scope a token needs for the stream (Mastodon's: `read:statuses`, and
    /// `read:notifications` for notifications only).
    pub fn scope(&self) -> &'static str {
        match self {
            Stream::UserNotification => "read:notifications",
            _ => "read:statuses",
        }
    }
}

/// One message as Mastodon's WebSocket sends it.
pub fn message(stream: &[String], event: &str, payload: Option<&str>) -> String {
    match payload {
        Some(p) => json!({ "stream": stream, "event": event, "payload": p }),
        None => json!({ "stream": stream, "event": event }),
    }
    .to_string()
}

/// An error message, as Mastodon sends it over a WebSocket (and keeps the connection).
pub fn error_message(error: &str, status: u16) -> String {
    json!({ "error": error, "status": status }).to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum StreamingError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl From<StoreError> for StreamingError {
    fn from(e: StoreError) -> Self {
        StreamingError::Repo(e.into())
    }
}

/// Whether `viewer`, with a token of `scopes`, may subscribe to `stream`: the scope, and a list
/// of its own (one read, for lists only).
pub async fn check(
    ctx: &Ctx,
    viewer: &Account,
    token_scopes: &[String],
    stream: &Stream,
) -> Result<(), StreamingError> {
    if !scopes::allows(token_scopes, stream.scope()) {
        return Err(StreamingError::Refused("Access token does not have the required scopes".into()));
    }
    if let Stream::List(id) = stream {
        if lists::get(ctx.stores.table.as_ref(), &viewer.id, id).await?.is_none() {
            return Err(StreamingError::Refused("List not found".into()));
        }
    }
    Ok(())
}

/// A subscribe (`subscribe: true`) or unsubscribe message of a connection; the record is
/// rewritten (one get and one put; nothing written when nothing changes).
pub async fn change(
    ctx: &Ctx,
    connection_id: &str,
    viewer: &Account,
    token_scopes: &[String],
    stream: Stream,
    subscribe: bool,
) -> Result<(), StreamingError> {
    let table = ctx.stores.table.as_ref();
    let Some(mut c) = conns::get(table, connection_id).await? else {
        return Err(StreamingError::Refused("Connection not found".into()));
    };
    let name = stream.name();
    let held = c.streams.contains(&name);
    if subscribe && !held {
        check(ctx, viewer, token_scopes, &stream).await?;
        c.streams.push(name);
    } else if !subscribe && held {
        c.streams.retain(|s| s != &name);
    } else {
        return Ok(());
    }
    conns::set_streams(table, &c).await?;
    Ok(())
}

/// A client message (`{"type":"subscribe","stream":"hashtag","tag":"rust"}`): the error to send
/// back, if any. `ping` and unknown types are ignored, as Mastodon does.
pub async fn client_message(
    ctx: &Ctx,
    connection_id: &str,
    viewer: &Account,
    token_scopes: &[String],
    text: &str,
) -> Option<String> {
    let Ok(msg) = serde_json::from_str::<Value>(text) else {
        return Some(error_message("Could not parse message", 400));
    };
    let subscribe = match msg.get("type").and_then(Value::as_str) {
        Some("subscribe") => true,
        Some("unsubscribe") => false,
        _ => return None,
    };
    let field =
        |k: &str| msg.get(k).and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_u64().map(|n| n.to_string())));
    let name = field("stream").unwrap_or_default();
    let stream = match Stream::parse(&name, field("tag").as_deref(), field("list").as_deref()) {
        Ok(s) => s,
        Err(e) => return Some(error_message(&e, 400)),
    };
    match change(ctx, connection_id, viewer, token_scopes, stream, subscribe).await {
        Ok(()) => None,
        Err(StreamingError::Refused(e)) => Some(error_message(&e, 401)),
        Err(e) => {
            tracing::warn!(error = %e, connection = connection_id, "subscription not changed");
            Some(error_message("Error processing message", 500))
        }
    }
}

/// The streams named at connect time: `stream` (with `tag`/`list`) in the query string.
pub fn streams_from_query(query: &HashMap<String, String>) -> Result<Vec<Stream>, String> {
    match query.get("stream").filter(|s| !s.is_empty()) {
        None => Ok(Vec::new()),
        Some(name) => {
            Ok(vec![Stream::parse(name, query.get("tag").map(String::as_str), query.get("list").map(String::as_str))?])
        }
    }
}

/// The token a streaming client presents: `access_token` in the query, the
/// `Sec-WebSocket-Protocol` header (browsers cannot set others on a WebSocket), or a bearer
/// `Authorization` header.
pub fn token_from(
    query: &HashMap<String, String>,
    protocol: Option<&str>,
    authorization: Option<&str>,
) -> Option<String> {
    let bearer = authorization.and_then(|a| a.split_once(' ')).filter(|(s, _)| s.eq_ignore_ascii_case("bearer"));
    query
        .get("access_token")
        .map(|t| t.trim().to_string())
        .or_else(|| protocol.map(|p| p.split(',').next().unwrap_or(p).trim().to_string()))
        .or_else(|| bearer.map(|(_, t)| t.trim().to_string()))
        .filter(|t| !t.is_empty())
}

/// A client connecting: the token authenticated (two reads), the streams its query names
/// checked, and the connection recorded (one put). The error is the HTTP answer to refuse it with.
pub async fn connect(
    ctx: &Ctx,
    connection_id: &str,
    query: &HashMap<String, String>,
    token: Option<&str>,
) -> Result<(Account, Connection), crate::api::error::ApiError> {
    use crate::api::error::ApiError;
    let auth = crate::api::auth::authenticate(ctx, token.ok_or(ApiError::Unauthorized)?).await?;
    let account = auth.account.ok_or(ApiError::Unauthorized)?;
    let streams = streams_from_query(query).map_err(ApiError::BadRequest)?;
    for s in &streams {
        match check(ctx, &account, &auth.token.scopes, s).await {
            Ok(()) => {}
            Err(StreamingError::Refused(_)) => return Err(ApiError::Forbidden),
            Err(StreamingError::Repo(e)) => return Err(e.into()),
        }
    }
    let names = streams.iter().map(Stream::name).collect();
    let c = Connection::new(connection_id, &account.id, &auth.token.scopes, names, crate::clock::now_ms());
    conns::put(ctx.stores.table.as_ref(), &c).await?;
    Ok((account, c))
}

// ---- Publishing ----------------------------------------------------------------------------

/// What happened to a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusEvent {
    Created,
    Edited,
}

/// A new (or edited) status: `update` (or `status.update`) to the streams that show it, and
/// `conversation` to `direct` streams for a direct message. Never fails.
pub async fn status(ctx: &Ctx, s: &Status, event: StatusEvent) {
    if let Err(e) = publish_status(ctx, s, event).await {
        tracing::warn!(error = %e, status = %s.id, "status not streamed");
    }
}

/// A deleted status, still in hand: `delete` with its id to every connection that may have
/// been shown it (the visibility rule decides). Never fails.
pub async fn deleted(ctx: &Ctx, s: &Status) {
    if let Err(e) = publish_delete(ctx, s).await {
        tracing::warn!(error = %e, status = %s.id, "delete not streamed");
    }
}

/// A notification just stored for the local account `local_id`. Never fails.
pub async fn notification(ctx: &Ctx, local_id: &str, n: &Notification) {
    if let Err(e) = publish_notification(ctx, local_id, n).await {
        tracing::warn!(error = %e, notification = %n.id, "notification not streamed");
    }
}

/// The account's filters changed: `filters_changed` (no payload) to its `user` streams.
pub async fn filters_changed(ctx: &Ctx, account_id: &str) {
    let work = async {
        for c in conns::all(ctx.stores.table.as_ref()).await?.into_iter().filter(|c| c.account_id == account_id) {
            if let Some(name) = c.streams.iter().find(|s| s.first().is_some_and(|n| n == "user")) {
                send(ctx, &c.id, message(name, "filters_changed", None)).await;
            }
        }
        Ok::<_, RepoError>(())
    };
    if let Err(e) = work.await {
        tracing::warn!(error = %e, "filters_changed not streamed");
    }
}

/// Sends one message; a gone connection's record is removed. Never fails.
async fn send(ctx: &Ctx, connection_id: &str, text: String) {
    match ctx.stores.connections.send(connection_id, &text).await {
        Ok(()) => {}
        Err(StoreError::NotFound(_)) => {
            if let Err(e) = conns::delete(ctx.stores.table.as_ref(), connection_id).await {
                tracing::warn!(error = %e, connection = connection_id, "gone connection not removed");
            }
        }
        Err(e) => tracing::warn!(error = %e, connection = connection_id, "stream message not sent"),
    }
}

/// The connected accounts (one batch get), by id.
async fn viewers(ctx: &Ctx, connections: &[Connection]) -> Result<HashMap<String, Account>, RepoError> {
    let mut ids: Vec<String> = connections.iter().map(|c| c.account_id.clone()).collect();
    ids.sort();
    ids.dedup();
    Ok(accounts::by_ids(ctx.stores.table.as_ref(), &ids).await?.into_iter().map(|a| (a.id.clone(), a)).collect())
}

/// Which of a connection's streams show a new status, and in which filter context.
async fn streams_showing(ctx: &Ctx, c: &Connection, s: &Status) -> Result<Vec<(Vec<String>, &'static str)>, RepoError> {
    let table = ctx.stores.table.as_ref();
    let public = s.visibility == Visibility::Public && s.reblog_of.is_none();
    let local = s.remote_uri.is_none();
    let mut shown = Vec::new();
    for name in &c.streams {
        let Some(stream) = Stream::from_name(name) else { continue };
        let context = match &stream {
            // What the REST home and list timelines would list: their index holds it.
            Stream::User => table.get(&keys::home_entry(&c.account_id, &s.id)).await?.is_some().then_some("home"),
            Stream::List(id) => table.get(&keys::list_entry(id, &s.id)).await?.is_some().then_some("home"),
            Stream::Public => public.then_some("public"),
            Stream::PublicLocal => (public && local).then_some("public"),
            Stream::PublicRemote => (public && !local).then_some("public"),
            Stream::Hashtag(t) => (public && s.tags.iter().any(|x| x.eq_ignore_ascii_case(t))).then_some("public"),
            Stream::HashtagLocal(t) => {
                (public && local && s.tags.iter().any(|x| x.eq_ignore_ascii_case(t))).then_some("public")
            }
            Stream::UserNotification | Stream::Direct => None,
        };
        if let Some(context) = context {
            shown.push((name.clone(), context));
        }
    }
    Ok(shown)
}

async fn publish_status(ctx: &Ctx, s: &Status, event: StatusEvent) -> Result<(), RepoError> {
    let table = ctx.stores.table.as_ref();
    let connections = conns::all(table).await?;
    if connections.is_empty() {
        return Ok(());
    }
    let viewers = viewers(ctx, &connections).await?;
    let event_name = match event {
        StatusEvent::Created => "update",
        StatusEvent::Edited => "status.update",
    };
    let ids = [s.id.clone()];
    for c in &connections {
        let Some(viewer) = viewers.get(&c.account_id) else { continue };
        let shown = streams_showing(ctx, c, s).await?;
        // Rendered once per filter context: visibility, mutes, blocks and `hide` filters as the
        // REST timeline in that context applies them (nothing rendered: not sent).
        let mut rendered: HashMap<&str, Option<String>> = HashMap::new();
        for (name, context) in shown {
            if !rendered.contains_key(context) {
                let list = render::render_in(ctx, Some(viewer), &ids, true, context, None).await.map_err(api)?;
                let payload = list.first().and_then(|st| serde_json::to_string(st).ok());
                rendered.insert(context, payload);
            }
            if let Some(Some(payload)) = rendered.get(context) {
                send(ctx, &c.id, message(&name, event_name, Some(payload))).await;
            }
        }
        let direct = c.streams.iter().find(|n| n.first().is_some_and(|x| x == "direct"));
        if let (Some(name), true) = (direct, s.visibility == Visibility::Direct) {
            let involved = s.account_id == viewer.id || s.mentions.iter().any(|m| m.account_id == viewer.id);
            if involved {
                if let Some(payload) = conversation(ctx, viewer, s).await? {
                    send(ctx, &c.id, message(name, "conversation", Some(&payload))).await;
                }
            }
        }
    }
    Ok(())
}

/// The Conversation entity a `direct` stream gets for a direct message: the other participants
/// and the status, rendered as the viewer sees it.
async fn conversation(ctx: &Ctx, viewer: &Account, s: &Status) -> Result<Option<String>, RepoError> {
    let ids = [s.id.clone()];
    let Some(last) =
        render::render_in(ctx, Some(viewer), &ids, true, "thread", None).await.map_err(api)?.into_iter().next()
    else {
        return Ok(None);
    };
    let mut others: Vec<String> = std::iter::once(s.account_id.clone())
        .chain(s.mentions.iter().map(|m| m.account_id.clone()))
        .filter(|id| id != &viewer.id)
        .collect();
    others.sort();
    others.dedup();
    let accounts: Vec<_> = accounts::by_ids(ctx.stores.table.as_ref(), &others)
        .await?
        .iter()
        .map(|a| convert::account(&ctx.config, a, false))
        .collect();
    let entity = json!({
        // The thread's root: the id `/api/v1/conversations` gives the same conversation.
        "id": s.thread_root(),
        "unread": s.account_id != viewer.id,
        "accounts": accounts,
        "last_status": last,
    });
    Ok(Some(entity.to_string()))
}

async fn publish_delete(ctx: &Ctx, s: &Status) -> Result<(), RepoError> {
    let table = ctx.stores.table.as_ref();
    let connections = conns::all(table).await?;
    if connections.is_empty() {
        return Ok(());
    }
    let viewers = viewers(ctx, &connections).await?;
    for c in &connections {
        let Some(viewer) = viewers.get(&c.account_id) else { continue };
        // One message per connection, on its first timeline stream, as Mastodon sends a delete
        // once per subscribed timeline that could hold it.
        let timeline = c.streams.iter().find(|n| n.first().is_some_and(|x| x != "user:notification" && x != "direct"));
        let Some(name) = timeline else { continue };
        if visibility::may_see(table, s, Some(viewer)).await? {
            send(ctx, &c.id, message(name, "delete", Some(&s.id))).await;
        }
    }
    Ok(())
}

async fn publish_notification(ctx: &Ctx, local_id: &str, n: &Notification) -> Result<(), RepoError> {
    let table = ctx.stores.table.as_ref();
    let wanted: Vec<(Connection, Vec<String>)> = conns::all(table)
        .await?
        .into_iter()
        .filter(|c| c.account_id == local_id)
        .filter_map(|c| {
            let name = c
                .streams
                .iter()
                .find(|s| matches!(s.first().map(String::as_str), Some("user" | "user:notification")))?;
            let name = name.clone();
            Some((c, name))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let Some(me) = accounts::by_id(table, local_id).await? else { return Ok(()) };
    // The REST notifications list's rendering: a muted or blocked sender renders nothing.
    let Some(entity) = render::notifications(ctx, &me, vec![n.clone()]).await.map_err(api)?.into_iter().next() else {
        return Ok(());
    };
    let payload = entity.to_string();
    for (c, name) in wanted {
        send(ctx, &c.id, message(&name, "notification", Some(&payload))).await;
    }
    Ok(())
}

fn api(e: crate::api::error::ApiError) -> RepoError {
    RepoError::Invalid(format!("rendering: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_parse_and_name_as_mastodon_does() {
        assert_eq!(Stream::parse("hashtag", Some("#Rust"), None).unwrap().name(), vec!["hashtag", "rust"]);
        assert_eq!(Stream::parse("list", None, Some("12")).unwrap().name(), vec!["list", "12"]);
        assert_eq!(Stream::parse("user:notification", None, None).unwrap().scope(), "read:notifications");
        assert!(Stream::parse("hashtag", None, None).is_err());
        assert!(Stream::parse("public:bogus", None, None).is_err());
        for s in ["user", "public", "public:local", "public:remote", "direct"] {
            let stream = Stream::parse(s, None, None).unwrap();
            assert_eq!(Stream::from_name(&stream.name()), Some(stream));
        }
    }

    #[test]
    fn messages_carry_the_payload_as_a_string_and_a_delete_as_the_bare_id() {
        let m: Value = serde_json::from_str(&message(&["user".into()], "delete", Some("123"))).unwrap();
        assert_eq!(m, json!({"stream": ["user"], "event": "delete", "payload": "123"}));
        let m: Value = serde_json::from_str(&message(&["user".into()], "filters_changed", None)).unwrap();
        assert!(m.get("payload").is_none());
        let payload = json!({"id": "1"}).to_string();
        let m: Value = serde_json::from_str(&message(&["public".into()], "update", Some(&payload))).unwrap();
        assert_eq!(m["payload"].as_str(), Some(r#"{"id":"1"}"#));
    }

    #[test]
    fn the_token_comes_from_the_query_the_protocol_header_or_a_bearer() {
        let q: HashMap<String, String> = [("access_token".to_string(), "abc".to_string())].into();
        assert_eq!(token_from(&q, Some("xyz"), None).as_deref(), Some("abc"));
        assert_eq!(token_from(&HashMap::new(), Some("xyz"), None).as_deref(), Some("xyz"));
        assert_eq!(token_from(&HashMap::new(), None, Some("Bearer t1")).as_deref(), Some("t1"));
        assert_eq!(token_from(&HashMap::new(), None, None), None);
    }
}
