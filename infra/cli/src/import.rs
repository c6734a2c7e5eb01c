//! `petrel import ACCOUNT FILE`: restores an account from its archive, quietly (no post is
//! published again, nobody is notified). The whole archive is read and checked before anything
//! is written.

use std::path::PathBuf;

use clap::Args;

use crate::backend::{BackendArgs, CliError};
use crate::export::{table_and_blobs, Bar};

#[derive(Args)]
pub struct ImportArgs {
    /// The local account to restore into (created when missing); it must be the archive's.
    pub account: String,
    /// The archive `petrel export` wrote.
    pub file: PathBuf,
}

pub async fn run(backend: &BackendArgs, args: ImportArgs) -> Result<(), CliError> {
    let config = backend.config()?;
    let file = std::fs::File::open(&args.file)
        .map_err(|e| CliError::Usage(format!("cannot open {}: {e}", args.file.display())))?;
    let bar = Bar::new();
    bar.0.set_message("reading archive");
    bar.0.set_length(file.metadata()?.len());
    let archive = petrel::archive::Archive::read_tar_gz(std::io::BufReader::new(bar.0.wrap_read(file)))?;
    let plan = petrel::archive::plan(&archive, &args.account)?;
    let (table, blobs) = table_and_blobs(&config).await?;
    // A new deployment without a custom domain learns its domain from this record, as after
    // `account create`; and an archive is never restored under a second domain.
    crate::account::claim_site(table.as_ref(), &config).await?;
    let report = petrel::archive::import(&config, table.as_ref(), blobs.as_ref(), &plan, &bar).await?;
    bar.0.finish_and_clear();
    println!(
        "restored @{}@{}: {} posts ({} already there), {} boosts ({} of posts not held here skipped), \
         {} followers, {} follows, {} favourites, {} bookmarks, {} files",
        plan.username,
        config.handle_domain,
        report.posts_restored,
        report.posts_already_there,
        report.boosts_restored,
        report.boosts_skipped,
        report.followers_added,
        report.following_added,
        report.likes_restored,
        report.bookmarks_restored,
        report.files_stored
    );
    if report.mentions_unresolved > 0 {
        println!("{} mentions name accounts this server does not know; their links stay", report.mentions_unresolved);
    }
    if report.account_created {
        println!("the account has no password yet: run `petrel account password {}`", plan.username);
    }
    Ok(())
}
