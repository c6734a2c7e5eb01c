//! `petrel serve`: every function on one port. It composes the functions' routers and runs the
//! queue consumer through the same `SqsEvent` → `SqsBatchResponse` path Lambda uses; it adds
//! no logic of its own beyond playing API Gateway, the event source mapping and (on the
//! embedded backend) S3's public URLs.

use std::net::SocketAddr;

use clap::Args;
use petrel::consumer::{poll_forever, PollSettings};
use petrel::store::embedded::blob_routes;
use petrel::Ctx;

use crate::backend::{BackendArgs, CliError};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Serve `GET /_petrel/ops`: the store requests and DynamoDB capacity units counted since
    /// start, as JSON (for infra/cost/measure.py). Local measurement only; off by default.
    #[arg(long)]
    pub ops_endpoint: bool,
}

pub async fn run(backend: &BackendArgs, args: ServeArgs) -> Result<(), CliError> {
    let config = backend.config()?;
    let ctx = Ctx::connect_local(config).await?;

    let mut app = axum::Router::new()
        .merge(inbox::router(ctx.clone()))
        .merge(media::router(ctx.clone()))
        .merge(web::router(ctx.clone()))
        .merge(feed::router(ctx.clone()));
    if let Some(blobs) = &ctx.stores.local_blobs {
        let path = url_path(&ctx.config.media_base);
        app = app.nest(&path, blob_routes(blobs.clone()));
    }
    if args.ops_endpoint {
        let ops = ctx.stores.ops.clone();
        app = app.route("/_petrel/ops", axum::routing::get(move || async move { axum::Json(ops.snapshot()) }));
    }

    let settings = PollSettings::default();
    let q = &ctx.stores.queues;
    let mut consumers = tokio::task::JoinSet::new();
    let c = ctx.clone();
    consumers.spawn(poll_forever(q.outbox.clone(), settings, move |e| outbox_fanout::handle(c.clone(), e)));

    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let backend_name = if ctx.stores.local_blobs.is_some() { "embedded" } else { "aws" };
    tracing::info!(addr = %args.addr, base = %ctx.config.base_url(), backend = backend_name, "petrel is serving");
    // The same trailing-slash normalisation the Lambda entry points apply.
    // With the peer's address, which the sign-in throttle counts by (`petrel::http::ClientAddr`).
    let service = axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<SocketAddr>(
        petrel::http::app(app),
    );
    axum::serve(listener, service).with_graceful_shutdown(shutdown()).await?;
    consumers.shutdown().await;
    Ok(())
}

/// The path part of the media base URL (`/media` by default), where local blobs are served.
fn url_path(base: &str) -> String {
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    match after_scheme.find('/') {
        Some(i) => after_scheme[i..].trim_end_matches('/').to_string(),
        None => "/media".into(),
    }
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
