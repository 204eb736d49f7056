#!/usr/bin/python3
"""compare_responses.py - the responses of two builds of myocds, byte for byte.

Evaluates every fixture request (fixtures/cases/*.json) for every service with `myocds eval`,
once with each binary, with the same hooks, and compares the answers (status, body, error
message) with the cards' and suggestions' uuids masked, as they are random. For a change
that must not change what the service says (a refactor), run it with the build before and
the build after:

    scripts/compare_responses.py --old /tmp/myocds-before --new build/myocds

Prints the number of evaluations and each one that differs; exits 1 when any differs.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = ("myositis-order-sign", "myositis-order-select", "myositis-patient-view")
UUID = re.compile(rb'"uuid": ?"[0-9a-f-]{36}"')


def answer(binary, hooks, service, path):
    """One evaluation: exit status, body and error text, uuids masked."""
    env = dict(os.environ, MYOCDS_HOOKS=hooks)
    p = subprocess.run([binary, "eval", "--service", service, path], capture_output=True,
                       env=env, timeout=60)
    return p.returncode, UUID.sub(b'"uuid":"-"', p.stdout), p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="the myocds binary before the change")
    ap.add_argument("--new", required=True, help="the myocds binary after the change")
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "fixtures", "cases"))
    ap.add_argument("--hooks", default=os.path.join(ROOT, "hooks"))
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    cases = sorted(f for f in os.listdir(a.fixtures)
                   if f.endswith(".json") and not f.endswith(".expect.json"))
    work = [(os.path.join(a.fixtures, c), s) for c in cases for s in SERVICES]

    def compare(item):
        path, service = item
        old = answer(a.old, a.hooks, service, path)
        new = answer(a.new, a.hooks, service, path)
        return item, old == new, old, new

    differ = 0
    with concurrent.futures.ThreadPoolExecutor(max(a.jobs, 1)) as pool:
        for (path, service), same, old, new in pool.map(compare, work):
            if not same:
                differ += 1
                print(f"DIFFERS {os.path.basename(path)} {service}: exit {old[0]} -> {new[0]}")
    print(f"{len(work)} evaluations ({len(cases)} cases x {len(SERVICES)} services): "
          f"{len(work) - differ} the same, {differ} different")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
