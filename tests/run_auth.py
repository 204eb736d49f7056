#!/usr/bin/python3
"""run_auth.py - JWT trust on a live `myocds serve` WITHOUT --dev.

Keys are generated here with the openssl CLI (EC P-384 x2, P-256, RSA 2048, and a rogue
P-384 key the service does not know). Tokens come from `myocds call` (the client under
test) and, for every hostile shape, are built here and signed with `openssl dgst`, an
implementation independent of the service's. Every refusal must answer 401 with a JSON
error naming the failed check (never the token or a claim value) and WWW-Authenticate:
Bearer; the service must keep serving; every acceptance answers 200. A second server
fetches its issuer's JWKS over https from a loopback server with a self-signed CA (trusted
through auth.jwks_ca_file), caches it by kid, refreshes at most once a minute, and never
fetches a jku the token chose.

Standard library only (plus the openssl CLI). Usage:
    run_auth.py --bin build/myocds --fixtures fixtures/cases
Prints one line per check and, last, exactly "N passed, M failed"; exits 1 on failure.
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (JSON_CT as JSON, Results, Serve, b64u, check_outcome,  # noqa: E402
                     clean_env, dead_proxy_env, diagnostics, gen_key, jwk_of, jwt_claims,
                     load_schema, make_token, scratch, self_signed)

SIGN = "/cds-services/myositis-order-sign"
VIEW = "/cds-services/myositis-patient-view"
ISS = "https://ehr.test"
ISS_NO_URI = "https://ehr-file-only.test"
PINNED_URI = "https://ehr.test/.well-known/jwks.json"
REMOTE_ISS = "https://ehr-remote.test"
UNTRUSTED_ISS = "https://ehr-untrusted.test"
PUBLIC_BASE = "https://cds.example.org"
REQUEST_FIXTURE = "order-sign-pm-pred60-alone.json"  # an order-sign call that earns cards


class Ctx:
    """Keys, the request body and the claims builder shared by the checks."""

    def __init__(self, tmp, request):
        self.tmp = tmp
        self.request = request
        self.keys = {name: gen_key(os.path.join(tmp, name + ".pem"), kind) for name, kind in
                     (("ec-a", "P-384"), ("ec-b", "P-384"), ("rsa-1", "RSA"),
                      ("ec256", "P-256"), ("rogue", "P-384"))}
        self.jwks = {"keys": [jwk_of(self.keys["ec-a"], "ec-a", "ES384"),
                              jwk_of(self.keys["ec-b"], "ec-b", "ES384"),
                              jwk_of(self.keys["rsa-1"], "rsa-1", "RS384"),
                              jwk_of(self.keys["ec256"], "ec256", "ES256")]}

    def claims(self, aud, **over):
        return jwt_claims(over.pop("iss", ISS), aud, **over)

    def token(self, aud, kid="ec-a", alg="ES384", key=None, header=None, **over):
        h = {"alg": alg, "typ": "JWT", "kid": kid}
        h.update(header or {})
        h = {k: v for k, v in h.items() if v is not None}
        return make_token(h, self.claims(aud, **over), key or self.keys.get(kid, self.keys["ec-a"]),
                          alg)


# ---- the checks ------------------------------------------------------------------------

def bearer(tok):
    return dict(JSON, Authorization=f"Bearer {tok}")


def expect_401(res, srv, name, path, body, headers, needle, secrets=()):
    st, hdrs, raw = srv.exchange("POST", path, body, headers)
    bad = check_outcome(raw, 401)
    msg = diagnostics(raw)
    www = hdrs.get("www-authenticate", "")
    presented = headers.get("Authorization", "").startswith("Bearer ")
    leaked = [s for s in secrets if s and s in raw.decode("utf-8", "replace")]
    res.check(f"401 {name}: {needle!r}",
              st == 401 and not bad and needle in msg and
              www.startswith("Bearer") and (('invalid_token' in www) == presented) and not leaked,
              f"status {st}, {bad}, body {raw[:200]!r}, www-authenticate {www!r}, "
              f"leaked {leaked}")


def call(args, srv_url, key, *extra, body_file):
    p = subprocess.run([args.bin, "call", "--url", srv_url, "--key", key, *extra, body_file],
                       capture_output=True, timeout=args.timeout, env=clean_env())
    return p.returncode, p.stdout, p.stderr


def check_refusals(res, srv, ctx):
    aud = srv.base + SIGN
    req = ctx.request
    c = ctx.token
    expect_401(res, srv, "no Authorization header", SIGN, req, JSON, "missing")
    expect_401(res, srv, "not a bearer credential", SIGN, req,
               dict(JSON, Authorization="Basic dXNlcjpwYXNz"), "missing")
    expect_401(res, srv, "malformed token", SIGN, req, bearer("not.a.jwt"), "malformed")
    expect_401(res, srv, "two segments", SIGN, req, bearer("abc.def"), "malformed")
    tok = c(aud, key=ctx.keys["rogue"])
    expect_401(res, srv, "bad signature (a key the issuer never published)", SIGN, req,
               bearer(tok), "bad signature", [tok])
    good = c(aud)
    h, p, s = good.split(".")
    tampered = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    tampered["aud"] = [aud, "x"]
    expect_401(res, srv, "tampered payload", SIGN, req,
               bearer(f"{h}.{b64u(json.dumps(tampered).encode())}.{s}"), "bad signature")
    expect_401(res, srv, "unknown kid", SIGN, req, bearer(c(aud, kid="nope", key=ctx.keys["ec-a"])),
               "unknown kid")
    jti = str(uuid.uuid4())
    expect_401(res, srv, "unknown issuer", SIGN, req,
               bearer(c(aud, iss="https://evil.test", jti=jti)), "unknown issuer",
               ["evil.test", jti])
    expect_401(res, srv, "wrong aud (the discovery URL)", SIGN, req,
               bearer(c(srv.base + "/cds-services")), "audience mismatch")
    expect_401(res, srv, "aud of another service", SIGN, req, bearer(c(srv.base + VIEW)),
               "audience mismatch")
    now = int(time.time())
    expect_401(res, srv, "expired", SIGN, req, bearer(c(aud, exp=now - 120, iat=now - 300)),
               "expired")
    expect_401(res, srv, "lifetime over the maximum", SIGN, req,
               bearer(c(aud, exp=now + 3600, iat=now)), "lifetime")
    expect_401(res, srv, "iat in the future", SIGN, req,
               bearer(c(aud, exp=now + 900, iat=now + 700)), "iat in the future")
    expect_401(res, srv, "nbf in the future", SIGN, req, bearer(c(aud, nbf=now + 200)),
               "not valid yet")
    expect_401(res, srv, "exp missing", SIGN, req, bearer(c(aud, exp=None)), "exp missing")
    expect_401(res, srv, "exp as a string", SIGN, req, bearer(c(aud, exp=str(now + 60))),
               "exp missing")
    expect_401(res, srv, "jti missing", SIGN, req, bearer(c(aud, jti=None)), "jti missing")
    check_alg_refusals(res, srv, ctx, aud)


def check_alg_refusals(res, srv, ctx, aud):
    req = ctx.request
    claims = ctx.claims(aud)
    for alg in ("none", "NONE"):
        tok = make_token({"alg": alg, "typ": "JWT", "kid": "ec-a"}, claims)
        expect_401(res, srv, f"alg {alg} (unsigned)", SIGN, req, bearer(tok),
                   "algorithm not allowed")
    for alg, kid in (("HS256", "rsa-1"), ("HS384", "ec-a"), ("HS512", "rsa-1")):
        tok = make_token({"alg": alg, "typ": "JWT", "kid": kid}, ctx.claims(aud),
                         ctx.keys[kid] + ".pub")
        expect_401(res, srv, f"{alg} keyed with the public key's PEM ({kid})", SIGN, req,
                   bearer(tok), "algorithm not allowed")
    expect_401(res, srv, "ES256 not in auth.allowed_algs", SIGN, req,
               bearer(ctx.token(aud, kid="ec256", alg="ES256")), "algorithm not allowed")
    expect_401(res, srv, "typ missing", SIGN, req,
               bearer(ctx.token(aud, header={"typ": None})), "typ")
    expect_401(res, srv, "typ at+jwt", SIGN, req,
               bearer(ctx.token(aud, header={"typ": "at+jwt"})), "typ")
    expect_401(res, srv, "kid missing", SIGN, req, bearer(ctx.token(aud, kid=None)), "kid missing")
    expect_401(res, srv, "crit header", SIGN, req,
               bearer(ctx.token(aud, header={"crit": ["exp"]})), "critical")
    expect_401(res, srv, "ES384 token naming the RSA key", SIGN, req,
               bearer(ctx.token(aud, kid="rsa-1", key=ctx.keys["ec-a"])), "does not match the key")
    expect_401(res, srv, "ES384 token naming the P-256 key", SIGN, req,
               bearer(ctx.token(aud, kid="ec256", key=ctx.keys["ec256"])),
               "does not match the key")
    expect_401(res, srv, "RS384 token naming an EC key", SIGN, req,
               bearer(ctx.token(aud, kid="ec-a", alg="RS384", key=ctx.keys["rsa-1"])),
               "does not match the key")
    expect_401(res, srv, "jku on an issuer without jwks_uri", SIGN, req,
               bearer(ctx.token(aud, iss=ISS_NO_URI, header={"jku": PINNED_URI})), "jku")
    expect_401(res, srv, "jku other than the configured JWKS URL", SIGN, req,
               bearer(ctx.token(aud, header={"jku": "https://attacker.test/jwks.json"})), "jku")


def check_acceptances(res, srv, ctx, args, body_file):
    aud = srv.base + SIGN
    for kid, extra in (("ec-a", []), ("rsa-1", ["--alg", "RS384"]), ("ec-b", [])):
        rc, out, err = call(args, srv.base + SIGN, ctx.keys[kid], "--iss", ISS, "--kid", kid,
                            *extra, body_file=body_file)
        ok = rc == 0 and b'"cards"' in out
        res.check(f"200 myocds call, kid {kid} ({'RS384' if 'rsa' in kid else 'ES384'})", ok,
                  f"exit {rc}, out {out[:160]!r}, err {err[-200:]!r}")
    for name, tok in (("aud as an array", ctx.token([srv.base + VIEW, aud])),
                      ("RS384 built here", ctx.token(aud, kid="rsa-1", alg="RS384")),
                      ("jku = the issuer's configured jwks_uri",
                       ctx.token(aud, header={"jku": PINNED_URI})),
                      ("issuer with jwks_file only", ctx.token(aud, iss=ISS_NO_URI)),
                      ("nbf in the past, exp as a fraction",
                       ctx.token(aud, nbf=int(time.time()) - 5, exp=time.time() + 200.5)),
                      ("typ in lower case", ctx.token(aud, header={"typ": "jwt"}))):
        st, _, raw = srv.exchange("POST", SIGN, ctx.request, bearer(tok))
        res.check(f"200 {name}", st == 200 and b'"cards"' in raw, f"status {st} {raw[:160]!r}")
    tok = ctx.token(aud)
    st1, _, _ = srv.exchange("POST", SIGN, ctx.request, bearer(tok))
    expect_401(res, srv, "replayed jti (first use 200)", SIGN, ctx.request, bearer(tok),
               "jti replayed")
    res.check("the replayed token's first use was 200", st1 == 200, f"status {st1}")
    rc, out, err = call(args, srv.base + SIGN, ctx.keys["rogue"], "--iss", ISS, "--kid", "ec-a",
                        body_file=body_file)
    res.check("myocds call on a refusal: exit 1, the 401 OperationOutcome on stdout",
              rc == 1 and check_outcome(out, 401) is None and b"401" in err,
              f"exit {rc}, out {out[:160]!r}, {check_outcome(out, 401)}")


def check_feedback(res, srv, ctx, args, tmp):
    fb_path = SIGN + "/feedback"
    body = {"feedback": [{"card": "c-auth-1", "outcome": "accepted",
                          "outcomeTimestamp": "2025-01-15T14:03:40Z",
                          "acceptedSuggestions": [{"id": "s-1"}]}]}
    expect_401(res, srv, "feedback without a token", fb_path, body, JSON, "missing")
    expect_401(res, srv, "feedback with the aud of another service", fb_path, body,
               bearer(ctx.token(srv.base + VIEW + "/feedback")), "audience mismatch")
    expect_401(res, srv, "feedback expired", fb_path, body,
               bearer(ctx.token(srv.base + SIGN, exp=int(time.time()) - 100,
                                iat=int(time.time()) - 200)), "expired")
    st, _, raw = srv.exchange("POST", fb_path, body,
                             bearer(ctx.token(srv.base + fb_path, tenant="org-17")))
    res.check("200 feedback, aud = the feedback URL, tenant recorded", st == 200,
              f"status {st} {raw[:160]!r}")
    body["feedback"][0]["outcome"] = "overridden"
    body["feedback"][0].pop("acceptedSuggestions")
    st, _, raw = srv.exchange("POST", fb_path, body, bearer(ctx.token(srv.base + SIGN)))
    res.check("200 feedback, aud = the service URL", st == 200, f"status {st} {raw[:160]!r}")
    path = os.path.join(tmp, "feedback.json")
    with open(path, "w") as f:
        json.dump({"feedback": [dict(body["feedback"][0], card="c-auth-2")]}, f)
    rc, out, err = call(args, srv.base + fb_path, ctx.keys["ec-a"], "--iss", ISS, "--kid", "ec-a",
                        body_file=path)
    res.check("200 myocds call to the feedback URL", rc == 0, f"exit {rc} {out[:120]!r} {err!r}")
    try:
        with sqlite3.connect(os.path.join(tmp, "data", "myocds.sqlite")) as db:
            rows = db.execute("SELECT outcome, iss, tenant FROM feedback"
                              " WHERE card_uuid = 'c-auth-1' ORDER BY outcome").fetchall()
        res.check("feedback stored with the verified iss and tenant",
                  rows == [("accepted", ISS, "org-17"), ("overridden", ISS, None)], repr(rows))
    except sqlite3.Error as e:
        res.check("feedback stored with the verified iss and tenant", False, repr(e))


def run_pinned(res, args, ctx, tmp, body_file):
    jwks_path = os.path.join(tmp, "jwks.json")
    with open(jwks_path, "w") as f:
        json.dump(ctx.jwks, f)
    conf = os.path.join(tmp, "config.json")
    with open(conf, "w") as f:
        json.dump({"data_dir": os.path.join(tmp, "data"), "cards": {"repeat_window_min": 0},
                   "auth": {"issuers": [
                       {"iss": ISS, "jwks_file": jwks_path, "jwks_uri": PINNED_URI},
                       {"iss": ISS_NO_URI, "jwks_file": jwks_path}]}}, f)
    srv = Serve(args.bin, conf, dev=False, timeout=args.timeout, stop_timeout=10)
    if not res.check("serve without --dev starts with a pinned JWKS", srv.start(args.timeout),
                     srv.tail(4)):
        srv.stop()
        return
    try:
        st, _, _ = srv.exchange("GET", "/cds-services")
        res.check("discovery stays open", st == 200, f"status {st}")
        check_refusals(res, srv, ctx)
        check_acceptances(res, srv, ctx, args, body_file)
        check_feedback(res, srv, ctx, args, tmp)
        st, _, _ = srv.exchange("GET", "/healthz")
        res.check("still serving after every refusal (healthz 200)", st == 200, f"status {st}")
        st, _, _ = srv.exchange("POST", SIGN, ctx.request, bearer(ctx.token(srv.base + SIGN)))
        res.check("still accepting after every refusal", st == 200, f"status {st}")
        st, _, raw = srv.exchange("GET", "/metrics")
        text = raw.decode("utf-8", "replace")
        res.check("/metrics counts refusals by reason",
                  st == 200 and all(f'myocds_jwt_refusals_total{{reason="{r}"}}' in text
                                    for r in ("no_token", "audience", "alg", "replay")),
                  f"status {st}; {[ln for ln in text.splitlines() if 'jwt' in ln][:6]}")
    except (OSError, http.client.HTTPException) as e:
        res.check("server answers", False, f"{e!r}; {srv.tail(4)}")
    res.check("no token in the logs", not any("eyJ" in ln for ln in srv.lines), srv.tail(2))
    res.check("refusals logged with their reason", srv.saw('"reason":"audience"'), srv.tail(2))
    rc = srv.stop()
    res.check("SIGTERM after the auth run: exit 0", rc == 0, f"exit {rc}; {srv.tail(4)}")


# ---- JWKS over https -----------------------------------------------------------------

class JwksHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.paths.append(self.path)
        body = json.dumps(self.server.jwks).encode()
        if self.path != "/jwks.json":
            self.send_response(404)
            body = b"{}"
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def https_server(cert, key, jwks):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), JwksHandler)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
    srv.jwks, srv.paths = jwks, []
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def run_remote(res, args, ctx, tmp, body_file):
    cert, key = self_signed(tmp, "tls")
    cert2, key2 = self_signed(tmp, "tls-untrusted")
    jwks = https_server(cert, key, {"keys": [ctx.jwks["keys"][0]]})
    untrusted = https_server(cert2, key2, ctx.jwks)
    uri = f"https://127.0.0.1:{jwks.server_address[1]}/jwks.json"
    conf = os.path.join(tmp, "config-remote.json")
    with open(conf, "w") as f:
        json.dump({"data_dir": os.path.join(tmp, "data-remote"), "public_base_url": PUBLIC_BASE,
                   "cards": {"repeat_window_min": 0},
                   "auth": {"jwks_ca_file": cert, "allowed_algs": ["ES384", "ES256"],
                            "issuers": [{"iss": REMOTE_ISS, "jwks_uri": uri},
                                        {"iss": UNTRUSTED_ISS, "jwks_uri":
                                         f"https://127.0.0.1:{untrusted.server_address[1]}"
                                         "/jwks.json"}]}}, f)
    # Proxy variables point at a closed port: the JWKS fetch must not use them.
    srv = Serve(args.bin, conf, dev=False, env=dead_proxy_env(), timeout=args.timeout,
                stop_timeout=10)
    try:
        if res.check("serve starts with a jwks_uri issuer", srv.start(args.timeout),
                     srv.tail(4)):
            remote_checks(res, srv, ctx, jwks, untrusted, uri)
    except (OSError, http.client.HTTPException) as e:
        res.check("server answers", False, f"{e!r}; {srv.tail(4)}")
    finally:
        srv.stop()
        for s in (jwks, untrusted):
            s.shutdown()
            s.server_close()


def remote_checks(res, srv, ctx, jwks, untrusted, uri):
    aud = PUBLIC_BASE + SIGN
    tok = lambda **kw: ctx.token(aud, iss=REMOTE_ISS, **kw)  # noqa: E731
    st, _, raw = srv.exchange("POST", SIGN, ctx.request, bearer(tok()))
    res.check("200 with a key fetched over https (aud built from public_base_url)",
              st == 200 and jwks.paths == ["/jwks.json"], f"status {st}, fetches {jwks.paths}")
    st, _, _ = srv.exchange("POST", SIGN, ctx.request, bearer(tok(header={"jku": uri})))
    res.check("200 again from the cache, jku = the configured jwks_uri",
              st == 200 and len(jwks.paths) == 1, f"status {st}, fetches {jwks.paths}")
    expect_401(res, srv, "aud = the listener URL when public_base_url is set", SIGN, ctx.request,
               bearer(ctx.token(srv.base + SIGN, iss=REMOTE_ISS)), "audience mismatch")
    expect_401(res, srv, "jku naming another URL on the same host", SIGN, ctx.request,
               bearer(tok(header={"jku": uri.replace("jwks.json", "other.json")})), "jku")
    res.check("the token's jku was never fetched", "/other.json" not in jwks.paths, jwks.paths)
    jwks.jwks = {"keys": ctx.jwks["keys"][:2]}  # the EHR rotates in ec-b
    expect_401(res, srv, "new kid within a minute of the last fetch (no refetch)", SIGN,
               ctx.request, bearer(tok(kid="ec-b")), "unknown kid")
    res.check("at most one fetch a minute", len(jwks.paths) == 1, jwks.paths)
    expect_401(res, srv, "ES256 allowed, but this issuer has no such key", SIGN, ctx.request,
               bearer(tok(kid="ec256", alg="ES256")), "unknown kid")
    expect_401(res, srv, "JWKS server with an untrusted certificate", SIGN, ctx.request,
               bearer(ctx.token(aud, iss=UNTRUSTED_ISS)), "keys are unavailable")
    res.check("nothing was served over the untrusted TLS connection", untrusted.paths == [],
              untrusted.paths)
    res.check("the failed fetch is logged", srv.saw("jwks fetch failed"), srv.tail(4))


def main(argv=None):
    ap = argparse.ArgumentParser(description="JWT verification on a live myocds serve.")
    ap.add_argument("--bin", required=True, help="path to the myocds executable")
    ap.add_argument("--fixtures", required=True, help="directory of CDS Hooks request fixtures")
    ap.add_argument("--schema", required=True, help="the FHIR R4 fhir.schema.json")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds for a start or a call")
    args = ap.parse_args(argv)
    load_schema(args.schema)
    args.bin = os.path.abspath(args.bin)
    res = Results()
    with scratch("auth") as tmp:
        body_file = os.path.join(os.path.abspath(args.fixtures), REQUEST_FIXTURE)
        with open(body_file, "rb") as f:
            request = json.load(f)
        ctx = Ctx(tmp, request)
        run_pinned(res, args, ctx, tmp, body_file)
        run_remote(res, args, ctx, tmp, body_file)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
