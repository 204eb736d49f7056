#!/usr/bin/env python3
"""run_repeat.py - a warning shown at order-select is not shown again at order-sign.

Through live `myocds serve --dev` servers (tests/ops_common.py):
- default window: an order-select fixture (prednisone 40 mg/day selected alone: two
  warnings), then the order-sign of the same draft (new hookInstance, the draft signed
  with dispenseRequest and a later authoredOn): no card; again: none; the same draft with
  60 mg: both warnings again; another patient: both; a critical card (IMNM) shows every
  time while its warning is held; iga-before-ivig, which says "repeat": "always" in
  hooks/rules.json, shows every time; `myocds eval` keeps no memory; /metrics counts the cards
  held; no patient id in the log;
- cards.repeat_window_min 0: every answer carries every card;
- a rule that says "repeat": "always" in hooks/rules.json (a copy of hooks/) shows again;
- with --pg-url-file, two servers sharing one PostgreSQL database: a card shown by one is
  not shown by the other; cards_shown holds 32-byte keys and no patient id; with the table
  gone, the second server shows the card (fail open) and logs why without patient data.
Standard library only.
"""
import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import JSON_CT, Results, Serve, fixture, scratch, write_config  # noqa: E402
from ops_common import PgDatabase  # noqa: E402

SELECT = "order-select-pm-pred-selected-alone"
CRITICAL = "order-sign-imnm-pred60-alone"
IVIG = "order-sign-ivig-earlier-entered-in-error"
PATIENT = "pat-pm-027"


def as_sign(select):
    """The order-sign of the order-select's draft: what an EHR changes between the hooks
    (hookInstance, no selections, authoredOn, dispenseRequest) and nothing of the order."""
    body = copy.deepcopy(select)
    body["hook"] = "order-sign"
    body["hookInstance"] = str(uuid.uuid4())
    del body["context"]["selections"]
    for e in body["context"]["draftOrders"]["entry"]:
        r = e["resource"]
        r["authoredOn"] = "2026-03-16T10:24:00Z"
        r["dispenseRequest"] = {"quantity": {"value": 30, "unit": "tablet"}}
    return body


def with_dose(body, mg):
    body = copy.deepcopy(body)
    body["hookInstance"] = str(uuid.uuid4())
    for e in body["context"]["draftOrders"]["entry"]:
        for d in e["resource"].get("dosageInstruction", []):
            d["text"] = f"{mg} mg by mouth once daily"
            for dr in d.get("doseAndRate", []):
                dr["doseQuantity"]["value"] = mg
    return body


def with_patient(body, pid):
    text = json.dumps(body).replace(PATIENT, pid)
    body = json.loads(text)
    body["hookInstance"] = str(uuid.uuid4())
    return body


def fresh(body):
    body = copy.deepcopy(body)
    body["hookInstance"] = str(uuid.uuid4())
    return body


def cards(server, service, body):
    """Sorted (rule, indicator) of the answer, or the status and body when not 200."""
    st, doc = server.request("POST", f"/cds-services/{service}", json.dumps(body).encode(),
                             JSON_CT)
    if st != 200:
        return ("status", st, str(doc)[:200])
    return sorted((c["source"]["topic"]["code"], c["indicator"]) for c in doc["cards"])


WARNINGS = [("pjp-prophylaxis", "warning"), ("steroid-monotherapy", "warning")]


def held_total(server):
    st, text = server.request("GET", "/metrics")
    total = 0
    for line in str(text).splitlines():
        if line.startswith("myocds_cards_held_total{"):
            total += int(line.rsplit(" ", 1)[1])
    return total


def eval_cards(binary, service, body):
    p = subprocess.run([binary, "eval", "--service", service, "-"], input=json.dumps(body),
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return ("exit", p.returncode, p.stderr[:200])
    return sorted((c["source"]["topic"]["code"], c["indicator"])
                  for c in json.loads(p.stdout)["cards"])


def default_window(res, args, tmp, select, sign):
    cfg = write_config(os.path.join(tmp, "default.json"), data_dir=os.path.join(tmp, "d1"))
    srv = Serve(args.bin, cfg)
    if not res.check("default window: server starts", srv.start(), srv.log()[-500:]):
        return
    try:
        got = cards(srv, "myositis-order-select", select)
        res.check("order-select: both warnings shown", got == WARNINGS, str(got))
        got = cards(srv, "myositis-order-sign", sign)
        res.check("order-sign of the same unchanged draft: warnings not shown again",
                  got == [], str(got))
        got = cards(srv, "myositis-order-sign", fresh(sign))
        res.check("order-sign once more: still held", got == [], str(got))
        got = cards(srv, "myositis-order-sign", with_dose(sign, 60))
        res.check("the same draft with 60 mg instead of 40: a new order, shown", got == WARNINGS,
                  str(got))
        got = cards(srv, "myositis-order-sign", with_patient(sign, "pat-other-9"))
        res.check("the same order for another patient: shown", got == WARNINGS, str(got))
        crit = fixture(args.fixtures, CRITICAL)
        first = cards(srv, "myositis-order-sign", fresh(crit))
        second = cards(srv, "myositis-order-sign", fresh(crit))
        crit_first = [c for c in first if c[1] == "critical"]
        res.check("critical card: shown the first time", len(crit_first) >= 1, str(first))
        res.check("critical card: shown again (critical cards always repeat)",
                  [c for c in second if c[1] == "critical"] == crit_first, str(second))
        res.check("... while the warning beside it is held the second time",
                  any(c[1] == "warning" for c in first) and
                  not any(c[1] == "warning" for c in second), f"{first} then {second}")
        ivig = fixture(args.fixtures, IVIG)
        got = [cards(srv, "myositis-order-sign", fresh(ivig)) for _ in range(2)]
        res.check("iga-before-ivig (\"repeat\": \"always\" in hooks/rules.json) shows every time",
                  got == [[("iga-before-ivig", "warning")]] * 2, str(got))
        one = eval_cards(args.bin, "myositis-order-sign", sign)
        two = eval_cards(args.bin, "myositis-order-sign", sign)
        res.check("myocds eval keeps no memory: every card, every time",
                  one == WARNINGS and two == WARNINGS, f"{one} {two}")
        held = held_total(srv)
        res.check("/metrics: myocds_cards_held_total counts the 5 cards held", held == 5,
                  str(held))
    finally:
        srv.stop()
    log = srv.log()
    res.check("the log names no patient", PATIENT not in log and "pat-other-9" not in log)


def window_zero(res, args, tmp, select, sign):
    cfg = write_config(os.path.join(tmp, "zero.json"), data_dir=os.path.join(tmp, "d0"),
                       cards={"repeat_window_min": 0})
    srv = Serve(args.bin, cfg)
    if not res.check("repeat_window_min 0: server starts", srv.start(), srv.log()[-500:]):
        return
    try:
        got = [cards(srv, "myositis-order-select", fresh(select)),
               cards(srv, "myositis-order-sign", fresh(sign)),
               cards(srv, "myositis-order-sign", fresh(sign))]
        res.check("repeat_window_min 0: select, sign, sign each show both warnings",
                  got == [WARNINGS] * 3, str(got))
        res.check("repeat_window_min 0: nothing counted as held", held_total(srv) == 0)
    finally:
        srv.stop()


def rule_always(res, args, tmp, select, sign):
    hooks = os.path.join(tmp, "hooks")
    shutil.copytree(args.hooks, hooks)
    path = os.path.join(hooks, "rules.json")
    with open(path, encoding="utf-8") as f:
        rules = json.load(f)
    rules["rules"]["steroid-monotherapy"]["repeat"] = "always"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(rules, f)
    cfg = write_config(os.path.join(tmp, "always.json"), data_dir=os.path.join(tmp, "d2"),
                       hooks_dir=hooks)
    srv = Serve(args.bin, cfg)
    if not res.check("\"repeat\": \"always\": server starts", srv.start(), srv.log()[-500:]):
        return
    try:
        cards(srv, "myositis-order-select", fresh(select))
        got = cards(srv, "myositis-order-sign", fresh(sign))
        res.check("a rule with \"repeat\": \"always\" shows again; the other is held",
                  got == [("steroid-monotherapy", "warning")], str(got))
    finally:
        srv.stop()
    rules["rules"]["steroid-monotherapy"]["repeat"] = "sometimes"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(rules, f)
    p = subprocess.run([args.bin, "services", "--config", cfg], capture_output=True, text=True,
                       timeout=60)
    res.check("\"repeat\": \"sometimes\" in rules.json: refused at load, naming the field",
              p.returncode != 0 and "steroid-monotherapy.repeat" in p.stderr, p.stderr[-300:])


def shared_pg(res, args, tmp, select, sign):
    db = PgDatabase(args.pg_url_file, "repeat")
    servers = []
    try:
        cfg = write_config(os.path.join(tmp, "pg.json"), data_dir=os.path.join(tmp, "unused"),
                           feedback={"postgres_url": db.url})
        for name in ("a", "b"):
            srv = Serve(args.bin, cfg)
            if not res.check(f"postgres: server {name} starts", srv.start(), srv.log()[-500:]):
                return
            servers.append(srv)
        a, b = servers
        got = cards(a, "myositis-order-select", fresh(select))
        res.check("postgres: order-select on server a shows both warnings", got == WARNINGS,
                  str(got))
        got = cards(b, "myositis-order-sign", fresh(sign))
        res.check("postgres: order-sign of the same draft on server b: not shown again",
                  got == [], str(got))
        rows = db.rows("SELECT length(key), encode(key, 'hex') FROM cards_shown")
        res.check("postgres: cards_shown holds one 32-byte key per card shown",
                  [r[0] for r in rows] == ["32", "32"], str(rows))
        dump = json.dumps(rows) + json.dumps(db.rows("SELECT encode(secret, 'hex') FROM "
                                                     "repeat_secret"))
        res.check("postgres: no patient id in cards_shown, as text or bytes",
                  PATIENT not in dump and PATIENT.encode().hex() not in dump)
        res.check("postgres: one secret for every replica",
                  db.rows("SELECT count(*), min(length(secret)) FROM repeat_secret")
                  == [["1", "32"]])
        changed = with_dose(sign, 60)
        got = cards(a, "myositis-order-sign", changed)
        res.check("postgres: a changed dose shows on server a", got == WARNINGS, str(got))
        db.rows("DROP TABLE cards_shown")
        got = cards(b, "myositis-order-sign", fresh(changed))
        res.check("postgres: shared memory gone: server b shows the card (fails open)",
                  got == WARNINGS, str(got))
        got = cards(a, "myositis-order-sign", fresh(changed))
        res.check("postgres: server a still holds what it showed itself", got == [], str(got))
    finally:
        for srv in servers:
            srv.stop()
        db.drop()
    log = servers[1].log() if len(servers) > 1 else ""
    res.check("postgres: the failure is logged", "shared memory of cards shown failed" in log,
              log[-500:])
    res.check("postgres: the log names no patient and no database URL",
              PATIENT not in log and db.url not in log)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--hooks", required=True)
    ap.add_argument("--pg-url-file")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    res = Results()
    select = fixture(args.fixtures, SELECT)
    sign = as_sign(select)
    with scratch("repeat") as tmp:
        default_window(res, args, tmp, select, sign)
        window_zero(res, args, tmp, select, sign)
        rule_always(res, args, tmp, select, sign)
        if args.pg_url_file:
            shared_pg(res, args, tmp, select, sign)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
