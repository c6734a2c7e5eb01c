//! Signing in: password guessing is throttled per account and per client address (counters in
//! the table, so they hold across Lambda instances), unknown usernames cost the same argon2
//! verification as known ones, a password change revokes every token, and the owner lists and
//! revokes tokens from the CLI and from a page. Each `petrel serve` test runs on the embedded
//! backend and on moto.
//!
//! `petrel serve` throttles by the socket address. Linux routes all of 127.0.0.0/8 to the
//! loopback interface, so each simulated client binds its own 127.x.y.z source address: the
//! tests then neither share nor inherit an address budget (moto's table outlives a test run).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use petrel_e2e::{moto_env, petrel, Server};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery";

fn rand_name(prefix: &str) -> String {
    format!("{prefix}_{}", &petrel::ids::random_token(4))
}

/// Waits, if need be, until at least 30 s of the current counting window remain: the counters
/// start over at each window (every 15 minutes of wall clock), so a test that counts failures
/// must not straddle a boundary. Waits in about one call in thirty.
async fn clear_of_a_window_boundary() {
    let window = petrel::repo::logins::WINDOW_SECS;
    let left = window - petrel::store::table::now_secs().rem_euclid(window);
    if left < 30 {
        tokio::time::sleep(Duration::from_secs(left as u64 + 1)).await;
    }
}

/// A loopback source address of its own (127.a.b.c with c ≥ 2, never 127.0.0.1).
fn own_address() -> IpAddr {
    let b = petrel::ids::random_token(3);
    let byte = |i: usize| u8::from_str_radix(&b[i * 2..i * 2 + 2], 16).unwrap();
    IpAddr::V4(Ipv4Addr::new(127, byte(0), byte(1), byte(2).clamp(2, 254)))
}

/// An HTTP client that connects from `from`; no redirects are followed, so the authorize form's
/// redirect can be read.
fn client_from(from: IpAddr) -> reqwest::Client {
    reqwest::Client::builder().local_address(Some(from)).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Where a test runs: the data directory (embedded) or the moto environment, with the arguments
/// `petrel` takes for it.
struct Backend {
    args: Vec<String>,
    env: Vec<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    fn embedded() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        let args = vec!["--data".to_string(), dir.path().to_str().unwrap().to_string()];
        Backend { args, env: Vec::new(), _dir: Some(dir) }
    }

    fn moto() -> Option<Backend> {
        let env = moto_env()?;
        Some(Backend { args: vec!["--aws".into()], env, _dir: None })
    }

    /// The embedded backend, and moto unless it is skipped.
    fn all() -> Vec<Backend> {
        let mut all = vec![Backend::embedded()];
        all.extend(Backend::moto());
        all
    }

    fn cli(&self, args: &[&str], stdin: &str) -> std::process::Output {
        let mut full: Vec<&str> = self.args.iter().map(String::as_str).collect();
        full.extend_from_slice(args);
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        petrel(&full, &env, stdin)
    }

    fn cli_ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.cli(args, stdin);
        assert!(out.status.success(), "petrel {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn create_account(&self, name: &str) {
        self.cli_ok(&["account", "create", name], &format!("{PASSWORD}\n"));
    }

    fn serve(&self) -> Server {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        Server::start(&args, &self.env)
    }
}

struct App {
    client_id: String,
    client_secret: String,
}

async fn register(http: &reqwest::Client, base: &str, name: &str) -> App {
    let r = http
        .post(format!("{base}/api/v1/apps"))
        .json(&serde_json::json!({
            "client_name": name,
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    App {
        client_id: v["client_id"].as_str().unwrap().into(),
        client_secret: v["client_secret"].as_str().unwrap().into(),
    }
}

/// A password grant; the response as it came.
async fn password_grant(http: &reqwest::Client, base: &str, app: &App, user: &str, pass: &str) -> reqwest::Response {
    http.post(format!("{base}/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("username", user),
            ("password", pass),
            ("scope", "read write"),
        ])
        .send()
        .await
        .unwrap()
}

async fn token(http: &reqwest::Client, base: &str, app: &App, user: &str) -> String {
    let r = password_grant(http, base, app, user, PASSWORD).await;
    assert_eq!(r.status(), 200, "login of {user}: {}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

async fn me(http: &reqwest::Client, base: &str, token: &str) -> u16 {
    http.get(format!("{base}/api/v1/accounts/verify_credentials"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// `Retry-After` of a 429, which must be a positive number of seconds within the window.
fn retry_after(r: &reqwest::Response) -> u64 {
    let v = r.headers().get("retry-after").expect("a 429 carries Retry-After").to_str().unwrap();
    let secs: u64 = v.parse().expect("Retry-After in seconds");
    assert!((1..=900).contains(&secs), "Retry-After {secs}");
    secs
}

/// The hidden fields of the first form on an HTML page.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for tag in html.split("<input").skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        if !tag.contains("type=\"hidden\"") {
            continue;
        }
        let attr = |name: &str| {
            let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
            Some(tag[start..start + tag[start..].find('"')?].replace("&amp;", "&").replace("&quot;", "\""))
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.push((n, v));
        }
    }
    out
}

/// The sign-in form of `/oauth/authorize` posted with these credentials; the response.
async fn sign_in_form(http: &reqwest::Client, base: &str, app: &App, user: &str, pass: &str) -> reqwest::Response {
    let page = http
        .get(format!(
            "{base}/oauth/authorize?client_id={}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&response_type=code&scope=read",
            app.client_id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let mut form = hidden_fields(&page.text().await.unwrap());
    form.push(("username".into(), user.into()));
    form.push(("password".into(), pass.into()));
    http.post(format!("{base}/oauth/authorize")).header("cookie", cookie).form(&form).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_one_accounts_password_is_throttled() {
    for backend in Backend::all() {
        let name = rand_name("guess");
        let other = rand_name("other");
        backend.create_account(&name);
        backend.create_account(&other);
        let server = backend.serve();
        let attacker = client_from(own_address());
        let app = register(&attacker, &server.base, "guesser").await;
        clear_of_a_window_boundary().await;

        let mut statuses = Vec::new();
        for i in 0..40 {
            let r = password_grant(&attacker, &server.base, &app, &name, &format!("wrong password {i}")).await;
            let status = r.status().as_u16();
            if status == 429 {
                retry_after(&r);
                let body: Value = r.json().await.unwrap();
                assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}");
            }
            statuses.push(status);
        }
        let refused = statuses.iter().position(|s| *s == 429).expect("40 wrong passwords are throttled");
        assert_eq!(refused, 10, "the account's budget is 10 failures: {statuses:?}");
        assert!(statuses[..10].iter().all(|s| *s == 400), "{statuses:?}");
        assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");

        // While throttled, the right password is refused too, from anywhere and by either door:
        // otherwise guessing would go on, only answered differently.
        let owner = client_from(own_address());
        let right = password_grant(&owner, &server.base, &app, &name, PASSWORD).await;
        assert_eq!(right.status(), 429);
        retry_after(&right);
        let upper = password_grant(&owner, &server.base, &app, &name.to_uppercase(), PASSWORD).await;
        assert_eq!(upper.status(), 429, "usernames are counted case-insensitively");
        let form = sign_in_form(&owner, &server.base, &app, &name, PASSWORD).await;
        assert_eq!(form.status(), 429);
        retry_after(&form);
        assert!(form.text().await.unwrap().contains("Too many failed sign-ins"));

        // The attacker's address has spent 10 of its 30: another account still signs in from it.
        token(&attacker, &server.base, &app, &other).await;
        server.stop();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_address_guessing_across_usernames_is_throttled() {
    for backend in Backend::all() {
        let victim = rand_name("victim");
        backend.create_account(&victim);
        let server = backend.serve();
        let attacker = client_from(own_address());
        let app = register(&attacker, &server.base, "sprayer").await;
        clear_of_a_window_boundary().await;

        // Thirty failures over many names (unknown ones, the victim, the sign-in form): each
        // name stays under its own budget of ten.
        for i in 0..30 {
            let r = if i % 10 == 9 {
                sign_in_form(&attacker, &server.base, &app, &victim, "wrong password").await
            } else {
                password_grant(&attacker, &server.base, &app, &rand_name("nobody"), "wrong password").await
            };
            assert!([400, 401].contains(&r.status().as_u16()), "attempt {i}: {}", r.status());
        }
        let next = password_grant(&attacker, &server.base, &app, &rand_name("nobody"), "wrong password").await;
        assert_eq!(next.status(), 429, "the address's budget is 30 failures");
        retry_after(&next);
        let right = password_grant(&attacker, &server.base, &app, &victim, PASSWORD).await;
        assert_eq!(right.status(), 429, "the throttled address cannot sign in even with the right password");

        // The victim signs in from elsewhere: 3 failures on the name are well under its budget.
        token(&client_from(own_address()), &server.base, &app, &victim).await;
        server.stop();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_usernames_take_as_long_as_known_ones() {
    let backend = Backend::embedded();
    let name = rand_name("known");
    backend.create_account(&name);
    let server = backend.serve();
    let http = client_from(own_address());
    let app = register(&http, &server.base, "timer").await;

    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..6 {
        let started = Instant::now();
        assert_eq!(password_grant(&http, &server.base, &app, &name, "wrong password").await.status(), 400);
        known.push(started.elapsed());
        let started = Instant::now();
        let r = password_grant(&http, &server.base, &app, &rand_name("nobody"), "wrong password").await;
        assert_eq!(r.status(), 400);
        unknown.push(started.elapsed());
    }
    // The fastest of each: tests on the other thread slow some samples, never speed one up.
    let fastest = |v: &[Duration]| v.iter().copied().min().unwrap_or_default();
    let (known, unknown) = (fastest(&known), fastest(&unknown));
    // Generous: a verification takes tens of milliseconds; answering without one takes one or two.
    assert!(unknown * 2 >= known, "unknown user answered in {unknown:?}, a known one in {known:?}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_revokes_every_token() {
    for backend in Backend::all() {
        let name = rand_name("changer");
        backend.create_account(&name);
        let server = backend.serve();
        let http = client_from(own_address());
        let app = register(&http, &server.base, "phone").await;
        let first = token(&http, &server.base, &app, &name).await;
        let second = token(&http, &server.base, &app, &name).await;
        assert_eq!(me(&http, &server.base, &first).await, 200);
        assert_eq!(me(&http, &server.base, &second).await, 200);

        let out = backend.cli_ok(&["account", "password", &name], "a brand new password\n");
        assert_eq!(me(&http, &server.base, &first).await, 401);
        assert_eq!(me(&http, &server.base, &second).await, 401);
        assert!(out.contains("revoked"), "the CLI says what it did: {out}");
        // The new password works and its token is valid.
        let r = password_grant(&http, &server.base, &app, &name, "a brand new password").await;
        assert_eq!(r.status(), 200);
        let fresh: Value = r.json().await.unwrap();
        assert_eq!(me(&http, &server.base, fresh["access_token"].as_str().unwrap()).await, 200);
        server.stop();
    }
}

/// `petrel account tokens NAME`: one line per token, its id (a number) first.
fn token_ids(listing: &str, app: &str) -> Vec<String> {
    listing
        .lines()
        .filter(|l| l.contains(app))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|id| id.parse::<u64>().is_ok())
        .map(str::to_string)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_lists_and_revokes_tokens_from_the_cli() {
    for backend in Backend::all() {
        let name = rand_name("lister");
        backend.create_account(&name);
        let server = backend.serve();
        let http = client_from(own_address());
        let phone = register(&http, &server.base, "Phone app").await;
        let laptop = register(&http, &server.base, "Laptop app").await;
        let phone_token = token(&http, &server.base, &phone, &name).await;
        let laptop_token = token(&http, &server.base, &laptop, &name).await;

        let listing = backend.cli_ok(&["account", "tokens", &name], "");
        let phone_ids = token_ids(&listing, "Phone app");
        assert_eq!(phone_ids.len(), 1, "{listing}");
        assert_eq!(token_ids(&listing, "Laptop app").len(), 1, "{listing}");
        assert!(listing.contains("read write"), "scopes are listed: {listing}");
        assert!(!listing.contains(&phone_token), "a token's value is never shown");

        let out = backend.cli_ok(&["account", "revoke", &name, &phone_ids[0]], "");
        assert!(out.contains("revoked"), "{out}");
        assert_eq!(me(&http, &server.base, &phone_token).await, 401);
        assert_eq!(me(&http, &server.base, &laptop_token).await, 200);
        let listing = backend.cli_ok(&["account", "tokens", &name], "");
        assert!(token_ids(&listing, "Phone app").is_empty(), "{listing}");

        let unknown = backend.cli(&["account", "revoke", &name, "no-such-token"], "");
        assert!(!unknown.status.success());
        assert!(String::from_utf8_lossy(&unknown.stderr).contains("not found"));

        backend.cli_ok(&["account", "revoke", &name, "--all"], "");
        assert_eq!(me(&http, &server.base, &laptop_token).await, 401);
        let listing = backend.cli_ok(&["account", "tokens", &name], "");
        assert!(token_ids(&listing, "app").is_empty(), "{listing}");
        server.stop();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_revokes_an_app_from_the_authorized_applications_page() {
    let backend = Backend::embedded();
    let name = rand_name("pager");
    backend.create_account(&name);
    let server = backend.serve();
    let http = client_from(own_address());
    let phone = register(&http, &server.base, "Phone app").await;
    let laptop = register(&http, &server.base, "Laptop app").await;
    let phone_token = token(&http, &server.base, &phone, &name).await;
    let laptop_token = token(&http, &server.base, &laptop, &name).await;
    let url = format!("{}/oauth/authorized_applications", server.base);

    // The page asks for the password; nothing is listed before it is given.
    let page = http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    assert!(html.contains("type=\"password\"") && !html.contains("Phone app"), "{html}");
    let csrf = hidden_fields(&html);

    let post = |form: Vec<(String, String)>, cookie: Option<&str>| {
        let mut req = http.post(&url).form(&form);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        req.send()
    };
    let with = |extra: &[(&str, &str)]| {
        let mut form = csrf.clone();
        form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        form
    };

    let wrong = post(with(&[("username", &name), ("password", "wrong password")]), Some(&cookie)).await.unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(!wrong.text().await.unwrap().contains("Phone app"));
    let forged = post(with(&[("username", &name), ("password", PASSWORD)]), None).await.unwrap();
    assert_eq!(forged.status(), 403, "a post without the page's cookie is refused");

    let listed = post(with(&[("username", &name), ("password", PASSWORD)]), Some(&cookie)).await.unwrap();
    assert_eq!(listed.status(), 200);
    let html = listed.text().await.unwrap();
    assert!(html.contains("Phone app") && html.contains("Laptop app"), "{html}");
    assert!(!html.contains(&phone_token) && !html.contains(PASSWORD), "no secret is echoed");
    // Each listed authorisation can be revoked: a checkbox named `revoke` carries its id.
    let phone_row = html.split("<li").find(|row| row.contains("Phone app")).expect("a row per app");
    let start = phone_row.find("name=\"revoke\" value=\"").unwrap() + "name=\"revoke\" value=\"".len();
    let phone_id = &phone_row[start..start + phone_row[start..].find('"').unwrap()];

    let revoked =
        post(with(&[("username", &name), ("password", PASSWORD), ("revoke", phone_id)]), Some(&cookie)).await.unwrap();
    assert_eq!(revoked.status(), 200);
    let html = revoked.text().await.unwrap();
    assert!(!html.contains("Phone app") && html.contains("Laptop app"), "{html}");
    assert_eq!(me(&http, &server.base, &phone_token).await, 401);
    assert_eq!(me(&http, &server.base, &laptop_token).await, 200);

    let all =
        post(with(&[("username", &name), ("password", PASSWORD), ("revoke_all", "1")]), Some(&cookie)).await.unwrap();
    assert_eq!(all.status(), 200);
    assert_eq!(me(&http, &server.base, &laptop_token).await, 401);
    server.stop();
}

/// In process, where argon2's work can be counted (`petrel::crypto::verification_counts`; the
/// other tests of this file run `petrel serve` in processes of their own, so the counts here are
/// this test's alone), and the store operations of each outcome.
#[tokio::test(flavor = "multi_thread")]
async fn every_sign_in_spends_one_verification_and_a_success_writes_no_counter() {
    let p = petrel_e2e::InProcess::new().await;
    let table = p.ctx.stores.table.as_ref();
    let (app, secret) = petrel::repo::oauth::create_app(
        table,
        "counter",
        None,
        vec!["urn:ietf:wg:oauth:2.0:oob".into()],
        vec!["read".into()],
    )
    .await
    .unwrap();
    let grant = |user: &str, pass: &str| {
        format!(
            "grant_type=password&client_id={}&client_secret={secret}&username={user}&password={}",
            app.client_id,
            pass.replace(' ', "+")
        )
    };
    let counts = petrel::crypto::verification_counts;

    let before = counts();
    let (status, _, unknown_ops) = p.call("POST", "/oauth/token", Some(&grant("nobody_here", "wrong password"))).await;
    assert_eq!(status, 400);
    let after = counts();
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1), "an unknown user is verified against the dummy hash");

    let (status, _, wrong_ops) = p.call("POST", "/oauth/token", Some(&grant("owner", "wrong password"))).await;
    assert_eq!(status, 400);
    let later = counts();
    assert_eq!((later.0 - after.0, later.1 - after.1), (1, 0), "a known user is verified against its own hash");

    let (status, body, ok_ops) = p.call("POST", "/oauth/token", Some(&grant("owner", PASSWORD))).await;
    assert_eq!(status, 200, "{body}");
    // Every attempt reads both counters in one batch get; only failures write them.
    for ops in [&unknown_ops, &wrong_ops, &ok_ops] {
        assert_eq!(ops.table_batch_get, 1, "{ops:?}");
    }
    assert_eq!(unknown_ops.table_update, 2, "failure counted per name and address: {unknown_ops:?}");
    assert_eq!(wrong_ops.table_update, 2, "{wrong_ops:?}");
    assert_eq!(ok_ops.table_update, 0, "a success writes no counter: {ok_ops:?}");
    assert_eq!(ok_ops.table_get, 3, "app, username claim, profile: {ok_ops:?}");
    assert_eq!(ok_ops.table_transact, 1, "the token and its list entry: {ok_ops:?}");
}
