"""OAuth as a browser-based app does it (authorization code, PKCE S256, custom-scheme redirect),
and each client error answered with Mastodon's `{"error": ...}` body and status."""
import base64
import hashlib
import html.parser
import secrets
import urllib.parse

import requests

from mastodon_schema import check

REDIRECT = "com.example.app:/oauth"


class Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.fields[a["name"]] = a.get("value", "")


def register(base, redirect=REDIRECT, scopes="read write follow"):
    r = requests.post(f"{base}/api/v1/apps", json={"client_name": "Browser app", "redirect_uris": [redirect], "scopes": scopes})
    assert r.status_code == 200, r.text
    check(r.json(), "CredentialApplication")
    return r.json()


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(server, app, challenge, redirect=REDIRECT, password=None, slash=""):
    s = requests.Session()
    params = {"client_id": app["client_id"], "redirect_uri": redirect, "response_type": "code", "scope": "read write",
              "state": "xyz", "code_challenge": challenge, "code_challenge_method": "S256"}
    page = s.get(f"{server.base}/oauth/authorize{slash}", params=params)
    assert page.status_code == 200, page.text
    assert "text/html" in page.headers["content-type"]
    form = Form()
    form.feed(page.text)
    assert form.fields.get("csrf"), "the page carries a CSRF token"
    data = {**form.fields, "username": server.username, "password": password or server.password}
    return s, s.post(f"{server.base}/oauth/authorize", data=data, allow_redirects=False)


def token(base, app, code, verifier, redirect=REDIRECT):
    return requests.post(f"{base}/oauth/token", data={"grant_type": "authorization_code", "client_id": app["client_id"],
                                                       "code": code, "redirect_uri": redirect, "code_verifier": verifier})


def test_authorization_code_with_pkce_and_custom_scheme(server):
    app = register(server.base)
    verifier, challenge = pkce()
    _, done = authorize(server, app, challenge, slash="/")
    assert done.status_code in (302, 303), done.text
    location = done.headers["location"]
    assert location.startswith(REDIRECT + "?")
    q = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    assert q["state"] == ["xyz"]
    t = token(server.base, app, q["code"][0], verifier)
    assert t.status_code == 200, t.text
    check(t.json(), "Token")
    me = requests.get(f"{server.base}/api/v1/accounts/verify_credentials", headers={"Authorization": "Bearer " + t.json()["access_token"]})
    assert me.status_code == 200 and me.json()["username"] == server.username
    # A code works once.
    assert token(server.base, app, q["code"][0], verifier).status_code == 400


def test_wrong_verifier_or_redirect_is_400(server):
    app = register(server.base)
    verifier, challenge = pkce()
    _, done = authorize(server, app, challenge)
    code = urllib.parse.parse_qs(urllib.parse.urlparse(done.headers["location"]).query)["code"][0]
    bad = token(server.base, app, code, "not-the-verifier")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    _, done = authorize(server, app, challenge)
    code = urllib.parse.parse_qs(urllib.parse.urlparse(done.headers["location"]).query)["code"][0]
    bad = token(server.base, app, code, verifier, redirect="com.example.other:/cb")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    page = requests.get(f"{server.base}/oauth/authorize", params={"client_id": app["client_id"], "redirect_uri": "https://evil.example/cb", "response_type": "code"})
    assert page.status_code == 400 and "error" in page.json()


def test_wrong_password_and_forged_form_store_nothing(server):
    app = register(server.base)
    _, challenge = pkce()
    _, done = authorize(server, app, challenge, password="wrong password")
    assert done.status_code == 401 and "Invalid username or password" in done.text
    # Posting the form without the CSRF cookie (another site's form) is refused.
    data = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code", "csrf": "guess",
            "username": server.username, "password": server.password}
    forged = requests.post(f"{server.base}/oauth/authorize", data=data, allow_redirects=False)
    assert forged.status_code == 403 and "error" in forged.json()


def test_out_of_band_shows_the_code(server):
    app = register(server.base, redirect="urn:ietf:wg:oauth:2.0:oob")
    verifier, challenge = pkce()
    _, done = authorize(server, app, challenge, redirect="urn:ietf:wg:oauth:2.0:oob")
    assert done.status_code == 200 and 'id="code"' in done.text


def password_token(server, scopes="read write follow"):
    app = register(server.base, redirect="urn:ietf:wg:oauth:2.0:oob")
    r = requests.post(f"{server.base}/oauth/token", data={"grant_type": "password", "client_id": app["client_id"],
                                                          "client_secret": app["client_secret"], "username": server.username,
                                                          "password": server.password, "scope": scopes})
    assert r.status_code == 200, r.text
    return app, r.json()["access_token"]


def test_client_errors_have_mastodon_bodies(server):
    base = server.base
    app, tok = password_token(server)
    auth = {"Authorization": "Bearer " + tok}

    r = requests.get(f"{base}/api/v1/timelines/home")
    assert r.status_code == 401 and "error" in r.json()
    check(r.json(), "Error")

    _, read_only = password_token(server, scopes="read")
    r = requests.post(f"{base}/api/v1/statuses", headers={"Authorization": "Bearer " + read_only}, data={"status": "x"})
    assert r.status_code == 403 and "error" in r.json()

    r = requests.get(f"{base}/api/v1/statuses/12345678901234567", headers=auth)
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}

    r = requests.post(f"{base}/api/v1/statuses", headers=auth, data={"status": "x" * 501})
    assert r.status_code == 422 and "error" in r.json()
    assert requests.post(f"{base}/api/v1/statuses", headers=auth, data={"status": "x" * 500}).status_code == 200

    r = requests.post(f"{base}/api/v1/statuses", headers=auth, json={"status": "media", "media_ids": ["999"]})
    assert r.status_code == 422 and "error" in r.json()

    r = requests.post(f"{base}/api/v1/statuses", headers={**auth, "Content-Type": "application/json"}, data="{not json")
    assert r.status_code == 400 and "error" in r.json()

    key = {"Idempotency-Key": "same-key-twice"}
    first = requests.post(f"{base}/api/v1/statuses", headers={**auth, **key}, data={"status": "only once"})
    second = requests.post(f"{base}/api/v1/statuses", headers={**auth, **key}, data={"status": "only once"})
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    mine = requests.get(f"{base}/api/v1/accounts/{first.json()['account']['id']}/statuses", params={"limit": 40}, headers=auth).json()
    assert [s["text"] for s in mine].count("only once") == 1

    # Revocation makes the token useless at once.
    r = requests.post(f"{base}/oauth/revoke", data={"client_id": app["client_id"], "client_secret": app["client_secret"], "token": tok})
    assert r.status_code == 200
    r = requests.get(f"{base}/api/v1/accounts/verify_credentials", headers=auth)
    assert r.status_code == 401 and "error" in r.json()


def test_start_up_endpoints_never_404(server):
    _, tok = password_token(server)
    auth = {"Authorization": "Bearer " + tok}
    for path in ["/api/v1/preferences", "/api/v1/lists", "/api/v1/filters", "/api/v2/filters", "/api/v1/trends/tags",
                 "/api/v1/announcements", "/api/v2/suggestions", "/api/v1/followed_tags", "/api/v1/conversations",
                 "/api/v1/scheduled_statuses", "/api/v1/domain_blocks", "/api/v1/endorsements", "/api/v1/custom_emojis",
                 "/api/v1/instance/peers", "/api/v1/notifications", "/api/v1/markers?timeline[]=home", "/api/v1/bookmarks",
                 "/api/v1/follow_requests", "/api/v1/instance/", "/api/v2/instance/"]:
        r = requests.get(base_url(server, path), headers=auth)
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    me = requests.get(f"{server.base}/api/v1/accounts/verify_credentials", headers=auth).json()
    assert requests.get(f"{server.base}/api/v1/accounts/{me['id']}", headers=auth).status_code == 200
    check(requests.get(f"{server.base}/api/v1/preferences", headers=auth).json(), "Preferences")


def base_url(server, path):
    return server.base + path


def test_cors_preflight_allows_browser_clients(server):
    r = requests.options(f"{server.base}/api/v1/timelines/home", headers={
        "Origin": "https://elk.zone", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
    assert r.status_code in (200, 204)
    assert r.headers.get("access-control-allow-origin") in ("*", "https://elk.zone")
    r = requests.get(f"{server.base}/api/v1/instance", headers={"Origin": "https://elk.zone"})
    assert r.headers.get("access-control-allow-origin") in ("*", "https://elk.zone")


def test_pagination_links(server):
    _, tok = password_token(server)
    auth = {"Authorization": "Bearer " + tok}
    ids = [requests.post(f"{server.base}/api/v1/statuses", headers=auth, data={"status": f"page {i}"}).json()["id"] for i in range(5)]
    first = requests.get(f"{server.base}/api/v1/timelines/home", params={"limit": 2}, headers=auth)
    assert [s["id"] for s in first.json()] == ids[::-1][:2]
    assert 'rel="next"' in first.headers["link"] and 'rel="prev"' in first.headers["link"]
    nxt = first.links["next"]["url"]
    second = requests.get(nxt, params={"limit": 2}, headers=auth)
    assert [s["id"] for s in second.json()] == ids[::-1][2:4]
    newer = requests.get(f"{server.base}/api/v1/timelines/home", params={"min_id": ids[1], "limit": 2}, headers=auth)
    assert [s["id"] for s in newer.json()] == [ids[3], ids[2]]
    since = requests.get(f"{server.base}/api/v1/timelines/home", params={"since_id": ids[2]}, headers=auth)
    assert [s["id"] for s in since.json()][:2] == [ids[4], ids[3]]
    assert ids[2] not in [s["id"] for s in since.json()]


def test_edit_history_bookmark_pin_delete(server):
    _, tok = password_token(server)
    auth = {"Authorization": "Bearer " + tok}
    base = server.base
    s = requests.post(f"{base}/api/v1/statuses", headers=auth, data={"status": "first draft #one"}).json()
    edited = requests.put(f"{base}/api/v1/statuses/{s['id']}", headers=auth, data={"status": "second draft #two"})
    assert edited.status_code == 200, edited.text
    e = edited.json()
    check(e, "Status")
    assert e["edited_at"] and "second draft" in e["content"] and [t["name"] for t in e["tags"]] == ["two"]
    src = requests.get(f"{base}/api/v1/statuses/{s['id']}/source", headers=auth).json()
    assert src["text"] == "second draft #two"
    hist = requests.get(f"{base}/api/v1/statuses/{s['id']}/history", headers=auth).json()
    assert ["first draft" in h["content"] for h in hist] == [True, False]
    for h in hist:
        check(h, "StatusEdit")
    # The hashtag timelines follow the edit.
    assert s["id"] not in [x["id"] for x in requests.get(f"{base}/api/v1/timelines/tag/one").json()]
    assert s["id"] in [x["id"] for x in requests.get(f"{base}/api/v1/timelines/tag/two").json()]

    b = requests.post(f"{base}/api/v1/statuses/{s['id']}/bookmark", headers=auth).json()
    assert b["bookmarked"] is True
    assert s["id"] in [x["id"] for x in requests.get(f"{base}/api/v1/bookmarks", headers=auth).json()]
    p = requests.post(f"{base}/api/v1/statuses/{s['id']}/pin", headers=auth).json()
    assert p["pinned"] is True
    pinned = requests.get(f"{base}/api/v1/accounts/{s['account']['id']}/statuses", params={"pinned": "true"}, headers=auth).json()
    assert [x["id"] for x in pinned] == [s["id"]]

    gone = requests.delete(f"{base}/api/v1/statuses/{s['id']}", headers=auth)
    assert gone.status_code == 200 and gone.json()["text"] == "second draft #two"
    assert requests.get(f"{base}/api/v1/statuses/{s['id']}", headers=auth).status_code == 404
    assert s["id"] not in [x["id"] for x in requests.get(f"{base}/api/v1/bookmarks", headers=auth).json()]
    assert requests.get(f"{base}/api/v1/accounts/{s['account']['id']}/statuses", params={"pinned": "true"}, headers=auth).json() == []


def test_private_status_is_visible_to_its_author_only(server):
    _, tok = password_token(server)
    auth = {"Authorization": "Bearer " + tok}
    s = requests.post(f"{server.base}/api/v1/statuses", headers=auth, data={"status": "followers only", "visibility": "private"}).json()
    assert requests.get(f"{server.base}/api/v1/statuses/{s['id']}", headers=auth).status_code == 200
    anon = requests.get(f"{server.base}/api/v1/statuses/{s['id']}")
    assert anon.status_code == 404 and anon.json() == {"error": "Record not found"}
