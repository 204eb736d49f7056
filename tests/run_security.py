#!/usr/bin/python3
"""run_security.py - the unauthenticated and slow clients of a security audit, against a live
`myocds serve`, each finding tried as an attacker on loopback would.

- A forged token is refused (401) on the head, before the client sends one body byte; a
  valid one is verified once (its jti is not spent twice) and the call answered.
- 200 connections that each declare a 1 MiB body, with a forged token or none, and push
  half of it: the service's resident memory grows by less than 40 MB (nothing is kept).
- Bursts of 160 authenticated connections holding 600 KB each: once they are gone and the
  service idle, at most a third of the peak is still resident (glibc builds).
- Slow clients: 128 connections from each of two addresses that send one byte and stop
  hold no slot a third address needs (one address gets 1/8 of the connections), /healthz
  answers it in under a second; a client that trickles a byte every 2 s is cut at
  http.request_deadline_s, which the idle timeout never does.
- With one request thread busy on a slow FHIR server: /healthz, discovery and a preflight
  answer in under half a second (never behind queued calls); past http.queue_max a call
  gets 503 at once; calls whose client left while queued are not evaluated (the FHIR
  server never sees them; myocds_http_dropped_total{reason="abandoned"}).
- deploy/nginx.conf itself (nginx on loopback, with its own upstream and listen files)
  in front of the service: /metrics is refused by every spelling (/metrics/, /metrics%2F,
  //metrics, /METRICS, /./metrics, /cds-services/../metrics) while discovery passes.
- SIGTERM with 30 calls queued on a slow FHIR server: the process exits within the drain
  time plus 4 s, every client gets an answer, and those still queued get 503.

Standard library only (plus the openssl CLI). Usage:
    run_security.py --bin build/myocds --fixtures fixtures/cases --services hooks/services
Prints one line per check and, last, exactly "N passed, M failed"; exits 1 on failure.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (JSON_CT, NGINX_BIN, FhirServer, Nginx, Results, Serve,  # noqa: E402
                     check_outcome, free_port, gen_key, jwk_of, jwt_claims, load_schema,
                     make_token, raw_exchange, without_prefetch)

SIGN = "/cds-services/myositis-order-sign"
ISS = "https://ehr.security.test"
CASE = "order-sign-dm-chop-dexamethasone-tablet-epic-route-oral"  # a 200 case with a prefetch
DEADLINE_S = 3


def raw_head(port, path, headers, length, source="127.0.0.1"):
    """A socket that has sent a POST head declaring length body bytes, and nothing else."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             f"Content-Length: {length}"] + [f"{k}: {v}" for k, v in headers.items()]
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return s


def read_status(s, timeout):
    """The status of the answer on s within timeout seconds, or None."""
    s.settimeout(timeout)
    try:
        data = s.recv(4096)
    except (socket.timeout, OSError):
        return None
    m = re.match(rb"HTTP/1\.1 (\d{3})", data)
    return int(m.group(1)) if m else None


def check_early_401(res, srv, tokens):
    for name, hdrs in (("a forged token", {"Authorization": "Bearer " + tokens.forged()}),
                       ("a token of an unknown issuer",
                        {"Authorization": "Bearer " + tokens.token(iss="https://evil.test")})):
        s = raw_head(srv.port, SIGN, hdrs, 100000)
        t0 = time.monotonic()
        st = read_status(s, 2.0)
        s.close()
        res.check(f"{name}: 401 on the head, before any body byte is sent",
                  st == 401, f"status {st} after {time.monotonic() - t0:.2f} s")
    tok = tokens.token()
    st, _, body = srv.exchange("POST", SIGN, tokens.body,
                               dict(JSON_CT, Authorization="Bearer " + tok))
    res.check("a valid token: verified once on the head, the call answered 200",
              st == 200 and b'"cards"' in body, f"{st} {body[:160]}")
    st, _, body = srv.exchange("POST", SIGN, tokens.body,
                               dict(JSON_CT, Authorization="Bearer " + tok))
    bad = check_outcome(body, 401)
    res.check("the same token again: 401 (its jti was remembered once), an OperationOutcome",
              st == 401 and not bad, f"{st} {bad}")


def push_half(port, hdrs, half, source="127.0.0.1"):
    """Declares 1 MiB, sends half of it (or until refused); returns the socket."""
    s = raw_head(port, SIGN, hdrs, 1 << 20, source)
    try:
        s.sendall(b" " * half)
    except OSError:
        pass  # refused and closed: what we want
    return s


def check_memory(res, srv, tokens):
    before = srv.rss_kb()
    socks = []
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        futs = [ex.submit(push_half, srv.port,
                          {"Authorization": "Bearer " + tokens.forged()} if i % 2 else {},
                          512 << 10) for i in range(200)]
        socks = [f.result() for f in futs]
    time.sleep(0.5)
    grown = (srv.rss_kb() - before) / 1024.0
    for s in socks:
        s.close()
    res.check(f"200 unauthenticated 1 MiB bodies half sent: RSS +{grown:.1f} MB (< 40)",
              grown < 40, f"+{grown:.1f} MB")
    st, _ = srv.request("GET", "/healthz")
    res.check("and the service still answers", st == 200, str(st))


def authed_big(port, tokens, size, out, i):
    """One authenticated call with a body of size bytes (padded JSON_CT: kept, then parsed)."""
    pad = dict(tokens.body, extension={"pad": "x" * size})
    data = json.dumps(pad).encode()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", SIGN, body=data,
                  headers=dict(JSON_CT, Authorization="Bearer " + tokens.token()))
        r = c.getresponse()
        r.read()
        out[i] = r.status
        c.close()
    except OSError as e:
        out[i] = repr(e)


def sanitized(binary):
    """True for an ASan build: its allocator is not glibc's, and keeps freed memory."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    return "libasan" in out


def check_memory_returned(res, srv, tokens):
    """Bursts of authenticated connections each holding 600 KB of an unfinished 1 MiB body
    (kept: they are trusted); once they are gone and the service idle, the memory goes back
    (glibc's malloc only: not measured under ASan)."""
    if sanitized(srv.binary):
        print("skip - memory given back after bursts: an ASan build has its own allocator")
        return
    srv.request("GET", "/healthz")
    before = srv.rss_kb()
    peak = before
    for _ in range(3):  # from 8 addresses: one may hold 32 connections
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            socks = list(ex.map(lambda i: push_half(srv.port, {"Authorization": "Bearer " +
                                                              tokens.token()}, 600 << 10,
                                                    f"127.0.0.{10 + i % 8}"),
                                range(160)))
        time.sleep(0.3)
        peak = max(peak, srv.rss_kb())
        for s in socks:
            s.close()
        time.sleep(0.3)
    time.sleep(2.5)
    srv.request("GET", "/healthz")  # the first request after an idle spell
    time.sleep(0.3)
    after = srv.rss_kb()
    res.check(f"bursts of 160 authenticated connections holding 600 KB each: RSS "
              f"{before / 1024:.0f} -> peak {peak / 1024:.0f} -> {after / 1024:.0f} MB once idle "
              "(the peak over 60 MB above the start, at most a third of it kept)",
              peak - before > 60 << 10 and after - before < (peak - before) / 3)


def check_slow_clients(res, srv):
    held = []
    for source in ("127.0.0.2", "127.0.0.3"):
        for _ in range(128):
            try:
                s = socket.create_connection(("127.0.0.1", srv.port), timeout=5,
                                             source_address=(source, 0))
                s.sendall(b"P")
                held.append(s)
            except OSError:
                pass
    t0 = time.monotonic()
    try:
        st, _ = srv.request("GET", "/healthz", timeout=5)
    except OSError as e:
        st = repr(e)
    took = time.monotonic() - t0
    res.check(f"256 slow connections from two addresses: /healthz from a third in {took:.3f} s",
              st == 200 and took < 1.0, f"{st} in {took:.2f} s")
    for s in held:
        s.close()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30,
                                 source_address=("127.0.0.4", 0))
    t0 = time.monotonic()
    cut = None
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 64
    for i in range(len(head)):
        if time.monotonic() - t0 > DEADLINE_S + 6:
            break  # never cut
        try:
            s.sendall(head[i:i + 1])
            s.settimeout(2.0)
            if s.recv(1) == b"":
                cut = time.monotonic() - t0
                break
        except socket.timeout:
            continue
        except OSError:
            cut = time.monotonic() - t0
            break
    s.close()
    res.check(f"a byte every 2 s: cut after {cut and round(cut, 1)} s "
              f"(http.request_deadline_s {DEADLINE_S})",
              cut is not None and cut < DEADLINE_S + 2.5, f"cut {cut}")


# Every error answer post_async received that is not the OperationOutcome its status earns.
BAD_OUTCOMES = []


def post_async(srv, body, out, i, close_early=False):
    try:
        c = srv.conn(60)
        c.request("POST", SIGN, body=json.dumps(body).encode(), headers=JSON_CT)
        if close_early:
            c.sock.shutdown(socket.SHUT_RDWR)
            c.close()
            out[i] = "closed"
            return
        r = c.getresponse()
        out[i] = (r.status, r.read().decode("utf-8", "replace"))
        bad = check_outcome(out[i][1], r.status) if r.status >= 400 else None
        if bad:
            BAD_OUTCOMES.append(f"{r.status}: {bad}")
        c.close()
    except OSError as e:
        out[i] = repr(e)


def check_busy_pool(res, srv, body, fhir):
    out = {}
    threads = [threading.Thread(target=post_async, args=(srv, body, out, i)) for i in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    for method, path in (("GET", "/healthz"), ("GET", "/cds-services"),
                         ("OPTIONS", SIGN)):
        t0 = time.monotonic()
        st, _ = srv.request(method, path)
        took = time.monotonic() - t0
        res.check(f"{method} {path} with the pool busy on a slow FHIR server: {took:.3f} s",
                  st in (200, 204) and took < 0.5, f"{st} in {took:.2f} s")
    for t in threads:
        t.join()
    # queue_max 2, one thread: of 8 calls at once, some are refused at once with 503
    out = {}
    threads = [threading.Thread(target=post_async, args=(srv, body, out, i)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(v[0] if isinstance(v, tuple) else v for v in out.values())
    busy = [v for v in out.values() if isinstance(v, tuple) and v[0] == 503]
    res.check(f"8 calls at once, http.queue_max 2: answers {codes}",
              busy and all("too many calls waiting" in v[1] for v in busy) and 200 in codes,
              str(codes))
    # abandoned: one call runs, two more are queued and their clients leave
    seen = fhir.stats()["requests"]
    dropped = srv.metric('myocds_http_dropped_total{reason="abandoned"}') or 0
    out = {}
    first = threading.Thread(target=post_async, args=(srv, body, out, 0))
    first.start()
    time.sleep(0.3)
    gone = [threading.Thread(target=post_async, args=(srv, body, out, i, True)) for i in (1, 2)]
    for t in gone:
        t.start()
    for t in gone + [first]:
        t.join()
    time.sleep(0.5)
    now_dropped = srv.metric('myocds_http_dropped_total{reason="abandoned"}') or 0
    res.check("two calls whose clients left while queued are not evaluated "
              f"(abandoned {dropped} -> {now_dropped})", now_dropped - dropped == 2,
              f"FHIR reads since: {fhir.stats()['requests'] - seen}")


def check_shutdown(res, binary, config, body):
    srv = Serve(binary, config, timeout=30)
    if not res.check("serve (shutdown) starts", srv.start(), srv.tail()):
        return
    out = {}
    threads = [threading.Thread(target=post_async, args=(srv, body, out, i)) for i in range(30)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    rc = srv.stop(timeout=30)
    took = time.monotonic() - t0
    for t in threads:
        t.join(10)
    codes = [v[0] if isinstance(v, tuple) else v for v in out.values()]
    late = [v for v in out.values() if isinstance(v, tuple) and v[0] == 503]
    res.check(f"SIGTERM with 30 calls queued: exit {rc} after {took:.1f} s (drain 5 s + 4)",
              rc == 0 and took < 9.0, f"rc {rc}, {took:.1f} s")
    res.check(f"every client answered; still queued at the end: 503 ({len(late)} of 30)",
              len(codes) == 30 and all(c in (200, 503) for c in codes) and late
              and all("shutting down" in v[1] for v in late), str(sorted(map(str, codes))))


METRICS_SPELLINGS = ["/metrics", "/metrics/", "/metrics%2F", "/metrics%2f", "//metrics",
                    "/METRICS", "/Metrics/", "/./metrics", "/cds-services/../metrics",
                    "/%6detrics", "/metrics?x=1", "/metrics;x"]


def raw_get(port, path):
    """The status of GET path sent verbatim (no client normalisation)."""
    return raw_exchange(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n\r\n".encode(), timeout=10)[0]


def check_nginx(res, binary, src, tmp):
    """deploy/nginx.conf (the file itself, through a symlink so that its includes are
    ours) in front of one --dev replica."""
    if not res.check("nginx is installed (scripts/deps.sh test)", os.path.exists(NGINX_BIN)):
        return
    conf = os.path.join(tmp, "nginx.json")
    with open(conf, "w") as f:
        json.dump({"data_dir": os.path.join(tmp, "d4")}, f)
    srv = Serve(binary, conf, timeout=30)
    if not res.check("serve (behind nginx) starts", srv.start(), srv.tail()):
        return
    nginx = Nginx(tmp, src)
    nginx.upstream([srv.port])
    try:
        if res.check("nginx with deploy/nginx.conf passes GET /cds-services (200)",
                     nginx.start(), nginx.errors()[-300:]):
            got = {p: raw_get(nginx.port, p) for p in METRICS_SPELLINGS}
            res.check("through nginx, /metrics by no spelling reaches the service",
                      all(st in (400, 404) for st in got.values()), str(got))
            st = raw_get(srv.port, "/metrics")
            res.check("while the replica itself serves /metrics (200)", st == 200, str(st))
    finally:
        nginx.stop()
        srv.stop()


class Tokens:
    """Signed tokens for the issuer the service trusts, and forged ones."""

    def __init__(self, tmp, port, body):
        self.key = gen_key(os.path.join(tmp, "ec.pem"), "P-384")
        self.rogue = gen_key(os.path.join(tmp, "rogue.pem"), "P-384")
        self.jwks_path = os.path.join(tmp, "jwks.json")
        with open(self.jwks_path, "w") as f:
            json.dump({"keys": [jwk_of(self.key, "k1", "ES384")]}, f)
        self.port = port
        self.body = body

    def token(self, iss=ISS, key=None):
        return make_token({"alg": "ES384", "typ": "JWT", "kid": "k1"},
                          jwt_claims(iss, f"http://127.0.0.1:{self.port}{SIGN}"),
                          key or self.key, "ES384")

    def forged(self):
        return self.token(key=self.rogue)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--services", required=True)
    ap.add_argument("--src", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--schema", required=True, help="the FHIR R4 fhir.schema.json")
    a = ap.parse_args(argv)
    load_schema(a.schema)
    res = Results()
    with open(os.path.join(a.fixtures, CASE + ".json")) as f:
        request = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        tokens = Tokens(tmp, port, request)
        conf = os.path.join(tmp, "jwt.json")
        with open(conf, "w") as f:
            json.dump({"data_dir": os.path.join(tmp, "d1"),
                       "public_base_url": f"http://127.0.0.1:{port}",
                       "http": {"request_deadline_s": DEADLINE_S},
                       "auth": {"issuers": [{"iss": ISS, "jwks_file": tokens.jwks_path}]}}, f)
        srv = Serve(a.bin, conf, dev=False, port=port, timeout=30)
        if res.check("serve (JWT required) starts", srv.start(), srv.tail()):
            check_early_401(res, srv, tokens)
            check_memory(res, srv, tokens)
            check_memory_returned(res, srv, tokens)
            check_slow_clients(res, srv)
        srv.stop()
        fhir = FhirServer(tmp, "slow", a.fixtures, a.services, "--delay-ms", 1200)
        try:
            body = without_prefetch(request, fhir.base, CASE)
            conf2 = os.path.join(tmp, "slow.json")
            with open(conf2, "w") as f:
                json.dump({"data_dir": os.path.join(tmp, "d2"),
                           "http": {"threads": 1, "queue_max": 2},
                           "fhir": {"allowed_servers": [fhir.base], "deadline_ms": 3000,
                                    "timeout_ms": 3000},
                           "cards": {"repeat_window_min": 0}}, f)
            srv = Serve(a.bin, conf2, timeout=30)
            if res.check("serve (one thread, slow FHIR) starts", srv.start(), srv.tail()):
                check_busy_pool(res, srv, body, fhir)
            srv.stop()
            conf3 = os.path.join(tmp, "stop.json")
            with open(conf3, "w") as f:
                json.dump({"data_dir": os.path.join(tmp, "d3"), "http": {"threads": 1},
                           "fhir": {"allowed_servers": [fhir.base], "deadline_ms": 3000,
                                    "timeout_ms": 3000},
                           "cards": {"repeat_window_min": 0}}, f)
            check_shutdown(res, a.bin, conf3, body)
        finally:
            fhir.stop()
        res.check("every 503 of the busy pool and the stop a FHIR R4 OperationOutcome",
                  not BAD_OUTCOMES, "; ".join(BAD_OUTCOMES[:3]))
        check_nginx(res, a.bin, a.src, tmp)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
