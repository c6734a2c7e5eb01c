//! `petrel export ACCOUNT [--out FILE]`: the account's Mastodon-format archive (see
//! `petrel::archive` for what it holds).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use petrel::config::Backend;
use petrel::store::{Blobs, Table};
use petrel::Config;

use crate::backend::{BackendArgs, CliError};

#[derive(Args)]
pub struct ExportArgs {
    /// The local account's username.
    pub account: String,
    /// Where to write the archive (default: `ACCOUNT-archive.tar.gz` here).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(backend: &BackendArgs, args: ExportArgs) -> Result<(), CliError> {
    let config = backend.config()?;
    let (table, blobs) = table_and_blobs(&config).await?;
    let bar = Bar::new();
    let archive = petrel::archive::export(&config, table.as_ref(), blobs.as_ref(), &args.account, &bar).await?;
    bar.0.finish_and_clear();
    let out = args.out.unwrap_or_else(|| PathBuf::from(format!("{}-archive.tar.gz", args.account)));
    write_atomically(&out, |f| archive.write_tar_gz(f).map(drop))?;
    let posts = archive.document(petrel::archive::OUTBOX).and_then(|o| o["totalItems"].as_u64()).unwrap_or(0);
    let followers = archive.document(petrel::archive::FOLLOWERS).and_then(|o| o["totalItems"].as_u64()).unwrap_or(0);
    println!(
        "wrote {}: {posts} posts and boosts, {} media files, {followers} followers (no private key: see infra/deploy.md)",
        out.display(),
        archive.files.len()
    );
    Ok(())
}

/// Writes next to the target and renames, so an interrupted export leaves no partial archive.
fn write_atomically(
    out: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<(), petrel::archive::ArchiveError>,
) -> Result<(), CliError> {
    let tmp = out.with_extension("partial");
    let mut file = std::fs::File::create(&tmp)?;
    let result = write(&mut file).map_err(CliError::from).and_then(|()| Ok(file.flush().and(file.sync_all())?));
    match result {
        Ok(()) => Ok(std::fs::rename(&tmp, out)?),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Only the table and the bucket: an archive never needs a queue, so export and import cannot
/// send a message, and they work with a deployment's table and bucket names alone.
pub async fn table_and_blobs(config: &Config) -> Result<(Arc<dyn Table>, Arc<dyn Blobs>), CliError> {
    let table = petrel::store::connect_table(config).await?;
    let blobs: Arc<dyn Blobs> = match &config.backend {
        Backend::Embedded { data_dir } => {
            Arc::new(petrel::store::embedded::EmbeddedBlobs::open(&data_dir.join("blobs"), &config.media_base)?)
        }
        Backend::Aws { bucket, .. } => {
            let sdk = petrel::store::aws::load_sdk_config().await;
            Arc::new(petrel::store::aws::S3Blobs::new(&sdk, bucket, &config.media_base))
        }
    };
    Ok((table, blobs))
}

/// The progress bar both commands draw on standard error (hidden when it is not a terminal).
pub struct Bar(pub ProgressBar);

impl Bar {
    pub fn new() -> Bar {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{msg:20} [{bar:40}] {pos}/{len}") {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar(bar)
    }
}

impl petrel::archive::Progress for Bar {
    fn phase(&self, name: &str, total: u64) {
        self.0.set_message(name.to_string());
        self.0.set_length(total);
        self.0.set_position(0);
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}
