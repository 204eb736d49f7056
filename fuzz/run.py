#!/usr/bin/python3
"""run.py - run every libFuzzer target for a bounded time, seeded from fixtures/.

Seeds are generated at run time into BUILD/fuzz-corpus/<target>/seed (never committed):
every fixture request (and a generated benchmark request) for `request`, every
MedicationRequest found in them for `dose`, hand-made feedback bodies for `feedback`, JWK
Sets of keys made with the openssl CLI for `jwks`, and tokens signed with one of those
keys (its JWKS given to the target in MYOCDS_FUZZ_JWKS) for `jwt`.
Each target then runs for --seconds under ASan+UBSan (the fuzz build), growing
BUILD/fuzz-corpus/<target>/work. A crash, leak, sanitizer report or timeout fails the run;
the input is left in BUILD/fuzz-artifacts/<target>/ - once fixed, copy it to
fuzz/regressions/<target>/ so CTest replays it in every build.

Usage: fuzz/run.py --build build/fuzz [--seconds 60] [--targets request,dose] [--jobs 1]
Prints one line per target (executions, executions/s, corpus, result) and exits 1 on any
finding. Standard library only.
"""
import argparse
import base64
import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "fixtures", "cases")
MAX_LEN = {"request": 65536, "dose": 8192, "feedback": 8192, "jwt": 8192, "jwks": 16384}
ISS = "https://ehr.example.org"  # what fuzz/fuzz_jwt.c trusts
AUD = "https://cds.example.org/cds-services/myositis-order-sign"
NOW = 1773655200  # 2026-03-16, fuzz_jwt.c's clock
DEFAULT_MAX_LEN = 16384

FEEDBACK_SEEDS = [
    {"feedback": [{"card": "5e5b2f1a-3c1d-4c59-9a43-4f1e0d7f8a11", "outcome": "accepted",
                   "acceptedSuggestions": [{"id": "s-1"}, {"id": "s-2"}],
                   "outcomeTimestamp": "2026-03-16T10:25:31Z"}]},
    {"feedback": [{"card": "c1", "outcome": "overridden",
                   "overrideReason": {"reason": {"system": "urn:myocds:override-reason",
                                                 "code": "specialist-advice"},
                                      "userComment": "discussed"},
                   "outcomeTimestamp": "2026-03-16T10:25:31.123+01:00"}]},
    {"feedback": [{"card": "c2", "outcome": "overridden",
                   "outcomeTimestamp": "2024-02-29T23:59:60Z"}], "extension": {"x": 1}},
    {"feedback": []},
    {"feedback": [{"card": "", "outcome": "maybe"}]},
]


def requests():
    """(name, bytes) of every fixture request body."""
    for name in sorted(os.listdir(FIXTURES)):
        if name.endswith(".json") and not name.endswith(".expect.json"):
            with open(os.path.join(FIXTURES, name), "rb") as f:
                yield name, f.read()


def med_requests(node):
    """Every MedicationRequest object anywhere in a JSON tree."""
    if isinstance(node, dict):
        if node.get("resourceType") == "MedicationRequest":
            yield node
        for v in node.values():
            yield from med_requests(v)
    elif isinstance(node, list):
        for v in node:
            yield from med_requests(v)


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True).stdout


def make_keys(key_dir):
    """An RSA and a P-256 key (PEM files) and the JWKS publishing both; returns its text."""
    os.makedirs(key_dir, exist_ok=True)
    rsa, ec = os.path.join(key_dir, "rsa.pem"), os.path.join(key_dir, "ec.pem")
    if not os.path.exists(rsa):
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa)
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ec)
    modulus = openssl("rsa", "-in", rsa, "-noout", "-modulus").decode().split("=", 1)[1].strip()
    point = openssl("pkey", "-in", ec, "-pubout", "-outform", "DER")[-65:]  # 04 || X || Y
    keys = [{"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
             "n": b64u(bytes.fromhex(modulus)), "e": "AQAB"},
            {"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256",
             "x": b64u(point[1:33]), "y": b64u(point[33:])}]
    return json.dumps({"keys": keys}), rsa


def jwt_seeds(rsa):
    """Tokens: good ones signed RS256 with rsa (PKCS#1 v1.5 from openssl dgst), and the
    shapes a verifier must refuse."""
    def token(header, claims, sign=True):
        signing = f"{b64u(json.dumps(header).encode())}.{b64u(json.dumps(claims).encode())}"
        sig = openssl("dgst", "-sha256", "-sign", rsa, data=signing.encode()) if sign else b""
        return f"{signing}.{b64u(sig)}".encode()
    head = {"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}
    claims = {"iss": ISS, "sub": "ehr-client", "aud": AUD, "exp": NOW + 300, "iat": NOW,
              "jti": "4d3c2b1a-0000-4000-8000-000000000001", "tenant": "t1"}
    yield "good.jwt", token(head, claims)
    yield "aud-array.jwt", token(head, dict(claims, aud=[AUD, "x"], jti="j2"))
    yield "expired.jwt", token(head, dict(claims, exp=NOW - 10, iat=NOW - 400, jti="j3"))
    yield "alg-none.jwt", token(dict(head, alg="none"), claims, sign=False)
    yield "hs256.jwt", token(dict(head, alg="HS256"), claims)
    yield "no-kid.jwt", token({"alg": "RS256", "typ": "JWT"}, claims)
    yield "crit-jku.jwt", token(dict(head, crit=["x"], jku="https://evil.example/jwks"), claims)
    yield "claims.json", json.dumps(claims).encode()


def jwks_seeds(jwks):
    doc = json.loads(jwks)
    yield "jwks.json", jwks.encode()
    yield "rsa-only.json", json.dumps({"keys": doc["keys"][:1]}).encode()
    yield "private-member.json", json.dumps({"keys": [dict(doc["keys"][1], d="AAAA")]}).encode()
    yield "duplicate-kid.json", json.dumps({"keys": [doc["keys"][0], dict(doc["keys"][1],
                                                                        kid="rsa-1")]}).encode()
    yield "p384-short.json", json.dumps({"keys": [dict(doc["keys"][1], crv="P-384")]}).encode()


def seeds(target, build):
    """(name, bytes) seeds of one target."""
    if target == "request":
        yield from requests()
        gen = os.path.join(ROOT, "bench", "gen_request.py")
        out = subprocess.run([sys.executable, gen, "--history", "10"], check=True,
                             capture_output=True).stdout
        yield "bench-history-10.json", out
    elif target == "dose":
        for _, body in requests():
            for mr in med_requests(json.loads(body)):
                data = json.dumps(mr, separators=(",", ":")).encode()
                yield hashlib.sha1(data).hexdigest()[:16] + ".json", data
    elif target == "feedback":
        for i, fb in enumerate(FEEDBACK_SEEDS):
            yield f"feedback-{i}.json", json.dumps(fb).encode()
    elif target in ("jwt", "jwks"):
        jwks, rsa = make_keys(os.path.join(build, "fuzz-corpus", "keys"))
        yield from jwt_seeds(rsa) if target == "jwt" else jwks_seeds(jwks)


def write_seeds(build, target):
    seed_dir = os.path.join(build, "fuzz-corpus", target, "seed")
    os.makedirs(seed_dir, exist_ok=True)
    for old in os.listdir(seed_dir):
        os.unlink(os.path.join(seed_dir, old))
    n = 0
    for name, data in seeds(target, build):
        with open(os.path.join(seed_dir, name), "wb") as f:
            f.write(data)
        n += 1
    return seed_dir, n


def run_target(build, target, seconds):
    """Runs one target; returns (ok, summary line)."""
    exe = os.path.join(build, "fuzz", "fuzz_" + target)
    if not os.access(exe, os.X_OK):
        return False, f"{target}: no {exe} (configure with -DMYOCDS_FUZZ=ON)"
    seed_dir, n_seeds = write_seeds(build, target)
    work = os.path.join(build, "fuzz-corpus", target, "work")
    artifacts = os.path.join(build, "fuzz-artifacts", target) + os.sep
    os.makedirs(work, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    log_path = os.path.join(build, "fuzz-artifacts", f"{target}.log")
    cmd = [exe, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
           f"-max_len={MAX_LEN.get(target, DEFAULT_MAX_LEN)}", "-print_final_stats=1",
           f"-dict={os.path.join(ROOT, 'fuzz', 'json.dict')}", f"-artifact_prefix={artifacts}",
           work, seed_dir]
    jwks_path = os.path.join(build, "fuzz-corpus", "keys", "jwks.json")
    if target == "jwt":
        with open(jwks_path, "w") as f:
            f.write(make_keys(os.path.dirname(jwks_path))[0])
    env = dict(os.environ, MYOCDS_HOOKS=os.path.join(ROOT, "hooks"), MYOCDS_FUZZ_JWKS=jwks_path,
               ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    with open(log_path, "wb") as log:
        rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                            timeout=seconds * 3 + 120).returncode
    with open(log_path, "r", errors="replace") as f:
        text = f.read()
    stat = dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M))
    line = (f"{target}: {int(stat.get('number_of_executed_units', 0)):,} executions in "
            f"{seconds} s ({stat.get('average_exec_per_sec', '?')}/s), {n_seeds} seeds, "
            f"corpus {len(os.listdir(work))} inputs, peak RSS {stat.get('peak_rss_mb', '?')} MB")
    if rc != 0:
        found = [a for a in os.listdir(artifacts)]
        return False, (f"{line}: FOUND A BUG (exit {rc}); log {log_path}; inputs in {artifacts}: "
                       f"{', '.join(found) or 'none'}")
    return True, line + ": no crash, no leak, no sanitizer report"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="the -DMYOCDS_FUZZ=ON build directory")
    ap.add_argument("--seconds", type=int, default=60, help="time per target")
    ap.add_argument("--targets", default="request,dose,feedback,jwt,jwks")
    ap.add_argument("--jobs", type=int, default=1, help="targets run at the same time")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    targets = [t for t in a.targets.split(",") if t]
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(a.jobs, 1)) as pool:
        for ok, line in pool.map(lambda t: run_target(build, t, a.seconds), targets):
            print(("ok   " if ok else "FAIL ") + line, flush=True)
            failed += not ok
    print(f"{len(targets) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
