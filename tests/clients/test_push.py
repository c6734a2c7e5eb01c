"""Web Push against a real `petrel serve`, on both backends: apps subscribe (Mastodon.py's own
`push_subscription_set`, and the JSON an app sends for RFC 8291), the Fedify peer likes a post,
the server's queue consumer pushes to a push service on loopback, and what arrives is decrypted
by implementations independent of Petrel's — Mastodon.py's `push_subscription_decrypt_push`
(http_ece, Mastodon's draft `aesgcm`) and http_ece directly (`aes128gcm`) — with the VAPID JWT
verified by `cryptography`. An unsubscribed endpoint gets nothing; one the push service calls
gone (410) loses its subscription."""
import base64
import http.server
import json
import threading
import time
import uuid

import http_ece
import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from mastodon import Mastodon

from mastodon_schema import check
from test_federation import wait_for

SCOPES = ["read", "write", "follow", "push"]


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class PushService:
    """A push service on loopback: keeps every POST; answers 410 under /gone, else 201."""

    def __init__(self):
        self.received = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(410 if self.path.startswith("/gone") else 201)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return self.base + path

    def at(self, path):
        return [(h, b) for p, h, b in self.received if p == path]


@pytest.fixture(scope="module")
def push_service():
    s = PushService()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()  # an open socket left to the collector warns in a later test


_clients = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _clients:
        _clients.pop().session.close()


def client(server, scopes=SCOPES):
    """A Mastodon.py client logged in as the owner with `scopes` (its session closed after the test)."""
    client_id, secret = Mastodon.create_app("Push test", api_base_url=server.base, scopes=scopes)
    m = Mastodon(client_id=client_id, client_secret=secret, api_base_url=server.base)
    _clients.append(m)
    m.log_in(server.username, server.password, scopes=scopes, allow_http=True)
    return m


def auth(m):
    return {"Authorization": "Bearer " + m.access_token}


def verified_claims(jwt, server_key, audience):
    """The VAPID JWT's claims, after checking its ES256 signature against the server's key."""
    header, claims, signature = jwt.split(".")
    assert json.loads(b64d(header))["alg"] == "ES256"
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(server_key))
    sig = b64d(signature)
    der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
    c = json.loads(b64d(claims))
    assert c["aud"] == audience, c
    now = time.time()
    assert now < c["exp"] <= now + 24 * 3600, c
    assert c["sub"].startswith(("mailto:", "https://", "http://")), c
    return c


def like_by_peer(server, peer, m, text):
    """A post of the owner's, liked by the Fedify peer through the inbox: a `favourite` notification."""
    posted = m.status_post(text, visibility="public")
    like = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer}/likes/{uuid.uuid4()}", "type": "Like",
            "actor": f"{peer}/users/peer", "object": posted["uri"]}
    r = requests.post(f"{peer}/_control/send-raw", json={"inbox": f"{server.base}/inbox", "activity": like}, timeout=30)
    assert r.json()["status"] == 202, r.json()
    return posted


def favourite_notification(server, m, status_id):
    notes = requests.get(f"{server.base}/api/v1/notifications", headers=auth(m), params={"types[]": "favourite"}).json()
    return next(n for n in notes if n["status"]["id"] == str(status_id))


def test_mastodon_py_subscribes_and_decrypts_a_push(server, peer, push_service):
    m = client(server)
    priv, pub = m.push_subscription_generate_keys()
    path = f"/legacy-{uuid.uuid4().hex}"
    sub = m.push_subscription_set(push_service.url(path), pub, favourite_events=True, mention_events=True,
                                  follow_events=False, policy="all")
    raw = requests.get(f"{server.base}/api/v1/push/subscription", headers=auth(m)).json()
    check(raw, "WebPushSubscription")
    assert raw["id"] == str(sub["id"]) and raw["endpoint"] == push_service.url(path)
    assert raw["alerts"]["favourite"] is True and raw["alerts"]["follow"] is False and raw["standard"] is False
    # The one key, wherever Mastodon serves it.
    server_key = raw["server_key"]
    assert requests.get(f"{server.base}/api/v2/instance").json()["configuration"]["vapid"]["public_key"] == server_key
    app = requests.get(f"{server.base}/api/v1/apps/verify_credentials", headers=auth(m)).json()
    check(app, "Application")
    assert app["vapid_key"] == server_key

    posted = like_by_peer(server, peer, m, "Push me, Mastodon.py")
    [(headers, body)] = wait_for("the push", lambda: push_service.at(path))
    assert headers["content-encoding"] == "aesgcm"
    assert headers["ttl"] == "172800" and headers["urgency"] == "normal"
    assert headers["authorization"].startswith("WebPush ")
    assert f"p256ecdsa={server_key}" in headers["crypto-key"]
    verified_claims(headers["authorization"].split(" ", 1)[1], server_key, push_service.base)

    payload = m.push_subscription_decrypt_push(body, priv, headers["encryption"], headers["crypto-key"])
    n = favourite_notification(server, m, posted["id"])
    assert payload["access_token"] == m.access_token
    assert payload["notification_type"] == "favourite"
    assert str(payload["notification_id"]) == n["id"]
    assert payload["preferred_locale"] == "en"
    assert payload["title"].endswith("favorited your post"), payload
    assert payload["body"] == "Push me, Mastodon.py"
    assert payload["icon"].startswith("http")


def test_a_standard_subscription_decrypts_with_http_ece(server, peer, push_service):
    m = client(server)
    receiver = ec.generate_private_key(ec.SECP256R1())
    p256dh = receiver.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    secret = uuid.uuid4().bytes
    path = f"/standard-{uuid.uuid4().hex}"
    r = requests.post(f"{server.base}/api/v1/push/subscription", headers=auth(m), json={
        "subscription": {"endpoint": push_service.url(path), "keys": {"p256dh": b64e(p256dh), "auth": b64e(secret)},
                         "standard": True},
        "data": {"alerts": {"favourite": True, "mention": True}, "policy": "all"}})
    assert r.status_code == 200, r.text
    check(r.json(), "WebPushSubscription")
    assert r.json()["standard"] is True
    server_key = r.json()["server_key"]

    posted = like_by_peer(server, peer, m, "Push me, RFC 8291 & friends")
    [(headers, body)] = wait_for("the push", lambda: push_service.at(path))
    assert headers["content-encoding"] == "aes128gcm"
    scheme, params = headers["authorization"].split(" ", 1)
    assert scheme == "vapid"
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == server_key
    verified_claims(fields["t"], server_key, push_service.base)

    payload = json.loads(http_ece.decrypt(body, private_key=receiver, auth_secret=secret, version="aes128gcm"))
    n = favourite_notification(server, m, posted["id"])
    assert payload["access_token"] == m.access_token
    assert (payload["notification_type"], str(payload["notification_id"])) == ("favourite", n["id"])
    assert payload["body"] == "Push me, RFC 8291 & friends"


def test_unsubscribed_and_gone_endpoints(server, peer, push_service):
    gone, unsubscribed = client(server), client(server)
    keys = {"p256dh": b64e(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)), "auth": b64e(uuid.uuid4().bytes)}
    paths = {}
    for name, m in (("gone", gone), ("unsubscribed", unsubscribed)):
        paths[name] = f"/{name}-{uuid.uuid4().hex}"
        # Form-encoded, as most apps send it.
        r = requests.post(f"{server.base}/api/v1/push/subscription", headers=auth(m), data={
            "subscription[endpoint]": push_service.url(paths[name]), "subscription[keys][p256dh]": keys["p256dh"],
            "subscription[keys][auth]": keys["auth"], "subscription[standard]": "true",
            "data[alerts][favourite]": "1", "data[policy]": "all"})
        assert r.status_code == 200, r.text
    r = requests.delete(f"{server.base}/api/v1/push/subscription", headers=auth(unsubscribed))
    assert (r.status_code, r.json()) == (200, {})
    r = requests.get(f"{server.base}/api/v1/push/subscription", headers=auth(unsubscribed))
    assert r.status_code == 404
    check(r.json(), "Error")

    like_by_peer(server, peer, gone, "Push me into the void")
    wait_for("the push to the gone endpoint", lambda: push_service.at(paths["gone"]))
    wait_for("the gone subscription's removal",
             lambda: requests.get(f"{server.base}/api/v1/push/subscription", headers=auth(gone)).status_code == 404)
    time.sleep(1)
    assert push_service.at(paths["unsubscribed"]) == []


def test_refusals(server, push_service):
    m = client(server)
    _, pub = m.push_subscription_generate_keys()
    good = {"subscription[keys][p256dh]": b64e(pub["pubkey"]), "subscription[keys][auth]": b64e(pub["auth"])}
    for endpoint in ["https://169.254.169.254/latest", "ftp://push.example/x", "not a url"]:
        r = requests.post(f"{server.base}/api/v1/push/subscription", headers=auth(m),
                          data={"subscription[endpoint]": endpoint, **good})
        assert r.status_code == 422, (endpoint, r.text)
        check(r.json(), "Error")
    r = requests.post(f"{server.base}/api/v1/push/subscription", headers=auth(m),
                      data={"subscription[endpoint]": push_service.url("/x"), "subscription[keys][p256dh]": "AAAA",
                            "subscription[keys][auth]": good["subscription[keys][auth]"]})
    assert r.status_code == 422, r.text
    # Without the push scope.
    reader = client(server, scopes=["read"])
    r = requests.get(f"{server.base}/api/v1/push/subscription", headers=auth(reader))
    assert r.status_code == 403
    check(r.json(), "Error")
