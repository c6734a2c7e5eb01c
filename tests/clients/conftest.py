"""Fixtures for the client tests: a real `petrel serve` on the embedded backend, with an owner
account made by the real CLI, on a free loopback port."""
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
USERNAME = "alice"
PASSWORD = "correct horse battery staple"


def petrel_bin():
    path = os.environ.get("PETREL_BIN") or str(ROOT / "target" / "debug" / "petrel")
    if not os.path.exists(path):
        subprocess.run(["cargo", "build", "--quiet", "-p", "petrel-cli"], cwd=ROOT, check=True)
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base, data):
        self.base = base
        self.data = data
        self.username = USERNAME
        self.password = PASSWORD


@pytest.fixture(scope="session")
def server():
    data = tempfile.mkdtemp(prefix="petrel-clients-")
    port = free_port()
    addr = f"127.0.0.1:{port}"
    common = ["--data", data, "--domain", addr]
    subprocess.run([petrel_bin(), *common, "account", "create", USERNAME], input=PASSWORD + "\n",
                   text=True, check=True, capture_output=True)
    log = open(os.path.join(data, "serve.log"), "w")
    proc = subprocess.Popen([petrel_bin(), *common, "serve", "--addr", addr], stdout=log, stderr=log)
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
    yield Server(base, data)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
