#!/usr/bin/python3
"""run_hostile.py - hostile input through a live `myocds serve`: each answered with the right
4xx, every error answer a FHIR R4 OperationOutcome (harness.check_outcome, after each
group), and the server still serving afterwards.

One `myocds serve --dev --port 0` (http.max_body_bytes 16 MiB so that 10,000 draft orders
fit, http.timeout_s 2 so that idle connections go quickly) receives:

- 100,000-deep nesting (bare, and inside a valid request): 400;
- a 50 MB body, declared (413 before any byte of it is read) and chunked (413 at its end);
- bodies that stop mid-stream, the client closing (declared length, and chunked): no
  answer is possible; the server logs the request as aborted and serves on;
- slowloris: 16 connections dripping header bytes for 4 s while normal requests are
  answered at once; once they stop, the server drops them after its idle timeout;
- invalid UTF-8 in values and keys: 400; an escaped lone surrogate: an answer that is
  valid UTF-8 JSON;
- NUL bytes: raw (400), escaped in a required identifier (400), escaped in free text
  (200, valid JSON);
- numbers as strings and strings as numbers, in turn in every leaf field of four fixtures
  (every field the rules read, and all the others): 400 for the request's own fields,
  200 with well-formed cards (no "nan", no negative doses) for FHIR fields;
- 10,000 draft orders (order-sign), and 10,000 drafts with 10,000 selections
  (order-select): 200 within 5 s, at most one card per rule;
- duplicate keys: the last one wins, as in json-c, Python and JavaScript (a mismatching
  last "hook" is a 400, a matching one is the request without the duplicate);
- a fhirServer pointing at the service itself (not an allowed FHIR server): 412 at once,
  six at a time.

After each group: GET /healthz answers 200, and at the end SIGTERM exits 0.
Standard library only. Usage: run_hostile.py --bin build/myocds --fixtures fixtures/cases
Prints one line per check and, last, exactly "N passed, M failed"; exits 1 on failure.
"""
import argparse
import copy
import json
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Results, Serve, check_outcome, diagnostics, fixture as load,  # noqa: E402
                     load_schema, raw_answer, raw_exchange, rule_ids,
                     scratch, write_config)

SIGN = "/cds-services/myositis-order-sign"
SELECT = "/cds-services/myositis-order-select"
VIEW = "/cds-services/myositis-patient-view"
MAX_BODY = 16 << 20
IDLE_TIMEOUT_S = 2
BIG = 50 * 1000 * 1000
DEEP = 100000
MANY = 10000
SLOW_CONNS = 16
SLOW_SECONDS = 4
FAST_LIMIT_S = 5.0  # 10,000 drafts answered within this
SWAP_FIXTURES = {
    "order-sign-pm-pred60-alone": SIGN,
    "order-sign-dm-ivig-iga-normal": SIGN,
    "order-select-pm-pred-selected-mtx-unselected": SELECT,
    "patient-view-pm-well-managed": VIEW,
}
# The request's own fields: a value of the wrong type there is a 400 naming the field.
REQUEST_FIELDS = [("hook",), ("hookInstance",), ("fhirServer",), ("context", "userId"),
                  ("context", "patientId"), ("context", "draftOrders", "resourceType")]
INDICATORS = {"info", "warning", "critical"}


# Every error answer a check received that is not the OperationOutcome its status earns.
BAD_OUTCOMES = []


def outcome_seen(status, raw):
    """Notes an error answer whose body is not its OperationOutcome (check_outcomes)."""
    bad = check_outcome(raw, status) if status is not None and status >= 400 else None
    if bad:
        BAD_OUTCOMES.append(f"{status}: {bad}")


def check_outcomes(r, group):
    """Every error answer of the group just run: an OperationOutcome (harness)."""
    r.check(f"{group}: every error answer a FHIR R4 OperationOutcome", not BAD_OUTCOMES,
            "; ".join(BAD_OUTCOMES[:3]))
    BAD_OUTCOMES.clear()


def post(srv, path, body, conn=None, timeout=60):
    """(status, parsed JSON or None, raw bytes, seconds); an error answer's body is checked
    (outcome_seen)."""
    c = conn or srv.conn(timeout)
    start = time.monotonic()
    try:
        c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        raw = r.read()
    finally:
        if conn is None:
            c.close()
    try:
        doc = json.loads(raw.decode("utf-8", "strict"))
    except (UnicodeDecodeError, ValueError):
        doc = None
    outcome_seen(r.status, raw)
    return r.status, doc, raw, time.monotonic() - start


def cards_sane(doc):
    """An answer a clinician could read: cards of the right shape, no NaN or negative dose."""
    if not isinstance(doc, dict) or not isinstance(doc.get("cards"), list):
        return "no cards list"
    ids = rule_ids(doc)
    if len(ids) != len(set(ids)):
        return f"a rule gave two cards: {ids}"
    for c in doc["cards"]:
        if not isinstance(c.get("summary"), str) or not c["summary"] or \
                c.get("indicator") not in INDICATORS:
            return "a card without summary or indicator"
        text = c["summary"] + " " + c.get("detail", "")
        if re.search(r"\b(nan|inf)\b|(^|[\s(:*])-\d+(\.\d+)? ?mg", text, re.I):
            return f"a card says: {text[:120]}"
    return None


# ---------------------------------------------------------------------------- the checks


def check_nesting(r, srv, fixtures):
    deep = b"[" * DEEP + b"]" * DEEP
    st, doc, _, _ = post(srv, SIGN, deep)
    r.check("100,000-deep array: 400", st == 400, f"{st}")
    body = json.dumps(load(fixtures, "order-sign-pm-pred60-alone")).encode()
    nested = body.replace(b'"context": {', b'"context": {"x": ' + b'{"a":' * DEEP + b"1" +
                          b"}" * DEEP + b", ", 1)
    st, doc, _, _ = post(srv, SIGN, nested)
    r.check("100,000-deep object inside a valid request: 400", st == 400, f"{st}")


def check_big(r, srv):
    head = (f"POST {SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {BIG}\r\n\r\n").encode()
    try:
        st, raw = raw_answer(srv.port, head, timeout=10, until_close=True)
        closed = True
    except OSError as e:
        st, raw, closed = None, repr(e).encode(), False
    outcome_seen(st, raw)
    r.check("50 MB declared: 413 before the body, connection closed", st == 413 and closed,
            f"{st} {raw[:80]!r}")
    head = (f"POST {SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n").encode()
    piece = b"[" + b"1," * 499999 + b"1]"  # 1 MB of valid-looking JSON per chunk
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    start = time.monotonic()
    st, raw = raw_answer(srv.port, head, [chunk] * (BIG // len(piece)) + [b"0\r\n\r\n"],
                         timeout=60)
    outcome_seen(st, raw)
    r.check("50 MB chunked: 413 at its end", st == 413,
            f"{st} after {time.monotonic() - start:.1f} s")


def check_truncated(r, srv):
    head = (f"POST {SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: 100000\r\n\r\n").encode()
    raw_exchange(srv.port, head, [b'{"hook":"order-sign","context":{' + b" " * 40000], read=False)
    head = (f"POST {SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n").encode()
    raw_exchange(srv.port, head, [b"1000\r\n" + b"[" * 100], read=False)  # stops inside a chunk
    time.sleep(0.5)
    r.check("bodies that stop mid-stream: server still serving", srv.healthy())
    deadline = time.monotonic() + IDLE_TIMEOUT_S + 5
    aborted = 0
    while time.monotonic() < deadline and aborted < 2:
        aborted = sum(1 for line in list(srv.lines) if '"end":"aborted"' in line)
        time.sleep(0.2)
    r.check("both logged as aborted requests", aborted >= 2, f"{aborted} aborted")


def drip(sock, stop, errors):
    """Sends one header byte every 0.25 s until stop is set."""
    try:
        while not stop.is_set():
            sock.sendall(b"X")
            time.sleep(0.25)
    except OSError as e:
        errors.append(str(e))


def check_slowloris(r, srv, fixtures):
    socks = []
    for i in range(SLOW_CONNS):
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        s.sendall(f"POST {SIGN} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow-{i}: ".encode())
        socks.append(s)
    stop, errors = threading.Event(), []
    threads = [threading.Thread(target=drip, args=(s, stop, errors)) for s in socks]
    for t in threads:
        t.start()
    body = json.dumps(load(fixtures, "order-sign-pm-pred60-alone")).encode()
    times, statuses = [], []
    end = time.monotonic() + SLOW_SECONDS
    while time.monotonic() < end:
        st, _, _, dt = post(srv, SIGN, body)
        statuses.append(st)
        times.append(dt)
    stop.set()
    for t in threads:
        t.join()
    r.check(f"slowloris ({SLOW_CONNS} connections dripping headers for {SLOW_SECONDS} s): "
            f"{len(statuses)} normal requests answered 200, slowest {max(times) * 1000:.0f} ms",
            statuses and all(s == 200 for s in statuses) and max(times) < 1.0,
            f"{statuses[:5]} {max(times):.2f} s")
    closed = 0
    deadline = time.monotonic() + IDLE_TIMEOUT_S + 5
    for s in socks:
        s.settimeout(max(deadline - time.monotonic(), 0.1))
        try:
            closed += s.recv(1024) == b""
        except ConnectionResetError:
            closed += 1
        except OSError:
            pass
        s.close()
    r.check(f"the dripping connections dropped after the {IDLE_TIMEOUT_S} s idle timeout",
            closed == SLOW_CONNS, f"{closed}/{SLOW_CONNS} closed")


def check_utf8(r, srv, fixtures):
    body = json.dumps(load(fixtures, "order-sign-pm-pred60-alone")).encode()
    bad = {"lone continuation byte": b"\x80", "truncated 2-byte": b"\xc3",
           "overlong '/'": b"\xc0\xaf", "encoded surrogate": b"\xed\xa0\x80", "0xFF": b"\xff",
           "5-byte form": b"\xf8\x88\x80\x80\x80", "above U+10FFFF": b"\xf4\x90\x80\x80"}
    for name, seq in bad.items():
        st, _, _, _ = post(srv, SIGN, body.replace(b"prednisone 60 mg daily",
                                                   b"prednisone " + seq + b" 60 mg daily", 1))
        r.check(f"invalid UTF-8 in a value ({name}): 400", st == 400, f"{st}")
    st, _, _, _ = post(srv, SIGN, body.replace(b'"dosageInstruction"', b'"dosage\xffInstruction"'))
    r.check("invalid UTF-8 in a key: 400", st == 400, f"{st}")
    st, doc, raw, _ = post(srv, SIGN, body.replace(b"prednisone 60 mg daily",
                                                   b"prednisone \\ud800 60 mg daily", 1))
    r.check("escaped lone surrogate: an answer in valid UTF-8 JSON",
            st in (200, 400) and doc is not None, f"{st} {raw[:80]!r}")


def check_nul(r, srv, fixtures):
    body = json.dumps(load(fixtures, "order-sign-pm-pred60-alone")).encode()
    st, _, _, _ = post(srv, SIGN, body.replace(b"prednisone 60 mg", b"prednisone\x0060 mg", 1))
    r.check("raw NUL byte inside a string: 400", st == 400, f"{st}")
    st, _, _, _ = post(srv, SIGN, body + b"\x00")
    r.check("raw NUL byte after the document: 400", st == 400, f"{st}")
    for field in ("patientId", "userId"):
        doc = load(fixtures, "order-sign-pm-pred60-alone")
        doc["context"][field] = doc["context"][field][:4] + "\u0000" + doc["context"][field][4:]
        st, ans, _, _ = post(srv, SIGN, json.dumps(doc).encode())
        r.check(f"escaped NUL inside context.{field}: 400 naming it",
                st == 400 and field in diagnostics(ans), f"{st} {ans}")
    doc = load(fixtures, "order-sign-pm-pred60-alone")
    doc["hookInstance"] = "\u0000" + doc["hookInstance"]
    st, _, _, _ = post(srv, SIGN, json.dumps(doc).encode())
    r.check("escaped NUL inside hookInstance: 400", st == 400, f"{st}")
    doc = load(fixtures, "order-sign-pm-pred60-alone")
    mr = doc["context"]["draftOrders"]["entry"][0]["resource"]
    mr["medicationCodeableConcept"]["text"] = "prednisone\u0000 60 mg"
    st, ans, _, _ = post(srv, SIGN, json.dumps(doc).encode())
    r.check("escaped NUL inside free text: 200, well-formed cards",
            st == 200 and cards_sane(ans) is None, f"{st} {cards_sane(ans)}")


def leaves(node, path=()):
    """Every (path, value) of a string or number leaf."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from leaves(v, path + (i,))
    elif isinstance(node, (str, int, float)) and not isinstance(node, bool):
        yield path, node


def swapped(doc, path, value):
    d = copy.deepcopy(doc)
    node = d
    for p in path[:-1]:
        node = node[p]
    if isinstance(value, str):
        node[path[-1]] = 42 if not re.match(r"^-?\d+(\.\d+)?$", value) else float(value) + 0.5
    else:
        node[path[-1]] = str(value)
    return d


def expect_400(path):
    if path[:1] == ("fhirAuthorization",) or path[:2] == ("context", "selections"):
        return True
    return tuple(path) in REQUEST_FIELDS


def check_types(r, srv, fixtures):
    conn = srv.conn(30)
    for name, path in SWAP_FIXTURES.items():
        doc = load(fixtures, name)
        bad = []
        n = 0
        for leaf, value in leaves(doc):
            n += 1
            st, ans, _, _ = post(srv, path, json.dumps(swapped(doc, leaf, value)).encode(),
                                 conn=conn)
            want = 400 if expect_400(leaf) else 200
            why = None if st == want else f"{st} (want {want})"
            if why is None and st == 200:
                why = cards_sane(ans)
            named = [p for p in leaf if isinstance(p, str) and p in diagnostics(ans)]
            if why is None and st == 400 and not named:
                why = f"400 not naming the field: {ans}"
            if why:
                bad.append(f"{'.'.join(map(str, leaf))}: {why}")
        r.check(f"types swapped in each of the {n} fields of {name}: right answers",
                not bad, "; ".join(bad[:4]) + (f" (+{len(bad) - 4})" if len(bad) > 4 else ""))
    conn.close()


def check_many(r, srv, fixtures):
    doc = load(fixtures, "order-sign-pm-pred60-alone")
    mr = doc["context"]["draftOrders"]["entry"][0]["resource"]
    doc["context"]["draftOrders"]["entry"] = [{"resource": dict(mr, id=f"mr-{i}")}
                                              for i in range(MANY)]
    st, ans, raw, dt = post(srv, SIGN, json.dumps(doc, separators=(",", ":")).encode())
    r.check(f"10,000 draft orders (order-sign): 200 in {dt:.2f} s, one card per rule",
            st == 200 and dt < FAST_LIMIT_S and cards_sane(ans) is None and rule_ids(ans),
            f"{st} {dt:.2f} s {cards_sane(ans)} {raw[:80]!r}")
    doc = load(fixtures, "order-select-pm-pred-selected-alone")
    mr = doc["context"]["draftOrders"]["entry"][0]["resource"]
    doc["context"]["draftOrders"]["entry"] = [{"resource": dict(mr, id=f"mr-{i}")}
                                              for i in range(MANY)]
    doc["context"]["selections"] = [f"MedicationRequest/mr-{i}" for i in range(MANY)]
    st, ans, raw, dt = post(srv, SELECT, json.dumps(doc, separators=(",", ":")).encode())
    r.check(f"10,000 drafts and 10,000 selections (order-select): 200 in {dt:.2f} s",
            st == 200 and dt < FAST_LIMIT_S and cards_sane(ans) is None and rule_ids(ans),
            f"{st} {dt:.2f} s {cards_sane(ans)}")


def check_duplicates(r, srv, fixtures):
    doc = load(fixtures, "order-sign-pm-pred60-alone")
    plain = json.dumps(doc).encode()
    st0, ans0, _, _ = post(srv, SIGN, plain)
    st, ans, _, _ = post(srv, SIGN, plain.replace(b'"hook": "order-sign"',
                                                  b'"hook": "order-sign", "hook": "patient-view"'))
    r.check("duplicate hook, the last one wrong: 400", st == 400 and "hook" in diagnostics(ans),
            f"{st}")
    st, ans, _, _ = post(srv, SIGN, plain.replace(b'"hook": "order-sign"',
                                                  b'"hook": "patient-view", "hook": "order-sign"'))
    r.check("duplicate hook, the last one right: the request without the duplicate",
            st == st0 == 200 and rule_ids(ans) == rule_ids(ans0), f"{st}")
    st, ans, _, _ = post(srv, SIGN, plain.replace(b'"patientId": "pat-pm-001"',
                                                  b'"patientId": "pat-pm-001", "patientId": ""'))
    r.check("duplicate patientId, the last one empty: 400", st == 400, f"{st}")
    nulled = copy.deepcopy(doc)
    nulled["prefetch"]["conditions"] = None
    st1, ans1, _, _ = post(srv, SIGN, json.dumps(nulled).encode())
    dup = plain[:-1] + b', "prefetch": ' + json.dumps(nulled["prefetch"]).encode() + b"}"
    st, ans, _, _ = post(srv, SIGN, dup)
    r.check("duplicate prefetch, the last one without conditions: as without conditions",
            st == st1 and rule_ids(ans) == rule_ids(ans1), f"{st} vs {st1}")


def check_self(r, srv, fixtures):
    doc = load(fixtures, "order-sign-pm-pred60-alone")
    del doc["prefetch"]["conditions"]
    doc["fhirServer"] = f"http://127.0.0.1:{srv.port}/"
    body = json.dumps(doc).encode()
    results = []
    threads = [threading.Thread(target=lambda: results.append(post(srv, SIGN, body)))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r.check("fhirServer pointing at the service itself, six at once: 412 at once",
            len(results) == 6 and all(x[0] == 412 and x[3] < 2.0 for x in results),
            f"{[(x[0], round(x[3], 2)) for x in results]}")
    doc["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer", "expires_in": 300,
                                "scope": "patient/*.read", "subject": "cds"}
    st, _, _, dt = post(srv, SIGN, json.dumps(doc).encode())
    r.check("... with a fhirAuthorization: 412", st == 412 and dt < 2.0, f"{st} {dt:.2f} s")


GROUPS = [("nesting", check_nesting), ("big", check_big), ("truncated", check_truncated),
          ("slowloris", check_slowloris), ("utf8", check_utf8), ("nul", check_nul),
          ("types", check_types), ("many", check_many), ("duplicates", check_duplicates),
          ("self", check_self)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--schema", required=True, help="the FHIR R4 fhir.schema.json")
    ap.add_argument("--only", help="run only the groups matching this regex")
    a = ap.parse_args()
    load_schema(a.schema)
    fixtures = os.path.abspath(a.fixtures)
    r = Results()
    with scratch("hostile") as tmp:
        cfg = write_config(os.path.join(tmp, "config.json"), data_dir=os.path.join(tmp, "data"),
                           http={"max_body_bytes": MAX_BODY, "timeout_s": IDLE_TIMEOUT_S},
                           cards={"repeat_window_min": 0})
        srv = Serve(os.path.abspath(a.bin), cfg, timeout=60, stop_timeout=30)
        if not srv.start(20):
            r.check("serve starts", False, srv.tail())
            return r.finish()
        try:
            for name, fn in GROUPS:
                if a.only and not re.search(a.only, name):
                    continue
                fn(r, srv, fixtures) if fn.__code__.co_argcount == 3 else fn(r, srv)
                check_outcomes(r, name)
                r.check(f"after {name}: still serving", srv.healthy(), srv.tail())
        finally:
            rc = srv.stop()
        r.check("SIGTERM: exit 0", rc == 0, f"exit {rc}: {srv.tail()}")
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
