#!/usr/bin/python3
"""run_valgrind.py - no leak and no memory error, under valgrind, in `eval` and in `serve`.

1. `valgrind --leak-check=full --error-exitcode=1 --errors-for-leak-kinds=definite,indirect
   myocds eval --service S FILE` for every fixture (in parallel, one per CPU): the exit
   status must be the one the fixture expects (0, or 2 for 400/412), never valgrind's 99.
2. `myocds serve --dev` under the same valgrind, sent a few requests of each kind: every
   fixture, discovery, health, metrics, CORS preflight, feedback (stored, resent, invalid),
   404, 405, 415, 413 (declared and chunked), invalid JSON, nesting too deep, a body that
   stops mid-stream; then SIGTERM: serve exits 0 and valgrind reports nothing.

Standard library only; needs valgrind. Built for the normal build (valgrind and ASan do
not mix). Usage: run_valgrind.py --bin build/myocds --fixtures fixtures/cases
Prints one line per check and, last, exactly "N passed, M failed"; exits 1 on failure.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
import benchlib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Results, raw_exchange  # noqa: E402

VALGRIND_ERROR = 99  # valgrind's exit status on an error or a leak (--error-exitcode)
VALGRIND = ["valgrind", "-q", "--leak-check=full", f"--error-exitcode={VALGRIND_ERROR}",
            "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect"]
JSON_CT = {"Content-Type": "application/json"}


def cases(fixtures):
    """(name, request path, service, expected status) of every fixture."""
    for name in sorted(os.listdir(fixtures)):
        if name.endswith(".expect.json"):
            with open(os.path.join(fixtures, name)) as f:
                exp = json.load(f)
            base = name[: -len(".expect.json")]
            yield base, os.path.join(fixtures, base + ".json"), exp["service"], exp["status"]


def eval_one(binary, env, case):
    name, path, service, status = case
    p = subprocess.run(VALGRIND + [binary, "eval", "--service", service, path],
                       capture_output=True, env=env, timeout=600)
    want = 0 if status == 200 else 2
    report = p.stderr.decode(errors="replace")
    return name, p.returncode == want, f"exit {p.returncode} (want {want}) {report[-600:]}"


def check_eval(r, a, env):
    jobs = list(cases(a.fixtures))
    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for name, ok, detail in pool.map(lambda c: eval_one(a.bin, env, c), jobs):
            if not ok:
                bad.append(f"{name}: {detail}")
    r.check(f"eval of {len(jobs)} fixtures under valgrind: no error, no leak", not bad,
            "; ".join(bad[:3]))


def request(srv, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
    try:
        c.request(method, path, body=body, headers=headers or {})
        resp = c.getresponse()
        return resp.status, resp.read()
    finally:
        c.close()


def raw_send(srv, data, read=True):
    """data sent verbatim; the answer's status, None when there is none."""
    try:
        return raw_exchange(srv.port, data, read=read, timeout=120)[0]
    except OSError:
        return None


def server_requests(r, srv, fixtures):
    """A few requests of each kind; returns the list of (what, got, want) that differ."""
    wrong = []
    uuid = None
    for name, path, service, status in cases(fixtures):
        with open(path, "rb") as f:
            st, body = request(srv, "POST", f"/cds-services/{service}", f.read(), JSON_CT)
        if st != status:
            wrong.append((name, st, status))
        if st == 200 and uuid is None and json.loads(body)["cards"]:
            uuid = json.loads(body)["cards"][0]["uuid"]
    fb = json.dumps({"feedback": [{"card": uuid or "c1", "outcome": "overridden",
                                   "outcomeTimestamp": "2026-03-16T10:25:31Z"}]}).encode()
    sign = "/cds-services/myositis-order-sign"
    big = f"POST {sign} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    kinds = [
        ("discovery", lambda: request(srv, "GET", "/cds-services")[0], 200),
        ("health", lambda: request(srv, "GET", "/healthz")[0], 200),
        ("metrics", lambda: request(srv, "GET", "/metrics")[0], 200),
        ("preflight", lambda: request(srv, "OPTIONS", sign, headers={
            "Origin": "https://ehr.example.org", "Access-Control-Request-Method": "POST"})[0],
         204),
        ("feedback", lambda: request(srv, "POST", sign + "/feedback", fb, JSON_CT)[0], 200),
        ("feedback resent", lambda: request(srv, "POST", sign + "/feedback", fb, JSON_CT)[0],
         200),
        ("feedback invalid", lambda: request(srv, "POST", sign + "/feedback", b'{"feedback":1}',
                                             JSON_CT)[0], 400),
        ("unknown path", lambda: request(srv, "GET", "/nowhere")[0], 404),
        ("wrong method", lambda: request(srv, "DELETE", sign)[0], 405),
        ("not JSON", lambda: request(srv, "POST", sign, b"x=1",
                                     {"Content-Type": "text/plain"})[0], 415),
        ("invalid JSON", lambda: request(srv, "POST", sign, b'{"hook":', JSON_CT)[0], 400),
        ("too deep", lambda: request(srv, "POST", sign, b"[" * 1000 + b"]" * 1000,
                                     JSON_CT)[0], 400),
        ("413 declared", lambda: raw_send(srv, (big + "Content-Length: 5000000\r\n\r\n")
                                          .encode()), 413),
        ("413 chunked", lambda: raw_send(srv, (big + "Transfer-Encoding: chunked\r\n\r\n")
                                         .encode() + (b"100000\r\n" + b" " * 0x100000 + b"\r\n")
                                         * 2 + b"0\r\n\r\n"), 413),
        ("body stops mid-stream", lambda: raw_send(srv, (big + "Content-Length: 9000\r\n\r\n")
                                                   .encode() + b"{" * 100, read=False), None),
    ]
    for what, fn, want in kinds:
        got = fn()
        if got != want:
            wrong.append((what, got, want))
    return wrong


def check_serve(r, a, env, tmp):
    cfg = os.path.join(tmp, "config.json")
    with open(cfg, "w") as f:
        json.dump({"data_dir": os.path.join(tmp, "data"), "cards": {"repeat_window_min": 0}}, f)
    vlog = os.path.join(tmp, "valgrind-serve.log")
    argv = VALGRIND + [f"--log-file={vlog}", a.bin, "serve", "--dev", "--port", "0",
                       "--config", cfg]
    try:
        srv = benchlib.Server(argv, os.path.join(tmp, "serve.log"), timeout=120, env=env)
    except RuntimeError as e:
        r.check("serve under valgrind starts", False, str(e))
        return
    try:
        wrong = server_requests(r, srv, a.fixtures)
        time.sleep(0.5)
    finally:
        rc = srv.stop(timeout=300)
    r.check("serve under valgrind: every request answered as expected", not wrong,
            f"{wrong[:5]}")
    with open(vlog, errors="replace") as f:
        report = f.read()
    r.check("serve under valgrind: SIGTERM, exit 0, no error, no leak", rc == 0,
            f"exit {rc}: {report[-1500:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--skip-eval", action="store_true", help="only the serve part")
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    a.fixtures = os.path.abspath(a.fixtures)
    if shutil.which("valgrind") is None:
        print("valgrind not installed (scripts/deps.sh test installs it)")
        print("0 passed, 1 failed")
        return 1
    tmp = tempfile.mkdtemp(prefix="myocds-valgrind-")
    env = dict(os.environ)
    r = Results()
    start = time.monotonic()
    if not a.skip_eval:
        check_eval(r, a, env)
    check_serve(r, a, env, tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"({time.monotonic() - start:.0f} s)")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
