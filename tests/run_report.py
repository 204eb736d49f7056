#!/usr/bin/python3
"""run_report.py - `myocds report` on a store filled through the live service, and the
/metrics the same run leaves behind.

For each store (SQLite; PostgreSQL when --pg-url-file names the test cluster's URL): start
`myocds serve --dev`, POST the fixture requests that fire cards, answer the cards with
feedback (accepted with a suggestion, overridden with one of the card's own reason codes,
or nothing; every fifth entry resent; two entries for cards never issued), check the
/metrics families, stop with SIGTERM (the queued cards are written), then check that
`myocds report` prints the table and that --json and --csv hold exactly the counts this
runner made, and that the --html page shows those numbers (tests/report_page.py: its
tables and chart tooltips; on SQLite also drawn by headless Chromium, the screenshot
saved at --screenshot), and that the calls counted per service (a few answered without a
card count, those answered with an error do not) and the cards per 100 calls are the
calls this runner made.

The calls come from three EHRs (two issuers, one with two tenants), each with its own
JWT, and the hooks are a copy with one rule switched off for one service: the report's
per-EHR and per-service outcomes, its weeks and what it says was in force are checked
against what was sent and loaded. Prints "N passed, M failed".

    run_report.py --bin build/myocds --fixtures fixtures/cases [--pg-url-file F]
                  [--screenshot OUT.png]
"""
import argparse
import csv
import datetime
import io
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Results, Serve, cases, gen_key, jwk_of, jwt_claims,  # noqa: E402
                     make_token, metric_values, scratch, write_config)
from ops_common import PgDatabase, feedback_body  # noqa: E402
import report_page  # noqa: E402

MAX_CASES = 40
MAX_OTHER = 3  # cases that answer 200 without a card, and cases answered with an error
TOP_REASONS = 3
RUN_TIMEOUT_S = 60
STANDARD_SYSTEM = "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"
BASE = "https://cds.report.test"
ISS_A = "https://ehr-a.report.test"
ISS_B = "https://ehr-b.report.test"
EHRS = [(ISS_A, "north"), (ISS_A, "south"), (ISS_B, None)]  # (iss, tenant) of the calls
SWITCHED_OFF = ("myositis-order-select", "mtx-folic-acid")  # (service, rule); fires on sign


class Ehr:
    """Signs each call of one EHR (its iss and tenant) with the runner's key."""

    def __init__(self, key, iss, tenant):
        self.key, self.iss, self.tenant = key, iss, tenant

    def headers(self, path):
        token = make_token({"alg": "ES384", "typ": "JWT", "kid": "k1"},
                           jwt_claims(self.iss, BASE + path, tenant=self.tenant), self.key)
        return {"Content-Type": "application/json", "Authorization": "Bearer " + token}


def outcomes():
    return {"issued": 0, "accepted": 0, "overridden": 0}


def with_derived(o):
    """The counts and what the report derives of them (no_feedback, the rate and its
    Wilson interval)."""
    n, k = o["issued"], o["accepted"]
    lo, hi = report_page.wilson(k, n) if n else (None, None)
    return dict(o, no_feedback=max(n - k - o["overridden"], 0),
                acceptance_rate=round(k / n, 4) if n else None,
                acceptance_ci_low=round(lo, 4) if n else None,
                acceptance_ci_high=round(hi, 4) if n else None)


def firing_cases(fixtures):
    """(service, request bytes) of the 200 cases that fire at least one card."""
    out = []
    for _, exp, path in cases(fixtures):
        if exp.get("status", 200) != 200 or not exp.get("fire"):
            continue
        with open(path, "rb") as f:
            out.append((exp["service"], f.read()))
    return out[:MAX_CASES]


def other_cases(fixtures):
    """(service, request bytes, status) of a few cases answered 200 without a card and a
    few answered with an error: the first count as calls, the others do not."""
    quiet, errors = [], []
    for _, exp, path in cases(fixtures):
        status = exp.get("status", 200)
        pick = quiet if status == 200 and not exp.get("fire") else errors if status != 200 \
            else None
        if pick is not None and len(pick) < MAX_OTHER and exp.get("service"):
            with open(path, "rb") as f:
                pick.append((exp["service"], f.read(), status))
    return quiet + errors


class Plan:
    """The feedback this runner sends, and the report it expects back."""

    def __init__(self):
        self.rules = {}  # rule -> {"issued", "accepted", "overridden",
        #                           "reasons": {(system, code): n}}
        self.entries = set()  # distinct (uuid, outcome) stored
        self.calls = {}  # service -> [calls answered 200, cards they gave]
        self.ehrs = {}  # (iss, tenant) -> outcomes()
        self.services = {}  # service -> outcomes() of its cards
        self.given = set()  # (service, rule) of every card

    def count(self, service, ehr, what):
        """One card issued (what "issued") or one feedback entry on it, for its service
        and EHR."""
        self.services.setdefault(service, outcomes())[what] += 1
        self.ehrs.setdefault((ehr.iss, ehr.tenant), outcomes())[what] += 1

    def rule(self, rid):
        return self.rules.setdefault(rid, {"issued": 0, "accepted": 0, "overridden": 0,
                                           "reasons": {}})

    def expected_json_rules(self, categories):
        """The report's rules; categories maps (rule, system, code) to its category, read
        from hooks/rules.json."""
        out = []
        for rid in sorted(self.rules):
            r = self.rules[rid]
            top = sorted(r["reasons"].items(),
                         key=lambda kv: (-kv[1], kv[0][1], kv[0][0]))[:TOP_REASONS]
            cats = {}
            for (system, code), n in r["reasons"].items():
                cat = categories.get((rid, system, code))
                cats[cat] = cats.get(cat, 0) + n
            out.append({"rule": rid, "issued": r["issued"], "accepted": r["accepted"],
                        "overridden": r["overridden"],
                        "top_override_reasons": [
                            {"system": s, "code": c, "category": categories.get((rid, s, c)),
                             "count": n} for (s, c), n in top],
                        "override_categories": [
                            {"category": c, "count": n} for c, n in
                            sorted(cats.items(), key=lambda kv: (-kv[1], kv[0] is None,
                                                                 kv[0] or ""))]})
        return out

    def expected_services(self):
        """The report's services: [{service, calls, cards, cards_per_100_calls, issued,
        accepted, ...}]."""
        return [dict({"service": s, "calls": c, "cards": k,
                      "cards_per_100_calls": round(100.0 * k / c, 4)},
                     **with_derived(self.services.get(s, outcomes())))
                for s, (c, k) in sorted(self.calls.items())]

    def expected_ehrs(self):
        """The report's EHRs, by iss then tenant (none first)."""
        return [dict({"iss": i, "tenant": t}, **with_derived(o))
                for (i, t), o in sorted(self.ehrs.items(),
                                        key=lambda kv: (kv[0][0] or "", kv[0][1] is not None,
                                                        kv[0][1] or ""))]

    def expected_weeks(self):
        """rule -> [its one week]: every card was issued this week (UTC)."""
        today = datetime.datetime.now(datetime.timezone.utc).date()
        monday = (today - datetime.timedelta(days=today.weekday())).isoformat()
        return {rid: [{"week": monday, "issued": r["issued"], "accepted": r["accepted"],
                       "overridden": r["overridden"]}] for rid, r in self.rules.items()}

    def calls_total(self):
        return sum(c for c, _ in self.calls.values())


def reason_categories(hooks):
    """(rule, system, code) -> category of every override reason in hooks/rules.json: a
    standard code's from the CodeSystem's table, one of our own's as it names it."""
    with open(os.path.join(hooks, "rules.json"), encoding="utf-8") as f:
        doc = json.load(f)
    std = doc["override_codes"]
    out = {}
    for rid, rule in doc["rules"].items():
        for key, reasons in rule.items():
            if not key.startswith("override_reasons"):
                continue
            for r in reasons:
                if r.get("standard"):
                    out[(rid, std["system"], r["code"])] = std["codes"][r["code"]]["category"]
                else:
                    out[(rid, doc["override_system"], r["code"])] = r["category"]
    return out


def fill(res, server, cases, others, ehrs):
    """Calls the services, answers the cards, each call and its feedback from one of the
    EHRs in turn; returns the plan."""
    plan = Plan()
    k = 0
    for service, body, want in others:  # a call without a card counts, an error does not
        path = f"/cds-services/{service}"
        status, doc = server.request("POST", path, body, ehrs[0].headers(path))
        res.check(f"POST {service} answers {want}", status == want, str(status)[:200])
        if status == 200:
            counted = plan.calls.setdefault(service, [0, 0])
            counted[0] += 1
            counted[1] += len(doc["cards"])
            res.check(f"POST {service} without a card gives none", doc["cards"] == [])
    for n, (service, body) in enumerate(cases):
        ehr = ehrs[n % len(ehrs)]
        path = f"/cds-services/{service}"
        status, doc = server.request("POST", path, body, ehr.headers(path))
        if not res.check(f"POST {service} answers 200", status == 200, str(status)[:200]):
            continue
        counted = plan.calls.setdefault(service, [0, 0])
        counted[0] += 1
        counted[1] += len(doc["cards"])
        for card in doc["cards"]:
            rid = card["source"]["topic"]["code"]
            plan.given.add((service, rid))
            plan.rule(rid)["issued"] += 1
            plan.count(service, ehr, "issued")
            send = None
            if k % 3 == 0:
                sugg = [s["uuid"] for s in card.get("suggestions", [])][:1] or ["none"]
                send = feedback_body(card["uuid"], "accepted", accepted=sugg)
                plan.rule(rid)["accepted"] += 1
            elif k % 3 == 1:
                codes = [(r["system"], r["code"]) for r in card.get("overrideReasons", [])]
                pick = codes[k % len(codes)] if codes else None
                send = feedback_body(card["uuid"], "overridden",
                                     reason=pick[1] if pick else None,
                                     system=pick[0] if pick else None)
                plan.rule(rid)["overridden"] += 1
                if pick is not None:
                    plan.rule(rid)["reasons"][pick] = plan.rule(rid)["reasons"].get(pick, 0) + 1
            if send is not None:
                plan.entries.add((card["uuid"], send["feedback"][0]["outcome"]))
                plan.count(service, ehr, send["feedback"][0]["outcome"])
                fpath = f"/cds-services/{service}/feedback"
                for _ in range(2 if k % 5 == 0 else 1):  # a resend is the same entry
                    status, _ = server.request("POST", fpath, send, ehr.headers(fpath))
                    res.check(f"feedback on {rid} stored", status == 200, str(status))
            k += 1
    for i in range(2):  # feedback on cards this store never issued
        fpath = "/cds-services/myositis-order-sign/feedback"
        status, _ = server.request("POST", fpath, feedback_body(f"not-issued-{i}", "accepted"),
                                   ehrs[1].headers(fpath))
        plan.entries.add((f"not-issued-{i}", "accepted"))
        res.check("feedback on an unknown card stored", status == 200, str(status))
    res.check(f"{SWITCHED_OFF[1]} switched off for {SWITCHED_OFF[0]} only: none there, some on"
              " another service", SWITCHED_OFF not in plan.given and
              any(r == SWITCHED_OFF[1] for _, r in plan.given), str(sorted(plan.given)))
    return plan


def check_metrics(res, name, server, plan):
    status, text = server.request("GET", "/metrics")
    res.check(f"{name}: GET /metrics 200", status == 200)
    if status != 200:
        return
    issued = sum(r["issued"] for r in plan.rules.values())
    fams = {
        "myocds_http_requests_total": lambda v: sum(v) > 0,
        "myocds_http_request_duration_seconds_count": lambda v: sum(v) > 0,
        "myocds_http_request_duration_seconds_bucket": lambda v: max(v, default=0) > 0,
        "myocds_cards_total": lambda v: sum(v) == issued,
        "myocds_feedback_total": lambda v: sum(v) >= len(plan.entries),
    }
    for fam, ok in fams.items():
        v = metric_values(text, fam)
        res.check(f"{name}: /metrics {fam} is non-zero and right", bool(v) and ok(v),
                  f"{v[:6]} (cards issued {issued}, entries {len(plan.entries)})")
    for fam in ("myocds_fhir_fetches_total", "myocds_fhir_fetch_failures_total",
                "myocds_jwt_refusals_total", "myocds_http_requests_in_flight"):
        res.check(f"{name}: /metrics has the {fam} family", f"# TYPE {fam} " in text)
        print(f"     {fam}: {metric_values(text, fam)}")
    res.check(f"{name}: service 200s counted by service",
              re.search(r'myocds_http_requests_total\{endpoint="service",'
                        r'service="myositis-order-sign",status="200"\} [1-9]', text) is not None)


def report(args, config, *extra):
    p = subprocess.run([args.bin, "report", "--config", config, *extra], capture_output=True,
                       text=True, timeout=RUN_TIMEOUT_S)
    return p.returncode, p.stdout, p.stderr


def check_html(res, name, args, config, plan, doc, tmp):
    """The --html page of the same store against the --json report and the plan."""
    path = os.path.join(tmp, f"{name}-report.html")
    rc, _, err = report(args, config, "--html", path)
    if not res.check(f"{name}: report --html FILE exits 0", rc == 0 and os.path.exists(path),
                     err):
        return
    with open(path, encoding="utf-8") as f:
        text = f.read()
    report_page.check_page(res, name, text, doc, {k: r["reasons"] for k, r in plan.rules.items()},
                           reason_categories(os.environ["MYOCDS_HOOKS"]), len(plan.entries))
    rc, out, err = report(args, config, "--html", "-")
    res.check(f"{name}: report --html - writes the page on stdout",
              rc == 0 and out.startswith("<!DOCTYPE html>") and out.endswith("</html>\n"), err)
    rc, out, _ = report(args, config, "--html", "-", "--since", "2999-01-01")
    res.check(f"{name}: --html of an empty range says so",
              rc == 0 and "No cards issued in this range." in out)
    rc, _, err = report(args, config, "--html", path, "--json")
    res.check(f"{name}: --html with --json exits 2", rc == 2 and "exclude" in err, err)
    rc, _, err = report(args, config, "--html", os.path.join(tmp, "no", "such", "dir.html"))
    res.check(f"{name}: --html to a path it cannot write exits 1", rc == 1, err)
    if name == "sqlite":
        report_page.check_browser(res, path, args.screenshot or os.path.join(tmp, "page.png"))


def check_report(res, name, args, config, plan, tmp):
    rc, out, err = report(args, config)
    print(out)
    res.check(f"{name}: report exits 0", rc == 0, err)
    res.check(f"{name}: the table has its header", re.search(r"^rule +issued +accepted +"
                                                             r"overridden", out, re.M) is not None)
    for rid, r in plan.rules.items():
        row = re.search(r"^" + re.escape(rid) + r" +(\d+) +(\d+) +(\d+) ", out, re.M)
        res.check(f"{name}: table row {rid}", row is not None and [int(x) for x in row.groups()]
                  == [r["issued"], r["accepted"], r["overridden"]], row.group(0) if row else out)
    rc, out, err = report(args, config, "--json")
    doc = json.loads(out) if rc == 0 else {}
    derived = ("acceptance_rate", "acceptance_ci_low", "acceptance_ci_high", "no_feedback",
               "cards_per_100_calls", "weeks")
    got = [{k: v for k, v in r.items() if k not in derived} for r in doc.get("rules", [])]
    want = plan.expected_json_rules(reason_categories(os.environ["MYOCDS_HOOKS"]))
    res.check(f"{name}: --json rules match the counts sent", got == want,
              f"\n got {got}\nwant {want}")
    res.check(f"{name}: --json every reason of a card has its category",
              all(t["category"] is not None for r in got for t in r["top_override_reasons"]),
              str(got))
    res.check(f"{name}: --json standard codes counted",
              any(t["system"] == STANDARD_SYSTEM for r in got for t in r["top_override_reasons"]))
    res.check(f"{name}: --json feedback_total counts every stored entry",
              doc.get("feedback_total") == len(plan.entries),
              f"{doc.get('feedback_total')} != {len(plan.entries)}")
    res.check(f"{name}: --json acceptance_rate = accepted / issued",
              all(abs(r["acceptance_rate"] - r["accepted"] / r["issued"]) < 1e-4
                  for r in doc.get("rules", []) if r["issued"]))
    res.check(f"{name}: --json the 95 % interval is Wilson's",
              all(abs(r["acceptance_ci_low"] - report_page.wilson(r["accepted"], r["issued"])[0])
                  < 1e-4 and abs(r["acceptance_ci_high"] -
                                 report_page.wilson(r["accepted"], r["issued"])[1]) < 1e-4
                  for r in doc.get("rules", [])), str(doc.get("rules")))
    res.check(f"{name}: --json weeks: this week's cards and feedback per rule",
              {r["rule"]: r["weeks"] for r in doc.get("rules", [])} == plan.expected_weeks(),
              str([(r["rule"], r["weeks"]) for r in doc.get("rules", [])])[:600])
    res.check(f"{name}: --json ehrs: cards and feedback per EHR (iss, tenant)",
              doc.get("ehrs") == plan.expected_ehrs(),
              f"\n got {doc.get('ehrs')}\nwant {plan.expected_ehrs()}")
    res.check(f"{name}: --json the three EHRs are there", len(doc.get("ehrs", [])) == 3)
    check_in_force(res, name, doc.get("in_force"))
    rc, out, err = report(args, config, "--csv")
    sections = csv_sections(out) if rc == 0 else {}
    rows = sections.get("rule", [])
    check_csv_sections(res, name, sections, doc)
    rc, table, _ = report(args, config)
    for e in plan.expected_ehrs():
        label = e["iss"] + (f", {e['tenant']}" if e["tenant"] else "")
        res.check(f"{name}: table: the EHR {label}",
                  re.search(rf"^ +{e['issued']} +{e['accepted']} +{e['overridden']} +\S+ +"
                            + re.escape(label) + "$", table, re.M) is not None,
                  table.split("Cards per EHR", 1)[-1][:400])
    res.check(f"{name}: table: the rule switched off",
              f"switched off: {SWITCHED_OFF[1]} on {SWITCHED_OFF[0]}" in table, table[-800:])
    res.check(f"{name}: --csv no_feedback and interval as --json", [
        (int(r["no_feedback"]), float(r["acceptance_ci_low"]), float(r["acceptance_ci_high"]))
        for r in rows] == [(r["no_feedback"], r["acceptance_ci_low"], r["acceptance_ci_high"])
                           for r in doc.get("rules", [])], out)
    res.check(f"{name}: --csv rows match", [(r["rule"], int(r["issued"]), int(r["accepted"]),
                                             int(r["overridden"])) for r in rows] ==
              [(r["rule"], r["issued"], r["accepted"], r["overridden"])
               for r in want], out)
    res.check(f"{name}: --csv override_categories match",
              [r["override_categories"] for r in rows] ==
              [";".join(f"{c['category'] or 'unknown'}={c['count']}"
                        for c in r["override_categories"]) for r in want], out)
    rc, out, _ = report(args, config, "--json", "--since", "2999-01-01")
    later = json.loads(out) if rc == 0 else {}
    res.check(f"{name}: --since in the future: no rules, no feedback",
              later.get("rules") == [] and later.get("feedback_total") == 0, out)
    rc, out, _ = report(args, config, "--json", "--until", "2000-01-01")
    res.check(f"{name}: --until in the past: no rules", rc == 0 and json.loads(out)["rules"] == [])
    rc, _, err = report(args, config, "--since", "2025-02-30")
    res.check(f"{name}: a bad --since exits 2 and says why", rc == 2 and "--since" in err, err)
    rc, _, err = report(args, config, "--json", "--csv")
    res.check(f"{name}: --json with --csv exits 2", rc == 2, err)
    check_burden(res, name, args, config, plan, doc, rows)
    check_html(res, name, args, config, plan, doc, tmp)


def csv_sections(text):
    """--csv's tables (the rules first, then each after an empty line), by the first
    column of each header row."""
    out = {}
    for block in text.replace("\r\n", "\n").split("\n\n"):
        rows = list(csv.DictReader(io.StringIO(block)))
        head = block.split(",", 1)[0]
        out[head] = rows
    return out


def flat_thresholds(hooks):
    """hooks/rules.json's thresholds, a map's members as name.member."""
    with open(os.path.join(hooks, "rules.json"), encoding="utf-8") as f:
        th = json.load(f)["thresholds"]
    out = {}
    for k, v in th.items():
        if isinstance(v, dict):
            out.update({f"{k}.{m}": x for m, x in v.items()})
        else:
            out[k] = v
    return out


def check_in_force(res, name, got):
    hooks = os.environ["MYOCDS_HOOKS"]
    with open(os.path.join(hooks, "rules.json"), encoding="utf-8") as f:
        n_rules = len(json.load(f)["rules"])
    got = got or {}
    res.check(f"{name}: --json in_force: the rule switched off for its service",
              got.get("switched_off") == [{"service": SWITCHED_OFF[0], "rule": SWITCHED_OFF[1]}],
              str(got.get("switched_off")))
    res.check(f"{name}: --json in_force: every threshold as loaded",
              got.get("thresholds") == flat_thresholds(hooks), str(got.get("thresholds")))
    res.check(f"{name}: --json in_force: the rules loaded and the hooks",
              got.get("rules_loaded") == n_rules and got.get("hooks") == hooks, str(got)[:300])


def check_csv_sections(res, name, sections, doc):
    """--csv's services, EHRs, weeks and what was in force, as --json has them."""
    def num(v):
        return None if v == "" else float(v) if "." in v else int(v)

    keys = ("issued", "accepted", "overridden", "no_feedback", "acceptance_rate",
            "acceptance_ci_low", "acceptance_ci_high")
    res.check(f"{name}: --csv services as --json",
              [(r["service"], int(r["calls"]), int(r["cards"]), *[num(r[k]) for k in keys])
               for r in sections.get("service", [])] ==
              [(s["service"], s["calls"], s["cards"], *[s[k] for k in keys])
               for s in doc.get("services", [])], str(sections.get("service"))[:400])
    res.check(f"{name}: --csv EHRs as --json",
              [(r["iss"] or None, r["tenant"] or None, *[num(r[k]) for k in keys])
               for r in sections.get("iss", [])] ==
              [(e["iss"], e["tenant"], *[e[k] for k in keys]) for e in doc.get("ehrs", [])],
              str(sections.get("iss"))[:400])
    res.check(f"{name}: --csv weeks as --json",
              [(r["week"], r["rule"], int(r["issued"]), int(r["accepted"]), int(r["overridden"]))
               for r in sections.get("week", [])] ==
              [(w["week"], r["rule"], w["issued"], w["accepted"], w["overridden"])
               for r in doc.get("rules", []) for w in r["weeks"]], str(sections.get("week"))[:400])
    f = doc.get("in_force") or {}
    res.check(f"{name}: --csv in force as --json",
              [(r["switched_off_service"], r["rule"])
               for r in sections.get("switched_off_service", [])] ==
              [(o["service"], o["rule"]) for o in f.get("switched_off", [])] and
              {r["threshold"]: num(r["value"]) for r in sections.get("threshold", [])} ==
              f.get("thresholds"), str(sections.get("threshold"))[:300])


def check_burden(res, name, args, config, plan, doc, rows):
    """The calls counted and the cards per 100 calls in --json, --csv and the table."""
    want = plan.expected_services()
    total = plan.calls_total()
    res.check(f"{name}: --json services: the calls answered and cards given per service",
              doc.get("services") == want and doc.get("calls_total") == total,
              f"\n got {doc.get('services')} {doc.get('calls_total')}\nwant {want} {total}")
    res.check(f"{name}: the calls' cards are the cards issued",
              sum(s["cards"] for s in want) == sum(r["issued"] for r in plan.rules.values()))
    res.check(f"{name}: --json per rule cards_per_100_calls = issued * 100 / all calls",
              total > 0 and all(abs(r["cards_per_100_calls"] - 100.0 * r["issued"] / total)
                                < 1e-4 for r in doc.get("rules", [])), str(doc.get("rules")))
    res.check(f"{name}: --csv cards_per_100_calls as --json (the last column)",
              [float(r["cards_per_100_calls"]) for r in rows] ==
              [r["cards_per_100_calls"] for r in doc.get("rules", [])]
              and all(list(r)[-1] == "cards_per_100_calls" for r in rows), str(rows[:2]))
    rc, out, _ = report(args, config)
    got = re.findall(r"^(\S+) +(\d+) +(\d+) +([\d.]+)$",
                     out.split("Calls per service", 1)[-1], re.M)
    res.check(f"{name}: table: calls per service",
              [(g[0], int(g[1]), int(g[2]), round(float(g[3]), 1)) for g in got] ==
              [(s["service"], s["calls"], s["cards"], round(s["cards_per_100_calls"], 1))
               for s in want], str(got))
    rc, out, _ = report(args, config, "--json", "--since", "2999-01-01")
    later = json.loads(out) if rc == 0 else {}
    res.check(f"{name}: --since in the future: no calls",
              later.get("services") == [] and later.get("calls_total") == 0, out)


def one_backend(res, args, name, config, cases, tmp, ehrs):
    server = Serve(args.bin, config, dev=False)
    if not res.check(f"{name}: server starts", server.start(), server.log()[-2000:]):
        return
    try:
        plan = fill(res, server, cases, other_cases(args.fixtures), ehrs)
        check_metrics(res, name, server, plan)
    finally:
        rc = server.stop()
    res.check(f"{name}: SIGTERM exits 0", rc == 0, str(rc))
    check_report(res, name, args, config, plan, tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--pg-url-file")
    ap.add_argument("--screenshot", help="where Chromium's picture of the page goes")
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    res = Results()
    firing = firing_cases(args.fixtures)
    res.check("fixtures that fire cards found", len(firing) >= 5, str(len(firing)))
    with scratch("report") as tmp:
        hooks = os.path.join(tmp, "hooks")  # a copy with one rule switched off for a service
        shutil.copytree(os.environ["MYOCDS_HOOKS"], hooks)
        with open(os.path.join(hooks, "rules.json"), encoding="utf-8") as f:
            rules = json.load(f)
        rules["rules"][SWITCHED_OFF[1]]["services"] = {SWITCHED_OFF[0]: {"enabled": False}}
        with open(os.path.join(hooks, "rules.json"), "w", encoding="utf-8") as f:
            json.dump(rules, f, indent=1, ensure_ascii=False)
        os.environ["MYOCDS_HOOKS"] = hooks
        key = gen_key(os.path.join(tmp, "ec.pem"), "P-384")
        jwks = os.path.join(tmp, "jwks.json")
        with open(jwks, "w") as f:
            json.dump({"keys": [jwk_of(key, "k1", "ES384")]}, f)
        ehrs = [Ehr(key, iss, tenant) for iss, tenant in EHRS]
        # The counts sent are the counts issued: no card held back as a repeat.
        common = dict(public_base_url=BASE, log_level="warn", cards={"repeat_window_min": 0},
                      auth={"issuers": [{"iss": ISS_A, "jwks_file": jwks},
                                        {"iss": ISS_B, "jwks_file": jwks}]})
        cfg = write_config(os.path.join(tmp, "sqlite.json"), data_dir=os.path.join(tmp, "data"),
                           **common)
        one_backend(res, args, "sqlite", cfg, firing, tmp, ehrs)
        if args.pg_url_file:
            db = PgDatabase(args.pg_url_file, "report")
            try:
                cfg = write_config(os.path.join(tmp, "pg.json"),
                                   data_dir=os.path.join(tmp, "unused"),
                                   feedback={"postgres_url": db.url}, **common)
                one_backend(res, args, "postgres", cfg, firing, tmp, ehrs)
            finally:
                db.drop()
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
