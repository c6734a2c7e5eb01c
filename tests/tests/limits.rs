//! The status length limit comes from configuration: clients read it from the instance, and the
//! API enforces it on posting and editing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use petrel_e2e::InProcess;

#[tokio::test]
async fn the_configured_length_is_advertised_and_enforced() {
    let p = InProcess::with_vars(&[("PETREL_MAX_CHARACTERS", "20")]).await;
    let (_, instance, _) = p.call("GET", "/api/v2/instance", None).await;
    assert_eq!(instance["configuration"]["statuses"]["max_characters"], 20);
    let (status, body, _) = p.call("POST", "/api/v1/statuses", Some("status=aaaaaaaaaaaaaaaaaaaaa")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("limit of 20"), "{body}");
    let (status, posted, _) = p.call("POST", "/api/v1/statuses", Some("status=aaaaaaaaaaaaaaaaaaaa")).await;
    assert_eq!(status, 200, "{posted}");
    let id = posted["id"].as_str().unwrap();
    let (status, _, _) = p.call("PUT", &format!("/api/v1/statuses/{id}"), Some("status=bbbbbbbbbbbbbbbbbbbbb")).await;
    assert_eq!(status, 422);
}
