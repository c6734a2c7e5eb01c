//! Tracing setup: JSON lines in Lambda (CloudWatch parses them), readable text elsewhere.
//! `RUST_LOG` overrides the default `info` level.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let result = if in_lambda {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(false)
            .try_init()
    } else {
        // Logs go to stderr so a command's own output on stdout stays clean.
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .compact()
            .try_init()
    };
    // Already initialised (tests, or a second call): keep the first subscriber.
    drop(result);
}
