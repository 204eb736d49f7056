#!/usr/bin/python3
"""run_load.py - sustained load: 200,000 valid requests over 64 connections.

  make load     (= tests/run_load.py --bin build/myocds --fixtures fixtures/cases)

One `myocds serve --dev` receives, from wrk (bench/wrk.lua, which counts every answer by
status), the realistic order-sign request of the benchmark (bench/gen_request.py, 100
history resources) and every fixture that expects a 200, in turn, until 200,000 answers
came back. Passes when every answer is a 200 (zero non-2xx), no socket error or timeout
occurred, the server is still serving afterwards and exits 0 on SIGTERM. Prints the
throughput, the latency percentiles, the status counts and the resident memory before and
after. Too slow for every CI run: `make load` runs it.
Standard library only; needs wrk. Prints exactly "N passed, M failed" last.
"""
import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import benchlib  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Results, Serve, cases, scratch, write_config  # noqa: E402


def valid_bodies(fixtures, tmp):
    """(path, file) of the realistic request and of every fixture that expects a 200."""
    realistic = os.path.join(tmp, "request-100.json")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen_request.py"),
                    "--history", "100", "--out", realistic], check=True)
    entries = [(benchlib.SIGN_PATH, realistic)]
    for _, exp, path in cases(fixtures):
        if exp["status"] == 200:
            entries.append((f"/cds-services/{exp['service']}", path))
    return entries


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--max-seconds", type=int, default=1800, help="give up after this")
    a = ap.parse_args()
    with scratch("load") as tmp:
        return run(a, tmp)


def run(a, tmp):
    cfg = write_config(os.path.join(tmp, "config.json"), data_dir=os.path.join(tmp, "data"),
                       cards={"repeat_window_min": 0})
    entries = valid_bodies(os.path.abspath(a.fixtures), tmp)
    bodies = benchlib.write_bodies(os.path.join(tmp, "bodies.txt"), entries)
    r = Results()
    print(f"machine: {benchlib.machine()}; load average {benchlib.load_average()}")
    srv = Serve(os.path.abspath(a.bin), cfg, stop_timeout=30)
    if not srv.start(20):
        r.check("serve starts", False, srv.tail())
        return r.finish()
    try:
        rss0 = srv.rss_kb()
        res = benchlib.run_wrk(srv.base, bodies, a.threads, a.connections, a.max_seconds,
                               quota=a.requests, statuses=True)
        rss1 = srv.rss_kb()
        alive = srv.healthy()
    finally:
        rc = srv.stop()
    non2xx = sum(v for k, v in res["statuses"].items() if not k.startswith("2"))
    print(f"{res['requests']:,} requests ({len(entries)} valid request kinds in turn) over "
          f"{a.connections} connections in {res['duration_us'] / 1e6:.1f} s: "
          f"{res['rps']:.0f} req/s; latency p50 {res['p50_us'] / 1000:.2f} ms, p90 "
          f"{res['p90_us'] / 1000:.2f} ms, p99 {res['p99_us'] / 1000:.2f} ms, p99.9 "
          f"{res['p999_us'] / 1000:.2f} ms, max {res['max_us'] / 1000:.1f} ms")
    print(f"statuses {json.dumps(res['statuses'], sort_keys=True)}; socket errors "
          f"{json.dumps(res['errors'])}; VmRSS {rss0 / 1024:.1f} MiB before, "
          f"{rss1 / 1024:.1f} MiB after; load average {benchlib.load_average()}")
    r.check(f"at least {a.requests:,} answers", res["requests"] >= a.requests,
            f"{res['requests']}")
    r.check("zero non-2xx answers", non2xx == 0, f"{non2xx}")
    r.check("zero socket errors and timeouts", res["socket_errors"] == 0, json.dumps(res["errors"]))
    r.check("still serving afterwards (no crash)", alive, srv.tail())
    r.check("SIGTERM: exit 0", rc == 0, f"exit {rc}")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
