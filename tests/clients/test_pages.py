"""The public pages in a real browser: headless Chromium loads the profile and a post page from
`petrel serve`, and the rendered DOM must hold the text, the image with its alt text and the
OpenGraph tags. Screenshots (phone-sized) are kept under target/test-artifacts/."""
import io
import secrets
import shutil
import subprocess
import tempfile
import time
from html.parser import HTMLParser

import pytest
import requests
from PIL import Image

from conftest import ROOT
from test_oauth_and_errors import password_token

ALT = "Sunset over the harbour, orange sky"
ARTIFACTS = ROOT / "target" / "test-artifacts"


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = chromium()
if CHROMIUM is None:
    print("\n" + "!" * 70 + "\nSKIPPING the page tests: Chromium is NOT installed "
          "(infra/test.sh installs it with apt-get install chromium)\n" + "!" * 70)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (CI installs it)")


def browse(url, *args):
    profile = tempfile.mkdtemp(prefix="petrel-chromium-")
    try:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--window-size=412,915", *args, url],
            capture_output=True, text=True, timeout=90, check=True)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class Dom(HTMLParser):
    """The parts of the DOM the checks look at."""

    def __init__(self, html):
        super().__init__()
        self.meta, self.images, self.links, self.text, self.classes = {}, [], [], [], set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.classes.update((a.get("class") or "").split())
        if tag == "meta" and (a.get("property") or a.get("name")):
            self.meta[a.get("property") or a.get("name")] = a.get("content")
        elif tag == "img":
            self.images.append(a)
        elif tag in ("link", "a"):
            self.links.append(a)

    def handle_data(self, data):
        self.text.append(data)


def dom_of(url):
    return Dom(browse(url, "--dump-dom").stdout)


def screenshot(url, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    path.unlink(missing_ok=True)
    browse(url, f"--screenshot={path}")
    assert path.exists() and path.stat().st_size > 1000, f"no screenshot at {path}"
    return path


@pytest.fixture(scope="module")
def page_post(server):
    _, tok = password_token(server)
    auth = {"Authorization": "Bearer " + tok}
    requests.patch(f"{server.base}/api/v1/accounts/update_credentials", headers=auth,
                   data={"display_name": "Alice Liddell", "note": "Walks by the harbour.",
                         "fields_attributes[0][name]": "Site",
                         "fields_attributes[0][value]": "https://alice.example/"}).raise_for_status()
    img = io.BytesIO()
    Image.new("RGB", (64, 40), (240, 120, 30)).save(img, "JPEG")
    r = requests.post(f"{server.base}/api/v2/media", headers=auth,
                      files={"file": ("sunset.jpg", img.getvalue(), "image/jpeg")}, data={"description": ALT})
    assert r.status_code == 200, r.text
    words = f"Evening walk {secrets.token_hex(3)}"
    r = requests.post(f"{server.base}/api/v1/statuses", headers=auth,
                      data={"status": words + " <b>not bold</b>", "media_ids[]": [r.json()["id"]]})
    assert r.status_code == 200, r.text
    status = r.json()

    def rendered():
        page = requests.get(f"{server.base}/@{server.username}")
        return page.status_code == 200 and words in page.text and "Alice Liddell" in page.text
    deadline = time.time() + 20
    while not rendered():
        assert time.time() < deadline, "the profile page was not rendered with the post"
        time.sleep(0.2)
    return {"status": status, "words": words}


def test_post_page_in_a_browser(server, page_post):
    status = page_post["status"]
    dom = dom_of(status["url"])
    text = " ".join(dom.text)
    assert page_post["words"] in text and "<b>not bold</b>" in text, "the text, escaped"
    alts = [i.get("alt") for i in dom.images]
    assert ALT in alts, alts
    assert {"h-entry", "e-content", "dt-published", "u-photo"} <= dom.classes
    assert dom.meta["og:type"] == "article" and dom.meta["og:url"] == status["url"]
    assert page_post["words"] in dom.meta["og:description"]
    assert dom.meta["og:image"] == status["media_attachments"][0]["url"] and dom.meta["og:image:alt"] == ALT
    assert dom.meta["twitter:card"] == "summary_large_image"
    alternates = {l.get("type"): l.get("href") for l in dom.links if l.get("rel") == "alternate"}
    assert alternates["application/activity+json"] == status["uri"]
    assert alternates["application/rss+xml"].endswith(f"/@{server.username}.rss")
    shot = screenshot(status["url"], f"post-{server.backend}.png")
    assert Image.open(shot).size == (412, 915)


def test_profile_page_in_a_browser(server, page_post):
    url = f"{server.base}/@{server.username}"
    dom = dom_of(url)
    text = " ".join(dom.text)
    assert "Alice Liddell" in text and "Walks by the harbour." in text and page_post["words"] in text
    assert ALT in [i.get("alt") for i in dom.images]
    assert {"h-card", "p-name", "p-note", "h-entry"} <= dom.classes
    assert dom.meta["og:type"] == "profile" and dom.meta["og:title"].startswith("Alice Liddell")
    assert dom.meta["og:image"], "the avatar"
    me = [l for l in dom.links if "me" in (l.get("rel") or "").split()]
    assert [l["href"] for l in me] == ["https://alice.example/"]
    alternates = {l.get("type"): l.get("href") for l in dom.links if l.get("rel") == "alternate"}
    assert alternates["application/activity+json"] == f"{server.base}/users/{server.username}"
    assert alternates["application/atom+xml"].endswith(f"/@{server.username}.atom")
    assert alternates["application/feed+json"].endswith(f"/@{server.username}.json")
    screenshot(url, f"profile-{server.backend}.png")
