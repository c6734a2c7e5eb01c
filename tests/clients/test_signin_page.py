"""The sign-in page apps open (`/oauth/authorize`) in headless Chromium at phone width: it names
the site and the app (linked to the app's website), says in plain words what each requested
scope allows, and fits the screen: no horizontal overflow, and no scope name broken across
lines. The layout is measured by Chromium itself: the page's HTML, saved to a file, is laid out
in a 412 px frame and a script of the harness around it reads the frame's layout.
A screenshot of the served page is kept under target/test-artifacts/."""
import html.parser
import json
import pathlib
import tempfile
import urllib.parse

import pytest
import requests
from PIL import Image

from test_pages import CHROMIUM, Dom, browse, screenshot

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (CI installs it)")

SCOPES = "read write follow push read:notifications write:conversations write:media"

# Headless Chromium lays a page it dumps out at least 500 px wide, whatever the window size: the
# page is measured inside a 412 px frame of a harness page, which writes what it found on its body.
HARNESS = """<!DOCTYPE html><html><body style="margin:0"><iframe src="authorize.html"
 style="width:412px;height:915px;border:0" onload="
const d = this.contentDocument, spans = [...d.querySelectorAll('.scope')];
document.body.setAttribute('data-check', JSON.stringify({
  width: d.documentElement.scrollWidth, viewport: this.contentWindow.innerWidth, scopes: spans.length,
  broken: spans.filter(s => s.getClientRects().length > 1).map(s => s.textContent),
}));"></iframe></body></html>"""


def test_sign_in_page_on_a_phone(server):
    app = requests.post(f"{server.base}/api/v1/apps", json={
        "client_name": "Harbour Reader", "website": "https://harbour.example/app",
        "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": SCOPES}).json()
    query = urllib.parse.urlencode({"client_id": app["client_id"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
                                    "response_type": "code", "scope": SCOPES})
    url = f"{server.base}/oauth/authorize?{query}"
    served = requests.get(url).text

    dom = Dom(browse(url, "--dump-dom").stdout)
    text = " ".join(" ".join(dom.text).split())
    site = urllib.parse.urlsplit(server.base).netloc
    assert f"Sign in to {site}" in text, text
    links = [l.get("href") for l in dom.links]
    assert "https://harbour.example/app" in links, "the app's name links to its website"
    assert "Harbour Reader" in text
    for words in ("Read everything in your account", "Follow, unfollow, block and mute accounts",
                  "Send notifications to this device", "Read your notifications",
                  "Mark conversations read and remove them", "Upload pictures, video and sound"):
        assert words in text, words

    with tempfile.TemporaryDirectory() as d:
        page = pathlib.Path(d) / "authorize.html"
        page.write_text(served)
        harness = pathlib.Path(d) / "harness.html"
        harness.write_text(HARNESS)
        measured = Checks(browse(harness.as_uri(), "--allow-file-access-from-files", "--dump-dom").stdout)
    # The measuring script's verdict, read back from the DOM Chromium laid out at 412 px.
    assert len(measured.found) == 1, "the measuring script ran"
    check = measured.found[0]
    assert check["scopes"] == len(SCOPES.split()), check
    assert check["broken"] == [], f"scope names broken across lines: {check}"
    assert check["width"] <= check["viewport"] == 412, f"wider than the phone: {check}"

    shot = screenshot(url, f"sign-in-{server.backend}.png")
    assert Image.open(shot).size == (412, 915)


class Checks(html.parser.HTMLParser):
    """The `data-check` attribute the measuring script set on the body."""

    def __init__(self, text):
        super().__init__()
        self.found = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        value = dict(attrs).get("data-check")
        if tag == "body" and value:
            self.found.append(json.loads(value))
