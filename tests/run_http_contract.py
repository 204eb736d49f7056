#!/usr/bin/python3
"""run_http_contract.py - the HTTP interface of docs/INSTALL.md ("HTTP"), checked on a live
`myocds serve`.

Every status code the contract names is earned by a request built for it: 200, 204 (CORS
preflight), 400, 401 (a server without --dev), 404, 405, 412, 413 (declared and chunked),
415, each error a FHIR R4 OperationOutcome (harness.check_outcome: the schema and the
issue code the status earns); a body over the limit sent without Expect: 100-continue
still reads its 413. Also: CORS and X-Request-Id on every answer, keep-alive after a preflight, feedback
stored once (idempotent resend), `serve --dev` refused off loopback, SIGTERM/SIGINT -> 0.

Standard library only. Usage:
    run_http_contract.py --bin build/myocds --fixtures fixtures/cases \
        --schema build/fhir.schema.json
Prints one line per check and, last, exactly "N passed, M failed"; exits 1 on failure.
"""
import argparse
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (JSON_CT as JSON, Results, Serve, check_outcome, diagnostics,  # noqa: E402
                     fixture, load_schema, raw_answer, scratch)

SERVICES = ("myositis-order-sign", "myositis-order-select", "myositis-patient-view")
# the CDS Hooks sandbox (github.com/cds-hooks/sandbox) built and served locally
ORIGIN = "http://localhost:8088"
SIGN = "/cds-services/myositis-order-sign"
MAX_BODY = 1 << 20

# A minimal valid order-sign call with an empty draft, used when --fixtures lacks one.
INLINE_SIGN = {
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "hook": "order-sign",
    "context": {"userId": "Practitioner/p1", "patientId": "pat-contract-1",
                "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": []}},
    "prefetch": {"patient": {"resourceType": "Patient", "id": "pat-contract-1"},
                 "conditions": {"resourceType": "Bundle", "type": "searchset", "entry": []},
                 "medications": {"resourceType": "Bundle", "type": "searchset", "entry": []}},
}


class Server(Serve):
    """`myocds serve` whose calls come from the local sandbox's origin."""

    def call(self, method, path, body=None, headers=None, conn=None):
        """(status, headers dict lower-cased, body bytes); a fresh connection unless given.
        Every request comes from the local sandbox's origin (ORIGIN) unless told otherwise;
        the headers get "_want-acao", the Access-Control-Allow-Origin the answer must carry
        (the origin with --dev, where calls need no JWT; "*" without)."""
        sent = dict({"Origin": ORIGIN}, **(headers or {}))
        status, got, raw = self.exchange(method, path, body, sent, conn=conn)
        got["_want-acao"] = sent.get("Origin") if self.dev else "*"
        return status, got, raw


def fixture_or_none(fixtures, name):
    """The request of case NAME, or None when the directory has no such case."""
    path = os.path.join(fixtures or "", name + ".json")
    return fixture(fixtures, name) if fixtures and os.path.exists(path) else None


def good_sign_request(fixtures):
    """A service call that earns 200 with at least one card, from the fixtures if possible."""
    for name in ("order-sign-pm-pred60-alone", "order-sign-dm-dex4-alone"):
        req = fixture_or_none(fixtures, name)
        if req is not None:
            return req
    return INLINE_SIGN


def expect_error(res, srv, name, method, path, status, body=None, headers=None, needle=None):
    """One request that must earn `status` with an OperationOutcome and the common headers."""
    try:
        st, hdrs, raw = srv.call(method, path, body, headers)
    except (OSError, http.client.HTTPException) as e:
        return res.check(name, False, f"request failed: {e!r}")
    problems = []
    if st != status:
        problems.append(f"status {st} != {status}")
    bad = check_outcome(raw, status)
    if bad:
        problems.append(f"body: {bad}")
    elif needle and needle.lower() not in diagnostics(raw).lower():
        problems.append(f"diagnostics {diagnostics(raw)!r} do not name {needle!r}")
    problems += common_header_problems(hdrs)
    res.check(name, not problems, "; ".join(problems))
    return hdrs


def common_header_problems(hdrs, content_type="application/json"):
    out = []
    want = hdrs.get("_want-acao", "*")
    if hdrs.get("access-control-allow-origin") != want:
        out.append(f"Access-Control-Allow-Origin {hdrs.get('access-control-allow-origin')!r}, "
                   f"not {want!r}")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", hdrs.get("x-request-id", "")):
        out.append("no sane X-Request-Id")
    if content_type and not hdrs.get("content-type", "").startswith(content_type):
        out.append(f"Content-Type {hdrs.get('content-type')!r}")
    return out


def check_cors_dev(res, srv):
    """--dev needs no JWT, so only the configured origins (by default the sandbox's) may
    read its answers from a browser."""
    st, hdrs, _ = srv.call("GET", "/healthz", headers={"Origin": "https://evil.example"})
    res.check("--dev: an origin not listed gets no Access-Control-Allow-Origin",
              st == 200 and "access-control-allow-origin" not in hdrs and
              hdrs.get("vary") == "Origin", repr(hdrs.get("access-control-allow-origin")))
    st, hdrs, _ = srv.call("GET", "/healthz", headers={"Origin": "https://sandbox.cds-hooks.org"})
    res.check("--dev: the public sandbox's origin is echoed",
              hdrs.get("access-control-allow-origin") == "https://sandbox.cds-hooks.org",
              repr(hdrs.get("access-control-allow-origin")))


def check_open_endpoints(res, srv):
    st, hdrs, body = srv.call("GET", "/cds-services")
    ids = set()
    try:
        ids = {s.get("id") for s in json.loads(body)["services"]}
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    res.check("GET /cds-services 200 with the three services",
              st == 200 and set(SERVICES) <= ids and not common_header_problems(hdrs),
              f"status {st}, ids {sorted(i for i in ids if i)}, {common_header_problems(hdrs)}")
    st, hdrs, body = srv.call("GET", "/healthz")
    res.check("GET /healthz 200 {\"status\":\"ok\"}",
              st == 200 and body.strip() == b'{"status":"ok"}' and not common_header_problems(hdrs),
              f"status {st}, body {body[:80]!r}")
    st, hdrs, body = srv.call("GET", "/metrics")
    res.check("GET /metrics 200 Prometheus text",
              st == 200 and hdrs.get("content-type", "").startswith("text/plain")
              and b"myocds_http_requests_total{" in body,
              f"status {st}, type {hdrs.get('content-type')!r}")
    st, hdrs, _ = srv.call("GET", "/healthz", headers={"X-Request-Id": "trace-42.a_b"})
    res.check("X-Request-Id echoed when sane", hdrs.get("x-request-id") == "trace-42.a_b",
              repr(hdrs.get("x-request-id")))
    st, hdrs, _ = srv.call("GET", "/healthz", headers={"X-Request-Id": "bad id <script>"})
    rid = hdrs.get("x-request-id", "")
    res.check("X-Request-Id replaced when not sane",
              rid != "bad id <script>" and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", rid), repr(rid))


def check_preflight(res, srv):
    c = srv.conn()
    try:
        st, hdrs, body = srv.call("OPTIONS", SIGN + "/feedback", conn=c, headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        methods = hdrs.get("access-control-allow-methods", "")
        allowed = hdrs.get("access-control-allow-headers", "").lower()
        res.check("OPTIONS preflight 204 with CORS headers",
                  st == 204 and hdrs.get("access-control-allow-origin") == hdrs["_want-acao"]
                  and all(m in methods for m in ("GET", "POST", "OPTIONS"))
                  and "authorization" in allowed and "content-type" in allowed,
                  f"status {st}, methods {methods!r}, headers {allowed!r}")
        st2, _, _ = srv.call("GET", "/healthz", conn=c)
        res.check("keep-alive holds after a preflight",
                  st2 == 200 and hdrs.get("connection", "").lower() != "close",
                  f"connection header {hdrs.get('connection')!r}, then {st2}")
    except (OSError, http.client.HTTPException) as e:
        res.check("OPTIONS preflight 204 with CORS headers", False, repr(e))
    finally:
        c.close()


def check_routing(res, srv):
    expect_error(res, srv, "POST unknown service 404", "POST", "/cds-services/no-such-service",
                 404, {"hook": "order-sign"}, JSON)
    expect_error(res, srv, "GET unknown path 404", "GET", "/no/such/path", 404)
    hdrs = expect_error(res, srv, "GET on a service 405", "GET", SIGN, 405)
    res.check("405 carries Allow with POST", "POST" in (hdrs or {}).get("allow", ""),
              repr((hdrs or {}).get("allow")))
    expect_error(res, srv, "POST /cds-services 405", "POST", "/cds-services", 405, b"{}", JSON)
    expect_error(res, srv, "POST /healthz 405", "POST", "/healthz", 405, b"{}", JSON)
    expect_error(res, srv, "DELETE /metrics 405", "DELETE", "/metrics", 405)
    expect_error(res, srv, "POST an unknown path 404", "POST", "/no/such/path", 404, b"{}", JSON)
    expect_error(res, srv, "GET an unknown service's feedback 404", "GET",
                 "/cds-services/no-such-service/feedback", 404)


def check_bodies(res, srv, fixtures):
    good = good_sign_request(fixtures)
    expect_error(res, srv, "POST text/plain 415", "POST", SIGN, 415, good,
                 {"Content-Type": "text/plain"})
    expect_error(res, srv, "POST without Content-Type 415", "POST", SIGN, 415, good, {})
    check_too_large(res, srv)
    expect_error(res, srv, "malformed JSON 400", "POST", SIGN, 400, b'{"hook": "order-sign",',
                 JSON)
    no_instance = fixture_or_none(fixtures, "error-missing-hookinstance")
    if no_instance is None:
        no_instance = {k: v for k, v in INLINE_SIGN.items() if k != "hookInstance"}
    expect_error(res, srv, "missing hookInstance 400 naming it", "POST", SIGN, 400, no_instance,
                 JSON, needle="hookInstance")
    mismatch = fixture_or_none(fixtures, "error-hook-mismatch-select-to-sign")
    if mismatch is None:
        mismatch = dict(INLINE_SIGN, hook="order-select")
    expect_error(res, srv, "hook mismatch 400", "POST", SIGN, 400, mismatch, JSON, needle="hook")
    missing = fixture_or_none(fixtures, "error-missing-conditions-prefetch")
    if missing is None:
        missing = json.loads(json.dumps(INLINE_SIGN))
        del missing["prefetch"]["conditions"]
    expect_error(res, srv, "missing prefetch, no fhirServer 412", "POST", SIGN, 412, missing, JSON)


def check_too_large(res, srv):
    # Declared too large: the server answers on the headers, without reading any body.
    c = srv.conn()
    try:
        c.putrequest("POST", SIGN)
        c.putheader("Content-Type", "application/json")
        c.putheader("Content-Length", str(MAX_BODY + 1))
        c.endheaders()
        r = c.getresponse()
        raw = r.read()
        bad = check_outcome(raw, 413)
        res.check("POST Content-Length > 1 MiB 413 (early)", r.status == 413 and not bad,
                  f"status {r.status}, {bad}")
    except (OSError, http.client.HTTPException) as e:
        res.check("POST Content-Length > 1 MiB 413 (early)", False, repr(e))
    finally:
        c.close()
    # Chunked, no length: the body is read, dropped past the cap, then refused.
    chunk = b" " * 65536
    body = iter([b"{\"x\":\""] + [chunk] * (MAX_BODY // len(chunk) + 1) + [b"\"}"])
    try:
        # http.client sends an iterable body without a length as chunked.
        st, hdrs, raw = srv.call("POST", SIGN, body, JSON)
        bad = check_outcome(raw, 413)
        res.check("POST chunked body > 1 MiB 413", st == 413 and not bad, f"status {st}, {bad}")
    except (OSError, http.client.HTTPException) as e:
        res.check("POST chunked body > 1 MiB 413", False, repr(e))
    check_too_large_unasked(res, srv)


def check_too_large_unasked(res, srv, status=413, what="413"):
    """A 2 MiB body written whole without Expect: 100-continue (as urllib and curl -H
    'Expect:' do) must still read its answer: the server reads and drops what the client
    sends after the early answer instead of resetting the connection under it."""
    big = b"{" + b" " * (2 * MAX_BODY - 2) + b"}"
    req = urllib.request.Request(srv.base + SIGN, data=big, method="POST", headers=JSON)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            st, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        st, raw = e.code, e.read()
    except (OSError, http.client.HTTPException) as e:
        st, raw = None, repr(e).encode()
    bad = check_outcome(raw, status) if st == status else raw[:120]
    res.check(f"urllib, 2 MiB body without Expect: {what} OperationOutcome",
              st == status and not bad, f"status {st}, {bad}")
    head = (f"POST {SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(big)}\r\n\r\n").encode()
    chunked = (f"POST {SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n").encode()
    piece = b" " * 65536
    chunks = [b"%x\r\n" % len(piece) + piece + b"\r\n"] * (len(big) // len(piece)) + [b"0\r\n\r\n"]
    for name, h, body in (("declared", head, [big]), ("chunked", chunked, chunks)):
        try:
            st, raw = raw_answer(srv.port, h, body)
        except OSError as e:
            st, raw = None, repr(e).encode()
        bad = check_outcome(raw, status) if st == status else raw[:120]
        res.check(f"raw socket, 2 MiB {name} body written whole: {what} OperationOutcome",
                  st == status and not bad, f"status {st}, {bad}")


def check_service_call(res, srv, fixtures):
    """200 with cards; returns the uuid of one card (for feedback) or None."""
    good = good_sign_request(fixtures)
    st, hdrs, body = srv.call("POST", SIGN, good,
                                 {"Content-Type": "application/json; charset=utf-8"})
    cards = []
    try:
        cards = json.loads(body)["cards"]
    except (ValueError, KeyError, TypeError):
        pass
    res.check("POST service call 200 {\"cards\":[...]} (charset parameter accepted)",
              st == 200 and isinstance(cards, list) and not common_header_problems(hdrs),
              f"status {st}, body {body[:160]!r}")
    st, _, _ = srv.call("POST", SIGN, good, {"Content-Type": "application/fhir+json"})
    res.check("POST application/fhir+json accepted", st == 200, f"status {st}")
    uuids = [c.get("uuid") for c in cards if isinstance(c, dict) and c.get("uuid")]
    return uuids[0] if uuids else None


def feedback_body(card, outcome="overridden"):
    item = {"card": card, "outcome": outcome, "outcomeTimestamp": "2025-01-15T14:03:40Z"}
    if outcome == "overridden":
        item["overrideReason"] = {"reason": {"system": "urn:myocds:override-reason",
                                             "code": "patient-declined"},
                                  "userComment": "free text that must never be stored"}
    else:
        item["acceptedSuggestions"] = [{"id": "suggestion-1"}]
    return {"feedback": [item]}


def check_feedback(res, srv, card, db_path):
    card = card or "5d3c1a4e-8f7b-4c2a-9e1d-2b6f0a9c7e33"
    path = SIGN + "/feedback"
    for name in ("feedback valid 200 {}", "feedback resend 200 {}"):
        st, hdrs, body = srv.call("POST", path, feedback_body(card), JSON)
        res.check(name, st == 200 and body.strip() == b"{}" and not common_header_problems(hdrs),
                  f"status {st}, body {body[:160]!r}")
    st, _, _ = srv.call("POST", path, feedback_body(card, "accepted"), JSON)
    res.check("feedback accepted outcome 200", st == 200, f"status {st}")
    bad = feedback_body(card)
    bad["feedback"][0]["outcome"] = "ignored"
    expect_error(res, srv, "feedback invalid 400 naming the field", "POST", path, 400, bad, JSON,
                 needle="feedback[0].outcome")
    expect_error(res, srv, "feedback to an unknown service 404", "POST",
                 "/cds-services/no-such-service/feedback", 404, feedback_body(card), JSON)
    check_stored(res, db_path, card)


def check_stored(res, db_path, card):
    try:
        import sqlite3
    except ImportError:
        print("note - python3 has no sqlite3 module: stored rows not checked")
        return
    try:
        db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        rows = db.execute("SELECT outcome FROM feedback WHERE card_uuid = ? ORDER BY outcome",
                          (card,)).fetchall()
        db.close()
        raw = b""
        for suffix in ("", "-wal"):  # the bytes on disk, committed or not yet checkpointed
            if os.path.exists(db_path + suffix):
                with open(db_path + suffix, "rb") as f:
                    raw += f.read()
        comments = raw.count(b"free text")
    except sqlite3.Error as e:
        res.check("feedback stored once per (card, outcome)", False, repr(e))
        return
    res.check("feedback stored once per (card, outcome), no comment kept",
              rows == [("accepted",), ("overridden",)] and comments == 0, repr(rows))


def check_no_dev(res, args, conf):
    srv = Server(args.bin, conf, dev=False, timeout=args.timeout, stop_timeout=10)
    if not res.check("serve without --dev starts", srv.start(args.timeout), srv.tail(5)):
        srv.stop()
        return
    good = good_sign_request(args.fixtures)
    for name, path, body in (("service call", SIGN, good),
                             ("feedback", SIGN + "/feedback", feedback_body("c-1"))):
        hdrs = expect_error(res, srv, f"no --dev: {name} without JWT 401", "POST", path, 401,
                            body, JSON, needle="JWT")
        res.check(f"no --dev: {name} 401 has WWW-Authenticate: Bearer",
                  (hdrs or {}).get("www-authenticate", "").startswith("Bearer"),
                  repr((hdrs or {}).get("www-authenticate")))
    hdrs = expect_error(res, srv, "no --dev: a bad bearer token 401", "POST", SIGN, 401, good,
                        dict(JSON, Authorization="Bearer not.a.jwt"))
    # Authenticate before buffering: with no credential, the 401 comes before any body byte.
    early = b""
    try:
        with socket.create_connection(("127.0.0.1", srv.port), timeout=3) as sk:
            sk.sendall((f"POST {SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        "Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n").encode())
            early = sk.recv(4096)
    except OSError as e:
        early = repr(e).encode()
    res.check("no --dev: no credential, 1 MiB declared and none sent: 401 at once",
              early.startswith(b"HTTP/1.1 401") and b"WWW-Authenticate: Bearer" in early,
              early[:120])
    check_too_large_unasked(res, srv, 401, "401 (no credential)")
    st, _, _ = srv.call("GET", "/cds-services")
    res.check("no --dev: discovery stays open", st == 200, f"status {st}")
    st, _, _ = srv.call("OPTIONS", SIGN)
    res.check("no --dev: preflight stays open", st == 204, f"status {st}")
    rc = srv.stop(signal.SIGINT)
    res.check("SIGINT: exit 0", rc == 0, f"exit {rc}; {srv.tail(5)}")


def check_cli(res, args, conf):
    try:
        p = subprocess.run([args.bin, "serve", "--dev", "--bind", "0.0.0.0", "--port", "0",
                            "--config", conf], stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=args.timeout)
        res.check("serve --dev --bind 0.0.0.0 exits 2 with a message",
                  p.returncode == 2 and b"loopback" in p.stderr,
                  f"exit {p.returncode}, stderr {p.stderr[-200:]!r}")
    except subprocess.TimeoutExpired:
        res.check("serve --dev --bind 0.0.0.0 exits 2 with a message", False, "still running")
    bad = conf + ".misspelled.json"
    with open(bad, "w") as f:
        json.dump({"fhir": {"alowed_servers": ["https://fhir.example.org/r4"]}}, f)
    try:
        p = subprocess.run([args.bin, "serve", "--dev", "--port", "0", "--config", bad],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=args.timeout)
        res.check("a misspelled config key stops start-up (exit 2), naming the key",
                  p.returncode == 2 and b"unknown key fhir.alowed_servers" in p.stderr,
                  f"exit {p.returncode}, stderr {p.stderr[-200:]!r}")
    except subprocess.TimeoutExpired:
        res.check("a misspelled config key stops start-up", False, "still running")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Check the HTTP contract of myocds serve.")
    ap.add_argument("--bin", required=True, help="path to the myocds executable")
    ap.add_argument("--fixtures", help="directory of NAME.json CDS Hooks requests")
    ap.add_argument("--schema", required=True, help="the FHIR R4 fhir.schema.json")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds for a start or a call")
    args = ap.parse_args(argv)
    try:
        load_schema(args.schema)
    except (ImportError, OSError, ValueError) as e:
        print(f"error: cannot load the FHIR schema {args.schema}: {e}", file=sys.stderr)
        return 2
    args.bin = os.path.abspath(args.bin)
    args.fixtures = os.path.abspath(args.fixtures) if args.fixtures else None
    res = Results()
    with scratch("contract") as tmp:
        conf = os.path.join(tmp, "config.json")
        with open(conf, "w") as f:
            json.dump({"data_dir": os.path.join(tmp, "data"), "cards": {"repeat_window_min": 0}},
                      f)
        run_dev(res, args, conf, os.path.join(tmp, "data", "myocds.sqlite"))
        check_no_dev(res, args, conf)
        check_cli(res, args, conf)
    return res.finish()


def run_dev(res, args, conf, db_path):
    srv = Server(args.bin, conf, timeout=args.timeout, stop_timeout=10)
    if not res.check("serve --dev --port 0 prints 'listening on http://ADDR:PORT'",
                     srv.start(args.timeout) and srv.port > 0, srv.tail(5)):
        srv.stop()
        return
    res.check("serve --dev warns loudly", any("DEV" in ln for ln in srv.lines), srv.tail(5))
    try:
        check_open_endpoints(res, srv)
        check_cors_dev(res, srv)
        check_preflight(res, srv)
        check_routing(res, srv)
        check_bodies(res, srv, args.fixtures)
        card = check_service_call(res, srv, args.fixtures)
        check_feedback(res, srv, card, db_path)
    except (OSError, http.client.HTTPException) as e:
        res.check("dev server answers", False, f"{e!r}; {srv.tail(5)}")
    rc = srv.stop(signal.SIGTERM)
    res.check("SIGTERM: exit 0", rc == 0, f"exit {rc}; {srv.tail(5)}")
    res.check("one access log line per request, no bodies",
              any('"msg":"request"' in ln and '"status":' in ln for ln in srv.lines)
              and not any("free text" in ln for ln in srv.lines), srv.tail(2))


if __name__ == "__main__":
    sys.exit(main())
