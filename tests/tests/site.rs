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

/// `vars` name the backend; the domains come from the arguments.
fn configured(vars: &[(String, String)], domain: Option<&str>, handle_domain: Option<&str>) -> Config {
    Config::from_vars(|k| match k {
        "PETREL_DOMAIN" => domain.map(str::to_string),
        "PETREL_HANDLE_DOMAIN" => handle_domain.map(str::to_string),
        "PETREL_DOMAIN_FROM_TABLE" => domain.is_none().then(|| "true".to_string()),
        "PETREL_SCHEME" => Some("https".into()),
        other => vars.iter().find(|(name, _)| name == other).map(|(_, v)| v.clone()),
    })
    .unwrap()
}

/// A stack given `Domain` after its data was recorded under another refuses to start, naming
/// both and the way out; the check is the one read at start that a stack without `Domain` makes
/// anyway.
async fn a_configured_domain_must_match_the_recorded_one(vars: Vec<(String, String)>) {
    // Nothing recorded yet (a new stack with Domain, before `account create`): it starts, after
    // one read.
    let ctx = Ctx::connect(configured(&vars, Some("social.example.com"), None)).await.unwrap();
    let ops = ctx.stores.ops.snapshot();
    assert_eq!((ops.table_get, ops.total()), (1, 1), "{ops:?}");

    let recorded =
        petrel::repo::site::Site { domain: "d111.cloudfront.net".into(), handle_domain: "d111.cloudfront.net".into() };
    petrel::repo::site::claim(ctx.stores.table.as_ref(), &recorded).await.unwrap();

    for (domain, handles) in [("social.example.com", None), ("d111.cloudfront.net", Some("example.com"))] {
        match Ctx::connect(configured(&vars, Some(domain), handles)).await {
            Err(e @ ConnectError::DomainMismatch { .. }) => {
                let message = e.to_string();
                for part in [domain, "belongs to d111.cloudfront.net", "Domain=d111.cloudfront.net", "new table"] {
                    assert!(message.contains(part), "{part:?} missing from: {message}");
                }
            }
            Err(e) => panic!("unexpected error: {e}"),
            Ok(_) => panic!("started as {domain} (handles {handles:?}) on d111.cloudfront.net's data"),
        }
    }

    // The recorded domain, given or read from the table: one read either way.
    for domain in [Some("d111.cloudfront.net"), Some("D111.cloudfront.net"), None] {
        let ctx = Ctx::connect(configured(&vars, domain, None)).await.unwrap();
        assert_eq!(ctx.config.base_url(), "https://d111.cloudfront.net");
        let ops = ctx.stores.ops.snapshot();
        assert_eq!((ops.table_get, ops.total()), (1, 1), "{ops:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_domain_must_match_the_recorded_one_embedded() {
    let dir = tempfile::tempdir().unwrap();
    let vars = vec![("PETREL_DATA".to_string(), dir.path().to_str().unwrap().to_string())];
    a_configured_domain_must_match_the_recorded_one(vars).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configured_domain_must_match_the_recorded_one_on_moto() {
    let Some(vars) = petrel_e2e::fresh_aws("petrel-site").await else { return };
    a_configured_domain_must_match_the_recorded_one(vars).await;
}
