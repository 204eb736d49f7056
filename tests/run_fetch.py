#!/usr/bin/python3
"""run_fetch.py - fetching what the prefetch left out, against real FHIR test servers.

For every 200 fixture case, through `myocds eval --fetch --config CFG` and a live
`myocds serve --dev`, the same request is evaluated with
  (a) its full prefetch,
  (b) every prefetch key removed, fhirServer pointing at tests/fhir_server.py (which
      serves the same resources by search URL) and a fhirAuthorization token,
  (c) every prefetch key replaced by an OperationOutcome (the EHR's own fetch failed),
and (a), (b), (c) must give the fixture's exact rule-id set; (b) again with Bundles paged
one entry per page. Then the safety and failure cases: a null key is not fetched; a
fhirServer outside fhir.allowed_servers is never contacted (412); a wrong token gives
412, a failing server 503; an answer past the deadline is not waited for and gives no
wrong card; an answer over the size cap is cut; a next link to another host is not
followed (the token never goes there);
HTTPS with the configured CA works, an untrusted certificate gets no request (503).
Searchsets as real servers write them, on two cases built from a fixture (prednisone
ordered, methotrexate active in the record): a prefetched first page with a next link is
completed from the server (the methotrexate on page 2 silences steroid-monotherapy), and
counts as missing when it cannot be (no fetch, expired or no token, a next link outside
the fhirServer); a searchset with an error OperationOutcome entry is fetched again, one
with only Epic's 4101 warning is data. Medications: one the request points at but does
not hold is read with the token (relative, or absolute under the fhirServer), never
without one nor outside the fhirServer, and comes _include'd in a fetched searchset.
The token's scope (SMART App Launch v1 and v2): the same cards from .rs, .read, .r + .s,
wildcards and the user/ and system/ contexts; a scope without Observation (or with only a
restricted one) gets no Observation request to the server and the rules needing
observations stay silent, the others fire; Condition with .r but no s gets no Condition
search and, no rule able to run, 412; a Medication the scope does not let be read is not.
Last, the figure: five missing keys from a server that answers each after 300 ms.

Standard library only. Usage:
    run_fetch.py --bin build/myocds --fixtures fixtures/cases [--services hooks/services]
Prints one line per check and, last, exactly "N passed, M failed"; exits 1 on failure.
"""
import argparse
import concurrent.futures
import copy
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (FHIR_TOKEN as TOKEN, JSON_CT, FhirServer, Results, Serve,  # noqa: E402
                     cases, check_outcome, dead_proxy_env, diagnostics,
                     fhir_authorization as auth, load_schema, rule_ids, scratch, self_signed,
                     without_prefetch)

HERE = os.path.dirname(os.path.abspath(__file__))
PERF_DELAY_MS = 300
PERF_LIMIT_MS = 600
DEADLINE_MS = 400      # the short-deadline server's fhir.deadline_ms
LOG_WAIT_TRIES, LOG_WAIT_S = 50, 0.1  # how long a check waits for a log line
FUNCTIONAL_DEADLINE_MS = 20000  # everything else: slowness under load is not the subject
DEADLINE_SLACK_MS = 400
PERF_CASE = "order-sign-pm-pred60-alone"
PERF_KEYS = ("patient", "conditions", "medications", "observations", "allergies")
NULL_CASE = "order-sign-pm-medications-null"
PAGED_CASE = "patient-view-pm-well-managed"  # six medications: pages when paged by one
JOBS = 3
# The searchset and Medication checks: prednisone 60 ordered, methotrexate and folic acid
# active in the record (pjp-prophylaxis; steroid-monotherapy only without the methotrexate).
MTX_CASE = "order-sign-pm-pred60-mtx-active-record"
MTX_PAGED, MTX_REF = "mtx-paged", "mtx-ref"  # the cases written for the extra server
MTX_ID = "mr-mtx"
SERVER_ONLY = "server-only"  # a prefetch key of a case that only the FHIR test server reads
# The scope checks: four rules fire, two of them (OBS_RULES) need the observations.
SCOPE_CASE = "order-sign-jdm-pred60-wt28-above-2-mg-kg"
OBS_RULES = {"bone-protection", "steroid-dose-range"}
PREFETCH_TYPES = ("Patient", "Condition", "MedicationRequest", "Observation",
                  "AllergyIntolerance", "Procedure", "ServiceRequest")
OUTCOME_4101 = {"resourceType": "OperationOutcome", "issue": [{
    "severity": "warning", "code": "processing", "details": {"coding": [{
        "system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369", "code": "4101",
        "display": "Resource request returns no results."}]}}]}


def serve(binary, config):
    """A started `myocds serve --dev`; proxy variables point at a closed port: the FHIR
    reads must not use them."""
    srv = Serve(binary, config, env=dead_proxy_env(), timeout=30)
    if not srv.start(wait=30):
        raise RuntimeError("myocds serve did not start: " + " | ".join(srv.lines[-5:]))
    return srv


# Every error answer post received that is not the OperationOutcome its status earns.
BAD_OUTCOMES = []


def post(srv, service, body):
    """(status, sorted rule ids or None, elapsed ms, error text); an error answer's body is
    checked (BAD_OUTCOMES)."""
    data = json.dumps(body).encode()
    t0 = time.monotonic()
    status, _, raw = srv.exchange("POST", "/cds-services/" + service, data, JSON_CT)
    ms = (time.monotonic() - t0) * 1000
    if status == 200:
        return status, rule_ids(json.loads(raw)), ms, ""
    bad = check_outcome(raw, status)
    if bad:
        BAD_OUTCOMES.append(f"{service} {status}: {bad}")
    return status, None, ms, diagnostics(raw)


def run_eval(binary, config, service, body, fetch=True):
    """(HTTP-like status, sorted rule ids or None, stderr): exit 0 -> 200."""
    p = subprocess.run([binary, "eval", "--service", service] + (["--fetch"] if fetch else []) +
                       ["--config", config, "-"],
                       input=json.dumps(body).encode(), capture_output=True, timeout=60)
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode == 0:
        return 200, rule_ids(json.loads(p.stdout)), err
    m = re.search(r"\(HTTP (\d+)\)", err)
    return int(m.group(1)) if m else -p.returncode, None, err


def with_outcomes(request, base, case):
    r = without_prefetch(request, base, case)
    r["prefetch"] = {k: {"resourceType": "OperationOutcome",
                         "issue": [{"severity": "error", "code": "timeout"}]}
                     for k in request.get("prefetch", {})}
    return r


def load_cases(fixtures):
    """(name, expect, request) of every case answered 200."""
    out = []
    for case, expect, path in cases(fixtures):
        if expect.get("status") == 200:
            with open(path) as f:
                out.append((case, expect, json.load(f)))
    return out


def write_config(tmp, name, servers, **fhir):
    path = os.path.join(tmp, name + ".json")
    data = os.path.join(tmp, name + "-data")
    with open(path, "w") as f:
        json.dump({"data_dir": data, "fhir": dict(allowed_servers=servers, **fhir),
                   "cards": {"repeat_window_min": 0}}, f)
    return path


def fixture_checks(ctx, case, expect, request):
    """(a), (b), (c) through eval and serve, and (b) paged: one result line per case."""
    want = sorted(expect["fire"])
    svc = expect["service"]
    base, paged = ctx["main"].base, ctx["paged"].base
    variants = {"a": request, "b": without_prefetch(request, base, case),
                "c": with_outcomes(request, base, case)}
    bad = []
    for v, body in variants.items():
        st, ids, err = run_eval(ctx["bin"], ctx["config"], svc, body)
        if st != 200 or ids != want:
            bad.append(f"eval ({v}): {st} {ids} {err.strip()[-200:]}")
        st, ids, _, err = post(ctx["serve"], svc, body)
        if st != 200 or ids != want:
            bad.append(f"serve ({v}): {st} {ids} {err}")
    st, ids, _, err = post(ctx["serve"], svc, without_prefetch(request, paged, case))
    if st != 200 or ids != want:
        bad.append(f"serve (b, paged): {st} {ids} {err}")
    return case, want, bad


def check_fixtures(res, ctx, cases):
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        for case, want, bad in pool.map(lambda c: fixture_checks(ctx, *c), cases):
            res.check(f"{case}: full = removed = OperationOutcome = {want or 'none'} "
                      "(eval and serve, paged too)", not bad, "; ".join(bad))
    pages = ctx["paged"].stats()
    followed = sum(1 for p in pages["paths"] if p.endswith("/_page"))
    res.check(f"paging: {followed} next links followed", followed > 0,
              f"{pages['requests']} requests")


def check_null_key(res, ctx, by_name):
    case, expect, request = by_name[NULL_CASE]
    body = copy.deepcopy(request)
    body["fhirServer"] = f"{ctx['main'].base}/{case}"
    body["fhirAuthorization"] = auth()
    nulls = [k for k, v in request["prefetch"].items() if v is None]
    types = {ctx["templates"][k].split("?")[0].split("/")[0] for k in nulls}
    before = len(ctx["main"].stats()["paths"])
    st, ids, err = run_eval(ctx["bin"], ctx["config"], expect["service"], body)
    st2, ids2, _, _ = post(ctx["serve"], expect["service"], body)
    fetched = {p.split("/")[3] for p in ctx["main"].stats()["paths"][before:]}
    res.check(f"null prefetch keys ({', '.join(nulls)}) mean no data: not fetched, same cards",
              nulls and st == st2 == 200 and ids == ids2 == sorted(expect["fire"])
              and not types & fetched,
              f"{st}/{st2} {ids}/{ids2} fetched {sorted(fetched)} {err.strip()[-200:]}")


def check_not_allowed(res, ctx, by_name):
    case, expect, request = by_name[PERF_CASE]
    svc = expect["service"]
    outsider = ctx["outsider"]
    main_port = ctx["main"].port
    targets = [("a server not listed", outsider.base, outsider),
               ("a path next to the listed one", f"http://127.0.0.1:{main_port}/fhirevil",
                ctx["main"]),
               ("https instead of the listed http", f"https://127.0.0.1:{main_port}/fhir",
                ctx["main"]),
               ("a host name for the listed address", f"http://localhost:{main_port}/fhir",
                ctx["main"])]
    for what, base, counted in targets:
        before = counted.stats()
        body = without_prefetch(request, base, case)
        st, _, err = run_eval(ctx["bin"], ctx["config"], svc, body)
        st2, _, _, err2 = post(ctx["serve"], svc, body)
        after = counted.stats()
        untouched = (after["connections"], after["requests"]) == \
            (before["connections"], before["requests"])
        res.check(f"fhirServer on {what}: 412 and never contacted", st == st2 == 412 and untouched,
                  f"eval {st} serve {st2} ({err2}); connections {before['connections']}->"
                  f"{after['connections']} requests {before['requests']}->{after['requests']}")


def check_failures(res, ctx, by_name):
    case, expect, request = by_name[PERF_CASE]
    svc = expect["service"]
    body = without_prefetch(request, ctx["main"].base, case)
    body["fhirAuthorization"]["access_token"] = "wrong-token"
    st, _, err = run_eval(ctx["bin"], ctx["config"], svc, body)
    st2, _, _, err2 = post(ctx["serve"], svc, body)
    res.check("wrong token (401 from the FHIR server): 412", st == st2 == 412,
              f"eval {st} serve {st2} {err2}")
    body = without_prefetch(request, ctx["failing"].base, case)
    st, _, err = run_eval(ctx["bin"], ctx["config"], svc, body)
    st2, _, _, err2 = post(ctx["serve"], svc, body)
    res.check("FHIR server answers 500: 503", st == st2 == 503, f"eval {st} serve {st2} {err2}")
    body = without_prefetch(request, ctx["main"].base, case)
    body["fhirAuthorization"]["expires_in"] = 0
    before = ctx["main"].stats()["requests"]
    st2, _, _, err2 = post(ctx["serve"], svc, body)
    res.check("expired token: 412, not used", st2 == 412 and
              ctx["main"].stats()["requests"] == before, f"serve {st2} {err2}")


def check_deadline(res, ctx, by_name):
    case, expect, request = by_name[PERF_CASE]
    svc = expect["service"]
    limit = DEADLINE_MS + DEADLINE_SLACK_MS
    body = without_prefetch(request, ctx["slow_allergies"].base, case)
    st, ids, ms, err = post(ctx["serve_short"], svc, body)
    res.check(f"allergies answered after the {DEADLINE_MS} ms deadline: answered in {ms:.0f} ms "
              f"(< {limit}), both cards (pjp-prophylaxis warns without the allergy list)",
              st == 200 and sorted(ids) == ["pjp-prophylaxis", "steroid-monotherapy"]
              and ms < limit, f"{st} {ids} {ms:.0f} ms {err}")
    body = without_prefetch(request, ctx["slow_all"].base, case)
    st, ids, ms, err = post(ctx["serve_short"], svc, body)
    res.check(f"every key past the deadline: 503 in {ms:.0f} ms (< {limit})",
              st == 503 and ms < limit, f"{st} {ids} {ms:.0f} ms {err}")


def check_oversize(res, ctx, by_name):
    case, expect, request = by_name[PERF_CASE]
    body = without_prefetch(request, ctx["huge"].base, case)
    st, ids, ms, err = post(ctx["serve"], expect["service"], body)
    logged = []
    for _ in range(LOG_WAIT_TRIES):  # the log line may land just after the answer
        logged = [l for l in list(ctx["serve"].lines)
                  if "over the size cap" in l and "allergies" in l]
        if logged:
            break
        time.sleep(LOG_WAIT_S)
    res.check("allergies answered with 9 MiB (chunked): cut at the cap, logged, both cards "
              "(pjp-prophylaxis without the allergy list)",
              st == 200 and sorted(ids) == ["pjp-prophylaxis", "steroid-monotherapy"]
              and logged, f"{st} {ids} {err} logged={len(logged)}")


def check_foreign_next_link(res, ctx, by_name):
    case, expect, request = by_name[PAGED_CASE]
    body = without_prefetch(request, ctx["redirecting"].base, case)
    st, ids, _, err = post(ctx["serve"], expect["service"], body)
    foreign = ctx["outsider2"].stats()
    offered = ctx["redirecting"].stats()["next_links"]
    wrong = ids is not None and not set(ids) <= set(expect["fire"])
    res.check(f"{offered} next links to another host not followed: the token never goes there",
              offered > 0 and foreign["connections"] == 0 and not wrong and st in (200, 412),
              f"{st} {ids} {err}; foreign server {foreign}")


def mtx_entry(bundle):
    return next(e for e in bundle["entry"] if e["resource"].get("id") == MTX_ID)


def write_mtx_cases(tmp, by_name, templates):
    """A fixtures folder for the extra server: MTX_CASE with every key present (none to
    fetch unless a check removes it) and the methotrexate last (page 2 when paged by one);
    and the same with the methotrexate pointing at Medication/x (no display), which only
    the server's copy holds (under SERVER_ONLY: read by id, or _include'd in a search).
    Returns (folder, {case: request})."""
    _, expect, request = by_name[MTX_CASE]
    paged = copy.deepcopy(request)
    for k in templates:
        paged["prefetch"].setdefault(k, {"resourceType": "Bundle", "type": "searchset"})
    meds = paged["prefetch"]["medications"]
    mtx = mtx_entry(meds)
    meds["entry"] = [e for e in meds["entry"] if e is not mtx] + [mtx]
    ref = copy.deepcopy(paged)
    mr = mtx_entry(ref["prefetch"]["medications"])["resource"]
    code = mr.pop("medicationCodeableConcept")
    mr["medicationReference"] = {"reference": "Medication/x"}
    ref["prefetch"][SERVER_ONLY] = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {"resourceType": "Medication", "id": "x", "code": code}}]}
    folder = os.path.join(tmp, "mtx-cases")
    os.mkdir(folder)
    cases = {MTX_PAGED: paged, MTX_REF: ref}
    for name, body in cases.items():
        with open(os.path.join(folder, name + ".json"), "w") as f:
            json.dump(body, f)
        with open(os.path.join(folder, name + ".expect.json"), "w") as f:
            json.dump({"service": expect["service"], "status": 200, "fire": []}, f)
    return folder, cases


def fhir_get(server, path):
    """GET base/path from a test FHIR server with the token: the parsed answer."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        c.request("GET", "/fhir/" + path, headers={"Authorization": "Bearer " + TOKEN,
                                                   "Accept": "application/fhir+json"})
        r = c.getresponse()
        return json.loads(r.read())
    finally:
        c.close()


def mtx_body(request, base, case, meds=None, token=True, scope=None):
    """request aimed at base/case (with the token unless told, and scope when given),
    medications replaced."""
    b = copy.deepcopy(request)
    b["fhirServer"] = f"{base}/{case}"
    if token:
        b["fhirAuthorization"] = auth()
        if scope is not None:
            b["fhirAuthorization"]["scope"] = scope
    if meds is not None:
        b["prefetch"]["medications"] = meds
    return b


def paths_since(server, before, suffix):
    return [p for p in server.stats()["paths"][before:] if p.endswith(suffix)]


def both(ctx, svc, body):
    """(eval --fetch ids, serve ids, detail): None for an answer other than 200."""
    st, ids, err = run_eval(ctx["bin"], ctx["config"], svc, body)
    st2, ids2, _, err2 = post(ctx["serve"], svc, body)
    return (ids if st == 200 else None), (ids2 if st2 == 200 else None), \
        f"eval {st} {ids} {err.strip()[-200:]}; serve {st2} {ids2} {err2}"


def silent_on_meds(ids):
    """Medications missing: an answer without either rule that needs them."""
    return ids is not None and "steroid-monotherapy" not in ids and "pjp-prophylaxis" not in ids


def check_next_pages(res, ctx, svc, want):
    """(a) a prefetched first page with a next link is completed from the server; (b)
    without a fetch it counts as missing; (c) a next link elsewhere is not followed."""
    extra, request = ctx["extra"], ctx["mtx"][MTX_PAGED]
    pid = request["context"]["patientId"]
    page1 = fhir_get(extra, f"{MTX_PAGED}/" +
                     ctx["templates"]["medications"].replace("{{context.patientId}}", pid))
    next_url = next((l["url"] for l in page1.get("link", []) if l["relation"] == "next"), "")
    res.check("the test server's first medications page has a next link, no methotrexate",
              next_url.startswith(extra.base) and
              all(e["resource"].get("id") != MTX_ID for e in page1.get("entry", [])), page1)
    body = mtx_body(request, extra.base, MTX_PAGED, page1)
    before = len(extra.stats()["paths"])
    ev, sv, detail = both(ctx, svc, body)
    pages = paths_since(extra, before, "/_page")
    res.check(f"(a) a prefetched searchset with a next link: the rest fetched ({len(pages)} "
              f"pages), the same cards as the whole list ({want})",
              ev == sv == want and len(pages) >= 2, detail)
    before = len(extra.stats()["paths"])
    st, ids, err = run_eval(ctx["bin"], ctx["config"], svc, body, fetch=False)
    expired = mtx_body(request, extra.base, MTX_PAGED, page1)
    expired["fhirAuthorization"]["expires_in"] = 0
    st2, ids2, _, err2 = post(ctx["serve"], svc, expired)
    untouched = len(extra.stats()["paths"]) == before
    st3, ids3, _, err3 = post(ctx["serve"], svc, mtx_body(request, extra.base, MTX_PAGED, page1,
                                                          token=False))
    res.check("(b) the same without a fetch (eval without --fetch, an expired token: no "
              "request; no token: 401): medications missing, steroid-monotherapy silent",
              st == st2 == st3 == 200 and silent_on_meds(ids) and silent_on_meds(ids2) and
              silent_on_meds(ids3) and untouched,
              f"{st} {ids} {err.strip()[-200:]}; {st2} {ids2} {err2}; {st3} {ids3} {err3}")
    foreign = ctx["outsider2"]
    for what, url in (("another server", next_url.replace(extra.base, foreign.base)),
                      ("a path next to the fhirServer",
                       next_url.replace(extra.base, extra.base + "evil")),
                      ("a relative URL", next_url[len(extra.base) + 1:])):
        p1 = copy.deepcopy(page1)
        p1["link"] = [{"relation": "next", "url": url}]
        before, seen = len(extra.stats()["paths"]), foreign.stats()["connections"]
        ev, sv, detail = both(ctx, svc, mtx_body(request, extra.base, MTX_PAGED, p1))
        res.check(f"(c) a next link to {what}: not followed, medications missing",
                  silent_on_meds(ev) and silent_on_meds(sv) and
                  len(extra.stats()["paths"]) == before and
                  foreign.stats()["connections"] == seen, detail)


def check_outcome_entries(res, ctx, svc, want):
    """(d) an error or fatal OperationOutcome entry: fetched again; 4101 alone: data."""
    extra, request = ctx["extra"], ctx["mtx"][MTX_PAGED]
    for severity in ("error", "fatal"):
        meds = {"resourceType": "Bundle", "type": "searchset", "entry": [
            {"search": {"mode": "outcome"}, "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": severity, "code": "exception"}]}}]}
        before = len(extra.stats()["paths"])
        ev, sv, detail = both(ctx, svc, mtx_body(request, extra.base, MTX_PAGED, meds))
        fetched = paths_since(extra, before, "/MedicationRequest")
        res.check(f"(d) a searchset with an {severity} OperationOutcome entry: fetched again, "
                  f"the same cards ({want})", ev == sv == want and len(fetched) == 2, detail)
        st, ids, err = run_eval(ctx["bin"], ctx["config"], svc,
                                mtx_body(request, extra.base, MTX_PAGED, meds), fetch=False)
        res.check(f"(d) the same without a fetch: medications missing ({severity})",
                  st == 200 and silent_on_meds(ids), f"{st} {ids} {err.strip()[-200:]}")
    empty = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    _, empty_ids, _ = both(ctx, svc, mtx_body(request, extra.base, MTX_PAGED, empty))
    only = dict(empty, entry=[{"search": {"mode": "outcome"}, "resource": OUTCOME_4101}])
    with_data = copy.deepcopy(request["prefetch"]["medications"])
    with_data["entry"].append({"search": {"mode": "outcome"}, "resource": OUTCOME_4101})
    for what, meds, expect in (("alone", only, empty_ids), ("beside the entries", with_data, want)):
        before = len(extra.stats()["paths"])
        ev, sv, detail = both(ctx, svc, mtx_body(request, extra.base, MTX_PAGED, meds))
        res.check(f"(d) Epic's 4101 warning outcome {what} is data: not fetched, {expect}",
                  ev == sv == expect and "steroid-monotherapy" in empty_ids and
                  len(extra.stats()["paths"]) == before, detail)


def check_medication_reads(res, ctx, svc, want):
    """(e) a MedicationRequest pointing at a Medication the request does not hold."""
    extra, held = ctx["extra"], ctx["mtx"][MTX_REF]
    base = f"{extra.base}/{MTX_REF}"
    request = copy.deepcopy(held)
    medication = request["prefetch"].pop(SERVER_ONLY)["entry"][0]["resource"]
    meds = request["prefetch"]["medications"]
    mr = mtx_entry(meds)["resource"]
    foreign = ctx["outsider2"]
    cases = (("relative Medication/x, with a token: read", "Medication/x", True, True),
             ("absolute under the fhirServer: read", f"{base}/Medication/x", True, True),
             ("absolute on another server: not read", f"{foreign.base}/{MTX_REF}/Medication/x",
              True, False),
             ("relative, without a token: not read", "Medication/x", False, False),
             ("an id the server does not have: read, fails, nothing missing",
              "Medication/nope", True, False))
    for what, ref, token, counts in cases:
        mr["medicationReference"] = {"reference": ref}
        before, seen = len(extra.stats()["paths"]), foreign.stats()["connections"]
        ev, sv, detail = both(ctx, svc, mtx_body(request, extra.base, MTX_REF, token=token))
        reads = paths_since(extra, before, "/Medication/" + ref.rsplit("/", 1)[1])
        others = len(extra.stats()["paths"]) - before - len(reads)
        read = ref.startswith(base) or (token and not ref.startswith("http"))
        expect = want if counts else sorted(set(want) | {"steroid-monotherapy"})
        res.check(f"(e) {what}: {expect}", ev == sv == expect and
                  len(reads) == (2 if read else 0) and others == 0 and
                  foreign.stats()["connections"] == seen, f"{detail}; reads {reads}")
    mr["medicationReference"] = {"reference": "Medication/x"}
    no_meds = scope_of("rs")  # every prefetch type, no Medication
    for what, scope, read in (("a scope without Medication: not read", no_meds, False),
                              ("a scope with patient/Medication.r: read",
                               no_meds + " patient/Medication.r", True)):
        before = len(extra.stats()["paths"])
        ev, sv, detail = both(ctx, svc, mtx_body(request, extra.base, MTX_REF, scope=scope))
        reads = paths_since(extra, before, "/Medication/x")
        expect = want if read else sorted(set(want) | {"steroid-monotherapy"})
        res.check(f"(e) {what}, {expect}", ev == sv == expect and
                  len(reads) == (2 if read else 0) and
                  len(extra.stats()["paths"]) - before == len(reads), f"{detail}; reads {reads}")
    included = copy.deepcopy(request)
    included["prefetch"]["medications"]["entry"].append(
        {"resource": medication, "search": {"mode": "include"}})
    before = len(extra.stats()["paths"])
    ev, sv, detail = both(ctx, svc, mtx_body(included, extra.base, MTX_REF))
    res.check(f"(e) the Medication in the request (included): not read, {want}",
              ev == sv == want and len(extra.stats()["paths"]) == before, detail)
    request["prefetch"].pop("medications")
    before = len(extra.stats()["paths"])
    ev, sv, detail = both(ctx, svc, mtx_body(request, extra.base, MTX_REF))
    reads = paths_since(extra, before, "/Medication/x")
    res.check(f"(e) medications fetched with _include=MedicationRequest:medication: the "
              f"Medication comes included, no read of its own, {want}",
              ev == sv == want and not reads and
              paths_since(extra, before, "/MedicationRequest"), detail)


def scope_of(perms, skip=(), extra=""):
    """patient/<Type>.<perms> for every prefetch type not in skip, then extra."""
    words = [f"patient/{t}.{perms}" for t in PREFETCH_TYPES if t not in skip]
    return " ".join(words + ([extra] if extra else []))


def scoped(ctx, request, svc, case, scope):
    """The case without prefetch through eval and serve with a token of scope: (eval
    status, eval ids, serve status, serve ids, the types the server was asked for, the
    errors)."""
    body = without_prefetch(request, ctx["main"].base, case)
    body["fhirAuthorization"]["scope"] = scope
    prefix = f"/fhir/{case}/"
    before = len(ctx["main"].stats()["paths"])
    st, ids, err = run_eval(ctx["bin"], ctx["config"], svc, body)
    st2, ids2, _, err2 = post(ctx["serve"], svc, body)
    types = {p[len(prefix):].split("/")[0] for p in ctx["main"].stats()["paths"][before:]
             if p.startswith(prefix)}
    return st, ids, st2, ids2, types, f"{err.strip()[-200:]} | {err2}"


def check_scopes(res, ctx, by_name):
    case, expect, request = by_name[SCOPE_CASE]
    svc, want = expect["service"], sorted(expect["fire"])
    every = set(PREFETCH_TYPES)
    if not res.check(f"{case}: {want}, {sorted(OBS_RULES)} among them",
                     OBS_RULES <= set(want) and len(want) > len(OBS_RULES), str(want)):
        return
    for what, scope in (("v2 .rs", scope_of("rs")),
                        ("v1 .read", scope_of("read")),
                        ("v2 .r and .s apart", scope_of("s") + " " + scope_of("r")),
                        ("v2 .cruds", scope_of("cruds")),
                        ("patient/*.rs", "patient/*.rs"),
                        ("user/*.read beside openid fhirUser launch/patient",
                         "openid fhirUser launch/patient user/*.read"),
                        ("system/*.rs", "system/*.rs")):
        st, ids, st2, ids2, types, err = scoped(ctx, request, svc, case, scope)
        res.check(f"scope {what}: every key fetched, {want}", st == st2 == 200 and
                  ids == ids2 == want and types - {"Medication"} == every,
                  f"{st} {ids} {st2} {ids2} asked {sorted(types)} {err}")
    without_obs = sorted(set(want) - OBS_RULES)
    for what, scope in (("without Observation (v2)", scope_of("rs", skip=("Observation",))),
                        ("without Observation (v1)", scope_of("read", skip=("Observation",))),
                        ("with Observation only .r", scope_of("rs", ("Observation",),
                                                              "patient/Observation.r")),
                        ("with Observation restricted to ?category=laboratory",
                         scope_of("rs", ("Observation",),
                                  "patient/Observation.rs?category=laboratory"))):
        st, ids, st2, ids2, types, err = scoped(ctx, request, svc, case, scope)
        res.check(f"scope {what}: no Observation request, {sorted(OBS_RULES)} silent, "
                  f"{without_obs} fire", st == st2 == 200 and ids == ids2 == without_obs and
                  types - {"Medication"} == every - {"Observation"},
                  f"{st} {ids} {st2} {ids2} asked {sorted(types)} {err}")
    st, ids, st2, ids2, types, err = scoped(
        ctx, request, svc, case, scope_of("rs", ("Condition",), "patient/Condition.r"))
    res.check("scope with Condition .r but no s: no Condition search, no rule can run: 412 "
              "naming the scope", st == st2 == 412 and "Condition" not in types and
              "conditions" in err and "scope" in err,
              f"{st} {st2} asked {sorted(types)} {err}")


def check_searchsets(res, ctx):
    svc = "myositis-order-sign"
    full = ctx["mtx"][MTX_PAGED]
    _, want, detail = both(ctx, svc, mtx_body(full, ctx["extra"].base, MTX_PAGED))
    if not res.check(f"the whole medications list prefetched: {want}, pjp-prophylaxis without "
                     "steroid-monotherapy", want is not None and "pjp-prophylaxis" in want and
                     "steroid-monotherapy" not in want, detail):
        return
    check_next_pages(res, ctx, svc, want)
    check_outcome_entries(res, ctx, svc, want)
    check_medication_reads(res, ctx, svc, want)


def check_metrics(res, ctx):
    st, text = ctx["serve"].request("GET", "/metrics")
    values = dict(re.findall(r"^(myocds_fhir_fetch\w*) (\d+)$", text, re.M))
    total = int(values.get("myocds_fhir_fetches_total", 0))
    failed = int(values.get("myocds_fhir_fetch_failures_total", 0))
    res.check(f"/metrics counts the FHIR reads ({total}, {failed} failed)",
              st == 200 and total > failed > 0, str(values))


def check_tls(res, ctx, by_name):
    case, expect, request = by_name[PERF_CASE]
    svc = expect["service"]
    body = without_prefetch(request, ctx["tls"].base, case)
    st, ids, err = run_eval(ctx["bin"], ctx["config"], svc, body)
    st2, ids2, _, err2 = post(ctx["serve"], svc, body)
    res.check("HTTPS FHIR server trusted through fhir.ca_file: same cards",
              st == st2 == 200 and ids == ids2 == sorted(expect["fire"]),
              f"eval {st} {ids} {err.strip()[-200:]} serve {st2} {ids2} {err2}")
    before = ctx["tls"].stats()
    st, ids, err = run_eval(ctx["bin"], ctx["untrusting"], svc, body)
    after = ctx["tls"].stats()
    res.check("HTTPS FHIR server with an untrusted certificate: 503, no request reached it",
              st == 503 and after["requests"] == before["requests"]
              and after["authorized"] == before["authorized"],
              f"eval {st} {err.strip()[-200:]}; {before['requests']}->{after['requests']}")


def check_perf(res, ctx, by_name):
    """Exactly the five keys of PERF_KEYS missing; any other key given (empty)."""
    case, expect, request = by_name[PERF_CASE]
    full = copy.deepcopy(request)
    for k in ctx["templates"]:
        full["prefetch"].setdefault(k, {"resourceType": "Bundle", "type": "searchset"})
    st, want, _, err = post(ctx["serve"], expect["service"], full)
    body = without_prefetch(full, ctx["slow"].base, case)
    body["prefetch"] = {k: v for k, v in full["prefetch"].items() if k not in PERF_KEYS}
    times = []
    ok = st == 200
    for _ in range(3):
        st, ids, ms, err = post(ctx["serve"], expect["service"], body)
        ok = ok and st == 200 and ids == want
        times.append(ms)
    s = ctx["slow"].stats()
    n = statistics.median(times)
    print(f"parallel fetch: {n:.0f} ms for {len(PERF_KEYS)} keys at {PERF_DELAY_MS} ms each "
          f"(runs: {', '.join(f'{t:.0f}' for t in times)} ms; {s['requests']} requests over "
          f"{s['connections']} connections, up to {s['max_parallel']} at once)")
    res.check(f"parallel fetch under {PERF_LIMIT_MS} ms, the same cards ({want})", ok and
              n < PERF_LIMIT_MS and s["requests"] == 3 * len(PERF_KEYS) and
              s["max_parallel"] == len(PERF_KEYS), f"{times} {s} {ids} {err}")
    res.check("connections are reused between calls", s["connections"] < s["requests"], str(s))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--services")
    ap.add_argument("--schema", required=True, help="the FHIR R4 fhir.schema.json")
    a = ap.parse_args()
    load_schema(a.schema)
    fixtures = os.path.abspath(a.fixtures)
    services = os.path.abspath(a.services or os.path.join(HERE, "..", "hooks", "services"))
    cases = load_cases(fixtures)
    with open(os.path.join(services, "myositis-order-sign.json")) as f:
        templates = json.load(f)["prefetch"]
    by_name = {c[0]: c for c in cases}
    res = Results()
    scratch_dir = scratch("fetch")
    tmp = scratch_dir.name
    procs = []
    try:
        def fhir(name, *args):
            s = FhirServer(tmp, name, fixtures, services, *args)
            procs.append(s)
            return s
        ctx = {"bin": os.path.abspath(a.bin), "templates": templates}
        ctx["main"] = fhir("main", "--token", TOKEN)
        ctx["paged"] = fhir("paged", "--token", TOKEN, "--page-size", 1)
        ctx["outsider"] = fhir("outsider")
        ctx["outsider2"] = fhir("outsider2")
        ctx["redirecting"] = fhir("redirecting", "--token", TOKEN, "--page-size", 1,
                                  "--next-base", ctx["outsider2"].base)
        ctx["failing"] = fhir("failing", "--fail-status", 500)
        ctx["huge"] = fhir("huge", "--token", TOKEN, "--huge-match", "AllergyIntolerance")
        ctx["slow"] = fhir("slow", "--token", TOKEN, "--delay-ms", PERF_DELAY_MS)
        ctx["slow_allergies"] = fhir("slow_allergies", "--token", TOKEN, "--delay-ms", 1500,
                                     "--delay-match", "AllergyIntolerance")
        ctx["slow_all"] = fhir("slow_all", "--token", TOKEN, "--delay-ms", 1500)
        cert, key = self_signed(tmp, "tls")
        ctx["tls"] = fhir("tls", "--token", TOKEN, "--tls-cert", cert, "--tls-key", key)
        ctx["tls"].base = ctx["tls"].base.replace("http:", "https:")
        mtx_fixtures, ctx["mtx"] = write_mtx_cases(tmp, by_name, templates)
        ctx["extra"] = FhirServer(tmp, "extra", mtx_fixtures, services, "--token", TOKEN,
                                  "--page-size", 1)
        procs.append(ctx["extra"])
        listed = [ctx[k].base for k in ("main", "paged", "redirecting", "failing", "slow", "tls",
                                         "huge", "extra")]
        # The functional checks get a generous deadline: a loaded CI machine (and ASan) must
        # not turn them into deadline tests; the deadline has its own server and config.
        ctx["config"] = write_config(tmp, "main", listed, ca_file=cert,
                                     deadline_ms=FUNCTIONAL_DEADLINE_MS,
                                     timeout_ms=FUNCTIONAL_DEADLINE_MS)
        ctx["untrusting"] = write_config(tmp, "untrusting", [ctx["tls"].base],
                                         deadline_ms=FUNCTIONAL_DEADLINE_MS)
        short = write_config(tmp, "short", [ctx["slow_allergies"].base, ctx["slow_all"].base],
                             deadline_ms=DEADLINE_MS)
        ctx["serve"] = serve(ctx["bin"], ctx["config"])
        procs.append(ctx["serve"])
        ctx["serve_short"] = serve(ctx["bin"], short)
        procs.append(ctx["serve_short"])
        check_perf(res, ctx, by_name)
        check_fixtures(res, ctx, cases)
        check_null_key(res, ctx, by_name)
        check_not_allowed(res, ctx, by_name)
        check_failures(res, ctx, by_name)
        check_deadline(res, ctx, by_name)
        check_foreign_next_link(res, ctx, by_name)
        check_oversize(res, ctx, by_name)
        check_tls(res, ctx, by_name)
        check_searchsets(res, ctx)
        check_scopes(res, ctx, by_name)
        leaked = [l for l in ctx["serve"].lines if TOKEN in l]
        res.check("the token never appears in the service's log", not leaked, leaked[:1])
        check_metrics(res, ctx)
        res.check("every error answer a FHIR R4 OperationOutcome", not BAD_OUTCOMES,
                  "; ".join(BAD_OUTCOMES[:3]))
        for name in ("serve", "serve_short"):
            procs.remove(ctx[name])
            code = ctx[name].stop()
            res.check(f"{name} stops cleanly (exit 0)", code == 0,
                      f"exit {code}: {ctx[name].lines[-3:]}")
    except (RuntimeError, OSError, KeyError, subprocess.SubprocessError) as e:
        res.check("set-up", False, repr(e))
    finally:
        for p in reversed(procs):
            p.stop()
        scratch_dir.cleanup()
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
