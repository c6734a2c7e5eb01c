//! `petrel`: run Petrel locally and operate a deployment. See `petrel --help`.

mod account;
mod backend;
mod serve;

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
    /// Create local accounts and set their passwords.
    #[command(subcommand)]
    Account(account::AccountCommand),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    petrel::logging::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(&cli.backend, args).await,
        Command::Account(cmd) => account::run(&cli.backend, cmd).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("petrel: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
