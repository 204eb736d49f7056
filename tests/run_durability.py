#!/usr/bin/python3
"""run_durability.py - no acknowledged feedback is ever lost, even to SIGKILL.

For each store (SQLite under a temporary data_dir; PostgreSQL when --pg-url-file names the
test cluster's URL): start `myocds serve --dev`, send feedback from FEEDBACK_THREADS
threads (each entry a new card uuid) while another thread asks for cards, SIGKILL the
server mid-stream, restart it on the same store, check that it serves and stores again,
stop it with SIGTERM (exit 0), then read the store itself and check that every entry that
was answered 200 is there. Prints the counts, then "N passed, M failed".

    run_durability.py --bin build/myocds --fixtures fixtures/cases [--pg-url-file F]
"""
import argparse
import http.client
import json
import os
import signal
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import JSON_CT, Results, Serve, scratch, write_config  # noqa: E402
from ops_common import PgDatabase, feedback_body  # noqa: E402

FEEDBACK_THREADS = 4
KILL_AFTER_ACKS = 1000  # SIGKILL once this many entries were acknowledged ...
KILL_AFTER_S = 5.0      # ... or after this long, whichever comes first
MIN_RUN_S = 0.5
MAX_PER_THREAD = 5000   # a bound on the load, whatever happens
SIGN = "/cds-services/myositis-order-sign"
CARDS_CASE = "order-sign-pm-pred60-alone.json"


class Load:
    """Feedback senders and a card asker against one server, until told to stop or the
    server goes away."""

    def __init__(self, server, tag, card_body):
        self.server = server
        self.tag = tag
        self.card_body = card_body
        self.lock = threading.Lock()
        self.acked = set()
        self.sent = 0
        self.refused = 0
        self.errors = 0
        self.stop = threading.Event()

    def feedback(self, t):
        conn = self.server.conn(timeout=5)
        for i in range(MAX_PER_THREAD):
            if self.stop.is_set():
                break
            uuid = f"dur-{self.tag}-{t}-{i}"
            outcome = "accepted" if i % 2 else "overridden"
            body = json.dumps(feedback_body(uuid, outcome, reason="pt-preference")).encode()
            try:
                conn.request("POST", SIGN + "/feedback", body=body, headers=JSON_CT)
                with self.lock:
                    self.sent += 1
                r = conn.getresponse()
                r.read()
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.errors += 1
                break  # the server is gone
            with self.lock:
                if r.status == 200:
                    self.acked.add(uuid)
                else:
                    self.refused += 1
        conn.close()

    def cards(self):
        conn = self.server.conn(timeout=5)
        while not self.stop.is_set():
            try:
                conn.request("POST", SIGN, body=self.card_body, headers=JSON_CT)
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                break
        conn.close()

    def run_and_kill(self):
        workers = [threading.Thread(target=self.feedback, args=(t,))
                   for t in range(FEEDBACK_THREADS)]
        workers.append(threading.Thread(target=self.cards))
        for w in workers:
            w.start()
        start = time.monotonic()
        while True:
            elapsed = time.monotonic() - start
            with self.lock:
                n = len(self.acked)
            if elapsed > KILL_AFTER_S or (n >= KILL_AFTER_ACKS and elapsed > MIN_RUN_S):
                break
            time.sleep(0.02)
        self.server.proc.send_signal(signal.SIGKILL)  # mid-stream: requests are in flight
        self.server.proc.wait()
        self.stop.set()
        for w in workers:
            w.join()


def stored_sqlite(data_dir):
    db = sqlite3.connect(os.path.join(data_dir, "myocds.sqlite"))
    try:
        return {row[0] for row in db.execute("SELECT card_uuid FROM feedback")}
    finally:
        db.close()


def one_backend(res, args, name, config, stored_fn):
    server = Serve(args.bin, config)
    with open(os.path.join(args.fixtures, CARDS_CASE), "rb") as f:
        card_body = f.read()
    if not res.check(f"{name}: server starts", server.start(), server.log()[-2000:]):
        return
    load = Load(server, name, card_body)
    load.run_and_kill()
    res.check(f"{name}: the server died of SIGKILL",
              server.proc.returncode == -signal.SIGKILL, str(server.proc.returncode))
    res.check(f"{name}: feedback was acknowledged before the kill", len(load.acked) > 0)
    restarted = Serve(args.bin, config)
    ok = res.check(f"{name}: restarts on the same store", restarted.start(),
                   restarted.log()[-2000:])
    if ok:
        status, _ = restarted.request("POST", SIGN + "/feedback",
                                      feedback_body(f"dur-{name}-after", "accepted"))
        res.check(f"{name}: stores feedback after the restart", status == 200, str(status))
        res.check(f"{name}: SIGTERM exits 0", restarted.stop() == 0)
    stored = stored_fn()
    lost = load.acked - stored
    print(f"{name}: sent {load.sent}, acknowledged {len(load.acked)}, refused "
          f"{load.refused}, cut by the kill {load.errors}, stored {len(stored)}, "
          f"lost {len(lost)}")
    res.check(f"{name}: every acknowledged entry is stored (zero lost)", not lost,
              f"lost {sorted(lost)[:5]}")
    res.check(f"{name}: no entry stored twice or invented",
              len(stored) <= load.sent + 1 and all(u.startswith(f"dur-{name}-") for u in stored))
    res.check(f"{name}: none refused", load.refused == 0, str(load.refused))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--pg-url-file")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    res = Results()
    with scratch("dur") as tmp:
        data_dir = os.path.join(tmp, "data")
        cfg = write_config(os.path.join(tmp, "sqlite.json"), data_dir=data_dir,
                           cards={"repeat_window_min": 0},
                           log_level="warn")
        one_backend(res, args, "sqlite", cfg, lambda: stored_sqlite(data_dir))
        if args.pg_url_file:
            db = PgDatabase(args.pg_url_file, "durability")
            try:
                cfg = write_config(os.path.join(tmp, "pg.json"), log_level="warn",
                                   cards={"repeat_window_min": 0},
                                   data_dir=os.path.join(tmp, "unused"),
                                   feedback={"postgres_url": db.url})
                one_backend(res, args, "postgres", cfg,
                            lambda: {r[0] for r in db.rows("SELECT card_uuid FROM feedback")})
            finally:
                db.drop()
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
