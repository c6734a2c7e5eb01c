//! Tracing setup: JSON lines in Lambda (CloudWatch parses them), readable text elsewhere.
//! `RUST_LOG` overrides the default `info` level: a level, and `target=level` pairs
//! (`info,petrel=debug`). A value it cannot read leaves `info`.

use std::io::IsTerminal;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// `RUST_LOG` read as per-target levels. `Targets` rather than `EnvFilter`: EnvFilter's span
/// and field matching brings a regex engine, about 0.3 MB of every function's binary, for
/// filters nobody sets on a Lambda function.
fn filter() -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO))
}

pub fn init() {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let result = if in_lambda {
        let layer =
            tracing_subscriber::fmt::layer().json().with_current_span(true).with_span_list(false).with_target(false);
        tracing_subscriber::registry().with(layer).with(filter()).try_init()
    } else {
        // Logs go to stderr so a command's own output on stdout stays clean.
        let layer = tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .compact();
        tracing_subscriber::registry().with(layer).with(filter()).try_init()
    };
    // Already initialised (tests, or a second call): keep the first subscriber.
    drop(result);
}
