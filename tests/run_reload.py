#!/usr/bin/python3
"""run_reload.py - SIGHUP reloads the config and hooks/ atomically; a bad file keeps the
running set and the log says why; requests in flight never notice.

Starts `myocds serve --dev` on a copy of hooks/, keeps two clients posting a service call
the whole time, and sends SIGHUP after: a good change (a service title, a rule switched
off), a broken rules.json, a broken config file, a hooks_dir that does not exist, and a
change of data_dir (applied only at restart, and logged so); a rules.json whose text key
is misspelled is refused at SIGHUP and stops start-up. Prints "N passed, M failed".

    run_reload.py --bin build/myocds --fixtures fixtures/cases --hooks hooks
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import JSON_CT, Results, Serve, scratch, write_config  # noqa: E402

SIGN = "/cds-services/myositis-order-sign"
CASE = "order-sign-pm-pred60-alone.json"
RULE = "steroid-monotherapy"
NEW_TITLE = "Myositis checks (reloaded)"
WAIT_S = 5.0
TRAFFIC_CLIENTS = 2


class Traffic:
    """One keep-alive client posting CASE until stopped; counts every status."""

    def __init__(self, server, body):
        self.server, self.body = server, body
        self.statuses = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        conn = self.server.conn()
        while not self.stop.is_set():
            try:
                conn.request("POST", SIGN, body=self.body, headers=JSON_CT)
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException) as e:
                status = type(e).__name__
                conn.close()
                conn = self.server.conn()
            self.statuses[status] = self.statuses.get(status, 0) + 1
        conn.close()


def title(server):
    status, doc = server.request("GET", "/cds-services")
    if status != 200:
        return None
    return next((s["title"] for s in doc["services"] if s["id"] == "myositis-order-sign"), None)


def rules_fired(server, body):
    status, doc = server.request("POST", SIGN, body, JSON_CT)
    return {c["source"]["topic"]["code"] for c in doc["cards"]} if status == 200 else None


def hup_and_wait(server, needle, count_before):
    """SIGHUP, then wait for one more log line containing needle."""
    server.send(signal.SIGHUP)
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        lines = [l for l in server.log().splitlines() if needle in l]
        if len(lines) > count_before:
            return lines[-1]
        time.sleep(0.05)
    return None


def count(server, needle):
    return sum(1 for l in server.log().splitlines() if needle in l)


def edit_json(path, fn):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    fn(doc)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)


def scenario(res, server, body, tmp, cfg_path, hooks):
    res.check("before: discovery has the shipped title", title(server) not in (None, NEW_TITLE))
    res.check(f"before: {RULE} fires", RULE in (rules_fired(server, body) or set()))
    # A good change: a new title and the rule switched off.
    rules_path = os.path.join(hooks, "rules.json")
    good_rules = open(rules_path, encoding="utf-8").read()
    edit_json(os.path.join(hooks, "services", "myositis-order-sign.json"),
              lambda d: d.update(title=NEW_TITLE))
    edit_json(rules_path, lambda d: d["rules"][RULE].update(enabled=False))
    line = hup_and_wait(server, "reloaded the config and hooks", count(server, "reloaded"))
    res.check("good reload: logged", line is not None)
    res.check("good reload: the new title is served", title(server) == NEW_TITLE, title(server))
    fired = rules_fired(server, body)
    res.check(f"good reload: {RULE} is off, the others still fire",
              fired is not None and RULE not in fired and len(fired) > 0, str(fired))
    # A broken rules.json: refused, the set just loaded stays.
    with open(rules_path, "w", encoding="utf-8") as f:
        f.write('{"rules": ')
    line = hup_and_wait(server, "reload refused", count(server, "reload refused"))
    res.check("bad rules.json: refused, naming the file", line is not None and
              "rules.json" in line, str(line))
    res.check("bad rules.json: the running set stays", title(server) == NEW_TITLE and
              RULE not in (rules_fired(server, body) or {RULE}))
    # A caveat's key misspelled: the file parses, but the rule's text is missing.
    with open(rules_path, "w", encoding="utf-8") as f:
        f.write(good_rules.replace('"extra_imnm"', '"extra_imnn"', 1))
    line = hup_and_wait(server, "reload refused", count(server, "reload refused"))
    res.check("misspelled text key: refused, naming file and key", line is not None and
              "rules.json" in line and "extra_imnn" in line, str(line))
    res.check("misspelled text key: the running set stays", title(server) == NEW_TITLE and
              RULE not in (rules_fired(server, body) or {RULE}))
    # A broken config file, then a hooks_dir that does not exist.
    with open(rules_path, "w", encoding="utf-8") as f:
        f.write(good_rules)
    good_cfg = open(cfg_path, encoding="utf-8").read()
    with open(cfg_path, "w", encoding="utf-8") as f:
        f.write('{"log_level": ')
    line = hup_and_wait(server, "reload refused", count(server, "reload refused"))
    res.check("bad config file: refused and logged", line is not None and "config" in line,
              str(line))
    with open(cfg_path, "w", encoding="utf-8") as f:
        cfg = json.loads(good_cfg)
        cfg["hooks_dir"] = os.path.join(tmp, "no-such-hooks")
        json.dump(cfg, f)
    line = hup_and_wait(server, "reload refused", count(server, "reload refused"))
    res.check("missing hooks_dir: refused, naming it", line is not None and
              "no-such-hooks" in line, str(line))
    res.check("after refusals: still the set of the good reload", title(server) == NEW_TITLE)
    # Good again, with a key that waits for a restart.
    with open(cfg_path, "w", encoding="utf-8") as f:
        cfg = json.loads(good_cfg)
        cfg["data_dir"] = os.path.join(tmp, "elsewhere")
        json.dump(cfg, f)
    warned = count(server, "data_dir changed")
    line = hup_and_wait(server, "reloaded the config and hooks", count(server, "reloaded"))
    res.check("reload with restored rules: applied", line is not None and
              RULE in (rules_fired(server, body) or set()))
    res.check("data_dir change: logged as waiting for a restart",
              count(server, "data_dir changed") > warned)


def startup_refusal(res, binary, tmp, hooks):
    """A text key of a rule misspelled in rules.json: `serve` does not start (exit 2) and
    names the file and the key."""
    rules_path = os.path.join(hooks, "rules.json")
    with open(rules_path, encoding="utf-8") as f:
        good = f.read()
    with open(rules_path, "w", encoding="utf-8") as f:
        f.write(good.replace('"extra_imnm"', '"extra_imnn"', 1))
    cfg = write_config(os.path.join(tmp, "cfg-startup.json"), hooks_dir=hooks,
                       data_dir=os.path.join(tmp, "data-startup"), log_level="warn")
    try:
        p = subprocess.run([binary, "serve", "--dev", "--port", "0", "--config", cfg],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        res.check("misspelled text key: start-up refused (exit 2), naming file and key",
                  p.returncode == 2 and b"rules.json" in p.stderr and
                  b"rules.steroid-monotherapy.extra_imnn: unknown key" in p.stderr,
                  f"exit {p.returncode}, stderr {p.stderr[-300:]!r}")
    except subprocess.TimeoutExpired:
        res.check("misspelled text key: start-up refused", False, "still running")
    finally:
        with open(rules_path, "w", encoding="utf-8") as f:
            f.write(good)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--hooks", required=True)
    args = ap.parse_args()
    res = Results()
    with open(os.path.join(args.fixtures, CASE), "rb") as f:
        body = f.read()
    with scratch("reload") as tmp:
        hooks = os.path.join(tmp, "hooks")
        shutil.copytree(args.hooks, hooks)
        cfg_path = write_config(os.path.join(tmp, "cfg.json"), hooks_dir=hooks,
                                data_dir=os.path.join(tmp, "data"), log_level="warn",
                                cards={"repeat_window_min": 0})
        server = Serve(os.path.abspath(args.bin), cfg_path)
        if not res.check("server starts", server.start(), server.log()[-2000:]):
            return res.finish()
        clients = [Traffic(server, body) for _ in range(TRAFFIC_CLIENTS)]
        for c in clients:
            c.thread.start()
        try:
            scenario(res, server, body, tmp, cfg_path, hooks)
        finally:
            for c in clients:
                c.stop.set()
                c.thread.join()
            rc = server.stop()
        statuses = {}
        for c in clients:
            for k, v in c.statuses.items():
                statuses[k] = statuses.get(k, 0) + v
        print(f"     requests during the reloads: {statuses}")
        res.check("every request during the reloads answered 200", set(statuses) == {200},
                  str(statuses))
        res.check("SIGTERM exits 0", rc == 0, str(rc))
        startup_refusal(res, args.bin, tmp, hooks)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
