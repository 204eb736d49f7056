"""ops_common.py - what the operations tests share (run_durability.py, run_report.py,
run_reload.py): a `myocds serve --dev` on 127.0.0.1 and a free port, a throw-away
PostgreSQL database on the cluster CTest started (tests/pg_cluster.sh), check counting.
Standard library only; nothing here talks to anything but 127.0.0.1.
"""
import glob
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Results, LISTEN_RE  # noqa: E402

JSON_CT = {"Content-Type": "application/json"}
START_TIMEOUT_S = 15
STOP_TIMEOUT_S = 15


class Server:
    """`myocds serve --dev --port 0 --config CONFIG`; stderr (JSON log lines) kept."""

    def __init__(self, binary, config, log_path):
        self.binary = binary
        self.config = config
        self.log_path = log_path
        self.proc = None
        self.port = None

    def start(self):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "serve", "--dev", "--port", "0", "--config",
                                      self.config], stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            m = LISTEN_RE.findall(self.log())
            if m and self.proc.poll() is None:
                self.port = int(m[-1][1])
                return True
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        return False

    def log(self):
        with open(self.log_path, "r", encoding="utf-8", errors="replace") as f:
            return f.read()

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON or text) on a fresh connection."""
        c = self.conn()
        try:
            data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
            c.request(method, path, body=data, headers=headers or (JSON_CT if data else {}))
            r = c.getresponse()
            raw = r.read().decode("utf-8", "replace")
            try:
                return r.status, json.loads(raw)
            except ValueError:
                return r.status, raw
        finally:
            c.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self):
        """SIGTERM; the exit status (None when it had to be killed)."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def write_config(path, **keys):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(keys, f)
    return path


PSQL_ENV = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")


def psql_path():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))
    return found[-1] if found else "psql"


class PgDatabase:
    """A fresh database on the test cluster (the URL in the --pg-url-file file)."""

    def __init__(self, url_file, name):
        with open(url_file, encoding="utf-8") as f:
            self.base = f.read().strip()
        self.name = f"{name}_{os.getpid()}"
        self.url = f"{self.base}/{self.name}"
        self.admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        self.admin(f"CREATE DATABASE {self.name}")

    def admin(self, sql):
        subprocess.run([psql_path(), f"{self.base}/postgres", "-v", "ON_ERROR_STOP=1", "-qAtc",
                        sql], check=True, stdout=subprocess.DEVNULL, env=PSQL_ENV, timeout=60)

    def rows(self, sql):
        out = subprocess.run([psql_path(), self.url, "-v", "ON_ERROR_STOP=1", "-qAt", "-F",
                              "\t", "-c", sql], check=True, capture_output=True, text=True,
                             env=PSQL_ENV, timeout=60).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def drop(self):
        self.admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")


def feedback_body(uuid, outcome, reason=None, accepted=None):
    """{"feedback": [one entry]}; an accepted entry names its suggestions (default one)."""
    item = {"card": uuid, "outcome": outcome, "outcomeTimestamp": "2025-01-15T14:02:11Z"}
    if outcome == "overridden" and reason is not None:
        item["overrideReason"] = {"reason": {"system": "urn:myocds:override-reason",
                                             "code": reason}}
    if outcome == "accepted":
        item["acceptedSuggestions"] = [{"id": s} for s in (accepted or ["suggestion-1"])]
    return {"feedback": [item]}


def run_threads(fn, n):
    threads = [threading.Thread(target=fn, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
