//! `petrel deliveries STATUS_ID`: how far a post has reached its followers' servers.

use petrel::repo::deliveries;

use crate::backend::{BackendArgs, CliError};

pub async fn run(backend: &BackendArgs, status_id: &str) -> Result<(), CliError> {
    if !petrel::repo::statuses::valid_id(status_id) {
        return Err(CliError::Usage(format!("`{status_id}` is not a status id")));
    }
    let table = petrel::store::connect_table(&backend.config()?).await?;
    let r = deliveries::report(table.as_ref(), status_id).await?;
    println!("status {status_id}: {} inboxes targeted", r.targeted);
    println!("  delivered {}\n  pending   {}\n  failed    {}", r.delivered, r.pending, r.failed);
    Ok(())
}
