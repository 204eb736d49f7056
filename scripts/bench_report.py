#!/usr/bin/python3
"""bench_report.py - how long `myocds report` takes on a year of data.

Makes a store of CARDS issued cards and FEEDBACK feedback entries spread over the last
365 days (the rules, services and override reasons of hooks/rules.json; three EHRs; one
feedback entry in a hundred stored before its card, so without the card's facts; four
calls counted per card), on
SQLite and on PostgreSQL (a throw-away cluster, tests/pg_cluster.sh), then times
`myocds report --json` and `--html` over the whole store and over its last month.

The schema is the one `myocds` itself creates (it opens the empty store first); the rows
are written straight into it, as the service would have written them. Prints one line
per run and a summary; exits 1 when a whole-store report takes LIMIT_S or more.

    scripts/bench_report.py --bin build/myocds [--cards 5000000] [--feedback 1000000]
                            [--stores sqlite,postgres] [--keep DIR] [--screenshot PNG]
"""
import argparse
import datetime
import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT_S = 5.0
RUNS = 3
EHRS = [("https://ehr-a.example.org", "north"), ("https://ehr-a.example.org", "south"),
        ("https://ehr-b.example.org", None)]
UNLINKED_EVERY = 100  # one feedback entry in this many came before its card
CALLS_PER_CARD = 4  # calls answered per card given (the others gave none)
SEED = 20261204


def hooks_facts(hooks):
    """(rules, services, {rule: [(system, code)]}) from hooks/."""
    with open(os.path.join(hooks, "rules.json"), encoding="utf-8") as f:
        doc = json.load(f)
    reasons = {}
    for rid, rule in doc["rules"].items():
        for key, lst in rule.items():
            if key.startswith("override_reasons"):
                for r in lst:
                    system = doc["override_codes"]["system"] if r.get("standard") \
                        else doc["override_system"]
                    reasons.setdefault(rid, []).append((system, r["code"]))
    services = sorted(f[:-5] for f in os.listdir(os.path.join(hooks, "services"))
                      if f.endswith(".json"))
    return sorted(doc["rules"]), services, reasons


def ts(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def rows(n_cards, n_feedback, facts, now):
    """Yields ("card", row), ("feedback", row) and ("calls", row) for a year up to now: the
    same rows for the same arguments."""
    rules, services, reasons = facts
    rnd = random.Random(SEED)
    start = now - 365 * 86400
    weights = [1 + (i * 7) % 11 for i in range(len(rules))]  # some rules fire more
    accept = {r: 0.15 + 0.6 * ((i * 5) % 9) / 8 for i, r in enumerate(rules)}  # and are
    # accepted more: from 15 % to 75 % of the feedback
    step = max(n_cards // max(n_feedback, 1), 1)
    calls = {}  # (service, hour) -> cards; each card's call, and CALLS_PER_CARD - 1 without
    for i in range(n_cards):
        t = start + (now - start) * i / n_cards
        rule = rnd.choices(rules, weights)[0]
        svc = services[i % len(services)]
        iss, tenant = EHRS[i % len(EHRS)]
        uuid = f"{i:08x}-0000-4000-8000-{rnd.getrandbits(48):012x}"
        card = (svc, uuid, rule, ts(t), iss, tenant)
        hour = card[3][:13] + ":00:00.000Z"
        calls[(svc, hour)] = calls.get((svc, hour), 0) + 1
        yield "card", card
        if i % step == 0 and i // step < n_feedback:
            roll = rnd.random()
            outcome = "accepted" if roll < accept[rule] else "overridden"
            system, code = (None, None)
            if outcome == "overridden" and reasons.get(rule) and roll < 0.9:
                system, code = rnd.choice(reasons[rule])
            linked = (i // step) % UNLINKED_EVERY != 0
            got = ts(t + 60 + rnd.random() * 3600)
            yield "feedback", (svc, uuid, outcome, '["s-1"]' if outcome == "accepted" else None,
                               system, code, got[:19] + "Z", iss, tenant, got,
                               rule if linked else None, svc if linked else None,
                               iss if linked else None, tenant if linked else None,
                               card[3] if linked else None)
    for (svc, hour), cards in sorted(calls.items()):
        yield "calls", (svc, hour, cards * CALLS_PER_CARD, cards)


CARD_COLS = "service_id, card_uuid, rule_id, issued_at, iss, tenant"
CALLS_COLS = "service_id, hour, calls, cards"
FEEDBACK_COLS = ("service_id, card_uuid, outcome, accepted_suggestions, reason_system,"
                 " reason_code, outcome_timestamp, iss, tenant, received_at, card_rule,"
                 " card_service, card_iss, card_tenant, card_issued_at")


def make_schema(args, config):
    """An empty store of the current schema, made by myocds itself."""
    p = subprocess.run([args.bin, "report", "--config", config, "--json"], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, MYOCDS_HOOKS=args.hooks))
    if p.returncode != 0:
        sys.exit(f"bench_report: myocds report on an empty store: {p.stderr}")


def fill_sqlite(path, n_cards, n_feedback, facts, now):
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    cards, feedback, calls = [], [], []
    for kind, row in rows(n_cards, n_feedback, facts, now):
        {"card": cards, "feedback": feedback, "calls": calls}[kind].append(row)
        if len(cards) >= 100000:
            db.executemany(f"INSERT INTO cards_issued ({CARD_COLS}) VALUES (?,?,?,?,?,?)", cards)
            cards = []
    db.executemany(f"INSERT INTO cards_issued ({CARD_COLS}) VALUES (?,?,?,?,?,?)", cards)
    db.executemany(f"INSERT INTO feedback ({FEEDBACK_COLS}) VALUES ({','.join('?' * 15)})",
                   feedback)
    db.executemany(f"INSERT INTO calls ({CALLS_COLS}) VALUES (?,?,?,?)", calls)
    db.commit()
    db.execute("ANALYZE")
    db.close()


def copy_text(v):
    return "\\N" if v is None else str(v)


def fill_pg(url, n_cards, n_feedback, facts, now):
    bufs = {"card": io.StringIO(), "feedback": io.StringIO(), "calls": io.StringIO()}
    for kind, row in rows(n_cards, n_feedback, facts, now):
        bufs[kind].write("\t".join(map(copy_text, row)) + "\n")
    for table, cols, buf in (("cards_issued", CARD_COLS, bufs["card"]),
                             ("feedback", FEEDBACK_COLS, bufs["feedback"]),
                             ("calls", CALLS_COLS, bufs["calls"])):
        p = subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", url, "-c",
                            f"COPY {table} ({cols}) FROM STDIN"], input=buf.getvalue(),
                           text=True, capture_output=True)
        if p.returncode != 0:
            sys.exit(f"bench_report: COPY {table}: {p.stderr}")
    subprocess.run(["psql", "-q", url, "-c", "VACUUM ANALYZE"], check=True)


def time_report(args, config, *extra):
    t = time.monotonic()
    p = subprocess.run([args.bin, "report", "--config", config, *extra], capture_output=True,
                       timeout=600, env=dict(os.environ, MYOCDS_HOOKS=args.hooks))
    took = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"bench_report: report {' '.join(extra)}: {p.stderr.decode()[:300]}")
    return took, p.stdout


def same_report(a, b):
    """The two stores' --json reports hold the same numbers (the time made aside)."""
    a, b = json.loads(a), json.loads(b)
    a.pop("in_force", None)
    b.pop("in_force", None)
    return a == b


def bench(args, name, config):
    month = (datetime.datetime.now(datetime.timezone.utc) -
             datetime.timedelta(days=30)).strftime("%Y-%m-%d")
    out = {}
    for label, extra in (("json, whole store", ["--json"]),
                         ("html, whole store", ["--html", "-"]),
                         ("json, last 30 days", ["--json", "--since", month])):
        took = []
        for _ in range(RUNS):
            t, body = time_report(args, config, *extra)
            took.append(t)
        if label == "json, whole store":
            doc = json.loads(body)
            issued = sum(r["issued"] for r in doc["rules"])
            ok = issued == args.cards and doc["feedback_total"] == args.feedback
            print(f"{name}: the report counts {issued} cards and {doc['feedback_total']} "
                  f"feedback entries: {'right' if ok else 'WRONG'}")
            if not ok:
                sys.exit(1)
            out["body"] = body
        out[label] = min(took)
        print(f"{name}: report --{label}: best {min(took):.2f} s of {RUNS} "
              f"({', '.join(f'{t:.2f}' for t in took)})")
    return out


SHOT_SIZE = "1200,2600"


def screenshot(args, config, tmp):
    """The page of the store, drawn by headless Chromium into args.screenshot."""
    page = os.path.join(tmp, "report.html")
    time_report(args, config, "--html", page)
    p = subprocess.run(["chromium", "--headless", "--disable-gpu", "--no-sandbox",
                        "--no-first-run", "--hide-scrollbars", f"--window-size={SHOT_SIZE}",
                        f"--screenshot={os.path.abspath(args.screenshot)}", "file://" + page],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0 or not os.path.exists(args.screenshot):
        sys.exit(f"bench_report: chromium: {p.stderr[-300:]}")
    print(f"sqlite: the page drawn into {args.screenshot}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--hooks", default=os.path.join(ROOT, "hooks"))
    ap.add_argument("--cards", type=int, default=5000000)
    ap.add_argument("--feedback", type=int, default=1000000)
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument("--keep", help="make the stores here and leave them")
    ap.add_argument("--screenshot", help="also draw the SQLite store's --html page with "
                    "headless Chromium into this PNG (docs/report-page.png is made so)")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    facts = hooks_facts(args.hooks)
    now = float(int(time.time()) // 3600 * 3600)  # one year, the same for both stores
    tmp = args.keep or tempfile.mkdtemp(prefix="myocds-bench-report-")
    os.makedirs(tmp, exist_ok=True)
    results = {}
    try:
        if "sqlite" in args.stores:
            config = os.path.join(tmp, "sqlite.json")
            with open(config, "w") as f:
                json.dump({"data_dir": os.path.join(tmp, "data"), "log_level": "warn"}, f)
            make_schema(args, config)
            t = time.monotonic()
            fill_sqlite(os.path.join(tmp, "data", "myocds.sqlite"), args.cards, args.feedback,
                        facts, now)
            print(f"sqlite: store filled in {time.monotonic() - t:.0f} s")
            results["sqlite"] = bench(args, "sqlite", config)
            if args.screenshot:
                screenshot(args, config, tmp)
        if "postgres" in args.stores:
            pg = os.path.join(tmp, "pg")
            subprocess.run([os.path.join(ROOT, "tests", "pg_cluster.sh"), "start", pg],
                           check=True)
            try:
                with open(os.path.join(pg, "url")) as f:
                    url = f.read().strip() + "/postgres"
                config = os.path.join(tmp, "pg.json")
                with open(config, "w") as f:
                    json.dump({"feedback": {"postgres_url": url}, "log_level": "warn",
                               "data_dir": os.path.join(tmp, "unused")}, f)
                make_schema(args, config)
                t = time.monotonic()
                fill_pg(url, args.cards, args.feedback, facts, now)
                print(f"postgres: store filled in {time.monotonic() - t:.0f} s")
                results["postgres"] = bench(args, "postgres", config)
            finally:
                if not args.keep:
                    subprocess.run([os.path.join(ROOT, "tests", "pg_cluster.sh"), "stop", pg])
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"summary: {args.cards} cards, {args.feedback} feedback entries; limit {LIMIT_S} s")
    bodies = [r.pop("body") for r in results.values()]
    same = len(bodies) < 2 or same_report(*bodies)
    if len(bodies) == 2:
        print(f"  the two stores' reports are {'the same' if same else 'DIFFERENT'}")
    worst = 0.0
    for store, r in results.items():
        for label, t in r.items():
            print(f"  {store:9s} {label:20s} {t:6.2f} s")
            if "whole store" in label:
                worst = max(worst, t)
    return 0 if worst < LIMIT_S and same else 1


if __name__ == "__main__":
    sys.exit(main())
