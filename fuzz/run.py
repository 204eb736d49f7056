#!/usr/bin/python3
"""run.py - run every libFuzzer target for a bounded time, seeded from fixtures/.

Seeds are generated at run time into BUILD/fuzz-corpus/<target>/seed (never committed):
every fixture request (and a generated benchmark request) for `request`, every
MedicationRequest found in them for `dose`, hand-made feedback bodies for `feedback`.
Each target then runs for --seconds under ASan+UBSan (the fuzz build), growing
BUILD/fuzz-corpus/<target>/work. A crash, leak, sanitizer report or timeout fails the run;
the input is left in BUILD/fuzz-artifacts/<target>/ - once fixed, copy it to
fuzz/regressions/<target>/ so CTest replays it in every build.

Usage: fuzz/run.py --build build/fuzz [--seconds 60] [--targets request,dose] [--jobs 1]
Prints one line per target (executions, executions/s, corpus, result) and exits 1 on any
finding. Standard library only.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures", "cases")
MAX_LEN = {"request": 65536, "dose": 8192, "feedback": 8192}
DEFAULT_MAX_LEN = 16384

FEEDBACK_SEEDS = [
    {"feedback": [{"card": "5e5b2f1a-3c1d-4c59-9a43-4f1e0d7f8a11", "outcome": "accepted",
                   "acceptedSuggestions": [{"id": "s-1"}, {"id": "s-2"}],
                   "outcomeTimestamp": "2026-03-16T10:25:31Z"}]},
    {"feedback": [{"card": "c1", "outcome": "overridden",
                   "overrideReason": {"reason": {"system": "urn:myocds:override-reason",
                                                 "code": "specialist-advice"},
                                      "userComment": "discussed"},
                   "outcomeTimestamp": "2026-03-16T10:25:31.123+01:00"}]},
    {"feedback": [{"card": "c2", "outcome": "overridden",
                   "outcomeTimestamp": "2024-02-29T23:59:60Z"}], "extension": {"x": 1}},
    {"feedback": []},
    {"feedback": [{"card": "", "outcome": "maybe"}]},
]


def requests():
    """(name, bytes) of every fixture request body."""
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith(".json") and not name.endswith(".expect.json"):
            with open(os.path.join(FIXTURES, name), "rb") as f:
                yield name, f.read()


def med_requests(node):
    """Every MedicationRequest object anywhere in a JSON tree."""
    if isinstance(node, dict):
        if node.get("resourceType") == "MedicationRequest":
            yield node
        for v in node.values():
            yield from med_requests(v)
    elif isinstance(node, list):
        for v in node:
            yield from med_requests(v)


def seeds(target):
    """(name, bytes) seeds of one target."""
    if target == "request":
        yield from requests()
        gen = os.path.join(ROOT, "bench", "gen_request.py")
        out = subprocess.run([sys.executable, gen, "--history", "10"], check=True,
                             capture_output=True).stdout
        yield "bench-history-10.json", out
    elif target == "dose":
        for _, body in requests():
            for mr in med_requests(json.loads(body)):
                data = json.dumps(mr, separators=(",", ":")).encode()
                yield hashlib.sha1(data).hexdigest()[:16] + ".json", data
    elif target == "feedback":
        for i, fb in enumerate(FEEDBACK_SEEDS):
            yield f"feedback-{i}.json", json.dumps(fb).encode()


def write_seeds(build, target):
    seed_dir = os.path.join(build, "fuzz-corpus", target, "seed")
    os.makedirs(seed_dir, exist_ok=True)
    for old in os.listdir(seed_dir):
        os.unlink(os.path.join(seed_dir, old))
    n = 0
    for name, data in seeds(target):
        with open(os.path.join(seed_dir, name), "wb") as f:
            f.write(data)
        n += 1
    return seed_dir, n


def run_target(build, target, seconds):
    """Runs one target; returns (ok, summary line)."""
    exe = os.path.join(build, "fuzz", "fuzz_" + target)
    if not os.access(exe, os.X_OK):
        return False, f"{target}: no {exe} (configure with -DMYOCDS_FUZZ=ON)"
    seed_dir, n_seeds = write_seeds(build, target)
    work = os.path.join(build, "fuzz-corpus", target, "work")
    artifacts = os.path.join(build, "fuzz-artifacts", target) + os.sep
    os.makedirs(work, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    log_path = os.path.join(build, "fuzz-artifacts", f"{target}.log")
    cmd = [exe, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
           f"-max_len={MAX_LEN.get(target, DEFAULT_MAX_LEN)}", "-print_final_stats=1",
           f"-dict={os.path.join(ROOT, 'fuzz', 'json.dict')}", f"-artifact_prefix={artifacts}",
           work, seed_dir]
    env = dict(os.environ, MYOCDS_HOOKS=os.path.join(ROOT, "hooks"),
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    with open(log_path, "wb") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            timeout=seconds * 3 + 120).returncode
    with open(log_path, "r", errors="replace") as f:
        text = f.read()
    stat = dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M))
    line = (f"{target}: {int(stat.get('number_of_executed_units', 0)):,} executions in "
            f"{seconds} s ({stat.get('average_exec_per_sec', '?')}/s), {n_seeds} seeds, "
            f"corpus {len(os.listdir(work))} inputs, peak RSS {stat.get('peak_rss_mb', '?')} MB")
    if rc != 0:
        found = [a for a in os.listdir(artifacts)]
        return False, (f"{line}: FOUND A BUG (exit {rc}); log {log_path}; inputs in {artifacts}: "
                       f"{', '.join(found) or 'none'}")
    return True, line + ": no crash, no leak, no sanitizer report"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="the -DMYOCDS_FUZZ=ON build directory")
    ap.add_argument("--seconds", type=int, default=60, help="time per target")
    ap.add_argument("--targets", default="request,dose,feedback")
    ap.add_argument("--jobs", type=int, default=1, help="targets run at the same time")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    targets = [t for t in a.targets.split(",") if t]
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(a.jobs, 1)) as pool:
        for ok, line in pool.map(lambda t: run_target(build, t, a.seconds), targets):
            print(("ok   " if ok else "FAIL ") + line, flush=True)
            failed += not ok
    print(f"{len(targets) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
