"""Feeds as readers see them: RSS, Atom and JSON Feed parsed by feedparser (the parser behind
many readers), served with validators, updated by the feed consumer after posting, editing and
deleting. The consumer runs behind the queue, so each check polls briefly."""
import io
import secrets
import time

import feedparser
import pytest
import requests
from PIL import Image

from test_oauth_and_errors import password_token

ALT = "A red square on a white table"


def poll(check, timeout=20):
    """Calls check() until it returns a truthy value; the last value is returned."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(0.2)


@pytest.fixture(scope="module")
def posted(server):
    """An account's posts: public with an image and a hashtag, one with a content warning, an
    unlisted one, a reply, and a private one that must never appear."""
    _, tok = password_token(server)
    auth = {"Authorization": "Bearer " + tok}
    tag = "feedtest" + secrets.token_hex(3)
    img = io.BytesIO()
    Image.new("RGB", (32, 32), (220, 0, 0)).save(img, "JPEG")
    r = requests.post(f"{server.base}/api/v2/media", headers=auth,
                      files={"file": ("red.jpg", img.getvalue(), "image/jpeg")}, data={"description": ALT})
    assert r.status_code == 200, r.text
    media_id = r.json()["id"]

    def post(**data):
        r = requests.post(f"{server.base}/api/v1/statuses", headers=auth, data=data)
        assert r.status_code == 200, r.text
        return r.json()

    photo = post(status=f"A photo #{tag}", media_ids=[media_id])
    cw = post(status="The ending of the film", spoiler_text="Spoilers")
    unlisted = post(status="Quietly unlisted", visibility="unlisted")
    reply = post(status="Replying to myself", in_reply_to_id=photo["id"])
    private = post(status="Only for followers", visibility="private")
    return {"auth": auth, "tag": tag, "photo": photo, "cw": cw, "unlisted": unlisted, "reply": reply,
            "private": private}


def get_feed(server, path, **headers):
    """The response and, for RSS and Atom, what feedparser makes of it (it does not read JSON Feed)."""
    r = requests.get(server.base + path, headers=headers)
    json_feed = r.headers.get("content-type", "").startswith("application/feed+json")
    return r, feedparser.parse(r.content) if r.status_code == 200 and not json_feed else None


def links(parsed):
    return [e.link for e in parsed.entries]


def urls_of(r, parsed):
    return links(parsed) if parsed is not None else [i["url"] for i in r.json()["items"]]


def wait_for(server, path, want_url, present=True):
    def check():
        r, parsed = get_feed(server, path)
        if r.status_code == 200 and (want_url in urls_of(r, parsed)) == present:
            return r, parsed
        return None
    got = poll(check)
    assert got, f"{path}: {'no' if present else 'still an'} entry for {want_url}"
    return got


@pytest.mark.parametrize("path,ctype", [
    ("/@{u}.rss", "application/rss+xml"),
    ("/@{u}.atom", "application/atom+xml"),
    ("/@{u}.json", "application/feed+json"),
    ("/@{u}/feed.json", "application/feed+json"),
])
def test_account_feeds_hold_public_and_unlisted_posts_with_media(server, posted, path, ctype):
    path = path.format(u=server.username)
    r, parsed = wait_for(server, path, posted["unlisted"]["url"])
    assert r.headers["content-type"].startswith(ctype)
    urls = urls_of(r, parsed)
    for kind in ("photo", "cw", "unlisted"):
        assert posted[kind]["url"] in urls, kind
    assert posted["reply"]["url"] not in urls, "replies are only in with_replies"
    assert posted["private"]["url"] not in urls, "private posts never appear"
    if parsed is None:
        return  # JSON Feed: its fields are checked in test_json_feed_is_json_feed_1_1
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.title and server.username in parsed.feed.title
    photo = next(e for e in parsed.entries if e.link == posted["photo"]["url"])
    assert photo.id == posted["photo"]["url"], "the permalink is the guid"
    assert photo.get("published_parsed"), "entries are dated"
    html = photo.content[0].value if "content" in photo else photo.summary
    assert f'alt="{ALT}"' in html
    attachment = posted["photo"]["media_attachments"][0]
    assert [m["url"] for m in photo.media_content] == [attachment["url"]]
    assert photo.media_thumbnail[0]["url"] == attachment["preview_url"]
    assert ALT in r.text and "media:description" in r.text
    assert posted["tag"] in [t.term for t in photo.tags]
    cw = next(e for e in parsed.entries if e.link == posted["cw"]["url"])
    cw_html = cw.content[0].value if "content" in cw else cw.summary
    assert "Spoilers" in cw_html and "The ending of the film" in cw_html, "the content warning is shown"


def test_json_feed_is_json_feed_1_1(server, posted):
    r, _ = wait_for(server, f"/@{server.username}.json", posted["unlisted"]["url"])
    doc = r.json()
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["feed_url"].endswith(f"/@{server.username}.json")
    photo = next(i for i in doc["items"] if i["url"] == posted["photo"]["url"])
    att = photo["attachments"][0]
    assert att["url"] == posted["photo"]["media_attachments"][0]["url"] and att["title"] == ALT
    assert att["mime_type"] == "image/jpeg" and att["size_in_bytes"] > 0
    assert posted["tag"] in photo["tags"]
    cw = next(i for i in doc["items"] if i["url"] == posted["cw"]["url"])
    assert cw["summary"] == "Spoilers" and "Content warning: Spoilers" in cw["content_html"]


@pytest.mark.parametrize("ext", ["rss", "atom", "json"])
def test_with_replies_feeds_add_the_replies(server, posted, ext):
    r, parsed = wait_for(server, f"/@{server.username}/with_replies.{ext}", posted["reply"]["url"])
    if parsed is not None:
        assert not parsed.bozo, parsed.get("bozo_exception")
    urls = urls_of(r, parsed)
    assert posted["photo"]["url"] in urls and posted["reply"]["url"] in urls
    assert posted["private"]["url"] not in urls


@pytest.mark.parametrize("ext", ["rss", "atom"])
def test_hashtag_feeds(server, posted, ext):
    r, parsed = wait_for(server, f"/tags/{posted['tag']}.{ext}", posted["photo"]["url"])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert links(parsed) == [posted["photo"]["url"]]
    assert requests.get(f"{server.base}/tags/nosuchtag{secrets.token_hex(4)}.rss").status_code == 404


def test_conditional_requests_answer_304(server, posted):
    path = f"/@{server.username}.atom"
    r, _ = wait_for(server, path, posted["unlisted"]["url"])
    etag, modified = r.headers["etag"], r.headers["last-modified"]
    assert "max-age" in r.headers["cache-control"]
    again = requests.get(server.base + path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    again = requests.get(server.base + path, headers={"If-Modified-Since": modified})
    assert again.status_code == 304
    other = requests.get(server.base + path, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.headers["etag"] == etag


def test_edit_and_delete_show_in_the_next_render(server, posted):
    auth, cw = posted["auth"], posted["cw"]
    path = f"/@{server.username}.rss"
    wait_for(server, path, cw["url"])
    r = requests.put(f"{server.base}/api/v1/statuses/{cw['id']}", headers=auth,
                     data={"status": "An edited ending", "spoiler_text": "Spoilers"})
    assert r.status_code == 200, r.text

    def edited():
        _, parsed = get_feed(server, path)
        entry = next((e for e in parsed.entries if e.link == cw["url"]), None)
        return entry is not None and "An edited ending" in entry.summary
    assert poll(edited), "the edit did not show in the feed"
    page = poll(lambda: "An edited ending" in requests.get(cw["url"]).text)
    assert page, "the post page shows the edit"

    unlisted = posted["unlisted"]
    assert requests.get(unlisted["url"]).status_code == 200
    r = requests.delete(f"{server.base}/api/v1/statuses/{unlisted['id']}", headers=auth)
    assert r.status_code == 200, r.text
    wait_for(server, path, unlisted["url"], present=False)
    wait_for(server, f"/@{server.username}.atom", unlisted["url"], present=False)
    assert poll(lambda: requests.get(unlisted["url"]).status_code == 404), "the post page is removed"


def test_older_posts_are_reachable_by_paging(server, posted):
    auth = posted["auth"]
    ids = []
    for i in range(21):
        r = requests.post(f"{server.base}/api/v1/statuses", headers=auth, data={"status": f"filler {i}"})
        assert r.status_code == 200
        ids.append(r.json())
    newest = ids[-1]
    _, first = wait_for(server, f"/@{server.username}.atom", newest["url"])
    assert len(first.entries) == 20
    nxt = [l.href for l in first.feed.links if l.rel == "next"]
    archive = [l.href for l in first.feed.links if l.rel == "prev-archive"]
    assert nxt and archive == nxt
    seen = set(links(first))
    url = nxt[0]
    for _ in range(10):  # walk back to the start of the account
        r = requests.get(url)
        assert r.status_code == 200 and "max_id=" in url
        page = feedparser.parse(r.content)
        assert not page.bozo
        assert not seen & set(links(page)), "pages do not overlap"
        seen |= set(links(page))
        more = [l.href for l in page.feed.links if l.rel == "next"]
        if not more:
            break
        url = more[0]
    assert posted["photo"]["url"] in seen, "the oldest post is reachable"
    # JSON Feed pages the same way.
    doc = requests.get(f"{server.base}/@{server.username}.json").json()
    older = requests.get(doc["next_url"]).json()
    assert older["items"] and not {i["url"] for i in doc["items"]} & {i["url"] for i in older["items"]}


def test_activitypub_clients_are_redirected_to_the_actor(server, posted):
    u = server.username
    r = requests.get(f"{server.base}/@{u}", headers={"Accept": "application/activity+json"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == f"{server.base}/users/{u}"
    pid = posted["photo"]["id"]
    r = requests.get(f"{server.base}/@{u}/{pid}",
                     headers={"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'},
                     allow_redirects=False)
    assert r.status_code == 302 and r.headers["location"] == f"{server.base}/users/{u}/statuses/{pid}"
    assert requests.get(f"{server.base}/@nosuchuser{secrets.token_hex(3)}.rss").status_code == 404
