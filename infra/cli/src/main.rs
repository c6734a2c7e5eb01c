//! `petrel`: run Petrel locally and operate a deployment. See `petrel --help`.

mod account;
mod backend;
mod deliveries;
mod export;
mod import;
mod serve;
mod stack;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "petrel", version, about = "Petrel: a serverless ActivityPub microblog.")]
struct Cli {
    #[command(flatten)]
    backend: backend::BackendArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Host every function's HTTP routes on one port and run every queue consumer, calling the
    /// same handlers the Lambda functions call.
    Serve(serve::ServeArgs),
    /// Create local accounts, set their passwords, list and revoke their tokens.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// Show a status's delivery report: inboxes targeted, delivered, pending and failed.
    Deliveries { status_id: String },
    /// Write an account's Mastodon-format archive (.tar.gz): actor, posts, media, followers.
    Export(export::ExportArgs),
    /// Restore an account from an archive, quietly: nothing is published or delivered.
    Import(import::ImportArgs),
}

fn main() -> std::process::ExitCode {
    petrel::logging::init();
    let cli = Cli::parse();
    if let Some(region) = &cli.backend.region {
        // The SDK's region chain reads AWS_REGION; set before the runtime starts any thread.
        std::env::set_var("AWS_REGION", region);
    }
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(backend::CliError::Runtime)
        .and_then(|runtime| runtime.block_on(run(cli)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("petrel: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), backend::CliError> {
    let mut backend = cli.backend;
    backend.load_stack().await?;
    match cli.command {
        Command::Serve(args) => serve::run(&backend, args).await,
        Command::Account(cmd) => account::run(&backend, cmd).await,
        Command::Deliveries { status_id } => deliveries::run(&backend, &status_id).await,
        Command::Export(args) => export::run(&backend, args).await,
        Command::Import(args) => import::run(&backend, args).await,
    }
}
