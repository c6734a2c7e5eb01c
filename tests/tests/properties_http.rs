//! Property tests through the HTTP handlers (in process, embedded backend): arbitrary query
//! strings, WebFinger resources, ids in paths and inbox requests get an answer below 500 and
//! never a panic. `PROPTEST_CASES` sets the number of cases (256 by default).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel_e2e::InProcess;
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Percent-encodes everything but unreserved characters, so any string can ride in a query.
fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn query_strings_and_path_ids_never_fail_the_server() {
    let rt = runtime();
    let p = rt.block_on(InProcess::new());
    let routes = [
        "/api/v1/timelines/public",
        "/api/v1/timelines/home",
        "/api/v1/accounts/search",
        "/api/v2/search",
        "/api/v1/notifications",
        "/api/v2/notifications",
        "/api/v1/markers",
    ];
    proptest!(|(route in 0..routes.len(), query in "[a-z_\\[\\]=&%0-9.-]{0,120}", anon in any::<bool>())| {
        let token = (!anon).then_some(p.token.as_str());
        let uri = format!("{}?{query}", routes[route]);
        let (status, body, _) = rt.block_on(p.call_as(token, "GET", &uri, None));
        prop_assert!(status < 500, "{uri}: {status} {body}");
    });
    proptest!(|(id in ".{0,40}", suffix in prop_oneof![Just(""), Just("/context"), Just("/favourite"), Just("/history")])| {
        let method = if suffix == "/favourite" { "POST" } else { "GET" };
        let uri = format!("/api/v1/statuses/{}{suffix}", encode(&id));
        let (status, body, _) = rt.block_on(p.call_as(Some(&p.token), method, &uri, None));
        prop_assert!(status < 500, "{uri}: {status} {body}");
        let uri = format!("/api/v2/notifications/{}", encode(&id));
        let (status, body, _) = rt.block_on(p.call_as(Some(&p.token), "GET", &uri, None));
        prop_assert!(status < 500, "{uri}: {status} {body}");
    });
}

#[test]
fn webfinger_resources_never_fail_the_server() {
    let rt = runtime();
    let p = rt.block_on(InProcess::new());
    let resource =
        prop_oneof![".{0,80}", "acct:[a-z@.:_-]{0,40}", "(https?://)?localhost:8080/(users/|@)[a-z%./]{0,20}",];
    proptest!(|(r in resource)| {
        let uri = format!("/.well-known/webfinger?resource={}", encode(&r));
        let (status, body, _) = rt.block_on(p.call_as(None, "GET", &uri, None));
        prop_assert!(matches!(status, 200 | 400 | 404), "{r:?}: {status} {body}");
    });
}

#[test]
fn inbox_requests_never_fail_the_server() {
    use tower::ServiceExt;
    let rt = runtime();
    let p = rt.block_on(InProcess::new());
    let inbox = inbox::router(p.ctx.clone());
    let header = prop_oneof![
        Just("signature"),
        Just("signature-input"),
        Just("digest"),
        Just("content-digest"),
        Just("date"),
        Just("authorization"),
        Just("content-type"),
    ];
    let body = prop_oneof![
        ".{0,200}".boxed(),
        Just(r#"{"id":"https://a.example/1","type":"Follow","actor":"https://a.example/u"}"#.to_string()).boxed(),
    ];
    proptest!(|(headers in prop::collection::vec((header.clone(), "[ -~]{0,120}"), 0..6), body in body.clone())| {
        let mut req = axum::http::Request::builder().method("POST").uri("/users/owner/inbox");
        for (name, value) in &headers {
            req = req.header(*name, value.as_str());
        }
        let response = rt.block_on(inbox.clone().oneshot(req.body(axum::body::Body::from(body.clone())).unwrap())).unwrap();
        prop_assert!(response.status().as_u16() < 500, "{headers:?} {body:?}: {}", response.status());
    });
}
