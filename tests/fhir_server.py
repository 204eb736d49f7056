#!/usr/bin/python3
"""fhir_server.py - a small FHIR server for the tests, on 127.0.0.1 with an ephemeral port.

It serves the prefetch of the fixture requests by search URL: for every case NAME in
--fixtures (NAME.json + NAME.expect.json), each prefetch template of the case's service
(hooks/services/*.json) is rendered from the case's context, and a GET of
    /fhir/NAME/<rendered template>
answers that key's value: a null search key (no data) an empty searchset Bundle, a null
read 404, a key the case does not have at all 403 (the data cannot be had, as when the
request names a server that is not allowed). Query parameters are compared decoded and
in any order. Any other GET of /fhir/NAME/Type/id reads that resource from the case's
prefetch values (e.g. a Medication a MedicationRequest points at), else 404. A search
with _include=MedicationRequest:medication also holds, as a real server writes them,
the Medications its MedicationRequests point at (found among the case's prefetch values
by fullUrl or Type/id; contained ones stay contained) that it does not hold already, as
entries with search.mode "include" (on each page, for the matches of that page).

Options make it misbehave the way FHIR servers do:
    --token T          require "Authorization: Bearer T" (else 401 + OperationOutcome)
    --delay-ms N       answer each query after N ms (--delay-match S: only paths with S)
    --fail-status N    answer every query with status N and an OperationOutcome
    --huge-match S     answer queries whose path holds S with 9 MiB, chunked (no length)
    --page-size N      split searchset Bundles into pages of N entries (link next)
    --next-base URL    put the next links under URL instead of this server
    --tls-cert F --tls-key K   speak HTTPS with this certificate (HTTP/1.1 over TLS)
    --stats FILE       keep {"connections", "requests", "authorized", "max_parallel",
                       "next_links" (offered), "paths"} in FILE (rewritten atomically)
It prints "port N" on stdout when ready. Standard library only; stops on SIGTERM/SIGINT.
"""
import argparse
import json
import os
import re
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN_RE = re.compile(r"\{\{([^}]*)\}\}")
USER_TOKENS = {"userPractitionerId": "Practitioner", "userPractitionerRoleId": "PractitionerRole",
               "userPatientId": "Patient", "userRelatedPersonId": "RelatedPerson"}
PREFIX = "/fhir/"
HUGE_BYTES = 9 << 20  # over the client's 8 MiB cap for one answer
_ABSENT = object()  # a key the fixture does not have: refused, as no EHR would give it


def outcome(code, text):
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": text}]}


def normalize(path_and_query):
    """(path, sorted decoded query pairs): the same search however it was encoded."""
    parts = urllib.parse.urlsplit(path_and_query)
    path = urllib.parse.unquote(parts.path).strip("/")
    query = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return path, tuple(query)


def render(template, request):
    """The template with {{context.x}} and {{userXxxId}} filled in, values URL-encoded."""
    context = request.get("context") or {}
    user = context.get("userId", "")

    def value(m):
        name = m.group(1).strip()
        if name.startswith("context."):
            v = context.get(name[len("context."):])
        elif name in USER_TOKENS and user.startswith(USER_TOKENS[name] + "/"):
            v = user.split("/", 1)[1]
        else:
            v = None
        if not isinstance(v, str):
            raise ValueError(f"template token {name} has no value")
        return urllib.parse.quote(v, safe="")
    return TOKEN_RE.sub(value, template)


INCLUDE_MEDICATION = ("_include", "MedicationRequest:medication")


def resources_of(value, store):
    """Adds every resource of value (a resource or a Bundle, nested) to store, by
    "Type/id" and by fullUrl."""
    if not isinstance(value, dict):
        return
    if value.get("resourceType") == "Bundle":
        for e in value.get("entry") or []:
            if not isinstance(e, dict) or not isinstance(e.get("resource"), dict):
                continue
            if isinstance(e.get("fullUrl"), str):
                store.setdefault(e["fullUrl"], e["resource"])
            resources_of(e["resource"], store)
    elif isinstance(value.get("resourceType"), str) and isinstance(value.get("id"), str):
        store.setdefault(f"{value['resourceType']}/{value['id']}", value)


def resolve(store, ref):
    """The resource a literal reference names in store, or None (contained: None)."""
    if not isinstance(ref, str) or not ref or ref.startswith("#"):
        return None
    if ref in store:
        return store[ref]
    segs = ref.split("/")
    if len(segs) >= 4 and segs[-2] == "_history":
        segs = segs[:-2]
    return store.get("/".join(segs[-2:])) if len(segs) >= 2 else None


def with_includes(doc, store):
    """doc (a Bundle, not changed) plus the Medications its MedicationRequests point at."""
    entries = list(doc.get("entry") or [])
    held = {f"{e['resource'].get('resourceType')}/{e['resource'].get('id')}"
            for e in entries if isinstance(e, dict) and isinstance(e.get("resource"), dict)}
    for e in list(entries):
        res = e.get("resource") if isinstance(e, dict) else None
        if not isinstance(res, dict) or res.get("resourceType") != "MedicationRequest":
            continue
        med = resolve(store, (res.get("medicationReference") or {}).get("reference"))
        if not isinstance(med, dict) or med.get("resourceType") != "Medication":
            continue
        name = f"Medication/{med.get('id')}"
        if name not in held:
            held.add(name)
            entries.append({"resource": med, "search": {"mode": "include"}})
    out = dict(doc)
    if entries:
        out["entry"] = entries
    return out


def load_cases(fixtures, services_dir):
    """{case: {normalized key: (prefetch key, value, is_search)}} for every fixture case,
    and {case: {"Type/id" or fullUrl: resource}} of the resources in its prefetch."""
    templates = {}
    for name in os.listdir(services_dir):
        if name.endswith(".json"):
            with open(os.path.join(services_dir, name), "rb") as f:
                svc = json.load(f)
            templates[svc["id"]] = svc.get("prefetch") or {}
    cases, stores = {}, {}
    for name in sorted(os.listdir(fixtures)):
        if not name.endswith(".expect.json"):
            continue
        case = name[: -len(".expect.json")]
        try:
            with open(os.path.join(fixtures, name), "rb") as f:
                expect = json.load(f)
            with open(os.path.join(fixtures, case + ".json"), "rb") as f:
                request = json.load(f)
        except (OSError, ValueError):
            continue
        prefetch = request.get("prefetch") or {}
        stores[case] = {}
        for value in prefetch.values():
            resources_of(value, stores[case])
        routes = {}
        for key, tmpl in templates.get(expect.get("service"), {}).items():
            try:
                rendered = render(tmpl, request)
            except ValueError:
                continue
            routes[normalize(rendered)] = (key, prefetch.get(key, _ABSENT), "?" in tmpl)
        cases[case] = routes
    return cases, stores


class Stats:
    """Counters, written to a file so a test can read them without a connection."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.data = {"connections": 0, "requests": 0, "authorized": 0, "parallel": 0,
                     "max_parallel": 0, "next_links": 0, "paths": []}
        self.flush()

    def bump(self, **changes):
        with self.lock:
            for k, v in changes.items():
                if k == "path":
                    self.data["paths"].append(v)
                else:
                    self.data[k] += v
            self.data["max_parallel"] = max(self.data["max_parallel"], self.data["parallel"])
            self.flush()

    def flush(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client may reuse connections
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms stalls

    def setup(self):
        super().setup()
        self.server.stats.bump(connections=1)

    def log_message(self, fmt, *args):  # quiet: the tests print what matters
        pass

    def send_json(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_huge(self):
        """A valid searchset Bundle of HUGE_BYTES, chunked: only the client's write callback
        can stop it."""
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        filler = b"x" * 65536
        parts = [b'{"resourceType":"Bundle","type":"searchset","id":"']
        parts += [filler] * (HUGE_BYTES // len(filler)) + [b'"}']
        try:
            for part in parts:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True  # the client hung up: expected

    def do_GET(self):
        o = self.server.opts
        auth = self.headers.get("Authorization")
        self.server.stats.bump(requests=1, authorized=1 if auth else 0, parallel=1,
                               path=urllib.parse.urlsplit(self.path).path)
        try:
            if o.delay_ms and (not o.delay_match or o.delay_match in self.path):
                time.sleep(o.delay_ms / 1000.0)
            if o.huge_match and o.huge_match in self.path:
                self.send_huge()
                return
            status, doc = self.answer(auth)
            self.send_json(status, doc)
        finally:
            self.server.stats.bump(parallel=-1)

    def answer(self, auth):
        o = self.server.opts
        if o.token is not None and auth != "Bearer " + o.token:
            return 401, outcome("login", "a valid bearer token is required")
        if o.fail_status:
            return o.fail_status, outcome("exception", "the server failed as told")
        if self.headers.get("Accept") != "application/fhir+json":
            return 406, outcome("not-supported", "Accept must be application/fhir+json")
        if not self.path.startswith(PREFIX):
            return 404, outcome("not-found", "unknown base")
        case, _, rest = self.path[len(PREFIX):].partition("/")
        routes = self.server.cases.get(urllib.parse.unquote(case))
        if routes is None:
            return 404, outcome("not-found", "unknown case")
        path, query = normalize(rest)
        include = INCLUDE_MEDICATION in query
        if path == "_page":
            return self.page(case, routes, dict(query), include)
        hit = routes.get((path, query))
        if hit is None:
            res = self.server.stores[case].get(path) if not query else None
            if res is not None and path.count("/") == 1:
                return 200, res
            return 404, outcome("not-found", "no such resource or search")
        key, value, search = hit
        if value is _ABSENT:
            return 403, outcome("forbidden", "the fixture holds no data for this key")
        if value is None:
            if not search:
                return 404, outcome("not-found", "no such resource")
            value = {"resourceType": "Bundle", "type": "searchset", "entry": []}
        return 200, self.paged(case, key, value, 0, include)

    def page(self, case, routes, q, include):
        for key, value, search in routes.values():
            if key == q.get("key") and search and isinstance(value, dict):
                return 200, self.paged(case, key, value, int(q.get("offset", "0")), include)
        return 404, outcome("not-found", "no such page")

    def paged(self, case, key, value, offset, include):
        """value, or the page of it starting at offset with a next link; with include, the
        Medications its MedicationRequests point at."""
        size = self.server.opts.page_size
        if value.get("resourceType") != "Bundle":
            return value
        store = self.server.stores[case]
        if not size:
            return with_includes(value, store) if include else value
        entries = value.get("entry") or []
        doc = dict(value)
        doc["entry"] = entries[offset:offset + size]
        if not doc["entry"]:
            doc.pop("entry")
        if offset + size < len(entries):
            base = self.server.opts.next_base or f"http://127.0.0.1:{self.server.server_port}/fhir"
            params = {"key": key, "offset": offset + size}
            if include:
                params[INCLUDE_MEDICATION[0]] = INCLUDE_MEDICATION[1]
            query = urllib.parse.urlencode(params)
            doc["link"] = [{"relation": "next", "url": f"{base}/{case}/_page?{query}"}]
            self.server.stats.bump(next_links=1)
        return with_includes(doc, store) if include else doc


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--services", required=True, help="hooks/services")
    ap.add_argument("--token")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--delay-match", default="")
    ap.add_argument("--fail-status", type=int, default=0)
    ap.add_argument("--huge-match", default="")
    ap.add_argument("--page-size", type=int, default=0)
    ap.add_argument("--next-base")
    ap.add_argument("--stats")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    o = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    if o.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(o.tls_cert, o.tls_key)
        tls.set_alpn_protocols(["http/1.1"])
        # A client that rejects the certificate fails in accept(): no request, no count.
        srv.socket = tls.wrap_socket(srv.socket, server_side=True)
    srv.opts = o
    srv.cases, srv.stores = load_cases(o.fixtures, o.services)
    srv.stats = Stats(o.stats)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=srv.shutdown).start())
    signal.signal(signal.SIGINT, lambda *_: threading.Thread(target=srv.shutdown).start())
    print(f"port {srv.server_port}", flush=True)
    srv.serve_forever(poll_interval=0.1)
    srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
