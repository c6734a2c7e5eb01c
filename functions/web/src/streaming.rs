//! `/api/v1/streaming`: Mastodon's streaming API. In Lambda, API Gateway's WebSocket API holds
//! the connections and invokes this function with its `$connect`, `$disconnect` and `$default`
//! events ([`websocket_event`], dispatched by `main` before the HTTP router). Under
//! `petrel serve` (the `local-streaming` feature) the process holds them itself: a WebSocket
//! at `/api/v1/streaming` and the server-sent-events endpoints (`/api/v1/streaming/user` …).
//! Both record the connection in the table and receive what `petrel::streaming` sends.

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use axum::routing::get;
use axum::Router;
use petrel::repo::{accounts, streaming as conns};
use petrel::Ctx;

/// `GET /api/v1/streaming/health`: Mastodon's liveness answer, which apps check before connecting.
async fn health() -> &'static str {
    "OK"
}

pub fn routes() -> Router<Ctx> {
    let router = Router::new().route("/api/v1/streaming/health", get(health));
    #[cfg(feature = "local-streaming")]
    let router = local::routes(router);
    router
}

/// One event of the WebSocket API (`$connect`, `$disconnect`, `$default`), with the origin
/// secrets CloudFront must have sent on `$connect` (empty: none required).
pub async fn websocket_event(
    ctx: &Ctx,
    event: ApiGatewayWebsocketProxyRequest,
    origin_secrets: &[String],
) -> ApiGatewayProxyResponse {
    let rc = &event.request_context;
    let Some(id) = rc.connection_id.clone() else {
        return answer(400, "no connection id");
    };
    let table = ctx.stores.table.as_ref();
    match rc.route_key.as_deref().unwrap_or_default() {
        "$connect" => {
            let header = |name: &str| event.headers.get(name).and_then(|v| v.to_str().ok());
            if !origin_secrets.is_empty() {
                let given = header(petrel::http::ORIGIN_SECRET_HEADER).unwrap_or_default();
                if !petrel::http::origin_secret_matches(origin_secrets, given) {
                    return answer(403, "this address only answers requests through the site's domain");
                }
            }
            let query: HashMap<String, String> =
                event.query_string_parameters.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let protocol = header("sec-websocket-protocol");
            let token = petrel::streaming::token_from(&query, protocol, header("authorization"));
            match petrel::streaming::connect(ctx, &id, &query, token.as_deref()).await {
                Ok(_) => {
                    let mut ok = answer(200, "");
                    // A client that offered its token as the subprotocol must get it back.
                    if let Some(p) = protocol.and_then(|p| p.split(',').next()).and_then(|p| p.trim().parse().ok()) {
                        ok.headers.insert("sec-websocket-protocol", p);
                    }
                    ok
                }
                Err(e) => {
                    let status = axum::response::IntoResponse::into_response(e).status().as_u16();
                    answer(status as i64, "refused")
                }
            }
        }
        "$disconnect" => {
            if let Err(e) = conns::delete(table, &id).await {
                tracing::warn!(error = %e, connection = %id, "disconnected connection not removed");
            }
            answer(200, "")
        }
        _ => {
            let text = event.body.unwrap_or_default();
            if let Some(reply) = message(ctx, &id, &text).await {
                if let Err(e) = ctx.stores.connections.send(&id, &reply).await {
                    tracing::warn!(error = %e, connection = %id, "reply not sent");
                }
            }
            answer(200, "")
        }
    }
}

/// A client's message on an AWS connection: its record and account (two reads), then the
/// subscription change.
async fn message(ctx: &Ctx, id: &str, text: &str) -> Option<String> {
    let table = ctx.stores.table.as_ref();
    let c = match conns::get(table, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return Some(petrel::streaming::error_message("Connection not found", 401)),
        Err(e) => {
            tracing::warn!(error = %e, connection = id, "connection not read");
            return Some(petrel::streaming::error_message("Error processing message", 500));
        }
    };
    let viewer = match accounts::by_id(table, &c.account_id).await {
        Ok(Some(a)) => a,
        _ => return Some(petrel::streaming::error_message("Account not found", 401)),
    };
    petrel::streaming::client_message(ctx, id, &viewer, &c.scopes, text).await
}

fn answer(status: i64, body: &str) -> ApiGatewayProxyResponse {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = status;
    response.body = (!body.is_empty()).then(|| body.into());
    response
}

#[cfg(feature = "local-streaming")]
mod local {
    //! `petrel serve`'s own streaming endpoints, over the in-process Connections adapter.

    use std::collections::HashMap;
    use std::convert::Infallible;
    use std::sync::Arc;
    use std::time::Duration;

    use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
    use axum::extract::{Path, Query, State};
    use axum::http::{header, HeaderMap};
    use axum::response::sse::{Event, KeepAlive, Sse};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;
    use petrel::api::error::ApiError;
    use petrel::model::Account;
    use petrel::repo::streaming as conns;
    use petrel::store::embedded::EmbeddedConnections;
    use petrel::Ctx;
    use serde_json::Value;

    pub fn routes(router: Router<Ctx>) -> Router<Ctx> {
        router.route("/api/v1/streaming", get(websocket)).route("/api/v1/streaming/{*stream}", get(server_sent_events))
    }

    fn header(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
        headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Forgets the connection when the client's socket or event stream ends, however it ends.
    struct Open {
        ctx: Ctx,
        id: String,
        local: Arc<EmbeddedConnections>,
    }

    impl Drop for Open {
        fn drop(&mut self) {
            self.local.forget(&self.id);
            let (ctx, id) = (self.ctx.clone(), self.id.clone());
            tokio::spawn(async move {
                if let Err(e) = conns::delete(ctx.stores.table.as_ref(), &id).await {
                    tracing::warn!(error = %e, connection = %id, "closed connection not removed");
                }
            });
        }
    }

    async fn open(
        ctx: &Ctx,
        query: &HashMap<String, String>,
        headers: &HeaderMap,
    ) -> Result<(Open, tokio::sync::mpsc::Receiver<String>, Account, Vec<String>), ApiError> {
        let local = ctx.stores.local_connections.clone().ok_or(ApiError::Unavailable("no local connections".into()))?;
        let protocol = header(headers, header::SEC_WEBSOCKET_PROTOCOL);
        let token = petrel::streaming::token_from(query, protocol, header(headers, header::AUTHORIZATION));
        let (id, rx) = local.open();
        let guard = Open { ctx: ctx.clone(), id: id.clone(), local };
        let (account, c) = petrel::streaming::connect(ctx, &id, query, token.as_deref()).await?;
        Ok((guard, rx, account, c.scopes))
    }

    async fn websocket(
        State(ctx): State<Ctx>,
        Query(query): Query<HashMap<String, String>>,
        headers: HeaderMap,
        upgrade: WebSocketUpgrade,
    ) -> Response {
        let (guard, rx, account, scopes) = match open(&ctx, &query, &headers).await {
            Ok(opened) => opened,
            Err(e) => return e.into_response(),
        };
        let upgrade = match header(&headers, header::SEC_WEBSOCKET_PROTOCOL).and_then(|p| p.split(',').next()) {
            Some(p) => upgrade.protocols([p.trim().to_string()]),
            None => upgrade,
        };
        upgrade.on_upgrade(move |socket| serve(socket, guard, rx, account, scopes))
    }

    async fn serve(
        mut socket: WebSocket,
        guard: Open,
        mut rx: tokio::sync::mpsc::Receiver<String>,
        account: Account,
        scopes: Vec<String>,
    ) {
        loop {
            tokio::select! {
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let reply = petrel::streaming::client_message(&guard.ctx, &guard.id, &account, &scopes, &text).await;
                        if let Some(reply) = reply {
                            if socket.send(Message::Text(reply.into())).await.is_err() {
                                break;
                            }
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
                outgoing = rx.recv() => match outgoing {
                    Some(text) => {
                        if socket.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    // Closed through the port.
                    None => break,
                },
            }
        }
        drop(guard);
    }

    /// `GET /api/v1/streaming/user` and the others: one stream, as server-sent events
    /// (`event: update` / `data: <payload>`), with Mastodon's `:thump` heartbeat.
    async fn server_sent_events(
        State(ctx): State<Ctx>,
        Path(stream): Path<String>,
        Query(mut query): Query<HashMap<String, String>>,
        headers: HeaderMap,
    ) -> Response {
        query.insert("stream".into(), stream.trim_matches('/').replace('/', ":"));
        let (guard, rx, _, _) = match open(&ctx, &query, &headers).await {
            Ok(opened) => opened,
            Err(e) => return e.into_response(),
        };
        let events = futures::stream::unfold((rx, guard), |(mut rx, guard)| async move {
            let text = rx.recv().await?;
            let msg: Value = serde_json::from_str(&text).unwrap_or_default();
            let event = Event::default()
                .event(msg["event"].as_str().unwrap_or("update"))
                .data(msg["payload"].as_str().unwrap_or("undefined"));
            Some((Ok::<_, Infallible>(event), (rx, guard)))
        });
        Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)).text("thump")).into_response()
    }
}
