#!/usr/bin/env python3
"""Cold-start benchmark: each function's release binary next to a bare lambda_http hello world.

Every binary is started, as Lambda starts it, under a Lambda Runtime API emulator (this script:
GET /2018-06-01/runtime/invocation/next, POST .../{id}/response and .../{id}/error), with the AWS
adapters pointed at moto server. For each start it records

  init      process start -> the runtime's first GET /next (what Lambda bills as the init phase)
  first     the first event handed over -> its response (one store round trip per function)
  warm      the median of the following invocations of the same event
  rss       peak resident memory (VmHWM) after those invocations

and prints the medians over the starts, at full CPU and under a CPU quota of 1/6 of a core
(cgroup `cpu.cfs_quota_us` = `cpu.cfs_period_us` / 6, about what a 256 MB function gets: 1,769 MB
is one vCPU), each with the ratio to hello's. Functions and hello are started in turn, so a busy
machine slows them alike.

    cargo build --release -p web -p inbox -p outbox-fanout -p media -p feed -p petrel-bench-hello
    sudo .venv/bin/python infra/bench/coldstart.py          # or: python3 infra/bench/coldstart.py --build

The CPU quota needs a writable cgroup: root with cgroup v1 (/sys/fs/cgroup/cpu) or v2
(cpu.max). Without one, run with --no-quota (full CPU only), or approximate the quota with
`systemd-run --user --scope -p CPUQuota=16% python3 infra/bench/coldstart.py --no-quota`, which
puts the emulator in the quota too. moto: AWS_ENDPOINT_URL if it is set, otherwise the script
starts .venv/bin/moto_server (infra/local/moto.sh makes the venv) on a free port and provisions it
from template.yaml. Not part of `infra/test.sh`.
"""

import argparse
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FUNCTIONS = ["hello", "web", "inbox", "feed", "media", "outbox-fanout"]
PACKAGES = {"hello": "petrel-bench-hello"}
DOMAIN = "bench.example"


def http_event(method, path, headers=None, body=None):
    """A function URL event (payload format 2.0), as CloudFront's requests reach the functions."""
    host = "abcdefgh.lambda-url.us-east-1.on.aws"
    raw_path, _, query = path.partition("?")
    h = {"host": host, "x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7", "user-agent": "coldstart"}
    h.update(headers or {})
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": h,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefgh",
            "domainName": host,
            "domainPrefix": "abcdefgh",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": "coldstart"},
            "requestId": "bench",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 1767225600000,
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    return event


def sqs_event(body):
    return {"Records": [{
        "messageId": "0b0b0b0b-0000-4000-8000-000000000001",
        "receiptHandle": "bench",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000)),
                       "SenderId": "bench", "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000))},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:petrel-outbox",
        "awsRegion": "us-east-1",
    }]}


# One event per function, each answered after one or two store round trips (none for hello),
# with the status it must get: a wrong status means the function did not really serve.
def events():
    publish = {"type": "Publish", "account_id": "0000000000000000", "to_followers": True,
               "activity": {"id": f"https://{DOMAIN}/users/nobody/statuses/1/activity"}}
    return {
        "hello": (http_event("GET", "/"), 200),
        # The instance document: a query and a batch get.
        "web": (http_event("GET", "/api/v1/instance", {"accept": "application/json"}), 200),
        # A personal inbox of an unknown account: the account lookup, then 404.
        "inbox": (http_event("POST", "/users/nobody/inbox", {"content-type": "application/activity+json"},
                             json.dumps({"id": "https://a.example/1", "type": "Follow",
                                         "actor": "https://a.example/u"})), 404),
        # A feed that was never rendered: the object read, then 404.
        "feed": (http_event("GET", "/@nobody.rss"), 404),
        # A media GET with an unknown token: the token lookup, then 401.
        "media": (http_event("GET", "/api/v1/media/1", {"authorization": "Bearer coldstart"}), 401),
        # A fan-out of an unknown account's post: the page check and the followers query.
        "outbox-fanout": (sqs_event(json.dumps(publish)), None),
    }


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A killed process drops its connection mid-request: expected, not worth a traceback.
        if not isinstance(sys.exc_info()[1], (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


class Emulator:
    """The Lambda Runtime API for one process: a server of its own, so no late request of an
    earlier process can take this one's events."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = queue.Queue()
        self.results = queue.Queue()
        self.ready_at = None
        self.sent = {}
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    return self.reply(404)
                emulator.on_next()
                item = emulator.events.get()
                if item is None:  # the emulator is closing
                    self.close_connection = True
                    return
                request_id, payload = item
                emulator.sent[request_id] = time.perf_counter()
                self.reply(200, payload, {
                    "Content-Type": "application/json",
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 30000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                })

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.rstrip("/").split("/")
                if "init" in parts:
                    emulator.results.put(("init-error", body))
                elif len(parts) >= 2 and parts[-1] in ("response", "error"):
                    now = time.perf_counter()
                    emulator.results.put((parts[-1], parts[-2], now, body))
                self.reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def on_next(self):
        with self.lock:
            if self.ready_at is None:
                self.ready_at = time.perf_counter()

    def close(self):
        self.events.put(None)  # frees a handler still waiting for an event
        self.server.shutdown()
        self.server.server_close()


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Cgroup:
    """A CPU quota of period/divisor for the processes started in it (cgroup v1 or v2)."""

    def __init__(self, divisor):
        name = f"petrel-coldstart-{os.getpid()}"
        v1 = "/sys/fs/cgroup/cpu"
        period = 100_000
        quota = period // divisor
        if os.path.exists(os.path.join(v1, "cpu.cfs_quota_us")):
            self.path = os.path.join(v1, name)
            os.mkdir(self.path)
            self._write("cpu.cfs_period_us", period)
            self._write("cpu.cfs_quota_us", quota)
            self.tasks = os.path.join(self.path, "tasks")
        elif os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
            self.path = os.path.join("/sys/fs/cgroup", name)
            os.mkdir(self.path)
            self._write("cpu.max", f"{quota} {period}")
            self.tasks = os.path.join(self.path, "cgroup.procs")
        else:
            raise OSError("no cgroup cpu controller found")
        self.description = f"cfs_quota_us={quota} cfs_period_us={period}"
        self.period_s = period / 1e6

    def _write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(str(value))

    def enter(self):
        # In the child between fork and exec: the process starts inside the quota.
        with open(self.tasks, "w") as f:
            f.write(str(os.getpid()))

    def remove(self):
        for _ in range(50):
            try:
                os.rmdir(self.path)
                return
            except OSError:
                time.sleep(0.05)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def up(endpoint):
    try:
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=2).read()
        return True
    except OSError:
        return False


def start_moto(venv):
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = subprocess.Popen([os.path.join(venv, "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if up(endpoint):
            return moto, endpoint
        time.sleep(0.1)
    moto.kill()
    sys.exit("moto server did not start")


def provision(venv, env):
    subprocess.run([os.path.join(venv, "bin", "python"), os.path.join(ROOT, "infra/local/provision.py"),
                    os.path.join(ROOT, "template.yaml")], env=env, check=True, stdout=subprocess.DEVNULL)


def queue_url(endpoint):
    # The template passes the queue's URL (`!Ref OutboxQueue`), so the functions get one here too.
    return f"{endpoint}/123456789012/petrel-outbox"


def one_start(binary, env, event, expect, warm, cgroup, nice, wrap=()):
    emulator = Emulator()
    env = {**env, "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{emulator.port}"}
    payload = json.dumps(event).encode()
    for i in range(1 + warm):
        emulator.events.put((f"req-{i}", payload))

    def pre():
        if nice:
            os.nice(nice)
        if cgroup:
            cgroup.enter()

    if cgroup:
        # A new Lambda sandbox starts with its whole quota: let the last process's use run out.
        time.sleep(cgroup.period_s * 1.5)
    started = time.perf_counter()
    proc = subprocess.Popen([*wrap, binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            preexec_fn=pre)
    try:
        times = []
        for i in range(1 + warm):
            try:
                result = emulator.results.get(timeout=60)
            except queue.Empty:
                raise RuntimeError(f"{binary}: no response within 60 s")
            if result[0] == "init-error":
                raise RuntimeError(f"{binary}: init error {result[1][:500]!r}")
            kind, request_id, at, body = result
            if kind == "error":
                raise RuntimeError(f"{binary}: invocation error {body[:500]!r}")
            if expect is not None:
                status = json.loads(body).get("statusCode")
                if status != expect:
                    raise RuntimeError(f"{binary}: status {status}, expected {expect}: {body[:300]!r}")
            times.append(at - emulator.sent[request_id])
        init = emulator.ready_at - started
        rss = vm_hwm_kb(proc.pid)
    except Exception:
        proc.kill()
        _, err = proc.communicate()
        sys.stderr.write(err.decode(errors="replace")[-3000:])
        raise
    finally:
        proc.kill()
        proc.wait()
        emulator.close()
    return {"init": init, "first": times[0], "warm": statistics.median(times[1:]) if warm else 0.0, "rss": rss}


def fmt_ms(s):
    return f"{s * 1000:7.1f}"


def report(title, results, sets, names):
    """One table per CPU setting; with several sets (--bin-dir LABEL=DIR), their rows side by side,
    each compared with its own set's hello."""
    print(f"\n{title}")
    print(f"{'':24}{'init ms':>9}{'×hello':>8}{'first ms':>10}{'cold ms':>9}{'×hello':>8}"
          f"{'warm ms':>9}{'rss MB':>8}{'×hello':>8}{'size MB':>9}")
    med = {}
    for key, runs in results.items():
        med[key] = {k: statistics.median(r[k] for r in runs) for k in ("init", "first", "warm", "rss")}
        med[key]["cold"] = statistics.median(r["init"] + r["first"] for r in runs)
    for n in names:
        for label, binaries in sets:
            m, h = med[(label, n)], med[(label, "hello")]
            row = n if len(sets) == 1 else f"{n} [{label}]"
            print(f"{row:24}{fmt_ms(m['init']):>9}{m['init'] / h['init']:>7.2f}×{fmt_ms(m['first']):>10}"
                  f"{fmt_ms(m['cold']):>9}{m['cold'] / h['cold']:>7.2f}×{fmt_ms(m['warm']):>9}"
                  f"{m['rss'] / 1024:>8.1f}{m['rss'] / h['rss']:>7.2f}×{os.path.getsize(binaries[n]) / 1e6:>9.1f}")
    return {f"{label}/{n}": med[(label, n)] for label, _ in sets for n in names}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", action="append", default=[],
                    help="where the release binaries are (default: $CARGO_TARGET_DIR or target, /release); "
                         "give LABEL=DIR several times to compare builds in one run (before=… after=…)")
    ap.add_argument("--build", action="store_true", help="cargo build --release the binaries first")
    ap.add_argument("--starts", type=int, default=15, help="cold starts per function and CPU setting (15)")
    ap.add_argument("--warm", type=int, default=10, help="warm invocations after each start (10)")
    ap.add_argument("--quota", type=int, default=6, help="CPU quota as a fraction 1/N of a core (6)")
    ap.add_argument("--no-quota", action="store_true", help="full CPU only (no cgroup needed)")
    ap.add_argument("--only", nargs="*", default=None, help="functions to run besides hello")
    ap.add_argument("--nice", type=int, default=0, help="niceness of the started binaries (root may lower it)")
    ap.add_argument("--venv", default=os.path.join(ROOT, ".venv"), help="venv with moto_server (./.venv)")
    ap.add_argument("--json", help="also write the medians to this file")
    ap.add_argument("--wrap", default="", help="a command to start each binary under, e.g. "
                    "'strace -f -e trace=openat,connect -o /tmp/trace' (with --starts 1 --warm 0 --no-quota)")
    args = ap.parse_args()

    names = ["hello"] + [n for n in FUNCTIONS[1:] if args.only is None or n in args.only]
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
    dirs = [(d.split("=", 1)[0], d.split("=", 1)[1]) if "=" in d else ("", d) for d in args.bin_dir]
    dirs = dirs or [("", os.path.join(target, "release"))]
    if args.build:
        cmd = ["cargo", "build", "--release"]
        for n in names:
            cmd += ["-p", PACKAGES.get(n, n)]
        subprocess.run(cmd, cwd=ROOT, check=True)
    sets = [(label, {n: os.path.join(d, n) for n in names}) for label, d in dirs]
    missing = [b for _, binaries in sets for b in binaries.values() if not os.path.exists(b)]
    if missing:
        sys.exit(f"missing binaries: {' '.join(missing)} (build them with --build)")
    wrap = args.wrap.split()

    base = {"PATH": "/usr/bin:/bin", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "PETREL_TABLE": "petrel", "PETREL_BUCKET": "petrel-media"}
    moto = None
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        moto, endpoint = start_moto(args.venv)
    base["AWS_ENDPOINT_URL"] = endpoint
    try:
        provision(args.venv, {**os.environ, **base})
        # What Lambda and the template set (HOME is unset in Lambda: no profile files are read).
        env = {**base,
               "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
               "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench",
               "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "AWS_DEFAULT_REGION": "us-east-1",
               "PETREL_BACKEND": "aws", "PETREL_DOMAIN": DOMAIN, "PETREL_SCHEME": "https",
               "PETREL_DOMAIN_FROM_TABLE": "false", "PETREL_MEDIA_BASE": "https://{domain}",
               "PETREL_OUTBOX_QUEUE": queue_url(endpoint), "RUST_LOG": "info"}
        evs = events()
        print(f"binaries in {', '.join(f'{l}={d}' if l else d for l, d in dirs)}; moto at {endpoint}; "
              f"{args.starts} starts × (1 + {args.warm}) invocations each, in turn; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        settings = [("full CPU", None)]
        if not args.no_quota:
            settings.append((f"CPU quota 1/{args.quota}", args.quota))
        summary = {}
        for title, divisor in settings:
            cgroup = Cgroup(divisor) if divisor else None
            try:
                results = {(label, n): [] for label, _ in sets for n in names}
                for label, binaries in sets:  # one warm-up start each: page cache, moto's first answers
                    for n in names:
                        one_start(binaries[n], env, *evs[n], 1, cgroup, args.nice, wrap)
                for _ in range(args.starts):
                    for n in names:
                        for label, binaries in sets:
                            results[(label, n)].append(one_start(binaries[n], env, *evs[n], args.warm, cgroup,
                                                                 args.nice, wrap))
            finally:
                if cgroup:
                    cgroup.remove()
            heading = f"{title} ({cgroup.description})" if cgroup else title
            summary[title] = report(f"{heading}, medians of {args.starts} starts", results, sets, names)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(summary, f, indent=1)
    finally:
        if moto:
            moto.send_signal(signal.SIGTERM)
            moto.wait()


if __name__ == "__main__":
    main()
