//! The domain a deployment serves is recorded by `petrel account create`; functions of a stack
//! without a custom domain read it at start (`PETREL_DOMAIN_FROM_TABLE`), and no command can
//! serve the same data under a second domain.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel::{Config, ConnectError, Ctx};
use petrel_e2e::petrel;

fn from_table(data: &str) -> Config {
    Config::from_vars(|k| match k {
        "PETREL_DATA" => Some(data.to_string()),
        "PETREL_DOMAIN_FROM_TABLE" => Some("true".into()),
        "PETREL_SCHEME" => Some("https".into()),
        "PETREL_MEDIA_BASE" => Some("https://{domain}".into()),
        _ => None,
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn functions_take_the_recorded_domain_and_a_second_domain_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();

    // Nothing recorded yet: starting fails (Lambda retries the start on the next request).
    match Ctx::connect(from_table(data)).await {
        Err(ConnectError::Unconfigured) => {}
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("started without a domain"),
    }

    let created = petrel(
        &["--data", data, "--domain", "d111.cloudfront.net", "account", "create", "alice"],
        &[],
        "correct horse battery\n",
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

    let ctx = Ctx::connect(from_table(data)).await.unwrap();
    assert_eq!(ctx.config.base_url(), "https://d111.cloudfront.net");
    assert_eq!(ctx.config.handle_domain, "d111.cloudfront.net");
    assert_eq!(ctx.config.media_base, "https://d111.cloudfront.net");

    // Another account under the same domain is fine; under another domain it is refused.
    let bob = petrel(
        &["--data", data, "--domain", "d111.cloudfront.net", "account", "create", "bob"],
        &[],
        "correct horse battery\n",
    );
    assert!(bob.status.success(), "{}", String::from_utf8_lossy(&bob.stderr));
    let other = petrel(
        &["--data", data, "--domain", "social.example.com", "account", "create", "carol"],
        &[],
        "correct horse battery\n",
    );
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(!other.status.success() && stderr.contains("served as d111.cloudfront.net"), "{stderr}");
    let table = petrel::store::embedded::EmbeddedTable::new(petrel::store::embedded::Db::open(dir.path()).unwrap());
    assert!(petrel::repo::accounts::by_username(&table, "carol").await.unwrap().is_none(), "carol was created anyway");
}
