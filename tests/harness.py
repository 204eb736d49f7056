"""harness.py - what the Python integration runners share: counting checks and ending
with exactly "N passed, M failed", the `listening on` line of `myocds serve`, and an
environment without proxies (every address the tests use is loopback).
Standard library only.
"""
import os
import re
import sys
import threading

# `myocds serve` prints this when ready; the address may be IPv4 or [IPv6].
LISTEN_RE = re.compile(r"listening on http://(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)")


class Results:
    """Counts checks (thread-safe); finish() prints "N passed, M failed" and gives the
    exit status: 1 when a check failed or none ran."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()

    def check(self, name, ok, detail=""):
        with self.lock:
            if ok:
                self.passed += 1
                print(f"ok   - {name}")
            else:
                self.failed += 1
                print(f"FAIL - {name}" + (f": {detail}" if detail else ""))
            sys.stdout.flush()
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed or not self.passed else 0


def clean_env():
    """The environment without proxy settings."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def dead_proxy_env():
    """The environment with every proxy variable libcurl reads pointing at a closed port:
    a client that honoured one would fail (the service must use no proxy)."""
    env = clean_env()
    for k in ("http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env[k] = "http://127.0.0.1:9"
    return env
