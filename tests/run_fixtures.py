#!/usr/bin/python3
"""Run every CDS Hooks fixture through `myocds eval` and a live `myocds serve --dev`.

Usage:
  run_fixtures.py --bin build/myocds --fixtures fixtures/cases --schema build/fhir.schema.json
                  [--only REGEX] [--no-http] [--timeout SECONDS] [--verbose]
  run_fixtures.py --self-test [--schema build/fhir.schema.json]
  run_fixtures.py --list --fixtures fixtures/cases [--only REGEX]   (a Markdown table of the
                  cases from their own expectation files)

For each fixtures/cases/NAME.expect.json (the request is NAME.json beside it):
  (a) `BIN eval --service SERVICE NAME.json`: a 200 case must exit 0 and print {"cards": [...]};
      a 400/412 case must exit 2;
  (b) the same bytes are POSTed to /cds-services/SERVICE of one `BIN serve --dev --port 0`
      (config {"data_dir": <tempdir>}); the HTTP status must match, and a 200 must give the
      same rule set as eval.
Then every case again on one keep-alive connection, forwards and backwards: each answer
must equal (but for its uuids) the case's own.
Each 200 response is checked for the exact rule set (card.source.topic.code; no duplicates),
indicators, summary/detail/suggestion-label substrings and the CDS Hooks 2.0 card shape;
every suggestion action resource is validated against the FHIR R4 JSON schema.
Prints "ok NAME" / "FAIL NAME: reason" per case, then "N passed, M failed"; exits 1 on any
failure, 2 on a usage error (for example a missing schema).

Only the standard library and Debian's python3-jsonschema are used.
"""
import argparse
import datetime
import glob
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check_outcome, load_schema  # noqa: E402

SERVICES = ("myositis-order-sign", "myositis-order-select", "myositis-patient-view")
INDICATORS = ("info", "warning", "critical")
EXPECT_KEYS = {"description", "service", "status", "recorded_on", "fire", "indicators", "summary_contains",
               "detail_contains", "detail_excludes", "suggestion_labels_contain", "error_contains"}
SUBSTRING_KEYS = ("summary_contains", "detail_contains", "detail_excludes", "suggestion_labels_contain")
LISTEN_RE = re.compile(r"listening on http://(\[[^\]]+\]|[^\s:/]+):(\d+)")
RELATIVE_REF_RE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")


# ----------------------------------------------------------------------------- shape checks

def _nonempty_str(v):
    return isinstance(v, str) and v != ""


def empty_values(obj, path="card"):
    """Paths of every null, "", [] or {} value inside obj (obj itself included)."""
    out = []
    if obj is None or obj == "" or obj == [] or obj == {}:
        return [path]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.extend(empty_values(v, "%s.%s" % (path, k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out.extend(empty_values(v, "%s[%d]" % (path, i)))
    return out


def check_action(action, where, schema):
    errs = []
    if not isinstance(action, dict):
        return ["%s is not an object" % where]
    t = action.get("type")
    if t not in ("create", "update", "delete"):
        errs.append("%s.type %r not create/update/delete" % (where, t))
    if not _nonempty_str(action.get("description")):
        errs.append("%s.description missing" % where)
    if t in ("create", "update"):
        res = action.get("resource")
        if not isinstance(res, dict):
            errs.append("%s.resource missing for %s" % (where, t))
        elif schema is not None:
            errs.extend("%s.resource: %s" % (where, e) for e in schema.errors(res))
    if t == "delete":
        rid = action.get("resourceId")
        if not (isinstance(rid, str) and RELATIVE_REF_RE.match(rid)):
            errs.append("%s.resourceId %r is not a relative reference" % (where, rid))
    return errs


def check_card(card, i, schema):
    """CDS Hooks 2.0 shape of one card; returns a list of problems."""
    w = "card[%d]" % i
    if not isinstance(card, dict):
        return ["%s is not an object" % w]
    errs = []
    if not _nonempty_str(card.get("uuid")):
        errs.append("%s.uuid missing" % w)
    s = card.get("summary")
    if not _nonempty_str(s):
        errs.append("%s.summary missing" % w)
    elif len(s) >= 140:
        errs.append("%s.summary has %d characters (must be < 140)" % (w, len(s)))
    if card.get("indicator") not in INDICATORS:
        errs.append("%s.indicator %r not info/warning/critical" % (w, card.get("indicator")))
    if "detail" in card and not isinstance(card["detail"], str):
        errs.append("%s.detail is not a string" % w)
    src = card.get("source")
    if not isinstance(src, dict):
        errs.append("%s.source missing" % w)
    else:
        if not _nonempty_str(src.get("label")):
            errs.append("%s.source.label missing" % w)
        topic = src.get("topic")
        if not isinstance(topic, dict) or not _nonempty_str(topic.get("code")) \
                or not _nonempty_str(topic.get("system")):
            errs.append("%s.source.topic needs code and system" % w)
        for k in ("url", "icon"):
            if k in src and not (isinstance(src[k], str) and re.match(r"^https?://", src[k])):
                errs.append("%s.source.%s is not an absolute URL" % (w, k))
    sugg = card.get("suggestions")
    if sugg is not None:
        if not isinstance(sugg, list):
            errs.append("%s.suggestions is not an array" % w)
            sugg = []
        sb = card.get("selectionBehavior")
        if sugg and sb not in ("at-most-one", "any"):
            errs.append("%s.selectionBehavior %r missing/invalid while suggestions exist" % (w, sb))
        recommended = 0
        for j, sg in enumerate(sugg):
            sw = "%s.suggestions[%d]" % (w, j)
            if not isinstance(sg, dict):
                errs.append("%s is not an object" % sw)
                continue
            if not _nonempty_str(sg.get("label")):
                errs.append("%s.label missing" % sw)
            if not _nonempty_str(sg.get("uuid")):
                errs.append("%s.uuid missing" % sw)
            if "isRecommended" in sg:
                if not isinstance(sg["isRecommended"], bool):
                    errs.append("%s.isRecommended is not a boolean" % sw)
                elif sg["isRecommended"]:
                    recommended += 1
            acts = sg.get("actions")
            if not isinstance(acts, list) or not acts:
                errs.append("%s.actions missing or empty" % sw)
                continue
            for k, a in enumerate(acts):
                errs.extend(check_action(a, "%s.actions[%d]" % (sw, k), schema))
        if recommended > 1 and sb == "at-most-one":
            errs.append("%s: %d suggestions isRecommended with selectionBehavior at-most-one" % (w, recommended))
    elif "selectionBehavior" in card and card["selectionBehavior"] not in ("at-most-one", "any"):
        errs.append("%s.selectionBehavior %r invalid" % (w, card["selectionBehavior"]))
    ors = card.get("overrideReasons")
    if ors is not None:
        if not isinstance(ors, list):
            errs.append("%s.overrideReasons is not an array" % w)
        else:
            for j, c in enumerate(ors):
                if not isinstance(c, dict) or not all(_nonempty_str(c.get(k)) for k in ("system", "code", "display")):
                    errs.append("%s.overrideReasons[%d] needs system, code and display" % (w, j))
    links = card.get("links")
    if links is not None:
        if not isinstance(links, list):
            errs.append("%s.links is not an array" % w)
        else:
            for j, ln in enumerate(links):
                lw = "%s.links[%d]" % (w, j)
                if not isinstance(ln, dict):
                    errs.append("%s is not an object" % lw)
                    continue
                if not _nonempty_str(ln.get("label")) or not _nonempty_str(ln.get("url")):
                    errs.append("%s needs label and url" % lw)
                if ln.get("type") not in ("absolute", "smart"):
                    errs.append("%s.type %r not absolute/smart" % (lw, ln.get("type")))
                if "appContext" in ln and ln.get("type") != "smart":
                    errs.append("%s.appContext only allowed on smart links" % lw)
    for p in empty_values(card, w):
        errs.append("%s: null/empty value" % p)
    return errs


def check_response(obj, schema):
    """Shape of a whole 200 response. Returns (fired rule ids in order, problems)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("cards"), list):
        return [], ['response is not {"cards": [...]}']
    errs = []
    fired = []
    uuids = []
    for i, card in enumerate(obj["cards"]):
        errs.extend(check_card(card, i, schema))
        if isinstance(card, dict):
            topic = (card.get("source") or {}).get("topic") if isinstance(card.get("source"), dict) else None
            fired.append(topic.get("code") if isinstance(topic, dict) else None)
            uuids.append(card.get("uuid"))
            for sg in card.get("suggestions") or []:
                if isinstance(sg, dict):
                    uuids.append(sg.get("uuid"))
    dup = sorted({u for u in uuids if u is not None and uuids.count(u) > 1})
    if dup:
        errs.append("uuid used more than once: %s" % ", ".join(map(str, dup)))
    sa = obj.get("systemActions")
    if sa is not None:
        if not isinstance(sa, list):
            errs.append("systemActions is not an array")
        else:
            for k, a in enumerate(sa):
                errs.extend(check_action(a, "systemActions[%d]" % k, schema))
            for p in empty_values(sa, "systemActions"):
                errs.append("%s: null/empty value" % p)
    return fired, errs


def check_expectations(obj, fired, expect):
    """Rule set, indicators and texts against the .expect.json. Returns problems."""
    errs = []
    dups = sorted({f for f in fired if fired.count(f) > 1 and f is not None})
    if dups:
        errs.append("card fired more than once: %s" % ", ".join(dups))
    want = set(expect.get("fire", []))
    got = set(f for f in fired if f is not None)
    if got != want:
        missing, extra = sorted(want - got), sorted(got - want)
        parts = []
        if missing:
            parts.append("missing %s" % ",".join(missing))
        if extra:
            parts.append("unexpected %s" % ",".join(extra))
        errs.append("fired [%s], expected [%s] (%s)" % (",".join(sorted(got)), ",".join(sorted(want)),
                                                         "; ".join(parts)))
    by_rule = {}
    for card in obj.get("cards", []):
        if isinstance(card, dict) and isinstance(card.get("source"), dict) \
                and isinstance(card["source"].get("topic"), dict):
            by_rule.setdefault(card["source"]["topic"].get("code"), card)
    for rule, ind in (expect.get("indicators") or {}).items():
        c = by_rule.get(rule)
        if c is not None and c.get("indicator") != ind:
            errs.append("%s indicator %r, expected %r" % (rule, c.get("indicator"), ind))

    def texts(card, key):
        if key == "suggestion_labels_contain":
            return [s.get("label") or "" for s in card.get("suggestions") or [] if isinstance(s, dict)]
        field = "summary" if key == "summary_contains" else "detail"
        v = card.get(field)
        return [v] if isinstance(v, str) else []

    for key in SUBSTRING_KEYS:
        for rule, needles in (expect.get(key) or {}).items():
            c = by_rule.get(rule)
            if c is None:
                continue  # already reported as missing
            hay = [t.lower() for t in texts(c, key)]
            for n in needles:
                found = any(n.lower() in h for h in hay)
                if key == "detail_excludes":
                    if found:
                        errs.append("%s detail must not contain %r" % (rule, n))
                elif not found:
                    what = {"summary_contains": "summary", "detail_contains": "detail",
                            "suggestion_labels_contain": "no suggestion label"}[key]
                    if key == "suggestion_labels_contain":
                        errs.append("%s: %s contains %r (labels: %s)" % (rule, what, n, hay))
                    else:
                        errs.append("%s %s does not contain %r" % (rule, what, n))
    return errs


def lint_expect(expect, req_exists):
    """Problems in the fixture itself."""
    errs = []
    if not isinstance(expect, dict):
        return ["expect file is not an object"]
    unknown = set(expect) - EXPECT_KEYS
    if unknown:
        errs.append("unknown expect keys: %s" % ", ".join(sorted(unknown)))
    if not req_exists:
        errs.append("request file missing")
    if not _nonempty_str(expect.get("description")):
        errs.append("description missing")
    if expect.get("service") not in SERVICES:
        errs.append("service %r unknown" % expect.get("service"))
    rec = expect.get("recorded_on")
    if rec is not None:
        try:
            datetime.date.fromisoformat(rec)
        except (TypeError, ValueError):
            errs.append("recorded_on %r is not a YYYY-MM-DD date" % (rec,))
    st = expect.get("status")
    if st not in (200, 400, 412):
        errs.append("status %r not 200/400/412" % st)
    if st == 200:
        fire = expect.get("fire")
        if not isinstance(fire, list) or len(set(fire)) != len(fire) or not all(_nonempty_str(f) for f in fire):
            errs.append("fire must be a list of distinct rule ids")
            fire = []
        for key in ("indicators",) + SUBSTRING_KEYS:
            for rule, val in (expect.get(key) or {}).items():
                if rule not in fire:
                    errs.append("%s names %s, which is not in fire" % (key, rule))
                if key == "indicators" and val not in INDICATORS:
                    errs.append("indicator %r invalid" % val)
                if key != "indicators" and not (isinstance(val, list) and all(_nonempty_str(x) for x in val)):
                    errs.append("%s.%s must be a list of strings" % (key, rule))
    elif "fire" in expect:
        errs.append("error cases must not have 'fire'")
    return errs


# ----------------------------------------------------------------------------- the body

DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})((?:T.*)?)$")


def shift_dates(obj, days):
    """obj with every FHIR date or dateTime string (YYYY-MM-DD...) moved by days."""
    if isinstance(obj, dict):
        return {k: shift_dates(v, days) for k, v in obj.items()}
    if isinstance(obj, list):
        return [shift_dates(v, days) for v in obj]
    if isinstance(obj, str):
        m = DATE_RE.match(obj)
        if m:
            try:
                day = datetime.date.fromisoformat(m.group(1)) + datetime.timedelta(days=days)
            except ValueError:
                return obj
            return day.isoformat() + m.group(2)
    return obj


DATE_IN_TEXT_RE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def shift_days(expect):
    """The days since a case's recorded_on (0 without one)."""
    recorded = (expect or {}).get("recorded_on")
    if not recorded:
        return 0
    today = datetime.datetime.now(datetime.timezone.utc).date()
    return (today - datetime.date.fromisoformat(recorded)).days


def shifted_expect(expect):
    """expect with the dates its card texts name moved as request_body moves the request's:
    a case recorded yesterday still expects "since 2026-03-10" moved by one day."""
    days = shift_days(expect)
    if not days:
        return expect

    def move(text):
        def one(m):
            try:
                day = datetime.date.fromisoformat(m.group(1)) + datetime.timedelta(days=days)
            except ValueError:
                return m.group(1)
            return day.isoformat()
        return DATE_IN_TEXT_RE.sub(one, text)
    out = dict(expect)
    for key in SUBSTRING_KEYS:
        if isinstance(out.get(key), dict):
            out[key] = {rule: [move(t) if isinstance(t, str) else t for t in texts]
                        if isinstance(texts, list) else texts
                        for rule, texts in out[key].items()}
    return out


def request_body(req_path, expect):
    """The bytes to send: the file as it is, or, for a case with "recorded_on", the file
    with its dates moved by the days since then, so that a case about time ("rituximab
    given 3 months ago", "an order that ended yesterday") reads the same any day."""
    with open(req_path, "rb") as f:
        body = f.read()
    days = shift_days(expect)
    return json.dumps(shift_dates(json.loads(body), days)).encode() if days else body


# ----------------------------------------------------------------------------- the server

class Server:
    def __init__(self, binary, timeout):
        self.binary = binary
        self.timeout = timeout
        self.proc = None
        self.base = None
        self.lines = []
        self._ready = threading.Event()
        self.tmp = tempfile.TemporaryDirectory(prefix="myocds-fixtures-")
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start(self):
        cfg = os.path.join(self.tmp.name, "config.json")
        data = os.path.join(self.tmp.name, "data")
        os.makedirs(data, exist_ok=True)
        with open(cfg, "w") as f:
            # Every answer carries all its cards: fixtures that share patient and order
            # must not hold back each other's (cards.repeat_window_min, run_repeat.py).
            json.dump({"data_dir": data, "cards": {"repeat_window_min": 0}}, f)
        try:
            self.proc = subprocess.Popen([self.binary, "serve", "--dev", "--port", "0", "--config", cfg],
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, cwd=self.tmp.name)
        except OSError as e:
            return "cannot start %s serve: %s" % (self.binary, e)
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            if self._ready.wait(0.1):
                return None
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the drain thread collect the last lines
                return "server exited with %s before listening: %s" % (self.proc.returncode, self.tail())
        return "server printed no 'listening on http://ADDR:PORT' line within %ss: %s" % (self.timeout, self.tail())

    def _drain(self):
        for raw in iter(self.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if len(self.lines) > 200:
                del self.lines[:100]
            if not self._ready.is_set():
                m = LISTEN_RE.search(line)
                if m:
                    self.base = "http://%s:%s" % (m.group(1), m.group(2))
                    self._ready.set()

    def tail(self, n=5):
        return " | ".join(self.lines[-n:]) or "(no stderr)"

    def post(self, service, body):
        req = urllib.request.Request(self.base + "/cds-services/" + service, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                return resp.status, resp.headers.get("Content-Type", ""), resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", "") if e.headers else "", e.read()

    def stop(self):
        """SIGTERM, wait; returns a warning string or None."""
        msg = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=15)
                if rc != 0:
                    msg = "server exited with %d after SIGTERM (expected 0)" % rc
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                msg = "server did not stop within 15 s of SIGTERM; killed"
        self.tmp.cleanup()
        return msg


# ----------------------------------------------------------------------------- one case

def parse_json(data, what):
    try:
        return json.loads(data), None
    except (ValueError, UnicodeDecodeError) as e:
        return None, "%s is not JSON (%s): %.200r" % (what, e, data)


def run_case(name, req_path, expect, args, schema, server, server_err, answers):
    """Checks one case; its live answer goes in answers[name] for the keep-alive pass."""
    errs = []
    status = expect["status"]
    service = expect["service"]
    body = request_body(req_path, expect)

    # (a) eval
    eval_fired = None
    try:
        p = subprocess.run([args.bin, "eval", "--service", service, "-"], input=body,
                           capture_output=True, timeout=args.timeout)
        stderr = p.stderr.decode("utf-8", "replace")
        if status == 200:
            if p.returncode != 0:
                errs.append("eval exit %d (expected 0): %s" % (p.returncode, stderr.strip()[-300:]))
            else:
                obj, perr = parse_json(p.stdout, "eval stdout")
                if perr:
                    errs.append(perr)
                else:
                    fired, shape = check_response(obj, schema)
                    errs.extend("eval: " + e for e in shape + check_expectations(obj, fired, expect))
                    eval_fired = sorted(f for f in fired if f is not None)
                    if args.verbose and errs:
                        print("  eval response: %s" % json.dumps(obj)[:4000])
        else:
            if p.returncode != 2:
                errs.append("eval exit %d (expected 2 for a %d case)" % (p.returncode, status))
            ec = expect.get("error_contains")
            if ec and ec.lower() not in stderr.lower():
                errs.append("eval stderr does not mention %r: %s" % (ec, stderr.strip()[-300:]))
    except subprocess.TimeoutExpired:
        errs.append("eval timed out after %ss" % args.timeout)
    except OSError as e:
        errs.append("cannot run %s: %s" % (args.bin, e))

    # (b) HTTP
    if args.no_http:
        return errs
    if server_err:
        errs.append("http: " + server_err)
        return errs
    try:
        code, ctype, data = server.post(service, body)
    except Exception as e:  # noqa: BLE001 - any transport failure is a test failure
        errs.append("http: POST failed: %s" % e)
        return errs
    if code != status:
        errs.append("http status %d (expected %d): %.300s" % (code, status, data.decode("utf-8", "replace")))
        return errs
    if not ctype.lower().startswith("application/json"):
        errs.append("http Content-Type %r is not application/json" % ctype)
    obj, perr = parse_json(data, "http body")
    if perr:
        errs.append(perr)
        return errs
    answers[name] = (code, without_uuids(obj), service, body)
    if status == 200:
        fired, shape = check_response(obj, schema)
        errs.extend("http: " + e for e in shape + check_expectations(obj, fired, expect))
        http_fired = sorted(f for f in fired if f is not None)
        if eval_fired is not None and http_fired != eval_fired:
            errs.append("eval fired [%s] but http fired [%s]" % (",".join(eval_fired), ",".join(http_fired)))
        if args.verbose and errs:
            print("  http response: %s" % json.dumps(obj)[:4000])
    else:
        bad = check_outcome(obj, status)
        if bad:
            errs.append("http error body: %s" % bad)
        else:
            ec = expect.get("error_contains")
            said = obj["issue"][0]["diagnostics"]
            if ec and ec.lower() not in said.lower():
                errs.append("http error %r does not mention %r" % (said, ec))
    return errs


def without_uuids(obj):
    """obj without its "uuid" members (fresh in every answer), for comparing answers."""
    if isinstance(obj, dict):
        return {k: without_uuids(v) for k, v in obj.items() if k != "uuid"}
    if isinstance(obj, list):
        return [without_uuids(v) for v in obj]
    return obj


def keep_alive_pass(server, cases, answers, timeout):
    """Every case again on ONE keep-alive connection, forwards then backwards, so answers
    of every size follow each other on it: each must equal the case's own answer (the
    server keeps a connection's buffers between its requests). Returns the errors."""
    errs = []
    host, port = server.base[len("http://"):].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    order = [c for c in cases if c[0] in answers]
    try:
        for name, _, _ in order + order[::-1]:
            body = answers[name][3]
            conn.request("POST", "/cds-services/" + answers[name][2], body=body,
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = resp.read()
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
            obj, perr = parse_json(data, "keep-alive answer of " + name)
            if perr or (resp.status, without_uuids(obj)) != answers[name][:2]:
                errs.append("%s: answer on a kept-alive connection differs (status %d): %.200s"
                            % (name, resp.status, data.decode("utf-8", "replace")))
    except (OSError, http.client.HTTPException) as e:
        errs.append("keep-alive connection failed: %r" % e)
    finally:
        conn.close()
    return errs


def load_cases(directory, only):
    cases = []
    for exp_path in sorted(glob.glob(os.path.join(directory, "*.expect.json"))):
        name = os.path.basename(exp_path)[:-len(".expect.json")]
        if only and not re.search(only, name):
            continue
        cases.append((name, os.path.join(directory, name + ".json"), exp_path))
    return cases


def list_cases(directory, only):
    """The cases of directory as a Markdown table, from their own expectation files."""
    if not directory or not os.path.isdir(directory):
        print("error: --fixtures %r is not a directory" % directory, file=sys.stderr)
        return 2
    print("| case | service | answer | what it proves |\n|---|---|---|---|")
    for name, _, exp_path in load_cases(directory, only):
        with open(exp_path, encoding="utf-8") as f:
            expect = json.load(f)
        if expect.get("status") == 200:
            marks = expect.get("indicators") or {}
            answer = ", ".join("%s (%s)" % (r, marks[r]) if r in marks else r
                               for r in sorted(expect.get("fire") or [])) or "no card"
        else:
            answer = "HTTP %s / eval exit 2" % expect.get("status")
        service = str(expect.get("service", "")).replace("myositis-", "")
        print("| `%s` | %s | %s | %s |" % (name, service, answer,
                                          str(expect.get("description", "")).replace("|", "\\|")))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run myocds CDS Hooks fixtures (eval + HTTP).")
    ap.add_argument("--bin", help="path to the myocds executable")
    ap.add_argument("--fixtures", help="directory of NAME.json + NAME.expect.json")
    ap.add_argument("--schema", help="path to the FHIR R4 fhir.schema.json (make schema)")
    ap.add_argument("--only", help="run only cases whose name matches this regex")
    ap.add_argument("--no-http", action="store_true", help="skip the live-server half")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per eval / request / server start")
    ap.add_argument("--verbose", action="store_true", help="print the response of failing cases")
    ap.add_argument("--self-test", action="store_true", help="check the runner's own shape checks and exit")
    ap.add_argument("--list", action="store_true",
                    help="print the cases (service, answer, description) as a Markdown table and exit")
    args = ap.parse_args(argv)
    if args.list:
        return list_cases(args.fixtures, args.only)

    schema = None
    if args.schema:
        if not os.path.isfile(args.schema):
            print("error: FHIR R4 schema not found: %s (run `make schema`, which writes build/fhir.schema.json)"
                  % args.schema, file=sys.stderr)
            return 2
        try:
            schema = load_schema(args.schema)
        except ImportError:
            print("error: python jsonschema is missing (apt-get install python3-jsonschema)", file=sys.stderr)
            return 2
        except (OSError, ValueError) as e:
            print("error: cannot load FHIR schema %s: %s" % (args.schema, e), file=sys.stderr)
            return 2

    if args.self_test:
        return self_test(schema)

    if not args.schema:
        print("error: --schema PATH_TO_fhir.schema.json is required (run `make schema`)", file=sys.stderr)
        return 2
    if not args.bin or not os.access(args.bin, os.X_OK):
        print("error: --bin %r is not an executable myocds" % args.bin, file=sys.stderr)
        return 2
    if not args.fixtures or not os.path.isdir(args.fixtures):
        print("error: --fixtures %r is not a directory" % args.fixtures, file=sys.stderr)
        return 2
    args.bin = os.path.abspath(args.bin)
    cases = load_cases(os.path.abspath(args.fixtures), args.only)
    if not cases:
        print("error: no *.expect.json in %s" % args.fixtures, file=sys.stderr)
        return 2

    server, server_err = None, None
    if not args.no_http:
        server = Server(args.bin, args.timeout)
        server_err = server.start()

    passed = failed = 0
    seen_instances = {}
    answers = {}
    try:
        for name, req_path, exp_path in cases:
            errs = []
            try:
                with open(exp_path, encoding="utf-8") as f:
                    expect = json.load(f)
            except (OSError, ValueError) as e:
                expect, errs = None, ["cannot read %s: %s" % (os.path.basename(exp_path), e)]
            if expect is not None:
                errs = lint_expect(expect, os.path.isfile(req_path))
                if not errs:
                    expect = shifted_expect(expect)
            if not errs:
                try:
                    with open(req_path, encoding="utf-8") as f:
                        req = json.load(f)
                    hi = req.get("hookInstance") if isinstance(req, dict) else None
                    if hi is not None:
                        if hi in seen_instances:
                            errs.append("hookInstance %s also used by %s" % (hi, seen_instances[hi]))
                        seen_instances[hi] = name
                except (OSError, ValueError) as e:
                    errs.append("request is not JSON: %s" % e)
            if not errs:
                errs = run_case(name, req_path, expect, args, schema, server, server_err, answers)
            if errs:
                failed += 1
                print("FAIL %s: %s" % (name, "; ".join(errs)))
            else:
                passed += 1
                print("ok %s" % name)
            sys.stdout.flush()
        if server is not None and not server_err and answers:
            errs = keep_alive_pass(server, cases, answers, args.timeout)
            for e in errs:
                print("FAIL keep-alive %s" % e)
            if errs:
                failed += 1
            else:
                passed += 1
                print("ok keep-alive: %d answers in turn on one connection" % (2 * len(answers)))
    finally:
        if server is not None:
            warn = server.stop()
            if warn:
                print("warning: %s" % warn)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


# ----------------------------------------------------------------------------- self-test

def _good_response():
    return {"cards": [
        {
            "uuid": "5d3c1a4e-8f7b-4c2a-9e1d-2b6f0a9c7e33",
            "summary": "Myositis: prednisone 60 mg/day with no steroid-sparing agent",
            "detail": "Monotherapy fails in 86% of patients.",
            "indicator": "warning",
            "source": {"label": "Myositis guidance",
                       "topic": {"system": "urn:myocds:rule", "code": "steroid-monotherapy"}},
            "selectionBehavior": "at-most-one",
            "suggestions": [{
                "label": "Add methotrexate 15 mg weekly + folic acid 1 mg daily",
                "uuid": "a7e0c2d9-3b41-4f5e-8c6a-1d2e3f4a5b6c",
                "actions": [{
                    "type": "create",
                    "description": "Order methotrexate 15 mg by mouth once weekly",
                    "resource": {
                        "resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
                        "medicationCodeableConcept": {"coding": [{
                            "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6851",
                            "display": "methotrexate"}]},
                        "subject": {"reference": "Patient/pat-1"}}}]}],
            "overrideReasons": [{"system": "urn:myocds:override-reason", "code": "contraindicated",
                                 "display": "Contraindicated"}],
            "links": [{"label": "Guidance", "url": "https://example.org/g", "type": "absolute"}],
        },
        {
            "uuid": "0c1d2e3f-0000-4000-8000-000000000001",
            "summary": "Pneumocystis prophylaxis missing",
            "indicator": "warning",
            "source": {"label": "Myositis guidance",
                       "topic": {"system": "urn:myocds:rule", "code": "pjp-prophylaxis"}},
        },
    ]}


def self_test(schema):
    """Feeds hand-made responses to the checks: the good one must pass, each broken one must fail."""
    import copy
    results = []

    def expect_ok(label, obj, expect):
        fired, errs = check_response(obj, schema)
        errs += check_expectations(obj, fired, expect)
        results.append((label, not errs, "; ".join(errs)))

    def expect_fail(label, mutate, needle, expect=None):
        obj = _good_response()
        mutate(obj)
        fired, errs = check_response(obj, schema)
        errs += check_expectations(obj, fired, expect or {"fire": ["steroid-monotherapy", "pjp-prophylaxis"]})
        hit = any(needle in e for e in errs)
        results.append((label, hit, "expected an error containing %r, got %s" % (needle, errs)))

    base_expect = {"fire": ["steroid-monotherapy", "pjp-prophylaxis"],
                   "indicators": {"steroid-monotherapy": "warning"},
                   "summary_contains": {"steroid-monotherapy": ["PREDNISONE"]},
                   "detail_contains": {"steroid-monotherapy": ["86%"]},
                   "detail_excludes": {"steroid-monotherapy": ["taper"]},
                   "suggestion_labels_contain": {"steroid-monotherapy": ["methotrexate"]}}
    expect_ok("good-response", _good_response(), base_expect)
    expect_ok("empty-cards", {"cards": []}, {"fire": []})

    c0 = lambda o: o["cards"][0]  # noqa: E731
    expect_fail("summary-140", lambda o: c0(o).update(summary="x" * 140), "140")
    expect_fail("indicator-hard-stop", lambda o: c0(o).update(indicator="hard-stop"), "indicator")
    expect_fail("no-selectionBehavior", lambda o: c0(o).pop("selectionBehavior"), "selectionBehavior")
    expect_fail("override-no-display", lambda o: c0(o)["overrideReasons"][0].pop("display"), "overrideReasons")
    expect_fail("appContext-on-absolute", lambda o: c0(o)["links"][0].update(appContext="{}"), "appContext")
    expect_fail("delete-no-resourceId",
                lambda o: c0(o)["suggestions"][0]["actions"].__setitem__(0, {"type": "delete", "description": "x"}),
                "resourceId")
    expect_fail("actions-empty", lambda o: c0(o)["suggestions"][0].update(actions=[]), "actions")
    expect_fail("suggestion-no-uuid", lambda o: c0(o)["suggestions"][0].pop("uuid"), "uuid")
    expect_fail("card-no-uuid", lambda o: c0(o).pop("uuid"), "uuid")
    expect_fail("no-topic-code", lambda o: c0(o)["source"]["topic"].pop("code"), "topic")
    expect_fail("no-source-label", lambda o: c0(o)["source"].pop("label"), "label")
    expect_fail("null-value", lambda o: c0(o).update(detail=None), "null/empty")
    expect_fail("empty-string", lambda o: c0(o)["source"].update(url=""), "null/empty")
    expect_fail("empty-object", lambda o: c0(o)["suggestions"][0]["actions"][0]["resource"].update(meta={}),
                "null/empty")
    expect_fail("create-no-resource",
                lambda o: c0(o)["suggestions"][0]["actions"][0].pop("resource"), "resource missing")
    expect_fail("bad-action-type",
                lambda o: c0(o)["suggestions"][0]["actions"][0].update(type="replace"), "type")
    expect_fail("duplicate-card", lambda o: o["cards"].append(copy.deepcopy(o["cards"][1])), "more than once")
    expect_fail("duplicate-uuid", lambda o: o["cards"][1].update(uuid=c0(o)["uuid"]), "uuid used more than once")
    expect_fail("missing-rule", lambda o: o["cards"].pop(1), "missing pjp-prophylaxis")
    expect_fail("extra-rule", lambda o: o["cards"][1]["source"]["topic"].update(code="ibm-steroid"),
                "unexpected ibm-steroid")
    expect_fail("wrong-indicator", lambda o: c0(o).update(indicator="critical"), "indicator 'critical'",
                base_expect)
    expect_fail("summary-text", lambda o: c0(o).update(summary="Myositis: glucocorticoid alone"),
                "summary does not contain", base_expect)
    expect_fail("detail-excluded", lambda o: c0(o).update(detail="86%: taper over 4-8 weeks"),
                "must not contain", base_expect)
    expect_fail("label-text", lambda o: c0(o)["suggestions"][0].update(label="Add azathioprine"),
                "suggestion label", base_expect)
    expect_fail("not-cards", lambda o: o.pop("cards"), "cards")
    if schema is not None:
        expect_fail("fhir-invalid-resource",
                    lambda o: c0(o)["suggestions"][0]["actions"][0]["resource"].update(bogus=1), "MedicationRequest")
        expect_fail("fhir-missing-subject",
                    lambda o: c0(o)["suggestions"][0]["actions"][0]["resource"].pop("subject"), "subject")
        expect_fail("fhir-unknown-type",
                    lambda o: c0(o)["suggestions"][0]["actions"][0]["resource"].update(resourceType="Nope"),
                    "unknown resourceType")
        sr = {"resourceType": "ServiceRequest", "status": "draft", "intent": "order",
              "code": {"coding": [{"system": "http://loinc.org", "code": "2458-8"}]},
              "subject": {"reference": "Patient/pat-1"}}
        results.append(("fhir-valid-servicerequest", not schema.errors(sr), str(schema.errors(sr))))
    else:
        print("note: no --schema given; FHIR resource validation not self-tested")
    # expectation lint
    results.append(("lint-good", not lint_expect({"description": "d", "service": "myositis-order-sign",
                                                   "status": 200, "fire": []}, True), ""))
    results.append(("lint-bad", bool(lint_expect({"description": "d", "service": "nope", "status": 200,
                                                   "fire": ["a", "a"], "indicators": {"b": "x"}}, True)), ""))
    passed = sum(1 for _, ok, _ in results if ok)
    for label, ok, why in results:
        print(("ok selftest-%s" % label) if ok else ("FAIL selftest-%s: %s" % (label, why)))
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
