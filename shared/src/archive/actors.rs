//! Remote accounts as actor documents again, for `followers.json` and friends. Petrel keeps
//! what it read of an actor (`convert::remote_account`), not the document; this writes back the
//! properties that function reads, so a restored account is the one that was exported.

use serde_json::{json, Value};

use crate::activitypub::vocab;
use crate::clock::iso8601_ms;
use crate::model::Account;

/// The actor document of a remote account (`None` for a local one).
pub fn remote_actor_document(a: &Account) -> Option<Value> {
    let r = a.remote.as_ref()?;
    let mut doc = json!({
        "@context": vocab::context(),
        "id": r.uri,
        "type": if r.actor_type.is_empty() { "Person" } else { r.actor_type.as_str() },
        "preferredUsername": a.username,
        "name": a.display_name,
        "summary": a.note,
        "url": r.url,
        "inbox": r.inbox,
        "manuallyApprovesFollowers": a.locked,
        "discoverable": a.discoverable,
        "published": iso8601_ms(a.created_at),
        "publicKey": { "id": r.key_id, "owner": r.uri, "publicKeyPem": a.public_key_pem },
        "attachment": a.fields.iter().map(|(name, value)| json!({
            "type": "PropertyValue", "name": name, "value": value,
        })).collect::<Vec<_>>(),
    });
    let optional = [
        ("outbox", r.outbox.as_ref().map(|v| json!(v))),
        ("followers", r.followers.as_ref().map(|v| json!(v))),
        ("endpoints", r.shared_inbox.as_ref().map(|s| json!({ "sharedInbox": s }))),
        ("icon", r.avatar_url.as_ref().map(|u| json!({ "type": "Image", "url": u }))),
        ("image", r.header_url.as_ref().map(|u| json!({ "type": "Image", "url": u }))),
        ("movedTo", r.moved_to.as_ref().map(|v| json!(v))),
        ("alsoKnownAs", (!r.also_known_as.is_empty()).then(|| json!(r.also_known_as))),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            doc[name] = v;
        }
    }
    Some(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activitypub::convert::remote_account;

    #[test]
    fn a_remote_account_survives_document_and_back() {
        let doc = json!({
            "id": "https://b.example/users/bo", "type": "Service", "preferredUsername": "bo", "name": "Bo",
            "summary": "<p>hi</p>", "url": "https://b.example/@bo", "inbox": "https://b.example/users/bo/inbox",
            "outbox": "https://b.example/users/bo/outbox", "followers": "https://b.example/users/bo/followers",
            "endpoints": { "sharedInbox": "https://b.example/inbox" }, "manuallyApprovesFollowers": true,
            "discoverable": true, "published": "2024-01-02T00:00:00.000Z",
            "icon": { "type": "Image", "url": "https://b.example/a.png" }, "alsoKnownAs": ["https://c.example/u/bo"],
            "publicKey": { "id": "https://b.example/users/bo#main-key", "owner": "https://b.example/users/bo",
                           "publicKeyPem": "PEM" },
            "attachment": [{ "type": "PropertyValue", "name": "web", "value": "<a href=\"https://bo.example/\" rel=\"nofollow noopener noreferrer\">bo.example</a>" }],
        });
        let first = remote_account(&doc, "1".into(), 5).unwrap();
        let again = remote_account(&remote_actor_document(&first).unwrap(), "1".into(), 5).unwrap();
        assert_eq!(again, first);
        assert!(first.bot && first.locked && first.remote.as_ref().unwrap().shared_inbox.is_some());
    }
}
