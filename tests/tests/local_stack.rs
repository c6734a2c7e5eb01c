//! The foundation end to end: the `petrel` binary's serve and account commands on the embedded
//! backend and on the AWS adapters against moto.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel::store::Blobs;
use petrel_e2e::{moto_env, petrel, Server};

fn rand_name(prefix: &str) -> String {
    format!("{prefix}_{}", &petrel::ids::random_token(4))
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_and_keeps_data_across_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_string();

    let out = petrel(&["--data", &data, "account", "create", "alice"], &[], "correct horse battery\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("created @alice@localhost:8080"));

    let server = Server::start(&["--data", &data], &[]);
    let http = reqwest::Client::new();
    let health = http.get(format!("{}/health", server.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"));
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let missing = http.get(format!("{}/no/such/route", server.base)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error"], "Record not found", "Mastodon-style error body");

    // An object in the embedded bucket is served at its public URL, before and after a restart.
    let blobs =
        petrel::store::embedded::EmbeddedBlobs::open(&dir.path().join("blobs"), &format!("{}/media", server.base))
            .unwrap();
    let etag = blobs.put("media/a/original.png", bytes_of("png bytes"), "image/png").await.unwrap();
    let url = blobs.public_url("media/a/original.png");
    let got = http.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    let base = server.base.clone();
    server.stop();

    let server = Server::start(&["--data", &data], &[]);
    let url = url.replace(&base, &server.base);
    let got = http.get(&url).send().await.unwrap();
    assert_eq!(got.status(), 200, "object lost across restart");
    assert_eq!(got.headers()["etag"].to_str().unwrap(), etag);
    let cached = http.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(cached.status(), 304);
    server.stop();

    // The account survived both runs: the name is still taken, and its password can be changed.
    let again = petrel(&["--data", &data, "account", "create", "alice"], &[], "another password\n");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("is taken"));
    let pw = petrel(&["--data", &data, "account", "password", "alice"], &[], "a new password\n");
    assert!(pw.status.success(), "{}", String::from_utf8_lossy(&pw.stderr));
    let table = petrel::store::embedded::EmbeddedTable::new(petrel::store::embedded::Db::open(dir.path()).unwrap());
    let alice = petrel::repo::accounts::by_username(&table, "ALICE")
        .await
        .unwrap()
        .expect("usernames match case-insensitively");
    assert!(petrel::crypto::verify_password("a new password", &alice.password_hash));
    assert!(alice.public_key_pem.contains("BEGIN PUBLIC KEY"));
}

fn bytes_of(s: &'static str) -> axum::body::Bytes {
    axum::body::Bytes::from_static(s.as_bytes())
}

#[test]
fn bad_input_to_the_cli_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let cases: [(&[&str], &str, &str); 4] = [
        (&["--data", data, "account", "create", "no spaces"], "pw12345678\n", "not a valid username"),
        (&["--data", data, "account", "create", "bob"], "short\n", "at least 8 characters"),
        (&["--data", data, "account", "create", "bob"], "\n", "no password given"),
        (
            &["--data", data, "--domain", "example.com/path", "account", "create", "bob"],
            "pw12345678\n",
            "PETREL_DOMAIN",
        ),
    ];
    for (args, stdin, expected) in cases {
        let out = petrel(args, &[], stdin);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let nobody = petrel(&["--data", data, "account", "password", "nobody"], &[], "pw12345678\n");
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("not found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn account_commands_and_serve_on_moto() {
    let Some(env) = moto_env() else { return };
    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let name = rand_name("bob");

    let out = petrel(&["--aws", "account", "create", &name], &env_ref, "correct horse battery\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = petrel(&["--aws", "account", "create", &name], &env_ref, "correct horse battery\n");
    assert!(String::from_utf8_lossy(&again.stderr).contains("is taken"));
    let pw = petrel(&["--aws", "account", "password", &name], &env_ref, "another password\n");
    assert!(pw.status.success(), "{}", String::from_utf8_lossy(&pw.stderr));

    // The account is in DynamoDB, readable through the same repository code.
    let sdk = petrel::store::aws::load_sdk_config().await;
    let table = petrel::store::aws::DynamoTable::new(&sdk, std::env::var("PETREL_TABLE").unwrap());
    let account = petrel::repo::accounts::by_username(&table, &name).await.unwrap().unwrap();
    assert!(petrel::crypto::verify_password("another password", &account.password_hash));

    // A table that does not exist is named in the error, not a panic.
    let mut missing = env_ref.clone();
    missing.push(("PETREL_TABLE", "petrel-no-such-table"));
    let out = petrel(&["--aws", "account", "create", &rand_name("x")], &missing, "correct horse battery\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("missing resource"), "{stderr}");

    let server = Server::start(&["--aws"], &env);
    let health = reqwest::get(format!("{}/health", server.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    server.stop();
}
