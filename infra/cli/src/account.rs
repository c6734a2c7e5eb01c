//! `petrel account create|password`: the first account, and how an owner gets back in.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use petrel::repo::{accounts, site};

use crate::backend::{BackendArgs, CliError};

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an account with a fresh RSA-2048 key pair. The password comes from PETREL_PASSWORD
    /// or standard input.
    Create { name: String },
    /// Set an account's password (from PETREL_PASSWORD or standard input).
    Password { name: String },
}

fn read_password() -> Result<String, CliError> {
    if let Ok(p) = std::env::var("PETREL_PASSWORD") {
        return Ok(p);
    }
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    if password.is_empty() {
        return Err(CliError::Usage("no password given: set PETREL_PASSWORD or pass it on standard input".into()));
    }
    Ok(password)
}

/// Records the domain this data is served under (the functions of a stack deployed without a
/// custom domain read it from there), and refuses another one: every ActivityPub id is built
/// from the domain, so serving the same data under a second name would break federation.
pub(crate) async fn claim_site(table: &dyn petrel::store::Table, config: &petrel::Config) -> Result<(), CliError> {
    let wanted = site::Site { domain: config.domain.clone(), handle_domain: config.handle_domain.clone() };
    let recorded = site::claim(table, &wanted).await?;
    if recorded != wanted {
        return Err(CliError::Usage(format!(
            "this data is served as {} (handles @…@{}); pass --domain {} --handle-domain {}",
            recorded.domain, recorded.handle_domain, recorded.domain, recorded.handle_domain
        )));
    }
    Ok(())
}

pub async fn run(backend: &BackendArgs, cmd: AccountCommand) -> Result<(), CliError> {
    let config = backend.config()?;
    let table = petrel::store::connect_table(&config).await?;
    match cmd {
        AccountCommand::Create { name } => {
            claim_site(table.as_ref(), &config).await?;
            let password = read_password()?;
            let account = accounts::create(table.as_ref(), &name, &password).await?;
            println!("created @{}@{} (id {})", account.username, config.handle_domain, account.id);
        }
        AccountCommand::Password { name } => {
            let password = read_password()?;
            accounts::set_password(table.as_ref(), &name, &password).await?;
            println!("password of @{name}@{} changed", config.handle_domain);
        }
    }
    Ok(())
}
