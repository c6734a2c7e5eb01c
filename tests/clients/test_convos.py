"""Conversations, thread mutes, account notes, domain blocks, posting defaults, account status
filters, `statuses?id[]=`, media deletion and `media_attributes` on edit (issue #16, items 5 and
7) through Mastodon.py's own methods, every new response checked against the Mastodon OpenAPI
schema; and Mastodon's error answers on every route family of the running server (item 8)."""
import io
import secrets

import pytest
import requests
from mastodon import MastodonAPIError
from PIL import Image

from conftest import login
from mastodon_schema import check


def login_as(server, username):
    return login(server, username, "convos test", website="https://app.example/")


@pytest.fixture(scope="module")
def pair(server):
    """The owner and a second local account (created with the same CLI arguments and table)."""
    name = server.create_account("b")
    return login_as(server, server.username), login_as(server, name), name


def auth(api):
    return {"Authorization": "Bearer " + api.access_token}


def test_conversations(pair, server):
    owner, bob, bob_name = pair
    dm = owner.status_post(f"@{bob_name} a direct word", visibility="direct")
    convs = bob.conversations()
    assert [c["id"] for c in convs] == [dm["id"]]
    assert convs[0]["unread"] is True and convs[0]["last_status"]["id"] == dm["id"]
    assert [a["acct"] for a in convs[0]["accounts"]] == [server.username]
    raw = requests.get(f"{server.base}/api/v1/conversations", headers=auth(bob))
    assert raw.status_code == 200
    for c in raw.json():
        check(c, "Conversation")
    reply = bob.status_post(f"@{server.username} and back", visibility="direct", in_reply_to_id=dm["id"])
    mine = owner.conversations()
    assert [(c["id"], c["last_status"]["id"], c["unread"]) for c in mine] == [(dm["id"], reply["id"], True)]
    read = owner.conversations_read(dm["id"])
    assert read["unread"] is False
    check(requests.post(f"{server.base}/api/v1/conversations/{dm['id']}/read", headers=auth(owner)).json(), "Conversation")
    gone = requests.delete(f"{server.base}/api/v1/conversations/{dm['id']}", headers=auth(owner))
    assert (gone.status_code, gone.json()) == (200, {})
    assert owner.conversations() == []
    assert [c["id"] for c in bob.conversations()] == [dm["id"]], "removed for the owner only"


def test_status_mute_and_flags(pair, server):
    owner, bob, _ = pair
    post = owner.status_post("a thread to mute " + secrets.token_hex(3))
    muted = owner.status_mute(post["id"])
    assert muted["muted"] is True
    check(requests.get(f"{server.base}/api/v1/statuses/{post['id']}", headers=auth(owner)).json(), "Status")
    bob.status_reblog(post["id"])
    assert not [n for n in owner.notifications() if n["status"] and n["status"]["id"] == post["id"]], \
        "no notification from a muted thread"
    assert owner.status_unmute(post["id"])["muted"] is False
    # `reblogged` wherever the viewer boosted: in the author's statuses as bob sees them.
    seen = {s["id"]: s["reblogged"] for s in bob.account_statuses(owner.me()["id"])}
    assert seen[post["id"]] is True
    other = owner.status_post("another")
    assert [s["id"] for s in owner.statuses([other["id"], post["id"]])] == [other["id"], post["id"]]
    for s in requests.get(f"{server.base}/api/v1/statuses", params={"id[]": [post["id"]]}, headers=auth(bob)).json():
        check(s, "Status")
        assert s["reblogged"] is True


def test_account_statuses_filters(pair):
    owner, bob, _ = pair
    bob_id = bob.me()["id"]
    tagged = bob.status_post("about #Petrel " + secrets.token_hex(3))
    plain = bob.status_post("plain " + secrets.token_hex(3))
    boost = bob.status_reblog(owner.status_post("to boost")["id"])
    ids = lambda **kw: [s["id"] for s in owner.account_statuses(bob_id, **kw)]
    assert tagged["id"] in ids(tagged="petrel") and plain["id"] not in ids(tagged="petrel")
    assert boost["id"] in ids() and boost["id"] not in ids(exclude_reblogs=True)
    assert ids(only_media=True) == []


def test_account_note_set(pair, server):
    owner, bob, _ = pair
    bob_id = bob.me()["id"]
    rel = owner.account_note_set(bob_id, "met at the harbour")
    assert rel["note"] == "met at the harbour"
    raw = requests.get(f"{server.base}/api/v1/accounts/relationships", params={"id[]": bob_id}, headers=auth(owner)).json()
    check(raw[0], "Relationship")
    assert raw[0]["note"] == "met at the harbour"
    assert owner.account_note_set(bob_id, "")["note"] == ""


def test_domain_block(pair, server):
    owner, _, _ = pair
    owner.domain_block("Spam.Example")
    assert owner.domain_blocks() == ["spam.example"]
    raw = requests.get(f"{server.base}/api/v1/domain_blocks", headers=auth(owner))
    assert raw.status_code == 200 and raw.json() == ["spam.example"]
    owner.domain_unblock("spam.example")
    assert owner.domain_blocks() == []
    bad = requests.post(f"{server.base}/api/v1/domain_blocks", headers=auth(owner), data={"domain": "not a domain"})
    assert bad.status_code == 422 and "error" in bad.json()


def test_posting_defaults_and_role(pair, server):
    _, bob, _ = pair
    me = bob.account_update_credentials(default_privacy="private", default_sensitive=True, default_language="de")
    assert (me["source"]["privacy"], me["source"]["sensitive"], me["source"]["language"]) == ("private", True, "de")
    raw = requests.get(f"{server.base}/api/v1/accounts/verify_credentials", headers=auth(bob)).json()
    check(raw, "CredentialAccount")
    # Mastodon.py sends `sensitive=0` unless told None, which would override the default (in
    # Mastodon too).
    post = bob.status_post("with the defaults", sensitive=None)
    assert (post["visibility"], post["sensitive"], post["language"]) == ("private", True, "de")
    post = bob.status_post("said otherwise", visibility="public", language="en")
    assert (post["visibility"], post["language"]) == ("public", "en")
    bob.account_update_credentials(default_privacy="public", default_sensitive=False, default_language="")


def test_media_delete_and_edit_attributes(pair, server):
    owner, _, _ = pair
    img = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 200)).save(img, "PNG")
    loose = owner.media_post(io.BytesIO(img.getvalue()), mime_type="image/png", description="never posted")
    gone = requests.delete(f"{server.base}/api/v1/media/{loose['id']}", headers=auth(owner))
    assert (gone.status_code, gone.json()) == (200, {})
    assert requests.get(f"{server.base}/api/v1/media/{loose['id']}", headers=auth(owner)).status_code == 404
    used = owner.media_post(io.BytesIO(img.getvalue()), mime_type="image/png", description="first words")
    post = owner.status_post("with a picture", media_ids=[used["id"]])
    refused = requests.delete(f"{server.base}/api/v1/media/{used['id']}", headers=auth(owner))
    assert refused.status_code == 422 and "error" in refused.json()
    edited = owner.status_update(post["id"], "with a picture, described",
                                 media_attributes=[owner.generate_media_edit_attributes(used["id"], description="better words",
                                                                                        focus=(0.5, -0.25))])
    assert edited["media_attachments"][0]["description"] == "better words"
    assert edited["media_attachments"][0]["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    check(requests.get(f"{server.base}/api/v1/statuses/{post['id']}", headers=auth(owner)).json(), "Status")
    with pytest.raises(MastodonAPIError):
        owner.status_update(post["id"], "x", media_attributes=[{"id": "1234567", "description": "not mine"}])


# Every route family of the running server, the media function's included.
UNKNOWN = ["/api/v1/nothing", "/api/v2/nothing", "/api/v1/media/1/nothing", "/api/v1/statuses/1/nothing",
           "/oauth/nothing", "/.well-known/nothing"]
WRONG_METHOD = [("DELETE", "/api/v1/timelines/home"), ("PATCH", "/api/v1/media"), ("PATCH", "/api/v2/media"),
                ("GET", "/api/v1/accounts/update_credentials"), ("PUT", "/api/v1/conversations"),
                ("GET", "/oauth/token"), ("DELETE", "/oauth/authorize"), ("POST", "/.well-known/webfinger"),
                ("PUT", "/.well-known/oauth-authorization-server")]
NEED_TOKEN = [("GET", "/api/v1/timelines/home"), ("GET", "/api/v1/conversations"), ("POST", "/api/v1/statuses"),
              ("POST", "/api/v2/media"), ("PATCH", "/api/v1/accounts/update_credentials"),
              ("DELETE", "/api/v1/media/1"), ("GET", "/api/v1/domain_blocks"), ("POST", "/api/v1/statuses/1/mute"),
              ("GET", "/api/v2/notifications"), ("GET", "/api/v1/push/subscription")]


def test_errors_like_mastodons(pair, server):
    owner, _, _ = pair
    for path in UNKNOWN:
        r = requests.get(server.base + path, headers=auth(owner))
        assert (r.status_code, r.headers["content-type"].split(";")[0]) == (404, "application/json"), path
        assert r.json() == {"error": "Record not found"}, path
    for method, path in WRONG_METHOD:
        r = requests.request(method, server.base + path, headers=auth(owner))
        assert r.status_code == 404 and r.json() == {"error": "Record not found"}, (method, path, r.status_code, r.text)
    for method, path in NEED_TOKEN:
        r = requests.request(method, server.base + path)
        assert r.status_code == 401 and isinstance(r.json().get("error"), str), (method, path, r.status_code, r.text)
