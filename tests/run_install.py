#!/usr/bin/python3
"""run_install.py - `cmake --install` into a temporary prefix, the installed `myocds` run
from `/` with no MYOCDS_HOOKS, and the command line's manners.

- The prefix holds bin/myocds, share/myocds/hooks/ (services, rules.json,
  terminology.json), share/man/man1/myocds.1 and share/doc/myocds/examples/.
- From `/`, with MYOCDS_HOOKS unset: `services` lists the three services and `eval`
  answers a fixture with its expected cards; the prefix moved elsewhere still works (the
  hooks are found from the executable, no path is baked in); `--version` and the man page
  give project()'s version.
- `myocds` alone prints its usage on stderr and exits 2; `myocds CMD --help` prints that
  command's usage on stdout and exits 0, naming the exit statuses; an option a command does
  not take, an unknown option, a missing value and a stray argument each exit 2, naming it.

Usage: run_install.py --build BUILD_DIR --src SOURCE_DIR --fixtures fixtures/cases
Prints one line per check and, last, exactly "N passed, M failed"; exits 1 on failure.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Results  # noqa: E402

CASE = "order-sign-dm-chop-dexamethasone-tablet-epic-route-oral"
COMMANDS = ("serve", "eval", "services", "report", "call")


def run(argv, stdin=None, cwd="/", env=None):
    env = {k: v for k, v in (env or os.environ).items() if k != "MYOCDS_HOOKS"}
    return subprocess.run(argv, input=stdin, capture_output=True, cwd=cwd, env=env, timeout=60)


def rule_ids(doc):
    return sorted(c.get("source", {}).get("topic", {}).get("code", "") for c in doc["cards"])


def check_installed(res, prefix, src, fixtures):
    for rel in ("bin/myocds", "share/myocds/hooks/rules.json",
                "share/myocds/hooks/terminology.json", "share/man/man1/myocds.1",
                "share/doc/myocds/examples/myocds.example.json"):
        res.check(f"installed: {rel}", os.path.exists(os.path.join(prefix, rel)))
    binary = os.path.join(prefix, "bin", "myocds")
    p = run([binary, "services"])
    ids = [s["id"] for s in json.loads(p.stdout or b"{}").get("services", [])] \
        if p.returncode == 0 else []
    res.check("installed myocds from / without MYOCDS_HOOKS: services lists the three",
              len(ids) == 3, f"exit {p.returncode} {p.stderr[-200:]!r}")
    with open(os.path.join(fixtures, CASE + ".json"), "rb") as f:
        body = f.read()
    with open(os.path.join(fixtures, CASE + ".expect.json")) as f:
        expect = json.load(f)
    p = run([binary, "eval", "--service", "myositis-order-sign", "-"], stdin=body)
    got = rule_ids(json.loads(p.stdout)) if p.returncode == 0 else None
    res.check(f"installed eval answers {CASE} with its expected cards {expect['fire']}",
              got == sorted(expect["fire"]), f"got {got}; exit {p.returncode} {p.stderr[-200:]!r}")
    with open(os.path.join(src, "CMakeLists.txt")) as f:
        version = re.search(r"project\(myocds VERSION ([0-9.]+)", f.read()).group(1)
    p = run([binary, "--version"])
    res.check(f"--version is project()'s ({version})", p.stdout.decode().strip() ==
              f"myocds {version}", repr(p.stdout))
    with open(os.path.join(prefix, "share/man/man1/myocds.1")) as f:
        res.check("the man page carries the same version", f'"myocds {version}"' in f.read())
    return binary


def check_moved(res, prefix):
    moved = prefix + "-moved"
    shutil.move(prefix, moved)
    p = run([os.path.join(moved, "bin", "myocds"), "services"])
    res.check("the prefix moved elsewhere: its myocds still finds its hooks",
              p.returncode == 0 and b"myositis-order-sign" in p.stdout, p.stderr[-200:])
    shutil.move(moved, prefix)


def check_cli(res, binary):
    p = run([binary])
    res.check("myocds alone: usage on stderr, exit 2",
              p.returncode == 2 and p.stderr.startswith(b"usage: myocds serve"), p.stderr[:80])
    for cmd in COMMANDS:
        p = run([binary, cmd, "--help"])
        out = p.stdout.decode()
        res.check(f"myocds {cmd} --help: its usage on stdout, exit 0, with the exit statuses",
                  p.returncode == 0 and out.startswith(f"usage: myocds {cmd}") and
                  "exit status: 0" in out and "2 bad arguments" in out, out[:80])
    for argv, needle in ((["serve", "--fetch"], b"--fetch is not an option of serve"),
                         (["report", "--dev"], b"--dev is not an option of report"),
                         (["eval", "--service", "x", "--port", "1"], b"--port is not an option"),
                         (["services", "--bogus"], b"unknown option --bogus"),
                         (["eval", "--service"], b"missing value after --service"),
                         (["services", "stray"], b"unexpected argument stray"),
                         (["nosuch"], b"unknown command nosuch")):
        p = run([binary] + argv)
        res.check(f"myocds {' '.join(argv)}: exit 2, naming it",
                  p.returncode == 2 and needle in p.stderr, f"exit {p.returncode} {p.stderr!r}")
    p = run([binary, "eval", "--service=myositis-order-sign", "--config=/nonexistent.json", "-"],
            stdin=b"{}")
    res.check("--name=VALUE is read (a missing config file: exit 2, naming it)",
              p.returncode == 2 and b"/nonexistent.json" in p.stderr, p.stderr[-200:])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--src", required=True)
    ap.add_argument("--fixtures", required=True)
    a = ap.parse_args(argv)
    res = Results()
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "prefix")
        p = subprocess.run(["cmake", "--install", a.build, "--prefix", prefix],
                           capture_output=True, timeout=120)
        if res.check("cmake --install into a temporary prefix", p.returncode == 0,
                     p.stderr[-300:]):
            binary = check_installed(res, prefix, a.src, a.fixtures)
            check_moved(res, prefix)
            check_cli(res, binary)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
