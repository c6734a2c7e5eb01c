"""Uploads as phone apps send them: a photo with GPS and orientation in its EXIF, alt text, and
the files that must be refused. Images are made here with Pillow."""
import io
import os
import struct
import zlib

import pytest
import requests
from PIL import Image

from conftest import eventually
from mastodon_schema import check
from test_oauth_and_errors import password_token


def jpeg(width, height, orientation=None, gps=False, halves=((255, 0, 0), (0, 0, 255))):
    """Left half one colour, right half another, so rotation can be seen."""
    img = Image.new("RGB", (width, height), halves[0])
    img.paste(Image.new("RGB", (width // 2, height), halves[1]), (width // 2, 0))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes(), quality=95)
    return out.getvalue()


@pytest.fixture
def auth(server):
    _, tok = password_token(server)
    return {"Authorization": "Bearer " + tok}


def upload(server, auth, data, name="photo.jpg", ctype="image/jpeg", **fields):
    return requests.post(f"{server.base}/api/v2/media", headers=auth, files={"file": (name, data, ctype)}, data=fields)


def test_gps_is_stripped_and_orientation_applied(server, auth):
    original = jpeg(40, 20, orientation=6, gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825), "the test photo carries GPS"
    r = upload(server, auth, original, description="Red over blue", focus="0.5,-0.25")
    assert r.status_code == 200, r.text
    m = r.json()
    check(m, "MediaAttachment")
    assert m["type"] == "image" and m["description"] == "Red over blue" and len(m["blurhash"]) >= 6
    assert m["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    # Orientation 6 means "rotate 90° clockwise to view": 40×20 stored sideways is 20×40 upright.
    assert (m["meta"]["original"]["width"], m["meta"]["original"]["height"]) == (20, 40)
    served = server.fetch(m["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    img = Image.open(io.BytesIO(served.content))
    assert img.size == (20, 40)
    assert not img.getexif(), "no EXIF survives: not GPS, not the camera make"
    assert b"Exif" not in served.content and b"PhoneMaker" not in served.content
    # Rotated clockwise, the left (red) half is on top.
    top, bottom = img.getpixel((10, 5)), img.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom
    thumb = server.fetch(m["preview_url"])
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (20, 40)

    # The upload can be described again, then posted; the status carries it.
    r = requests.put(f"{server.base}/api/v1/media/{m['id']}", headers=auth, data={"description": "Red on top, blue below"})
    assert r.status_code == 200 and r.json()["description"] == "Red on top, blue below"
    s = requests.post(f"{server.base}/api/v1/statuses", headers=auth, data={"status": "a photo", "media_ids[]": [m["id"]]})
    assert s.status_code == 200, s.text
    check(s.json(), "Status")
    att = s.json()["media_attachments"]
    assert [a["id"] for a in att] == [m["id"]] and att[0]["description"] == "Red on top, blue below"
    # An upload serves one status only.
    again = requests.post(f"{server.base}/api/v1/statuses", headers=auth, data={"status": "again", "media_ids[]": [m["id"]]})
    assert again.status_code == 422
    # Deleting the status deletes its files (the queue worker does, after the request).
    assert requests.delete(f"{server.base}/api/v1/statuses/{s.json()['id']}", headers=auth).status_code == 200
    eventually(lambda: all(server.fetch(u).status_code == 404 for u in (m["url"], m["preview_url"])),
               "the deleted status's files are gone")


def png_header_only(width, height):
    """A PNG whose header declares a huge image: a decompression bomb's calling card."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("case", ["bomb", "truncated", "text", "too_large", "no_file"])
def test_bad_uploads_are_refused_and_store_nothing(server, auth, case):
    before = server.stored_files()
    if case == "bomb":
        r = upload(server, auth, png_header_only(50_000, 50_000), name="bomb.png", ctype="image/png")
        want = 422
    elif case == "truncated":
        whole = jpeg(400, 300)
        r = upload(server, auth, whole[: len(whole) // 2])
        want = 422
    elif case == "text":
        r = upload(server, auth, b"just some text, honest", name="picture.png", ctype="image/png")
        want = 422
    elif case == "too_large":
        r = upload(server, auth, os.urandom(5 * 1024 * 1024))
        want = 413
    else:
        r = requests.post(f"{server.base}/api/v2/media", headers=auth, files={"description": (None, "alt only")})
        want = 422
    assert r.status_code == want, r.text
    assert r.json()["error"], r.text
    assert server.stored_files() == before, "a refused upload left files behind"


def test_avatar_is_square_and_profile_fields_update(server, auth):
    wide = jpeg(300, 100, gps=True)
    r = requests.patch(f"{server.base}/api/v1/accounts/update_credentials", headers=auth,
                       files={"avatar": ("me.jpg", wide, "image/jpeg")},
                       data={"display_name": "Alice A.", "note": "Hello #fediverse", "fields_attributes[0][name]": "Site",
                             "fields_attributes[0][value]": "https://example.com"})
    assert r.status_code == 200, r.text
    me = r.json()
    check(me, "Account")
    assert me["display_name"] == "Alice A." and me["fields"][0]["name"] == "Site"
    assert me["source"]["note"] == "Hello #fediverse"
    avatar = server.fetch(me["avatar"])
    assert avatar.status_code == 200
    img = Image.open(io.BytesIO(avatar.content))
    assert img.size == (100, 100) and not img.getexif()
    # A bad image changes nothing.
    bad = requests.patch(f"{server.base}/api/v1/accounts/update_credentials", headers=auth,
                         files={"header": ("h.png", b"not an image", "image/png")}, data={"display_name": "Changed"})
    assert bad.status_code == 422 and "error" in bad.json()
    after = requests.get(f"{server.base}/api/v1/accounts/verify_credentials", headers=auth).json()
    assert after["display_name"] == "Alice A."
    # JSON bodies work too.
    r = requests.patch(f"{server.base}/api/v1/accounts/update_credentials", headers=auth, json={"locked": False, "bot": True})
    assert r.status_code == 200 and r.json()["bot"] is True


def test_only_media_filters(server, auth):
    m = upload(server, auth, jpeg(30, 30), description="tiny").json()
    with_media = requests.post(f"{server.base}/api/v1/statuses", headers=auth, data={"status": "pic #onlymedia", "media_ids[]": [m["id"]]}).json()
    without = requests.post(f"{server.base}/api/v1/statuses", headers=auth, data={"status": "words #onlymedia"}).json()
    for url in [f"{server.base}/api/v1/accounts/{with_media['account']['id']}/statuses", f"{server.base}/api/v1/timelines/public",
                f"{server.base}/api/v1/timelines/tag/onlymedia"]:
        ids = [s["id"] for s in requests.get(url, params={"only_media": "true"}, headers=auth).json()]
        assert with_media["id"] in ids and without["id"] not in ids, url


def _box(kind, body):
    return struct.pack(">I", len(body) + 8) + kind + body


def _ebml(ident, body):
    return ident + bytes([0x80 | len(body)]) + body


def _ogg_crc(data):
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(flags, seq, packet, granule=0):
    """One page holding one small packet of stream 1."""
    head = b"OggS\x00" + bytes([flags]) + struct.pack("<QII", granule, 1, seq) + b"\x00" * 4 + bytes([1, len(packet)])
    page = head + packet
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def _opus_tags(*comments):
    listed = b"".join(struct.pack("<I", len(c)) + c for c in comments)
    return b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", len(comments)) + listed


def _opus(*comments):
    return (_ogg_page(0x02, 0, b"OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00\x00\x00\x00") + _ogg_page(0, 1, _opus_tags(*comments))
            + _ogg_page(0x04, 2, b"\xfc" + b"\x00" * 20, granule=960))


FRAMES = b"\xff\xfb\x90\x00" * 16
AS_IS = {
    # The smallest well-formed file of each container, without metadata: stored byte for byte.
    "clip.mp4": (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + _box(b"moov", _box(b"mvhd", b"\x00" * 100))
                 + _box(b"mdat", b"\x00" * 64), "video", "video/mp4"),
    "clip.webm": (_ebml(b"\x1a\x45\xdf\xa3", _ebml(b"\x42\x82", b"webm"))
                  + _ebml(b"\x18\x53\x80\x67", _ebml(b"\x1f\x43\xb6\x75", _ebml(b"\xe7", b"\x00") + _ebml(b"\xa3", b"\x81\x00\x00\x80" + b"\x00" * 8))),
                  "video", "video/webm"),
    "song.mp3": (FRAMES, "audio", "audio/mpeg"),
    "song.ogg": (_opus(), "audio", "audio/ogg"),
}


@pytest.mark.parametrize("name", sorted(AS_IS))
def test_audio_and_video_are_stored_as_uploaded(server, auth, name):
    data, kind, ctype = AS_IS[name]
    # The declared type is ignored: the bytes decide.
    r = upload(server, auth, data, name="upload.bin", ctype="application/octet-stream", description="a clip")
    assert r.status_code == 200, r.text
    m = r.json()
    check(m, "MediaAttachment")
    assert m["type"] == kind and m["description"] == "a clip"
    assert m["meta"]["petrel"] == {"processed": False, "size": len(data), "metadata_removed": True}
    assert m["preview_url"] is None and m["blurhash"] is None
    served = server.fetch(m["url"])
    assert served.status_code == 200 and served.content == data and served.headers["content-type"] == ctype


def test_audio_and_video_metadata_is_removed(server, auth):
    """ID3 tags and Vorbis comments name and place the uploader: they are gone from the stored
    file, while the audio stays byte for byte (the media crate's tests cover every container)."""
    tpe1 = b"TPE1" + struct.pack(">I", 14) + b"\x00\x00\x00" + b"Alice Example"
    id3 = b"ID3\x03\x00\x00" + bytes([0, 0, 0, len(tpe1)]) + tpe1
    id3v1 = (b"TAG" + b"Paris +48.8577+002.2950").ljust(128, b"\x00")
    r = upload(server, auth, id3 + FRAMES + id3v1, name="song.mp3", ctype="audio/mpeg")
    assert r.status_code == 200, r.text
    assert server.fetch(r.json()["url"]).content == FRAMES
    r = upload(server, auth, _opus(b"ARTIST=Alice Example", b"LOCATION=Paris"), name="song.ogg", ctype="audio/ogg")
    assert r.status_code == 200, r.text
    assert server.fetch(r.json()["url"]).content == _opus(), "the comment header is empty, the pages as before"


def test_malformed_audio_and_video_is_refused(server, auth):
    before = server.stored_files()
    broken = {
        "clip.mp4": b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\xff\xffmoov",
        "clip.webm": b"\x1a\x45\xdf\xa3" + b"\x00" * 64,
        "song.ogg": b"OggS\x00\x02" + b"\x00" * 64,
        "song.mp3": b"ID3\x04\x00\x00\x00\x00\x7f\x7f" + FRAMES,
    }
    for name, data in broken.items():
        r = upload(server, auth, data, name=name, ctype="application/octet-stream")
        assert r.status_code == 422, (name, r.text)
        assert "could not be read safely" in r.json()["error"], r.text
    assert server.stored_files() == before, "a refused upload left files behind"


def test_a_video_thumbnail_becomes_its_preview(server, auth):
    data, _, _ = AS_IS["clip.mp4"]
    r = requests.post(f"{server.base}/api/v2/media", headers=auth,
                      files={"file": ("clip.mp4", data, "video/mp4"), "thumbnail": ("t.jpg", jpeg(64, 48), "image/jpeg")})
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["type"] == "video" and m["preview_url"] and len(m["blurhash"]) >= 6
    assert m["meta"]["small"]["width"] == 64
    preview = server.fetch(m["preview_url"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    posted = requests.post(f"{server.base}/api/v1/statuses", headers=auth, data={"status": "a video", "media_ids[]": m["id"]})
    assert posted.status_code == 200, posted.text
    assert posted.json()["media_attachments"][0]["type"] == "video"


def test_uploads_are_temporary_until_a_status_uses_them(server, auth):
    m = upload(server, auth, jpeg(20, 20), description="kept").json()
    unused = upload(server, auth, jpeg(20, 20)).json()
    for url in (m["url"], m["preview_url"], unused["url"]):
        assert server.is_temporary(url), f"{url} is not marked for expiry"
    r = requests.post(f"{server.base}/api/v1/statuses", headers=auth, data={"status": "kept", "media_ids[]": m["id"]})
    assert r.status_code == 200, r.text
    # The queue worker (outbox-fanout on AWS) takes the mark off, after the post has answered.
    eventually(lambda: not server.is_temporary(m["url"]) and not server.is_temporary(m["preview_url"]),
               "the posted status's files are no longer marked for expiry")
    assert server.is_temporary(unused["url"]), "an upload no status uses stays temporary"
