"""Timing driver of scripts/bench-lambda.sh (Python 3 stdlib only).

Subcommands (each prints one JSON object on stdout; logs go to stderr):

  event METHOD PATH [--header K:V ...] [--body JSON] [--query Q] > FILE
      an API Gateway REST API (Lambda proxy, payload 1.0) event for METHOD PATH
  cold --rie RIE --bootstrap BIN --event FILE --status N --n N --log FILE
      N cold starts: each spawns a fresh RIE (with BIN as its runtime),
      times spawn -> full HTTP response of one invoke (connection refused is
      retried every ~1 ms), checks the answer's statusCode, reads the REPORT
      line's Init Duration from RIE's output, stops RIE
  warm --rie RIE --bootstrap BIN --event FILE --status N --n N --log FILE
      one RIE, one first (cold) invoke, then N sequential warm invokes on one
      keep-alive connection; then VmHWM / VmRSS of the bootstrap process (a
      child of RIE, found through /proc)
  http --url URL --method M --path P [--header K:V ...] [--body JSON] --status N --n N
      N sequential requests on one keep-alive connection (plus one untimed
      warm-up request), latencies
  table FILE... / warmtable FILE... / apitable FILE...
      the markdown tables of `cold`, `warm` and `http` results

The environment of the bootstrap is this process's environment (RIE passes
it on), so the caller exports TABLE_NAME etc. before calling `cold`/`warm`.
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

INVOKE_PATH = "/2015-03-31/functions/function/invocations"


def log(msg):
    print(f"[lambda_bench] {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(values)
    k = max(1, -(-len(v) * p // 100))  # ceil(n * p / 100), at least 1
    return v[int(k) - 1]


def summary(values):
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "min": min(values),
        "max": max(values),
    }


# ---- events ----------------------------------------------------------------------


def make_event(method, path, headers, body, query):
    headers = {k.lower(): v for k, v in headers.items()}
    headers.setdefault("host", "api.offpush.local")
    headers.setdefault("user-agent", "bench-lambda")
    if body is not None:
        headers.setdefault("content-type", "application/json")
    query_params = {}
    for pair in filter(None, (query or "").split("&")):
        k, _, v = pair.partition("=")
        query_params.setdefault(urllib.parse.unquote_plus(k), []).append(urllib.parse.unquote_plus(v))
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query_params.items()} or None,
        "multiValueQueryStringParameters": query_params or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "offpush",
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/prod{path}",
            "stage": "prod",
            "domainName": headers["host"],
            "domainPrefix": headers["host"].split(".")[0],
            "protocol": "HTTP/1.1",
            "requestId": "bench-lambda",
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "requestTimeEpoch": 1767225600000,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": headers["user-agent"]},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def parse_headers(items):
    out = {}
    for item in items or []:
        k, _, v = item.partition(":")
        out[k.strip()] = v.strip()
    return out


# ---- RIE ---------------------------------------------------------------------------


class Rie:
    """One aws-lambda-rie process serving BIN, on free ports of 127.0.0.1."""

    def __init__(self, rie, bootstrap, logf):
        self.port = free_port()
        self.api_port = free_port()
        self.logf = logf
        self.log_start = os.path.getsize(logf) if os.path.exists(logf) else 0
        out = open(logf, "ab")
        # perf_counter is read just before the spawn: process launch is part of the cold start.
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                rie,
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{self.port}",
                "--runtime-api-address",
                f"127.0.0.1:{self.api_port}",
                bootstrap,
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=os.path.dirname(bootstrap),
        )
        out.close()

    def connect(self, timeout_s=30.0):
        """A connection to RIE's invoke address, retrying refused connects every ~1 ms.

        First RIE's runtime API must accept connections too: an invoke that
        arrives before it listens makes RIE start the runtime at once, which
        then fails to reach the runtime API (connection refused, exit 1). On
        Lambda the runtime API is always up before the runtime starts."""
        deadline = time.perf_counter() + timeout_s
        for port in (self.api_port, self.port):
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    conn.connect()
                    break
                except ConnectionRefusedError:
                    if self.proc.poll() is not None:
                        raise RuntimeError(f"RIE exited ({self.proc.returncode}); see {self.logf}")
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"RIE did not listen within {timeout_s} s; see {self.logf}")
                    time.sleep(0.001)
            if port == self.port:
                return conn
            conn.close()

    def output(self):
        with open(self.logf, "rb") as f:
            f.seek(self.log_start)
            return f.read().decode(errors="replace")

    def init_durations(self, wait_s=2.0):
        """(INIT REPORT durationMs, REPORT Init Duration) of this RIE's output, in ms,
        waiting a little for the REPORT line; None for one not found."""
        deadline = time.time() + wait_s
        while True:
            text = self.output()
            report = re.search(r"REPORT RequestId:.*?Init Duration: ([0-9.]+) ms", text)
            if report or time.time() > deadline:
                init = re.search(r"INIT REPORT\(durationMs: ([0-9.]+)\)", text)
                return (float(init.group(1)) if init else None,
                        float(report.group(1)) if report else None)
            time.sleep(0.01)

    def children(self):
        pids = []
        try:
            for tid in os.listdir(f"/proc/{self.proc.pid}/task"):
                with open(f"/proc/{self.proc.pid}/task/{tid}/children") as f:
                    pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return pids

    def stop(self):
        kids = self.children()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid in kids:  # a runtime RIE left behind
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def invoke(conn, payload):
    conn.request("POST", INVOKE_PATH, body=payload, headers={"content-type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data


def status_of(data):
    try:
        answer = json.loads(data)
    except ValueError:
        return f"not-json:{data[:200]!r}"
    if isinstance(answer, dict) and "statusCode" in answer:
        return int(answer["statusCode"])
    return f"no-statusCode:{data[:200]!r}"


def check(got, want, what, logf):
    if got != want:
        raise RuntimeError(f"{what}: statusCode {got}, want {want} (RIE log: {logf})")


def cold_start(a, payload, what):
    """One cold start: (ms from spawning RIE to the whole response, init ms, REPORT init ms)."""
    rie = Rie(a.rie, a.bootstrap, a.log)
    try:
        conn = rie.connect()
        code, data = invoke(conn, payload)
        t = (time.perf_counter() - rie.t0) * 1000
        conn.close()
        if code != 200:
            raise RuntimeError(f"RIE answered HTTP {code}: {data[:300]!r} (log: {a.log})")
        check(status_of(data), a.status, what, a.log)
        init, report_init = rie.init_durations()
    finally:
        rie.stop()
    return t, init, report_init


def cmd_cold(a):
    payload = open(a.event, "rb").read()
    # One start first, not counted: it reads the binaries (RIE's, the bootstrap) from disk
    # into the page cache; every counted start finds them there.
    cold_start(a, payload, "warm-up start")
    times, inits, report_inits = [], [], []
    for i in range(a.n):
        t, init, report_init = cold_start(a, payload, f"cold start {i + 1}")
        times.append(t)
        if init is not None:
            inits.append(init)
        if report_init is not None:
            report_inits.append(report_init)
    out = {"binary": a.name, "case": a.case, **summary(times), "times": times}
    out["init_median"] = statistics.median(inits) if inits else None
    out["report_init_median"] = statistics.median(report_inits) if report_inits else None
    print(json.dumps(out))


def proc_status(pid):
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                values[k] = int(v.split()[0]) / 1024  # kB -> MiB
    return values


def cmd_warm(a):
    payload = open(a.event, "rb").read()
    rie = Rie(a.rie, a.bootstrap, a.log)
    try:
        conn = rie.connect()
        code, data = invoke(conn, payload)  # the cold one, not counted
        check(status_of(data), a.status, "first invoke", a.log)
        times = []
        for i in range(a.n):
            t0 = time.perf_counter()
            code, data = invoke(conn, payload)
            times.append((time.perf_counter() - t0) * 1000)
            if code != 200:
                raise RuntimeError(f"invoke {i + 1}: RIE answered HTTP {code}: {data[:300]!r}")
            check(status_of(data), a.status, f"warm invoke {i + 1}", a.log)
        conn.close()
        kids = [p for p in rie.children() if os.path.basename(os.readlink(f"/proc/{p}/exe")) == "bootstrap"]
        if len(kids) != 1:
            raise RuntimeError(f"expected one bootstrap child of RIE pid {rie.proc.pid}, found {kids}")
        mem = proc_status(kids[0])
    finally:
        rie.stop()
    print(json.dumps({"binary": a.name, "case": a.case, **summary(times),
                      "vmhwm_mib": mem.get("VmHWM"), "vmrss_mib": mem.get("VmRSS")}))


def cmd_http(a):
    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    headers = parse_headers(a.header)
    body = a.body.encode() if a.body is not None else None
    if body is not None:
        headers.setdefault("content-type", "application/json")

    def one():
        conn.request(a.method, a.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != a.status:
            raise RuntimeError(f"{a.method} {a.path}: HTTP {resp.status}, want {a.status}: {data[:300]!r}")

    one()  # warm-up: the container may still be starting
    times = []
    for _ in range(a.n):
        t0 = time.perf_counter()
        one()
        times.append((time.perf_counter() - t0) * 1000)
    conn.close()
    print(json.dumps({"route": f"{a.method} {a.path}", **summary(times)}))


def load(files):
    return [json.loads(open(f).read()) for f in files]


def cmd_table(a):
    rows = load(a.files)
    hello = next((r["median"] for r in rows if r["binary"] == "hello"), None)
    print("| binary | case | n | median ms | p90 ms | min ms | max ms | x hello median "
          "| init median ms | REPORT Init Duration median ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")

    def ms(v):
        return "-" if v is None else f"{v:.2f}"

    for r in rows:
        ratio = f"{r['median'] / hello:.2f}" if hello else "-"
        print(f"| {r['binary']} | {r['case']} | {r['n']} | {r['median']:.1f} | {r['p90']:.1f} | "
              f"{r['min']:.1f} | {r['max']:.1f} | {ratio} | {ms(r.get('init_median'))} | "
              f"{ms(r.get('report_init_median'))} |")


def cmd_warmtable(a):
    rows = load(a.files)
    hello = next((r for r in rows if r["binary"] == "hello"), None)
    print("| binary | request | warm invokes | VmHWM MiB | VmRSS MiB | x hello VmHWM | warm p50 ms | warm p99 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        ratio = f"{r['vmhwm_mib'] / hello['vmhwm_mib']:.2f}" if hello else "-"
        print(f"| {r['binary']} | {r['case']} | {r['n']} | {r['vmhwm_mib']:.1f} | {r['vmrss_mib']:.1f} | "
              f"{ratio} | {r['p50']:.2f} | {r['p99']:.2f} |")


def cmd_apitable(a):
    print("| route | n | p50 ms | p90 ms | p99 ms | min ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in load(a.files):
        print(f"| {r['route']} | {r['n']} | {r['p50']:.1f} | {r['p90']:.1f} | {r['p99']:.1f} | "
              f"{r['min']:.1f} | {r['max']:.1f} |")


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks (RIE stops)
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("event")
    e.add_argument("method")
    e.add_argument("path")
    e.add_argument("--header", action="append")
    e.add_argument("--body")
    e.add_argument("--query")
    for name in ("cold", "warm"):
        c = sub.add_parser(name)
        c.add_argument("--rie", required=True)
        c.add_argument("--bootstrap", required=True)
        c.add_argument("--event", required=True)
        c.add_argument("--status", type=int, required=True)
        c.add_argument("--n", type=int, required=True)
        c.add_argument("--log", required=True)
        c.add_argument("--name", required=True)
        c.add_argument("--case", required=True)
    h = sub.add_parser("http")
    h.add_argument("--url", required=True)
    h.add_argument("--method", required=True)
    h.add_argument("--path", required=True)
    h.add_argument("--header", action="append")
    h.add_argument("--body")
    h.add_argument("--status", type=int, required=True)
    h.add_argument("--n", type=int, required=True)
    for name in ("table", "warmtable", "apitable"):
        t = sub.add_parser(name)
        t.add_argument("files", nargs="+")
    a = p.parse_args()
    try:
        if a.cmd == "event":
            print(json.dumps(make_event(a.method, a.path, parse_headers(a.header), a.body, a.query)))
        else:
            {"cold": cmd_cold, "warm": cmd_warm, "http": cmd_http,
             "table": cmd_table, "warmtable": cmd_warmtable, "apitable": cmd_apitable}[a.cmd](a)
    except (RuntimeError, OSError) as err:
        log(f"{a.cmd}: {err}")
        sys.exit(1)


if __name__ == "__main__":
    main()
