//! Who sees what: every route that takes a status id, and the account's status listing, for each
//! visibility × viewer, against a table of expected answers — on the embedded backend and on the
//! AWS adapters (moto). Also: pagination links name only what a page returns.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel_e2e::InProcess;

const VISIBILITIES: [&str; 4] = ["public", "unlisted", "private", "direct"];
const VIEWERS: [&str; 6] = ["author", "follower", "mentioned", "stranger", "anonymous", "blocked"];

/// Whether `viewer` may see a status of `visibility` (Mastodon's rule, written out as a table).
fn sees(viewer: &str, visibility: &str) -> bool {
    let open = matches!(visibility, "public" | "unlisted");
    match viewer {
        "author" | "mentioned" => true,
        "follower" => visibility != "direct",
        "stranger" | "anonymous" => open,
        "blocked" => false,
        other => unreachable!("{other}"),
    }
}

/// The expected HTTP status of `route` on a status of `visibility` for `viewer`.
fn expected(route: &str, viewer: &str, visibility: &str) -> u16 {
    let open = matches!(visibility, "public" | "unlisted");
    let signed_in_only = !route.starts_with("GET ") || route == "GET source";
    if signed_in_only && viewer == "anonymous" {
        return 401;
    }
    if !sees(viewer, visibility) {
        return 404;
    }
    match route {
        "POST reblog" if !open => 422,
        "POST pin" | "POST unpin" if !(viewer == "author" && open) => 422,
        "GET source" if viewer != "author" => 404,
        _ => 200,
    }
}

const ROUTES: [(&str, &str); 14] = [
    ("GET ", ""),
    ("GET context", "/context"),
    ("GET favourited_by", "/favourited_by"),
    ("GET reblogged_by", "/reblogged_by"),
    ("GET history", "/history"),
    ("GET source", "/source"),
    ("POST favourite", "/favourite"),
    ("POST unfavourite", "/unfavourite"),
    ("POST bookmark", "/bookmark"),
    ("POST unbookmark", "/unbookmark"),
    ("POST reblog", "/reblog"),
    ("POST unreblog", "/unreblog"),
    ("POST pin", "/pin"),
    ("POST unpin", "/unpin"),
];

async fn matrix(p: InProcess) {
    let table = p.ctx.stores.table.as_ref();
    let author = p.account.clone();
    let mut tokens: Vec<(&str, Option<String>)> = vec![("author", Some(p.token.clone()))];
    for name in ["follower", "mentioned", "stranger", "blocked"] {
        let (account, token) = p.user(name).await;
        if name == "follower" {
            // Relationship state as a follow leaves it: a follower entry under the author.
            petrel::repo::follows::add_follower(table, &author, &account, "f-1").await.unwrap();
        }
        if name == "blocked" {
            let (status, body, _) =
                p.call_as(Some(&p.token), "POST", &format!("/api/v1/accounts/{}/block", account.id), None).await;
            assert_eq!(status, 200, "{body}");
        }
        tokens.push((name, Some(token)));
    }
    tokens.push(("anonymous", None));
    let token_of = |viewer: &str| tokens.iter().find(|(n, _)| *n == viewer).unwrap().1.clone();

    let mut ids = Vec::new();
    for vis in VISIBILITIES {
        let form = format!("status=hello+%40mentioned+%23matrix&visibility={vis}");
        let (status, body, _) = p.call_as(Some(&p.token), "POST", "/api/v1/statuses", Some(&form)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["visibility"], vis);
        ids.push((vis, body["id"].as_str().unwrap().to_string()));
    }

    let mut wrong = Vec::new();
    for (vis, id) in &ids {
        for viewer in VIEWERS {
            let token = token_of(viewer);
            for (route, suffix) in ROUTES {
                let method = route.split(' ').next().unwrap();
                let uri = format!("/api/v1/statuses/{id}{suffix}");
                let (got, body, _) = p.call_as(token.as_deref(), method, &uri, None).await;
                let want = expected(route, viewer, vis);
                if got != want {
                    wrong.push(format!("{route:<18} {vis:<8} as {viewer:<9}: {got}, expected {want} ({body})"));
                }
                // Whatever answers 200 renders the status it was asked about, nothing else.
                if got == 200 && route.starts_with("POST") && route != "POST reblog" && body["id"] != id.as_str() {
                    wrong.push(format!("{route} {vis} as {viewer}: rendered {}", body["id"]));
                }
            }
            // The author's status listing shows exactly what the viewer may see.
            let uri = format!("/api/v1/accounts/{}/statuses?limit=40", author.id);
            let (got, body, _) = p.call_as(token.as_deref(), "GET", &uri, None).await;
            assert_eq!(got, 200, "{body}");
            let listed = body.as_array().unwrap().iter().any(|s| s["id"] == id.as_str());
            if listed != sees(viewer, vis) {
                wrong.push(format!("listing {vis} as {viewer}: listed={listed}"));
            }
        }
    }
    // Only the author deletes; a stranger's try changes nothing.
    for (vis, id) in &ids {
        for viewer in ["mentioned", "stranger", "follower"] {
            let (got, _, _) =
                p.call_as(token_of(viewer).as_deref(), "DELETE", &format!("/api/v1/statuses/{id}"), None).await;
            if got != 404 {
                wrong.push(format!("DELETE {vis} as {viewer}: {got}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} wrong answers:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test]
async fn every_status_route_applies_the_visibility_rule_embedded() {
    matrix(InProcess::new().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_status_route_applies_the_visibility_rule_on_moto() {
    let Some(vars) = petrel_e2e::fresh_aws("petrel-vis").await else { return };
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    matrix(InProcess::with_vars(&vars).await).await;
}

/// The Link header of a public listing names only statuses it returned: the newest direct or
/// followers-only post (its id is its time) must not show through.
#[tokio::test]
async fn pagination_links_name_only_what_the_page_returns() {
    let p = InProcess::new().await;
    let mut public = Vec::new();
    for i in 0..3 {
        let (_, body, _) =
            p.call_as(Some(&p.token), "POST", "/api/v1/statuses", Some(&format!("status=open+{i}"))).await;
        public.push(body["id"].as_str().unwrap().to_string());
    }
    let mut hidden = Vec::new();
    for vis in ["private", "direct"] {
        let form = format!("status=secret&visibility={vis}");
        let (_, body, _) = p.call_as(Some(&p.token), "POST", "/api/v1/statuses", Some(&form)).await;
        hidden.push(body["id"].as_str().unwrap().to_string());
    }
    let (_, stranger) = p.user("stranger").await;
    let (_, dm, _) =
        p.call_as(Some(&p.token), "POST", "/api/v1/statuses", Some("status=later&visibility=direct")).await;
    let uri = format!("/api/v1/accounts/{}/statuses?limit=2", p.account.id);
    for token in [None, Some(stranger.as_str())] {
        let (status, body, link) = p.call_as(token, "GET", &uri, None).await;
        assert_eq!(status, 200);
        let got: Vec<&str> = body.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        // The page is filled from further on: the two newest public posts, though hidden ones are newer.
        assert_eq!(got, [public[2].as_str(), public[1].as_str()]);
        let link = link.expect("a full page links on");
        for h in hidden.iter().chain([&dm["id"].as_str().unwrap().to_string()]) {
            assert!(!link.contains(h.as_str()), "link {link} names hidden status {h}");
        }
        assert!(
            link.contains(&format!("max_id={}", public[1])) && link.contains(&format!("min_id={}", public[2])),
            "{link}"
        );
    }
    // The public timeline, read signed out, links the same way.
    let (_, body, link) = p.call_as(None, "GET", "/api/v1/timelines/public?limit=2", None).await;
    assert_eq!(body.as_array().unwrap().len(), 2);
    let link = link.unwrap();
    assert!(hidden.iter().all(|h| !link.contains(h.as_str())), "{link}");
}
