"""ops_common.py - what the operations tests (run_durability.py, run_report.py,
run_repeat.py) share beyond harness.py: a throw-away PostgreSQL database on the cluster
CTest started (tests/pg_cluster.sh), feedback bodies.
Standard library only; nothing here talks to anything but 127.0.0.1.
"""
import glob
import os
import subprocess

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


def feedback_body(uuid, outcome, reason=None, accepted=None,
                  system="urn:myocds:override-reason"):
    """{"feedback": [one entry]}; an accepted entry names its suggestions (default one)."""
    item = {"card": uuid, "outcome": outcome, "outcomeTimestamp": "2025-01-15T14:02:11Z"}
    if outcome == "overridden" and reason is not None:
        item["overrideReason"] = {"reason": {"system": system, "code": reason}}
    if outcome == "accepted":
        item["acceptedSuggestions"] = [{"id": s} for s in (accepted or ["suggestion-1"])]
    return {"feedback": [item]}

