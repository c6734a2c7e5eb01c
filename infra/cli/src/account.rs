//! `petrel account create|password|tokens|revoke`: the first account, how an owner gets back in,
//! and the owner's view of the apps holding a token.

use std::io::{BufRead, IsTerminal};

use clap::Subcommand;
use petrel::repo::{accounts, oauth, site, RepoError};

use crate::backend::{BackendArgs, CliError};

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an account with a fresh RSA-2048 key pair. The password comes from PETREL_PASSWORD
    /// or standard input.
    Create { name: String },
    /// Set an account's password (from PETREL_PASSWORD or standard input). Revokes every token
    /// the account has.
    Password { name: String },
    /// List the account's tokens: id, app, scopes, when authorised (never the token itself).
    Tokens { name: String },
    /// Revoke one of the account's tokens by the id `petrel account tokens` shows, or all of them.
    Revoke {
        name: String,
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        token_id: Option<String>,
        /// Revoke every token, including any issued before tokens were listed.
        #[arg(long)]
        all: bool,
    },
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
            let listed = accounts::set_password(table.as_ref(), &name, &password).await?;
            println!(
                "password of @{name}@{} changed; every token revoked ({listed} listed, and any older ones)",
                config.handle_domain
            );
        }
        AccountCommand::Tokens { name } => {
            let account = find(table.as_ref(), &name).await?;
            let tokens = oauth::account_tokens(table.as_ref(), &account.id).await?;
            if tokens.is_empty() {
                println!("@{} has no listed tokens", account.username);
            } else {
                println!("{:<20} {:<24} {:<24} AUTHORISED", "ID", "APP", "SCOPES");
                for t in &tokens {
                    let app = t.app_name.as_deref().unwrap_or(&t.client_id);
                    println!(
                        "{:<20} {:<24} {:<24} {}",
                        t.id,
                        app,
                        t.scopes.join(" "),
                        petrel::clock::iso8601_ms(t.created_at)
                    );
                }
            }
            println!("(tokens issued before token lists existed are not shown; `revoke --all` ends them too)");
        }
        AccountCommand::Revoke { name, token_id, all } => {
            let account = find(table.as_ref(), &name).await?;
            if all {
                let listed = oauth::revoke_all_tokens(table.as_ref(), &account.id).await?;
                println!("revoked every token of @{} ({listed} listed, and any older ones)", account.username);
            } else if let Some(id) = token_id {
                if !oauth::revoke_account_token(table.as_ref(), &account.id, &id).await? {
                    return Err(RepoError::NotFound(format!("token `{id}` of @{}", account.username)).into());
                }
                println!("revoked token {id} of @{}", account.username);
            }
        }
    }
    Ok(())
}

async fn find(table: &dyn petrel::store::Table, name: &str) -> Result<petrel::model::Account, CliError> {
    Ok(accounts::by_username(table, name).await?.ok_or_else(|| RepoError::NotFound(format!("account `{name}`")))?)
}
