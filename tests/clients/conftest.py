"""Fixtures for the client tests: a real `petrel serve` on the embedded backend, with an owner
account made by the real CLI, on a free loopback port."""
import os
import secrets
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings

import pytest
from mastodon import Mastodon

ROOT = pathlib.Path(__file__).resolve().parents[2]
USERNAME = "alice"
PASSWORD = "correct horse battery staple"


def petrel_bin():
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    path = os.environ.get("PETREL_BIN") or str(target / "debug" / "petrel")
    if not os.path.exists(path):
        subprocess.run(["cargo", "build", "--quiet", "-p", "petrel-cli"], cwd=ROOT, check=True)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fetched:
    def __init__(self, status_code, content_type, content):
        self.status_code = status_code
        self.headers = {"content-type": content_type}
        self.content = content


class Server:
    def __init__(self, base, data, backend):
        self.base = base
        self.data = data
        self.backend = backend
        self.username = USERNAME
        self.password = PASSWORD
        # The CLI arguments and environment this server was started with (set by `_start`).
        self.cli, self.env = [], {}

    def create_account(self, prefix):
        """A further local account on this server (same CLI arguments and table); its name."""
        name = prefix + secrets.token_hex(4)
        subprocess.run([petrel_bin(), *self.cli, "account", "create", name], input=self.password + "\n",
                       text=True, check=True, capture_output=True, env=self.env)
        return name

    def fetch(self, url):
        """Reads a public media URL as a reader would. On the AWS backend the bucket is private
        and CloudFront reads it with its own credentials, so this reads the object from S3 (moto)
        with credentials; locally `petrel serve` serves the URL itself."""
        if self.backend == "aws":
            import boto3
            bucket = os.environ.get("PETREL_BUCKET", "petrel-media")
            key = url.split(f"/{bucket}/", 1)[1]
            s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
            try:
                obj = s3.get_object(Bucket=bucket, Key=key)
            except s3.exceptions.NoSuchKey:
                return Fetched(404, None, b"")
            return Fetched(200, obj["ContentType"], obj["Body"].read())
        import requests
        r = requests.get(url)
        return Fetched(r.status_code, r.headers.get("content-type"), r.content)

    def is_temporary(self, url):
        """Whether a stored file carries the temporary mark the bucket's lifecycle rule expires."""
        if self.backend == "aws":
            import boto3
            bucket = os.environ.get("PETREL_BUCKET", "petrel-media")
            key = url.split(f"/{bucket}/", 1)[1]
            s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
            tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
            return {"Key": "petrel-temporary", "Value": "true"} in tags
        import json
        key = url.split("/media/", 1)[1]
        meta = pathlib.Path(self.data) / "blobs" / "meta" / (key + ".json")
        return json.loads(meta.read_text()).get("temporary", False)

    def stored_files(self):
        """Every stored upload's key, to show that a refused upload stored nothing. Rendered feeds
        and pages (`site/`) are left out: the feed consumer writes them whenever posts change."""
        return [k for k in self._stored_keys() if not k.startswith("site/")]

    def _stored_keys(self):
        if self.backend == "aws":
            import boto3
            s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ.get("AWS_REGION", "us-east-1"))
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=os.environ.get("PETREL_BUCKET", "petrel-media"))
            return sorted(o["Key"] for p in pages for o in p.get("Contents", []))
        root = pathlib.Path(self.data) / "blobs" / "objects"
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def eventually(check, what, timeout=20):
    """`check()`'s first truthy value within `timeout` seconds: for work the server's queue worker
    does after the request that caused it has answered."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.time() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.2)


def login(server, username, app_name, scopes=("read", "write", "follow"), **app):
    """Mastodon.py signed in as `username` through the password grant; any deprecation warning
    from Mastodon.py fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client_id, secret = Mastodon.create_app(app_name, api_base_url=server.base, scopes=list(scopes), **app)
        m = Mastodon(client_id=client_id, client_secret=secret, api_base_url=server.base)
        # allow_http: Mastodon.py insists on https for OAuth unless told this is a test.
        m.log_in(username, server.password, scopes=list(scopes), allow_http=True)
        return m


def _start(backend):
    data = tempfile.mkdtemp(prefix=f"petrel-clients-{backend}-")
    port = free_port()
    addr = f"127.0.0.1:{port}"
    env = dict(os.environ)
    # The Fedify peer of the federation tests listens on loopback: allowed only by this test flag.
    common = ["--data", data, "--domain", addr, "--allow-private-network"]
    username = USERNAME
    if backend == "aws":
        if not os.environ.get("AWS_ENDPOINT_URL"):
            pytest.fail("AWS_ENDPOINT_URL is not set: run `bash infra/test.sh`, which starts moto")
        common.append("--aws")
        # moto keeps its data between runs: a fresh name per run, and a table of its own, since
        # a table records the one domain it is served under (`petrel account create`).
        username = "u" + secrets.token_hex(5)
        env["PETREL_TABLE"] = "petrel-" + secrets.token_hex(4)
        subprocess.run([sys.executable, str(ROOT / "infra" / "local" / "provision.py"), str(ROOT / "template.yaml")],
                       check=True, capture_output=True, env=env)
        # Objects are read straight from moto's S3, as readers would read CloudFront.
        env["PETREL_MEDIA_BASE"] = f"{os.environ['AWS_ENDPOINT_URL']}/{os.environ.get('PETREL_BUCKET', 'petrel-media')}"
    subprocess.run([petrel_bin(), *common, "account", "create", username], input=PASSWORD + "\n",
                   text=True, check=True, capture_output=True, env=env)
    log = open(os.path.join(data, "serve.log"), "w")
    proc = subprocess.Popen([petrel_bin(), *common, "serve", "--addr", addr], stdout=log, stderr=log, env=env)
    base = f"http://{addr}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except Exception:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("petrel serve did not start; see " + log.name)
            time.sleep(0.1)
    server = Server(base, data, backend)
    server.username = username
    server.cli, server.env = common, env
    return proc, log, server


@pytest.fixture(scope="session", params=["embedded", "aws"])
def server(request):
    """Every client test runs twice: on the embedded backend and on the AWS adapters (moto)."""
    proc, log, srv = _start(request.param)
    yield srv
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


PEER_DIR = ROOT / "tests" / "federation" / "peer"


@pytest.fixture(scope="session")
def peer(server):
    """A real Fedify 2.3.6 server (tests/federation/peer) on a free loopback port: one per backend
    (it depends on `server`), so it never delivers to the inbox of a server already stopped."""
    if not (PEER_DIR / "node_modules" / "@fedify").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PEER_DIR, check=True, capture_output=True)
    log = open(tempfile.mktemp(prefix="fedify-peer-", suffix=".log"), "w")
    proc = subprocess.Popen(["node", "peer.mjs", "--port", "0"], cwd=PEER_DIR, stdout=subprocess.PIPE, stderr=log, text=True)
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"the Fedify peer did not start: {line!r}; see {log.name}")
    base = line.split()[1]
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
