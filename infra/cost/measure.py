#!/usr/bin/env python3
"""Measures what each unit of the reference workload (issue #8) costs in store operations by
running that workload, scaled down, against a real `petrel serve`, and writes the per-unit counts
to infra/cost/measured_workload.json for cost.py.

    python3 infra/cost/measure.py                      # embedded backend, the scale of the committed file
    python3 infra/cost/measure.py --aws                # DynamoDB/S3/SQS adapters against moto
    python3 infra/cost/measure.py --posts 4 --followers 3 --out /tmp/m.json

It starts `petrel serve --allow-private-network --ops-endpoint` on a temporary data dir and a fake
fediverse in this process: one small HTTP server per remote instance, each on its own loopback
address (127.0.0.N), serving actor documents (RSA keys, inbox, sharedInbox), notes and WebFinger,
signing what it sends (draft-cavage HTTP signatures with Digest, as Mastodon does) and recording
the deliveries it receives (answering 202). Every phase is bracketed by `GET /_petrel/ops`
snapshots taken once the expected deliveries arrived, every queued message was consumed and the
counters stopped moving.

Per-post counts are split into a part per post and a part per delivered inbox by posting twice,
to a smaller and then to the full set of follower inboxes (a two-point fit). Inbound activities
are measured one kind at a time. Needs requests, cryptography and Pillow (infra/local/
requirements.txt), and boto3 with --aws.
"""
import argparse
import base64
import datetime as dt
import email.utils
import hashlib
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AP_JSON = "application/activity+json"
PASSWORD = "measure the reference workload"
# Counters that move while nothing happens: the pollers' empty receives.
IDLE_COUNTERS = {"queue_receive_empty"}
# DynamoDB bills storage as the items' size plus 100 bytes of overhead per item.
ITEM_OVERHEAD = 100
TTL_ATTR = "ttl"
# The bucket's prefixes: uploads, profile images, rendered feeds and pages.
BLOB_PREFIXES = ("media/", "accounts/", "site/")


class MeasureError(Exception):
    pass


# ------------------------------------------------------------------ stored sizes


def _number_size(n):
    return (sum(c.isdigit() for c in n) + 1) // 2 + 1


def _value_size(v):
    """DynamoDB's size of one attribute value in DynamoDB JSON (petrel::store::table::value_size)."""
    (t, x), = v.items()
    if t == "S":
        return len(x.encode())
    if t == "N":
        return _number_size(x)
    if t == "B":
        return len(x) if isinstance(x, (bytes, bytearray)) else len(base64.b64decode(x))
    if t in ("BOOL", "NULL"):
        return 1
    if t == "SS":
        return sum(len(e.encode()) for e in x)
    if t == "NS":
        return sum(_number_size(e) for e in x)
    if t == "BS":
        return sum(len(e) if isinstance(e, (bytes, bytearray)) else len(base64.b64decode(e)) for e in x)
    if t == "L":
        return 3 + sum(1 + _value_size(e) for e in x)
    if t == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(e) for k, e in x.items())
    raise MeasureError(f"unknown DynamoDB type {t}")


def item_size(item):
    return sum(len(k.encode()) + _value_size(v) for k, v in item.items())


def item_kind(pk, sk):
    """The kind of an item, from its key (petrel::repo::keys): the partition's prefix, and the sort
    key's when it has one (STATUS#id/EDIT#…)."""
    kind = pk.split("#", 1)[0]
    if "#" in sk and sk.split("#", 1)[0].isupper():
        kind += "/" + sk.split("#", 1)[0]
    return kind


def storage_diff(after, before):
    """What a phase added to the table and the bucket, by kind: items and bytes (new items, and
    the change in size of rewritten ones; removed items count negative), split by whether the
    item carries a TTL; blob bytes by prefix, and the bytes of objects overwritten (versioning
    keeps them as noncurrent versions)."""
    (items_a, blobs_a), (items_b, blobs_b) = after, before
    table = {}

    def add(kind, ttl, items, size):
        row = table.setdefault(kind, {"items": 0, "bytes": 0, "ttl_items": 0, "ttl_bytes": 0})
        row["ttl_items" if ttl else "items"] += items
        row["ttl_bytes" if ttl else "bytes"] += size

    for key, (size, ttl) in items_a.items():
        old = items_b.get(key)
        if old is None:
            add(item_kind(*key), ttl, 1, size)
        elif old[0] != size:
            add(item_kind(*key), ttl, 0, size - old[0])
    for key, (size, ttl) in items_b.items():
        if key not in items_a:
            add(item_kind(*key), ttl, -1, -size)
    blobs = {}
    for key, (size, version) in blobs_a.items():
        prefix = key.split("/", 1)[0]
        row = blobs.setdefault(prefix, {"objects": 0, "bytes": 0, "overwritten_bytes": 0})
        old = blobs_b.get(key)
        if old is None:
            row["objects"] += 1
            row["bytes"] += size
        elif old[1] != version:
            row["bytes"] += size - old[0]
            row["overwritten_bytes"] += old[0]
    for key, (size, _) in blobs_b.items():
        if key not in blobs_a:
            row = blobs.setdefault(key.split("/", 1)[0], {"objects": 0, "bytes": 0, "overwritten_bytes": 0})
            row["objects"] -= 1
            row["bytes"] -= size
    return {"table": table, "blobs": blobs}


def storage_per_unit(d, n):
    return {part: {k: {f: v / n for f, v in row.items()} for k, row in d[part].items()} for part in ("table", "blobs")}


def storage_fit(a, b, n_a, n_b):
    """Intercept (per post) and slope (per inbox) of a two-point fit of per-post storage."""
    out_post, out_inbox = {"table": {}, "blobs": {}}, {"table": {}, "blobs": {}}
    for part in ("table", "blobs"):
        for kind in set(a[part]) | set(b[part]):
            ra, rb = a[part].get(kind, {}), b[part].get(kind, {})
            for f in set(ra) | set(rb):
                slope = (rb.get(f, 0) - ra.get(f, 0)) / (n_b - n_a)
                out_inbox[part].setdefault(kind, {})[f] = slope
                out_post[part].setdefault(kind, {})[f] = ra.get(f, 0) - slope * n_a
    return out_post, out_inbox


# ------------------------------------------------------------------ signatures (draft-cavage)


def new_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, pem.decode()


def signed_post(url, body, key, key_id):
    """POSTs `body` with Mastodon's signature: (request-target) host date digest, rsa-sha256."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {
        "host": parts.netloc,
        "date": email.utils.formatdate(usegmt=True),
        "digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode(),
        "content-type": AP_JSON,
    }
    covered = ["(request-target)", "host", "date", "digest", "content-type"]
    lines = [f"(request-target): post {path}"] + [f"{h}: {headers[h]}" for h in covered[1:]]
    sig = key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(sig).decode()}"'
    )
    return requests.post(url, data=body, headers=headers, timeout=120)


# ------------------------------------------------------------------ the fake fediverse


class Actor:
    def __init__(self, instance, name, key=None, gone=False):
        self.instance = instance
        self.name = name
        self.gone = gone
        self.key, self.public_pem = key or new_key()
        self.uri = f"{instance.base}/users/{name}"
        self.key_id = f"{self.uri}#main-key"
        self.inbox = f"{self.uri}/inbox"

    def document(self):
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.uri,
            "type": "Person",
            "preferredUsername": self.name,
            "name": f"Remote {self.name}",
            "summary": "<p>A remote account of the measurement's fake fediverse.</p>",
            "url": self.uri,
            "inbox": self.inbox,
            "outbox": f"{self.uri}/outbox",
            "followers": f"{self.uri}/followers",
            "following": f"{self.uri}/following",
            "endpoints": {"sharedInbox": f"{self.instance.base}/inbox"},
            "publicKey": {"id": self.key_id, "owner": self.uri, "publicKeyPem": self.public_pem},
        }

    def send(self, target_inbox, activity):
        body = json.dumps(activity).encode()
        r = signed_post(target_inbox, body, self.key, self.key_id)
        return r.status_code


class Instance:
    """One remote server: its own loopback address, so Petrel sees a distinct host."""

    def __init__(self, fediverse, address):
        self.fediverse = fediverse
        self.actors = {}
        self.notes = {}
        handler = type("Handler", (_Handler,), {"instance": self})
        self.server = ThreadingHTTPServer((address, 0), handler)
        self.server.daemon_threads = True
        self.base = f"http://{address}:{self.server.server_address[1]}"
        self.host = f"{address}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_actor(self, name, key=None, gone=False):
        actor = Actor(self, name, key, gone)
        self.actors[name] = actor
        return actor


class _Handler(BaseHTTPRequestHandler):
    instance = None  # set per instance
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, doc=None, content_type=AP_JSON):
        body = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(status)
        if doc is not None:
            self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        inst, fed = self.instance, self.instance.fediverse
        parts = urlsplit(self.path)
        fed.record_fetch(inst.base + self.path)
        segs = [s for s in parts.path.split("/") if s]
        if parts.path == "/.well-known/webfinger":
            resource = parse_qs(parts.query).get("resource", [""])[0]
            name = resource.removeprefix("acct:").split("@")[0]
            actor = inst.actors.get(name)
            if actor is None or actor.gone:
                return self._reply(404, {"error": "not found"}, "application/json")
            return self._reply(
                200,
                {"subject": resource, "links": [{"rel": "self", "type": AP_JSON, "href": actor.uri}]},
                "application/jrd+json",
            )
        if len(segs) == 2 and segs[0] == "users":
            actor = inst.actors.get(segs[1])
            if actor is None:
                return self._reply(404, {"error": "not found"})
            if actor.gone:
                return self._reply(410, {"error": "gone"})
            return self._reply(200, actor.document())
        note = inst.notes.get(inst.base + parts.path)
        if note is not None:
            return self._reply(200, note)
        return self._reply(404, {"error": "not found"})

    def do_POST(self):
        inst, fed = self.instance, self.instance.fediverse
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            activity = json.loads(body)
        except ValueError:
            return self._reply(400, {"error": "not JSON"})
        signed = "signature" in {k.lower() for k in self.headers.keys()}
        self._reply(202)
        fed.record_delivery(inst, self.path, activity, signed)


class Fediverse:
    """Every remote instance, and what Petrel sent them."""

    def __init__(self):
        self.lock = threading.Lock()
        self.instances = []
        self.deliveries = []  # (instance host, path, activity, signed)
        self.fetches = []
        self.petrel_inbox = None
        self._next_address = 2
        self.accept_threads = []

    def new_instance(self):
        with self.lock:
            address = f"127.0.0.{self._next_address}"
            self._next_address += 1
        inst = Instance(self, address)
        self.instances.append(inst)
        return inst

    def record_fetch(self, url):
        with self.lock:
            self.fetches.append(url)

    def record_delivery(self, inst, path, activity, signed):
        with self.lock:
            self.deliveries.append((inst.host, path, activity, signed))
        # Petrel follows one of ours: answer with an Accept, as a Mastodon server would.
        obj = activity.get("object")
        if activity.get("type") == "Follow" and isinstance(obj, str):
            actor = next((a for a in inst.actors.values() if a.uri == obj), None)
            if actor is not None:
                accept = {
                    "@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"{actor.uri}#accepts/{uuid.uuid4()}",
                    "type": "Accept",
                    "actor": actor.uri,
                    "object": activity,
                }
                t = threading.Thread(target=actor.send, args=(self.petrel_inbox, accept), daemon=True)
                self.accept_threads.append(t)
                t.start()

    def counts(self):
        with self.lock:
            return len(self.deliveries), len(self.fetches)

    def accepted(self, uris):
        """Which of these follower URIs got an Accept of their Follow."""
        with self.lock:
            return {
                d[2]["object"].get("actor")
                for d in self.deliveries
                if d[2].get("type") == "Accept" and isinstance(d[2].get("object"), dict)
            } & set(uris)

    def creates(self):
        """Every Create of an object delivered: (instance host, object id, signed)."""
        with self.lock:
            return [
                (d[0], d[2]["object"].get("id"), d[3])
                for d in self.deliveries
                if d[2].get("type") == "Create" and isinstance(d[2].get("object"), dict)
            ]

    def close(self):
        for inst in self.instances:
            inst.server.shutdown()
            inst.server.server_close()


# ------------------------------------------------------------------ petrel serve


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def petrel_bin():
    path = os.environ.get("PETREL_BIN")
    if path:
        return path
    # Always through cargo: a stale binary would measure old code (or lack --ops-endpoint).
    subprocess.run(["cargo", "build", "--quiet", "-p", "petrel-cli"], cwd=ROOT, check=True)
    return str(Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target") / "debug" / "petrel")


class Petrel:
    """`petrel serve` on a temporary data dir (and, with --aws, fresh queues in the emulator)."""

    def __init__(self, aws, keep):
        self.aws = aws
        self.keep = keep
        self.data = tempfile.mkdtemp(prefix="petrel-measure-")
        self.addr = f"127.0.0.1:{free_port()}"
        self.base = f"http://{self.addr}"
        self.username = "owner" + secrets.token_hex(3)
        self.env = dict(os.environ)
        self.queues = []
        self.table = None
        self.bucket = None
        self.proc = None
        if aws:
            self._aws_resources()
            self.env["PETREL_MEDIA_BASE"] = (
                f"{os.environ['AWS_ENDPOINT_URL']}/{self.bucket}"
            )
        self.common = [petrel_bin(), "--data", self.data, "--domain", self.addr, "--allow-private-network"]
        if aws:
            self.common.append("--aws")

    def _aws_resources(self):
        """A fresh table and fresh work queues, provisioned from template.yaml, so that what other
        runs left in the emulator (accounts, messages) is neither counted nor touched."""
        if not os.environ.get("AWS_ENDPOINT_URL"):
            raise MeasureError("--aws needs AWS_ENDPOINT_URL (eval \"$(bash infra/local/moto.sh --env)\")")
        import boto3

        kw = {"endpoint_url": os.environ["AWS_ENDPOINT_URL"], "region_name": os.environ.get("AWS_REGION", "us-east-1")}
        self._sqs, self._ddb = boto3.client("sqs", **kw), boto3.client("dynamodb", **kw)
        self._s3 = boto3.client("s3", **kw)
        prefix = f"petrel-measure-{secrets.token_hex(4)}"
        self.table = self.env["PETREL_TABLE"] = prefix
        # A bucket of its own too, so that its growth is this run's alone.
        self.bucket = self.env["PETREL_BUCKET"] = prefix
        subprocess.run(
            [sys.executable, str(ROOT / "infra/local/provision.py"), str(ROOT / "template.yaml")],
            env=self.env, check=True, capture_output=True,
        )
        # The one work queue (petrel::config::DEFAULT_OUTBOX_QUEUE's counterpart).
        url = self._sqs.create_queue(QueueName=f"{prefix}-outbox")["QueueUrl"]
        self.queues.append(url)
        self.env["PETREL_OUTBOX_QUEUE"] = url

    def start(self):
        subprocess.run(
            [*self.common, "account", "create", self.username],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            capture_output=True,
            env=self.env,
        )
        self.log = open(os.path.join(self.data, "serve.log"), "w")
        self.proc = subprocess.Popen(
            [*self.common, "serve", "--addr", self.addr, "--ops-endpoint"], stdout=self.log, stderr=self.log, env=self.env
        )
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(self.base + "/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise MeasureError(f"petrel serve did not start; see {self.log.name}")
            time.sleep(0.1)
        app = requests.post(
            f"{self.base}/api/v1/apps",
            data={"client_name": "measure", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow"},
        ).json()
        token = requests.post(
            f"{self.base}/oauth/token",
            data={
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": self.username,
                "password": PASSWORD,
                "scope": "read write follow",
            },
        )
        if token.status_code != 200:
            raise MeasureError(f"login failed: {token.status_code} {token.text}")
        self.api = requests.Session()
        self.api.headers["Authorization"] = "Bearer " + token.json()["access_token"]
        self.actor = f"{self.base}/users/{self.username}"
        self.inbox = f"{self.base}/inbox"
        self.personal_inbox = f"{self.actor}/inbox"

    def call(self, method, path, **kw):
        r = self.api.request(method, self.base + path, timeout=60, **kw)
        if r.status_code >= 400:
            raise MeasureError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r

    def failed_messages(self):
        self.log.flush()
        return Path(self.log.name).read_text().count("message failed")

    def ops(self):
        r = requests.get(self.base + "/_petrel/ops", timeout=10)
        r.raise_for_status()
        return r.json()

    def storage(self):
        """What the table and the bucket hold now: {(pk, sk): (size, ttl)} and {blob key: (size, etag)}.
        Sizes are DynamoDB's billed item size (petrel::store::table::item_size plus the 100 bytes of
        per-item overhead DynamoDB adds to storage)."""
        items, blobs = {}, {}
        if self.aws:
            for page in self._ddb.get_paginator("scan").paginate(TableName=self.table):
                for item in page["Items"]:
                    key = (item["pk"]["S"], item["sk"]["S"])
                    items[key] = (item_size(item) + ITEM_OVERHEAD, TTL_ATTR in item)
            s3 = self._s3
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
                for o in page.get("Contents", []):
                    if o["Key"].startswith(BLOB_PREFIXES):
                        blobs[o["Key"]] = (o["Size"], o["ETag"])
            return items, blobs
        import sqlite3

        db = sqlite3.connect(f"file:{os.path.join(self.data, 'petrel.db')}?mode=ro", uri=True, timeout=30)
        try:
            now = int(time.time())
            for pk, sk, item, expires in db.execute("SELECT pk, sk, item, expires FROM items"):
                if expires is not None and expires <= now:
                    continue  # expired: absent, as DynamoDB's TTL would make it
                items[(pk, sk)] = (item_size(json.loads(item)) + ITEM_OVERHEAD, expires is not None)
        finally:
            db.close()
        root = Path(self.data) / "blobs" / "objects"
        for path in root.rglob("*"):
            if path.is_file():
                st = path.stat()
                blobs[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
        return items, blobs

    def stop(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.log.close()
        # Best effort: the emulator is throwaway.
        for url in self.queues:
            try:
                self._sqs.delete_queue(QueueUrl=url)
            except Exception as e:
                print(f"could not delete {url}: {e}", file=sys.stderr)
        if self.table:
            try:
                self._ddb.delete_table(TableName=self.table)
            except Exception as e:
                print(f"could not delete table {self.table}: {e}", file=sys.stderr)
        if self.bucket:
            try:
                versions = self._s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket)
                for page in versions:
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                        self._s3.delete_object(Bucket=self.bucket, Key=v["Key"], VersionId=v["VersionId"])
                self._s3.delete_bucket(Bucket=self.bucket)
            except Exception as e:
                print(f"could not delete bucket {self.bucket}: {e}", file=sys.stderr)
        if not self.keep:
            import shutil

            shutil.rmtree(self.data, ignore_errors=True)


# ------------------------------------------------------------------ the measurement


def diff(after, before):
    return {k: after[k] - before.get(k, 0) for k in after}


def per_unit(total, n, fed_total=None):
    """Counts per unit; capacity in request units; idle polling left out (priced apart)."""
    out = {k: v / n for k, v in total.items() if k not in IDLE_COUNTERS and k != "rru_half"}
    out["rru"] = total.get("rru_half", 0) / 2 / n
    if fed_total is not None:
        out["remote_posts"] = fed_total[0] / n
        out["remote_fetches"] = fed_total[1] / n
    out["n"] = n
    return out


class Run:
    def __init__(self, petrel, fed, quiet_seconds):
        self.p = petrel
        self.fed = fed
        self.quiet_seconds = quiet_seconds
        self.last_settled = None
        self.last_storage = None

    def settle(self, what, until=lambda: True, timeout=120):
        """Waits until `until()` holds, every queued message has been consumed (the pollers
        delete each message they processed) and no counter but the idle ones moved for
        quiet_seconds; returns the snapshot then."""
        deadline = time.time() + timeout
        last, last_fed, still_since = None, None, time.time()
        while True:
            now = self.p.ops()
            fed_now = self.fed.counts()
            outstanding = now["queue_messages_sent"] - now["queue_delete"]
            if self._busy(now) != last or fed_now != last_fed or outstanding > 0:
                last, last_fed, still_since = self._busy(now), fed_now, time.time()
            elif time.time() - still_since >= self.quiet_seconds and until():
                return now
            if time.time() > deadline:
                raise MeasureError(f"timed out after {what} ({outstanding} queued messages outstanding)")
            time.sleep(0.1)

    @staticmethod
    def _busy(ops):
        return {k: v for k, v in ops.items() if k not in IDLE_COUNTERS}

    def measured(self, what, work, until=lambda: True):
        """Runs `work` between two settled snapshots; returns (ops, fediverse traffic, result)."""
        before = self.p.ops()
        fed_before = self.fed.counts()
        settled = self.last_settled
        if settled is None or self._busy(before) != self._busy(settled[0]) or fed_before != settled[1]:
            # Something ran since the last settled snapshot (a check, a setup step): wait it out.
            before = self.settle(f"quiet before {what}")
            fed_before = self.fed.counts()
        stored_before = self.p.storage()
        result = work()
        after = self.settle(what, until)
        fed_after = self.fed.counts()
        # What the phase left stored (a scan: no store operation is counted by it).
        self.last_storage = storage_diff(self.p.storage(), stored_before)
        self.last_settled = (after, fed_after)
        return diff(after, before), (fed_after[0] - fed_before[0], fed_after[1] - fed_before[1]), result


def jpeg(width=640, height=480, seed=0):
    from PIL import Image

    img = Image.new("RGB", (width, height), (seed * 37 % 256, 120, 200))
    img.paste(Image.new("RGB", (width // 2, height), (30, seed * 91 % 256, 60)), (width // 2, 0))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def note(actor, n, content, **extra):
    doc = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}/notes/{n}",
        "type": "Note",
        "attributedTo": actor.uri,
        "content": f"<p>{content}</p>",
        "published": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "to": [AS_PUBLIC],
        "cc": [f"{actor.uri}/followers"],
        "url": f"{actor.uri}/notes/{n}",
    }
    doc.update(extra)
    actor.instance.notes[doc["id"]] = doc
    return doc


def activity(actor, kind, obj, **extra):
    doc = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{actor.uri}/activities/{uuid.uuid4()}",
        "type": kind,
        "actor": actor.uri,
        "object": obj,
    }
    doc.update(extra)
    return doc


def measure(args, log=print):
    workload = json.loads((HERE / "workload.json").read_text())
    mix = workload["estimates"]["inbound_mix"]
    fed = Fediverse()
    petrel = Petrel(args.aws, args.keep_data)
    try:
        petrel.start()
        fed.petrel_inbox = petrel.inbox
        doc = _measure(args, workload, mix, fed, petrel, log)
        # Failed messages are retried and their retries counted: say how many there were.
        doc["checks"]["consumer_failures"] = petrel.failed_messages()
        return doc
    finally:
        petrel.stop()
        fed.close()


def _measure(args, workload, mix, fed, petrel, log):
    run = Run(petrel, fed, args.quiet_seconds)
    F, M, K, R = args.followers, args.following, args.per_kind, args.reads
    F_a = max(1, F // 3)
    if F - F_a < 1:
        raise MeasureError("--followers must be at least 2 (the per-inbox part is fitted from two follower counts)")
    if M > F:
        raise MeasureError("--following must not exceed --followers (followed accounts are followers too)")
    posts_half = max(1, args.posts // 2)
    share = workload["estimates"]["posts_with_an_image"]
    images_half = max(1, round(share * posts_half)) if share > 0 else 0

    # Remote accounts, each on its own instance (so each has its own shared inbox).
    log(f"setup: {F} remote instances with an account each")
    remotes = [fed.new_instance().add_actor(f"u{k}") for k in range(F)]
    fresh_instance = fed.new_instance()
    fresh = [fresh_instance.add_actor(f"new{k}") for k in range(K)]
    ghost_instance = fed.new_instance()
    ghost_key = new_key()
    ghosts = [ghost_instance.add_actor(f"gone{k}", key=ghost_key, gone=True) for k in range(K)]
    results = {"inbound": {}, "reads": {}}
    # What each unit of work leaves stored (table items and bytes by kind, bucket bytes by prefix).
    stored = {}

    def follow_owner(actors):
        for a in actors:
            status = a.send(petrel.inbox, activity(a, "Follow", petrel.actor))
            if status != 202:
                raise MeasureError(f"Follow from {a.uri}: {status}")

    def accepts_for(actors):
        uris = {a.uri for a in actors}
        return lambda: fed.accepted(uris) >= uris

    # --- setup (not priced): a history of posts, so that feed renders and timelines read pages as
    # full as on a live account; the owner follows M accounts; the first F_a accounts follow the owner
    for i in range(args.history):
        petrel.call("POST", "/api/v1/statuses", data={"status": f"an earlier post {i} #petrel", "visibility": "public"})

    followed_ids = {}
    for a in remotes[:M]:
        found = petrel.call("GET", "/api/v2/search", params={"q": a.uri, "resolve": "true", "type": "accounts"}).json()
        if not found["accounts"]:
            raise MeasureError(f"search did not resolve {a.uri}: {found}")
        account_id = found["accounts"][0]["id"]
        followed_ids[a.uri] = account_id
        petrel.call("POST", f"/api/v1/accounts/{account_id}/follow")

    def all_following():
        ids = list(followed_ids.values())
        if not ids:
            return True
        rels = petrel.call("GET", "/api/v1/accounts/relationships", params={"id[]": ids}).json()
        return all(r["following"] for r in rels)

    follow_owner(remotes[:F_a])
    run.settle("setup: follows both ways", lambda: accepts_for(remotes[:F_a])() and all_following())

    # --- media uploads: synchronous (no queued work), measured together
    log(f"media: {2 * images_half} uploads")
    media_ids = []

    def upload(i):
        image = {"file": (f"p{i}.jpg", jpeg(seed=i), "image/jpeg")}
        r = petrel.call("POST", "/api/v2/media", files=image, data={"description": f"image {i}"})
        media_ids.append(r.json()["id"])

    ops, fed_t, _ = run.measured("media uploads", lambda: [upload(i) for i in range(2 * images_half)])
    if images_half:
        results["media_upload"] = per_unit(ops, 2 * images_half, fed_t)
        stored["media_upload"] = storage_per_unit(run.last_storage, 2 * images_half)

    # --- posts: to F_a inboxes, then (after more followers) to F inboxes
    posted = []

    def post_batch(n, images, tag):
        uris = []
        for i in range(n):
            data = {"status": f"measured post {tag}{i} #petrel", "visibility": "public"}
            if i < images:
                data["media_ids[]"] = [media_ids.pop()]
            s = petrel.call("POST", "/api/v1/statuses", data=data).json()
            uris.append(s["uri"])
            posted.append(s)
        return uris

    def delivered_everywhere(uris, actors):
        hosts = {a.instance.host for a in actors}

        def check():
            got = {(host, note_id) for host, note_id, _ in fed.creates()}
            return all((h, u) in got for h in hosts for u in uris)

        return check

    runs = []
    for n_inboxes, tag in ((F_a, "a"), (F, "b")):
        if n_inboxes == F:
            follow_owner(remotes[F_a:])
            run.settle("setup: more followers", accepts_for(remotes))
        log(f"posts: {posts_half} posts ({images_half} with an image) to {n_inboxes} follower inboxes")
        box = {}
        ops, fed_t, _ = run.measured(
            f"posts to {n_inboxes} inboxes",
            lambda: box.setdefault("uris", post_batch(posts_half, images_half, tag)),
            until=lambda: "uris" in box and delivered_everywhere(box["uris"], remotes[:n_inboxes])(),
        )
        runs.append({"posts": posts_half, "inboxes": n_inboxes, "ops": ops, "remote": fed_t,
                     "stored": storage_per_unit(run.last_storage, posts_half)})

    (a, b) = runs
    per_a = per_unit(a["ops"], a["posts"], a["remote"])
    per_b = per_unit(b["ops"], b["posts"], b["remote"])
    span = b["inboxes"] - a["inboxes"]
    slope = {k: (per_b[k] - per_a[k]) / span for k in per_a if k != "n"}
    intercept = {k: per_a[k] - slope[k] * a["inboxes"] for k in per_a if k != "n"}
    results["post"] = {**intercept, "n": a["posts"] + b["posts"]}
    results["delivery"] = {**slope, "n": a["posts"] * a["inboxes"] + b["posts"] * b["inboxes"]}
    stored["post"], stored["delivery"] = storage_fit(a["stored"], b["stored"], a["inboxes"], b["inboxes"])
    # Renders overwrite feeds whose old sizes vary from run to run, so a fit of the bucket's bytes
    # over two runs is noise; renders are per post, whatever the inboxes: their mean per post.
    stored["post"]["blobs"] = {
        prefix: {f: (a["stored"]["blobs"].get(prefix, {}).get(f, 0) + b["stored"]["blobs"].get(prefix, {}).get(f, 0)) / 2
                 for f in ("objects", "bytes", "overwritten_bytes")}
        for prefix in set(a["stored"]["blobs"]) | set(b["stored"]["blobs"])
    }
    stored["delivery"]["blobs"] = {}
    results["post_runs"] = [
        {"posts": r["posts"], "follower_inboxes": r["inboxes"], "per_post": per_unit(r["ops"], r["posts"], r["remote"])}
        for r in runs
    ]
    expected = sum(r["posts"] * r["inboxes"] for r in runs)
    all_uris = {s["uri"] for s in posted}
    got = [signed for _, note_id, signed in fed.creates() if note_id in all_uris]
    checks = {
        "post_deliveries_expected": expected,
        "post_deliveries_received": len(got),
        "post_deliveries_unsigned": got.count(False),
    }

    # --- inbound: one kind at a time, K activities each
    owner_statuses = [s["uri"] for s in posted]
    followed = remotes[:M] or remotes[:1]
    counter = iter(range(10**9))
    created = []

    def send_all(items):
        def work():
            for actor, target, act in items:
                status = actor.send(target, act)
                if status != 202:
                    raise MeasureError(f"{act['type']} from {actor.uri}: {status}")
        return work

    def pick(seq, i):
        return seq[i % len(seq)]

    def kind_create_note():
        items = []
        for i in range(K):
            actor = pick(followed, i)
            # Shaped like a Mastodon post of ordinary length (~400 characters of text, a link and
            # a hashtag in Mastodon's markup): the stored item's size decides the write units.
            text = (f"Note {i} from a followed account. Spent the morning reading about how small servers "
                    "federate, and the numbers are better than I expected: most of the traffic is "
                    "deletes of accounts nobody here ever saw. Notes to self below, and the write-up "
                    "is worth a read if you run your own instance. ")
            link = ('<a href="https://blog.example/posts/federation-costs" target="_blank" rel="nofollow noopener '
                    'noreferrer"><span class="invisible">https://</span><span class="ellipsis">blog.example/posts/'
                    'federat</span><span class="invisible">ion-costs</span></a>')
            tag = (f'<a href="{actor.instance.base}/tags/fediverse" class="mention hashtag" rel="tag">'
                   '#<span>fediverse</span></a>')
            n = note(actor, next(counter), f"{text}{link} {tag}",
                     tag=[{"type": "Hashtag", "href": f"{actor.instance.base}/tags/fediverse", "name": "#fediverse"}])
            created.append((actor, n))
            items.append((actor, petrel.inbox, activity(actor, "Create", n, to=n["to"], cc=n["cc"])))
        return items

    def kind_reply_mention():
        items = []
        for i in range(K):
            actor = pick(remotes, M + i)
            n = note(actor, next(counter), f"@{petrel.username} a reply {i}", inReplyTo=pick(owner_statuses, i),
                     cc=[petrel.actor, f"{actor.uri}/followers"],
                     tag=[{"type": "Mention", "href": petrel.actor, "name": f"@{petrel.username}@{petrel.addr}"}])
            items.append((actor, petrel.personal_inbox, activity(actor, "Create", n, to=n["to"], cc=n["cc"])))
        return items

    likes = []

    def kind_like():
        items = []
        for i in range(K):
            actor = pick(remotes, i)
            act = activity(actor, "Like", pick(owner_statuses, i // len(remotes) + i))
            likes.append((actor, act))
            items.append((actor, petrel.personal_inbox, act))
        return items

    def kind_announce():
        return [(pick(remotes, i), petrel.inbox,
                 activity(pick(remotes, i), "Announce", pick(owner_statuses, i + 1), to=[AS_PUBLIC], cc=[petrel.actor]))
                for i in range(K)]

    def kind_update_note():
        items = []
        for i in range(K):
            actor, n = pick(created, i)
            n = dict(n, content=f"<p>edited {i}</p>", updated=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
            actor.instance.notes[n["id"]] = n
            items.append((actor, petrel.inbox, activity(actor, "Update", n, to=n["to"], cc=n["cc"])))
        return items

    def kind_delete_note():
        items = []
        for i in range(K):
            actor, n = created[i % len(created)]
            items.append((actor, petrel.inbox, activity(actor, "Delete", {"id": n["id"], "type": "Tombstone"}, to=[AS_PUBLIC])))
        return items

    def kind_delete_unknown_actor():
        return [(g, petrel.inbox, activity(g, "Delete", g.uri, to=[AS_PUBLIC])) for g in ghosts]

    follows_sent = []

    def kind_follow():
        items = []
        for actor in fresh:
            act = activity(actor, "Follow", petrel.actor)
            follows_sent.append((actor, act))
            items.append((actor, petrel.personal_inbox, act))
        return items

    def kind_undo_follow():
        return [(actor, petrel.personal_inbox, activity(actor, "Undo", f)) for actor, f in follows_sent]

    def kind_unknown_type():
        return [(pick(followed, i), petrel.inbox,
                 activity(pick(followed, i), "Add", f"{pick(followed, i).uri}/notes/pinned{i}",
                          target=f"{pick(followed, i).uri}/collections/featured")) for i in range(K)]

    def kind_repeat():
        return [(actor, petrel.personal_inbox, act) for actor, act in likes[:K]]

    kinds = {
        "create_note": kind_create_note,
        "reply_mention": kind_reply_mention,
        "like": kind_like,
        "announce": kind_announce,
        "update_note": kind_update_note,
        "delete_note": kind_delete_note,
        "delete_unknown_actor": kind_delete_unknown_actor,
        "follow": kind_follow,
        "undo_follow": kind_undo_follow,
        "unknown_type": kind_unknown_type,
        "repeat": kind_repeat,
    }
    if set(kinds) != set(mix):
        raise MeasureError(f"workload.json inbound_mix {sorted(mix)} does not name the measured kinds {sorted(kinds)}")
    for name, make in kinds.items():
        items = make()
        until = lambda: True
        if name == "follow":
            until = accepts_for(fresh)
        ops, fed_t, _ = run.measured(f"inbound {name}", send_all(items), until=until)
        results["inbound"][name] = per_unit(ops, len(items), fed_t)
        stored[f"inbound.{name}"] = storage_per_unit(run.last_storage, len(items))
        log(f"inbound: {len(items)} × {name}")

    # What the inbound activities did, seen through the API.
    home = petrel.call("GET", "/api/v1/timelines/home", params={"limit": 40}).json()
    checks["home_has_remote_notes"] = sum(1 for s in home if s["account"]["acct"] != petrel.username)
    liked = [petrel.call("GET", f"/api/v1/statuses/{s['id']}").json()["favourites_count"] for s in posted]
    checks["favourites_on_owner_posts"] = sum(liked)
    checks["likes_sent_distinct"] = len({act["id"] for _, act in likes})

    # --- reads: synchronous, R of each
    some_status = posted[0]["id"]
    api_reads = {
        "home_timeline_page_20": "/api/v1/timelines/home?limit=20",
        "notifications": "/api/v1/notifications",
        "status_get": f"/api/v1/statuses/{some_status}",
        "verify_credentials": "/api/v1/accounts/verify_credentials",
        "instance": "/api/v2/instance",
    }
    name = petrel.username
    feed_reads = {
        "feed_rss": f"/@{name}.rss",
        "feed_atom": f"/@{name}.atom",
        "feed_json": f"/@{name}.json",
        "profile_page": f"/@{name}",
        "post_page": f"/@{name}/{some_status}",
        "actor_document": f"/users/{name}",
    }
    for read, path in api_reads.items():
        ops, fed_t, _ = run.measured(f"read {read}", lambda: [petrel.call("GET", path) for _ in range(R)])
        results["reads"][read] = per_unit(ops, R, fed_t)
    for read, path in feed_reads.items():
        headers = {"accept": AP_JSON} if read == "actor_document" else {}

        def get_public():
            for _ in range(R):
                r = requests.get(petrel.base + path, headers=headers, timeout=120)
                if r.status_code != 200:
                    raise MeasureError(f"GET {path}: {r.status_code}")

        ops, fed_t, _ = run.measured(f"read {read}", get_public)
        results["reads"][read] = per_unit(ops, R, fed_t)
    log(f"reads: {R} × {len(api_reads) + len(feed_reads)} kinds")

    return {
        "measured_by": "infra/cost/measure.py (the reference workload scaled down, run against `petrel serve`)",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "petrel_commit": petrel_commit(),
        # A given binary may not be this tree's build: say so.
        "petrel_binary": os.environ.get("PETREL_BIN") or "built from this tree by cargo",
        "backend": "aws (moto)" if args.aws else "embedded",
        "scale": {
            "posts": 2 * posts_half,
            "posts_with_an_image": 2 * images_half,
            "follower_inboxes": [F_a, F],
            "followed_accounts": M,
            "inbound_activities_per_kind": K,
            "reads_per_kind": R,
            "earlier_posts": args.history,
        },
        "units": (
            "store requests (DynamoDB, S3, SQS) and DynamoDB capacity units (rru, wru) per unit; `post` is per post "
            "excluding deliveries and `delivery` per delivered follower inbox (a two-point fit over post_runs); "
            "queue_receive counts receives that returned messages (one consumer invocation each); empty polls are "
            "left out; remote_posts/remote_fetches are requests Petrel made to the fake fediverse"
        ),
        "per_unit": results,
        "stored_per_unit": stored,
        "stored_units": (
            "what each unit of work leaves stored: `table` by item kind (partition key prefix, and the sort "
            "key's when it has one): items and bytes (DynamoDB's item size + 100 bytes of overhead; rewritten "
            "items count their change in size, removed ones negative), `ttl_*` for items that carry a TTL; "
            "`blobs` by bucket prefix: objects, bytes, and bytes overwritten (kept as noncurrent versions)"
        ),
        "checks": checks,
    }


def petrel_commit():
    try:
        git = lambda *a: subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return git("rev-parse", "HEAD") + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--aws", action="store_true", help="use the AWS adapters (AWS_ENDPOINT_URL, e.g. moto)")
    ap.add_argument("--posts", type=int, default=20, help="posts in all (half before, half after more followers)")
    ap.add_argument("--followers", type=int, default=30, help="remote follower inboxes (each its own instance)")
    ap.add_argument("--following", type=int, default=10, help="remote accounts the owner follows")
    ap.add_argument("--per-kind", type=int, default=20, help="inbound activities of each kind")
    ap.add_argument("--reads", type=int, default=20, help="requests of each read kind")
    ap.add_argument("--history", type=int, default=20, help="posts made before measuring (a feed page's worth)")
    ap.add_argument("--quiet-seconds", type=float, default=0.5, help="how long counters must stay still")
    ap.add_argument("--out", default=str(HERE / "measured_workload.json"))
    ap.add_argument("--keep-data", action="store_true", help="keep the temporary data dir (serve.log)")
    args = ap.parse_args(argv)
    started = time.time()
    try:
        doc = measure(args, log=lambda m: print(m, file=sys.stderr))
    except MeasureError as e:
        print(f"measure: {e}", file=sys.stderr)
        return 1
    Path(args.out).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.out} in {time.time() - started:.0f} s; checks: {doc['checks']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    # Stopped from outside: still stop `petrel serve` and remove what was made.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
