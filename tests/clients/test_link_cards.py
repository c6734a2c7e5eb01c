"""Link preview cards and verified profile links through a real `petrel serve` (its outbox
consumer makes them off the request path), read by Mastodon.py and checked against the Mastodon
OpenAPI schema (PreviewCard, Status, Account). The linked pages are served on loopback, which
`--allow-private-network` lets the server reach (and lets it check plain-http profile links)."""
import http.server
import io
import threading
import time
import warnings

import pytest
import requests
from mastodon import Mastodon
from PIL import Image

from mastodon_schema import check


@pytest.fixture
def api(server):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client_id, secret = Mastodon.create_app("cards test", api_base_url=server.base, scopes=["read", "write"])
        m = Mastodon(client_id=client_id, client_secret=secret, api_base_url=server.base)
        m.log_in(server.username, server.password, scopes=["read", "write"], allow_http=True)
        yield m


@pytest.fixture
def site(server):
    """A page with OpenGraph tags and an image, and a page that links back to the profile."""
    buf = io.BytesIO()
    Image.new("RGB", (800, 400), (200, 30, 30)).save(buf, format="PNG")
    image = buf.getvalue()
    profile = f"{server.base}/@{server.username}"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/article":
                body, ctype = (b'<html lang="en"><head><meta property="og:title" content="Card title">'
                               b'<meta property="og:description" content="Card text">'
                               b'<meta property="og:image" content="/cover.png"></head></html>'), "text/html"
            elif self.path == "/cover.png":
                body, ctype = image, "image/png"
            elif self.path == "/me":
                body, ctype = f'<a rel="me" href="{profile}">me</a>'.encode(), "text/html"
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def wait_for(fetch, done, what):
    deadline = time.time() + 30
    while time.time() < deadline:
        value = fetch()
        if done(value):
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} did not arrive: {value}")


def test_a_linked_page_becomes_a_card(api, server, site):
    status = api.status_post(f"have a look {site}/article", visibility="public")
    auth = {"Authorization": f"Bearer {api.access_token}"}
    url = f"{server.base}/api/v1/statuses/{status['id']}"
    raw = wait_for(lambda: requests.get(url, headers=auth).json(), lambda s: s.get("card"), "the card")
    check(raw, "Status")
    card = raw["card"]
    check(card, "PreviewCard")
    assert (card["title"], card["description"], card["url"]) == ("Card title", "Card text", f"{site}/article")
    assert card["image"] and "/media/cards/" in card["image"] and (card["width"], card["height"]) == (640, 320)
    # The image is served by Petrel's media, not the linked site: a 640×320 thumbnail.
    served = server.fetch(card["image"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(served.content)).size == (640, 320)
    assert requests.get(url + "/card", headers=auth).json() == card
    # Mastodon.py reads it as a card too.
    assert api.status(status["id"])["card"]["title"] == "Card title"


def test_a_profile_link_back_is_verified(api, server, site):
    auth = {"Authorization": f"Bearer {api.access_token}"}
    api.account_update_credentials(fields=[("Site", f"{site}/me"), ("Plain", "no link")])
    me = wait_for(lambda: requests.get(f"{server.base}/api/v1/accounts/verify_credentials", headers=auth).json(),
                  lambda a: a["fields"][0]["verified_at"], "verified_at")
    check(me, "Account")
    assert me["fields"][1]["verified_at"] is None
    # Shown to anyone, as Mastodon shows it.
    public = requests.get(f"{server.base}/api/v1/accounts/{me['id']}").json()
    assert public["fields"][0]["verified_at"] == me["fields"][0]["verified_at"]
