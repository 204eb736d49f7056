#!/usr/bin/python3
"""run_cluster.py - three replicas, one PostgreSQL, nginx in front, faults survived.

Everything on loopback: a throw-away PostgreSQL cluster of its own (tests/pg_cluster.sh,
so that stopping it disturbs no other test), three `myocds serve` replicas requiring JWTs
(ES384, signed here) and sharing it (feedback.postgres_url), and Debian's nginx running
deploy/nginx.conf itself (through a symlink, with this test's own upstream and listen
files). Then:

- figures: wrk through nginx with one, two and three replicas (a mix of the fixtures,
  each call its own token): requests/s, p50, p99;
- SIGKILL of one replica under load, and its restart: no client sees a non-2xx answer
  or a socket error (nginx retries another replica; the shared replay check takes that
  retry, which carries nginx's X-Myocds-Retry-Key, for what it is);
- a token used once is refused by every replica (401), through nginx or not;
- PostgreSQL stopped and started under load: JWT calls get 503 (the replay check cannot
  be made: never accepted unchecked), feedback 503 (never 200 without a commit), a --dev
  replica on the same database keeps answering 200 with cards; after the restart, 200
  again everywhere;
- SIGHUP to every replica under load, with a rule's text changed in their hooks/: no
  failed call, and the new text served;
- every feedback entry acknowledged (200) during all of it is in the store.

Prints what each fault did, then "N passed, M failed". With --figures it also measures the
cost of the shared replay check (wrk straight to one replica: PostgreSQL jwt_jtis vs the
in-memory cache alone with SQLite) and exits (not part of `make test`).

    run_cluster.py --bin build/myocds --fixtures fixtures/cases [--figures]
"""
import argparse
import glob
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (JSON_CT, NGINX_BIN, Nginx, Results, Serve, b64u,  # noqa: E402
                     free_port, metric_values, scratch)
from ops_common import PgDatabase, feedback_body  # noqa: E402

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
except ImportError:  # scripts/deps.sh test installs python3-cryptography
    ec = None

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
WRK = shutil.which("wrk") or "/usr/bin/wrk"
ISS = "https://ehr.cluster.test"
SIGN = "/cds-services/myositis-order-sign"
REPLICAS = 3
SERVICE_THREADS = 4
FEEDBACK_THREADS = 2
WRK_S = 3
WRK_TOKENS = 8000  # one token per call: a run of WRK_S seconds must not use more
RULE_TEXT = "Myositis: {drug} {dose} with no steroid-sparing agent"
NEW_TEXT = "Myositis (reloaded): {drug} {dose} with no steroid-sparing agent"
NEW_SEEN = "Myositis (reloaded):"
SUMMARY_CASE = "order-sign-pm-pred60-alone"
DEADLINE_S = 10


STARTED = time.monotonic()


def stamp(what):
    """A line with the seconds since the start, to see where the time goes."""
    print(f"     [{time.monotonic() - STARTED:5.1f} s] {what}")
    sys.stdout.flush()


class Signer:
    """One P-384 key: its JWKS file, and fresh ES384 tokens signed in-process."""

    def __init__(self, tmp):
        self.key = ec.generate_private_key(ec.SECP384R1())
        pub = self.key.public_key().public_numbers()
        jwk = {"kty": "EC", "kid": "k1", "alg": "ES384", "use": "sig", "crv": "P-384",
               "x": b64u(pub.x.to_bytes(48, "big")), "y": b64u(pub.y.to_bytes(48, "big"))}
        self.jwks = os.path.join(tmp, "jwks.json")
        with open(self.jwks, "w") as f:
            json.dump({"keys": [jwk]}, f)
        self.head = b64u(json.dumps({"alg": "ES384", "typ": "JWT", "kid": "k1"},
                                    separators=(",", ":")).encode())

    def token(self, aud, jti=None):
        now = int(time.time())
        claims = {"iss": ISS, "aud": aud, "exp": now + 300, "iat": now,
                  "jti": jti or str(uuid.uuid4())}
        body = b64u(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{self.head}.{body}".encode()
        r, s = decode_dss_signature(self.key.sign(signing_input, ec.ECDSA(hashes.SHA384())))
        return f"{self.head}.{body}.{b64u(r.to_bytes(48, 'big') + s.to_bytes(48, 'big'))}"


class PgServer:
    """This test's own PostgreSQL cluster (pg_cluster.sh), its database, pause/resume."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "pg")
        self.script = os.path.join(HERE, "pg_cluster.sh")
        subprocess.run([self.script, "start", self.dir], check=True, stdout=subprocess.DEVNULL,
                       timeout=90)
        self.db = PgDatabase(os.path.join(self.dir, "url"), "cluster")

    def pause(self):
        subprocess.run([self.script, "pause", self.dir], check=True, timeout=60)

    def resume(self):
        subprocess.run([self.script, "resume", self.dir], check=True, timeout=60)

    def stop(self):
        subprocess.run([self.script, "stop", self.dir], stdout=subprocess.DEVNULL, timeout=60)


class Calls:
    """The fixture calls the load mixes: (path, body bytes, audience), each answered 200."""

    def __init__(self, fixtures, base):
        self.items = []
        for entry in sorted(os.listdir(fixtures)):
            if not entry.endswith(".expect.json"):
                continue
            name = entry[: -len(".expect.json")]
            with open(os.path.join(fixtures, entry)) as f:
                expect = json.load(f)
            if expect.get("status", 200) != 200 or "service" not in expect:
                continue
            with open(os.path.join(fixtures, name + ".json"), "rb") as f:
                raw = f.read()
            body = json.dumps(json.loads(raw), separators=(",", ":")).encode()
            path = f"/cds-services/{expect['service']}"
            self.items.append((name, path, body, base + path))

    def keep_answered(self, nginx_port, signer):
        """Only the cases that answer 200 here (no FHIR server: none that must fetch)."""
        kept = []
        c = http.client.HTTPConnection("127.0.0.1", nginx_port, timeout=30)
        for item in self.items:
            c.request("POST", item[1], body=item[2], headers=auth_headers(signer, item[3]))
            r = c.getresponse()
            r.read()
            if r.status == 200:
                kept.append(item)
        c.close()
        self.items = kept
        return kept


def auth_headers(signer, aud, token=None):
    return {"Content-Type": "application/json",
            "Authorization": "Bearer " + (token or signer.token(aud))}


class Load:
    """Service calls and feedback through nginx from threads, each call with a fresh
    token; every answer is counted under the phase it started in."""

    def __init__(self, port, signer, calls, fb_aud):
        self.port, self.signer, self.calls, self.fb_aud = port, signer, calls, fb_aud
        self.phase = "warm"
        self.lock = threading.Lock()
        self.stats = {}  # (phase, kind) -> {status or error name: count}
        self.acked = set()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.service, args=(t,), daemon=True)
                        for t in range(SERVICE_THREADS)]
        self.threads += [threading.Thread(target=self.feedback, args=(t,), daemon=True)
                         for t in range(FEEDBACK_THREADS)]

    def count(self, phase, kind, what):
        with self.lock:
            d = self.stats.setdefault((phase, kind), {})
            d[what] = d.get(what, 0) + 1

    def post(self, conn, path, body, aud):
        phase = self.phase
        try:
            conn.request("POST", path, body=body, headers=auth_headers(self.signer, aud))
            r = conn.getresponse()
            r.read()
            return conn, phase, r.status
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            return self.conn(), phase, type(e).__name__

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def service(self, t):
        conn, i = self.conn(), t
        while not self.stop.is_set():
            _, path, body, aud = self.calls[i % len(self.calls)]
            i += SERVICE_THREADS
            conn, phase, st = self.post(conn, path, body, aud)
            self.count(phase, "service", st)
        conn.close()

    def feedback(self, t):
        conn, i = self.conn(), 0
        while not self.stop.is_set():
            card = f"cl-{t}-{i}-{uuid.uuid4().hex[:8]}"
            i += 1
            body = json.dumps(feedback_body(card, "overridden", reason="pt-preference")).encode()
            conn, phase, st = self.post(conn, SIGN + "/feedback", body, self.fb_aud)
            self.count(phase, "feedback", st)
            if st == 200:
                with self.lock:
                    self.acked.add(card)
            time.sleep(0.01)
        conn.close()

    def start(self):
        for th in self.threads:
            th.start()

    def finish(self):
        self.stop.set()
        for th in self.threads:
            th.join(60)

    def of(self, phase, kind):
        with self.lock:
            return dict(self.stats.get((phase, kind), {}))


def bad(stats):
    """Answers other than 2xx, and socket errors, of a phase's counts."""
    return {k: v for k, v in stats.items() if not (isinstance(k, int) and 200 <= k < 300)}


# ---- the replicas -----------------------------------------------------------------------

class Replicas:
    def __init__(self, binary, tmp, cfg_keys):
        self.binary, self.tmp, self.keys = binary, tmp, cfg_keys
        self.ports = [free_port() for _ in range(REPLICAS)]
        self.servers = [None] * REPLICAS
        self.logs = []

    def config(self, i):
        path = os.path.join(self.tmp, f"replica{i}.json")
        keys = dict(self.keys, data_dir=os.path.join(self.tmp, f"data{i}"))
        with open(path, "w") as f:
            json.dump(keys, f)
        return path

    def start(self, i):
        srv = Serve(self.binary, self.config(i), dev=False, port=self.ports[i], timeout=30,
                    log_path=os.path.join(self.tmp, f"replica{i}.log"))
        self.servers[i] = srv
        self.logs.append(srv)
        return srv.start()

    def stop_all(self):
        return [s.stop() if s is not None else None for s in self.servers]


def metric_sum(srv, name, label=""):
    try:
        _, text = srv.request("GET", "/metrics", timeout=10)
    except (OSError, http.client.HTTPException):
        return None
    pat = re.compile(r"^" + re.escape(name) + r"\{[^}]*" + re.escape(label) + r"[^}]*\} ([0-9.e+-]+)$",
                     re.M) if label else None
    vals = [float(v) for v in pat.findall(str(text))] if pat else metric_values(str(text), name)
    return int(sum(vals))


# ---- wrk -------------------------------------------------------------------------------

WRK_LUA = r"""
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  local nthreads, reqfile, bodyfile = tonumber(args[1]), args[2], args[3]
  bodies = {}
  for line in io.lines(bodyfile) do bodies[#bodies + 1] = line end
  reqs = {}
  local i = 0
  for line in io.lines(reqfile) do
    if i % nthreads == tid then
      local p, t, b = line:match("([^\t]+)\t([^\t]+)\t(%d+)")
      reqs[#reqs + 1] = {p, t, tonumber(b)}
    end
    i = i + 1
  end
  n = 0
end
function request()
  n = n + 1
  local r = reqs[((n - 1) % #reqs) + 1]
  return wrk.format("POST", r[1], {["Content-Type"] = "application/json",
                                    ["Authorization"] = "Bearer " .. r[2]}, bodies[r[3]])
end
"""


def wrk_files(tmp, signer, calls, n, tag):
    """A request list of n calls (path, its own token, body index) and the bodies."""
    req, bod = os.path.join(tmp, f"wrk-{tag}.tsv"), os.path.join(tmp, "wrk-bodies.txt")
    with open(bod, "wb") as f:
        for _, _, body, _ in calls:
            f.write(body + b"\n")
    with open(req, "w") as f:
        for i in range(n):
            k = i % len(calls)
            f.write(f"{calls[k][1]}\t{signer.token(calls[k][3])}\t{k + 1}\n")
    return req, bod


def parse_ms(text):
    m = re.match(r"([0-9.]+)(us|ms|s)", text)
    v = float(m.group(1))
    return {"us": v / 1000, "ms": v, "s": v * 1000}[m.group(2)]


def run_wrk(tmp, port, signer, calls, tag, seconds=WRK_S, conns=12, tokens=WRK_TOKENS):
    """wrk -t2 through port; {rps, p50, p99 (ms), requests, non2xx, socket_errors}."""
    lua = os.path.join(tmp, "calls.lua")
    with open(lua, "w") as f:
        f.write(WRK_LUA)
    req, bod = wrk_files(tmp, signer, calls, tokens, tag)
    out = subprocess.run([WRK, "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", lua,
                          f"http://127.0.0.1:{port}", "--", "2", req, bod],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    res = {"requests": 0, "non2xx": 0, "socket_errors": 0, "out": out}
    m = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    for key, pct in (("p50", "50%"), ("p99", "99%")):
        m = re.search(r"^\s+" + pct + r"\s+(\S+)", out, re.M)
        res[key] = parse_ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return res


def fmt_wrk(r):
    return (f"{r['rps']:.0f} req/s, p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, "
            f"{r['requests']} calls, {r['non2xx']} non-2xx, {r['socket_errors']} socket errors")


# ---- the checks --------------------------------------------------------------------------

def direct(port, path, body, headers):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("POST", path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def check_replay(res, reps, nginx, signer, calls):
    """A token used once is refused by each replica and through nginx; a retry of one
    request (the same X-Myocds-Retry-Key) on another replica is not a replay."""
    _, path, body, aud = calls[0]
    tok = signer.token(aud)
    h = auth_headers(signer, aud, tok)
    first = direct(nginx.port, path, body, h)[0]
    again = [direct(p, path, body, h)[0] for p in reps.ports] + \
        [direct(nginx.port, path, body, h)[0]]
    res.check("replay: a token used once through nginx", first == 200, str(first))
    res.check("replay: refused by every replica and through nginx (401)",
              again == [401] * (REPLICAS + 1), str(again))
    tok = signer.token(aud)
    key = dict(auth_headers(signer, aud, tok), **{"X-Myocds-Retry-Key": uuid.uuid4().hex})
    other = dict(key, **{"X-Myocds-Retry-Key": uuid.uuid4().hex})
    got = [direct(reps.ports[0], path, body, key)[0], direct(reps.ports[1], path, body, key)[0],
           direct(reps.ports[2], path, body, other)[0],
           direct(reps.ports[2], path, body, auth_headers(signer, aud, tok))[0]]
    res.check("replay: nginx's retry of one request (same retry key) on another replica "
              "passes; another key or none is a replay", got == [200, 200, 401, 401], str(got))
    print(f"     replay: first use {first}, then {again}; retry key {got}")


def check_kill(res, load, reps, victim=1):
    load.phase = "kill"
    time.sleep(1.5)
    reps.servers[victim].kill()
    t0 = time.monotonic()
    time.sleep(1.0)
    up = reps.start(victim)
    t_up = time.monotonic() - t0
    time.sleep(2.5)
    load.phase = "after-kill"
    svc, fb = load.of("kill", "service"), load.of("kill", "feedback")
    res.check("kill: replica restarted on its port", up, reps.servers[victim].tail())
    res.check("kill: no service call saw a non-2xx answer or a socket error",
              sum(svc.values()) > 0 and not bad(svc), str(svc))
    res.check("kill: no feedback saw a non-2xx answer or a socket error",
              sum(fb.values()) > 0 and not bad(fb), str(fb))
    print(f"     kill: replica {victim} SIGKILLed, back in {t_up:.1f} s; service {svc}, "
          f"feedback {fb}")
    return t_up


def check_pg_outage(res, load, reps, pg, dev, signer, calls):
    _, path, body, aud = next(c for c in calls if c[0] == SUMMARY_CASE)
    time.sleep(0.5)
    load.phase = "pg-down"
    t0 = time.monotonic()
    pg.pause()
    time.sleep(1.0)
    dev_status = direct(dev.port, path, body, JSON_CT)
    dev_cards = len(json.loads(dev_status[1]).get("cards", [])) if dev_status[0] == 200 else 0
    jwt_status = direct(reps.ports[0], path, body, auth_headers(signer, aud))[0]
    refusals = metric_sum(reps.servers[0], "myocds_jwt_refusals_total", 'reason="replay_unavailable"')
    time.sleep(1.5)
    load.phase = "pg-back"
    pg.resume()
    down_s = time.monotonic() - t0
    back = None
    end = time.monotonic() + 15
    while time.monotonic() < end:
        if direct(reps.ports[0], path, body, auth_headers(signer, aud))[0] == 200:
            back = time.monotonic() - t0 - down_s
            break
        time.sleep(0.1)
    load.phase = "after-pg"
    time.sleep(2.0)
    load.phase = "settled"
    svc, fb = load.of("pg-down", "service"), load.of("pg-down", "feedback")
    res.check("pg down: a --dev replica still answers with cards (200)",
              dev_status[0] == 200 and dev_cards > 0, str(dev_status[0]))
    res.check("pg down: a JWT call is refused with 503, not accepted unchecked",
              jwt_status == 503, str(jwt_status))
    res.check("pg down: /metrics counts it (myocds_jwt_refusals_total{reason=replay_unavailable})",
              (refusals or 0) > 0, str(refusals))
    res.check("pg down: service calls through nginx answered 200 or 503, no socket error",
              set(svc) <= {200, 503} and svc.get(503, 0) > 0, str(svc))
    res.check("pg down: feedback answered 200 or 503 only, no socket error",
              set(fb) <= {200, 503} and fb.get(503, 0) > 0, str(fb))
    res.check("pg back: JWT calls answer 200 again", back is not None)
    after_svc, after_fb = load.of("after-pg", "service"), load.of("after-pg", "feedback")
    res.check("pg back: service calls and feedback 200 again",
              after_svc.get(200, 0) > 0 and not bad(after_svc) and after_fb.get(200, 0) > 0 and
              not bad(after_fb), f"{after_svc} {after_fb}")
    logs = "\n".join(r.log() for r in reps.logs)
    res.check("pg down: the replicas' logs say why (jwt refused, replay_unavailable)",
              "replay_unavailable" in logs)
    unrecorded = metric_sum(dev, "myocds_cards_unrecorded_total")
    print(f"     pg down {down_s:.1f} s: service through nginx {svc}, feedback {fb}; "
          f"--dev replica 200 with {dev_cards} cards; direct JWT call {jwt_status}; "
          f"JWT 200 again {back if back is None else round(back, 1)} s after the restart; "
          f"--dev replica's cards_unrecorded {unrecorded}")


def check_hup(res, load, reps, hooks, signer, calls, nginx):
    _, path, body, aud = next(c for c in calls if c[0] == SUMMARY_CASE)
    rules = os.path.join(hooks, "rules.json")
    with open(rules) as f:
        text = f.read()
    res.check("hup: the rule's text is in hooks/rules.json", RULE_TEXT in text)
    tmp_path = rules + ".new"
    with open(tmp_path, "w") as f:
        f.write(text.replace(RULE_TEXT, NEW_TEXT))
    os.replace(tmp_path, rules)
    load.phase = "hup"
    time.sleep(0.5)
    for srv in reps.servers:
        srv.send(signal.SIGHUP)
        time.sleep(0.3)
    reloaded = all(srv.saw("reloaded the config and hooks", wait=10) for srv in reps.servers)
    time.sleep(1.5)
    load.phase = "after-hup"
    summaries = []
    for port in reps.ports + [nginx.port]:
        st, raw = direct(port, path, body, auth_headers(signer, aud))
        doc = json.loads(raw) if st == 200 else {}
        summaries.append(any(NEW_SEEN in c.get("summary", "") for c in doc.get("cards", [])))
    svc, fb = load.of("hup", "service"), load.of("hup", "feedback")
    res.check("hup: every replica reloaded", reloaded)
    res.check("hup: the new text is served by every replica and through nginx", all(summaries),
              str(summaries))
    res.check("hup: no call failed during the reloads", sum(svc.values()) > 0 and not bad(svc) and
              not bad(fb), f"{svc} {fb}")
    print(f"     hup: 3 replicas reloaded under load; service {svc}, feedback {fb}")


def check_store(res, load, pg):
    stored = {r[0] for r in pg.db.rows("SELECT card_uuid FROM feedback")}
    lost = load.acked - stored
    res.check(f"store: all {len(load.acked)} acknowledged feedback entries are stored",
              len(load.acked) > 0 and not lost, f"{len(lost)} lost, e.g. {sorted(lost)[:3]}")
    jtis = int(pg.db.rows("SELECT count(*) FROM jwt_jtis")[0][0])
    res.check("store: jwt_jtis holds the spent tokens, by hash", jtis > 0 and
              int(pg.db.rows("SELECT count(*) FROM jwt_jtis WHERE length(jti) <> 32")[0][0]) == 0)
    return len(load.acked), jtis


def no_secrets_logged(res, reps, signer, calls):
    """No token, jti or patient id in any replica's log."""
    logs = "\n".join(r.log() for r in reps.logs)
    pats = []
    for _, _, body, _ in calls[:20]:
        pid = (json.loads(body).get("context") or {}).get("patientId")
        if pid:
            pats.append(pid)
    leaked = [p for p in pats if f'"{p}"' in logs or f"={p}" in logs]
    res.check("logs: no token, jti or patient id", signer.head not in logs and
              "jti=" not in logs and not leaked, str(leaked[:3]))


# ---- main --------------------------------------------------------------------------------

def replica_keys(tmp, signer, nginx, pg, hooks, postgres=True):
    keys = {"hooks_dir": hooks, "public_base_url": f"http://127.0.0.1:{nginx.port}",
            "log_level": "info", "cards": {"repeat_window_min": 0},
            "http": {"per_address_limit": 256, "request_deadline_s": DEADLINE_S},
            "auth": {"issuers": [{"iss": ISS, "jwks_file": signer.jwks}]}}
    if postgres:
        keys["feedback"] = {"postgres_url": pg.db.url}
    return keys


def figures_ab(a, tmp, signer, calls, nginx, pg, hooks):
    """The shared replay check's cost: wrk straight to one replica, with and without it."""
    out = {}
    for name, postgres in (("memory+sqlite", False), ("postgres", True)):
        keys = replica_keys(tmp, signer, nginx, pg, hooks, postgres)
        keys["data_dir"] = os.path.join(tmp, f"ab-{name}")
        keys["log_level"] = "warn"
        path = os.path.join(tmp, f"ab-{name}.json")
        with open(path, "w") as f:
            json.dump(keys, f)
        srv = Serve(a.bin, path, dev=False, port=free_port(), timeout=30)
        srv.start()
        # the audience is nginx's URL (public_base_url); one replica answers it directly
        runs = [run_wrk(tmp, srv.port, signer, calls, f"ab-{name}-{i}", seconds=a.ab_seconds,
                        conns=8, tokens=a.ab_tokens) for i in range(a.ab_runs)]
        srv.stop()
        out[name] = runs
        for r in runs:
            print(f"     A/B {name}: {fmt_wrk(r)}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--figures", action="store_true",
                    help="measure the shared replay check's cost too (not for make test)")
    ap.add_argument("--ab-only", action="store_true",
                    help="with --figures: only the replay check's cost")
    ap.add_argument("--ab-runs", type=int, default=3)
    ap.add_argument("--ab-seconds", type=int, default=5)
    ap.add_argument("--ab-tokens", type=int, default=40000)
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    res = Results()
    started = time.monotonic()
    for what, path in (("nginx", NGINX_BIN), ("wrk", WRK)):
        if not res.check(f"{what} is installed (scripts/deps.sh test)", os.path.exists(path)):
            return res.finish()
    if not res.check("python3-cryptography is installed (scripts/deps.sh test)", ec is not None):
        return res.finish()
    with scratch("cluster") as tmp:
        os.chmod(tmp, 0o755)
        signer = Signer(tmp)
        pg = PgServer(tmp)
        stamp("PostgreSQL up")
        nginx = Nginx(tmp, SRC)
        hooks = os.path.join(tmp, "hooks")
        shutil.copytree(os.path.join(SRC, "hooks"), hooks)
        reps = Replicas(a.bin, tmp, replica_keys(tmp, signer, nginx, pg, hooks))
        dev = None
        load = None
        try:
            ok = all(reps.start(i) for i in range(REPLICAS))
            if not res.check("three replicas start on one PostgreSQL", ok,
                             " / ".join(s.tail() for s in reps.servers if s)):
                return res.finish()
            res.check("the replicas share the replay check",
                      all(s.saw("jwt replay check shared") for s in reps.servers))
            nginx.upstream(reps.ports)
            if not res.check("nginx with deploy/nginx.conf in front", nginx.start(),
                             nginx.errors()[-300:]):
                return res.finish()
            calls = Calls(a.fixtures, f"http://127.0.0.1:{nginx.port}")
            stamp("replicas and nginx up")
            kept = calls.keep_answered(nginx.port, signer)
            res.check("a mix of fixture calls answers 200 through nginx", len(kept) >= 20,
                      str(len(kept)))
            calls = kept
            stamp(f"{len(kept)} fixture calls answer 200")
            if a.figures and a.ab_only:
                figures_ab(a, tmp, signer, calls, nginx, pg, hooks)
                return res.finish()
            figures = {}
            for n in (1, 2, 3):
                nginx.reload(reps.ports[:n])
                figures[n] = run_wrk(tmp, nginx.port, signer, calls, f"n{n}")
                if figures[n]["requests"] > WRK_TOKENS:  # a fast machine: more tokens
                    figures[n] = run_wrk(tmp, nginx.port, signer, calls, f"n{n}",
                                         tokens=WRK_TOKENS * 4)
                stamp(f"wrk through nginx, {n} replica(s): {fmt_wrk(figures[n])}")
            res.check("wrk: every call answered 2xx with 1, 2 and 3 replicas",
                      all(f["requests"] > 0 and f["non2xx"] == 0 and f["socket_errors"] == 0
                          for f in figures.values()),
                      str({n: (f["requests"], f["non2xx"], f["socket_errors"])
                           for n, f in figures.items()}))
            stamp("figures done")
            check_replay(res, reps, nginx, signer, calls)
            dev_cfg = os.path.join(tmp, "dev.json")
            with open(dev_cfg, "w") as f:
                json.dump(dict(replica_keys(tmp, signer, nginx, pg, hooks),
                               data_dir=os.path.join(tmp, "data-dev")), f)
            dev = Serve(a.bin, dev_cfg, dev=True, timeout=30)
            res.check("a --dev replica on the same database starts", dev.start(), dev.tail())
            fb_aud = f"http://127.0.0.1:{nginx.port}{SIGN}/feedback"
            load = Load(nginx.port, signer, calls, fb_aud)
            load.start()
            time.sleep(1.0)
            stamp("load started")
            check_kill(res, load, reps)
            check_pg_outage(res, load, reps, pg, dev, signer, calls)
            check_hup(res, load, reps, hooks, signer, calls, nginx)
            load.finish()
            stamp("faults done, load stopped")
            acked, jtis = check_store(res, load, pg)
            no_secrets_logged(res, reps, signer, calls)
            errs = nginx.errors()
            refused = len(re.findall(r"\(111: Connection refused\) while connecting", errs))
            cut = len(re.findall(r"while reading response header from upstream", errs))
            res.check("kill: nginx retried calls on another replica (its error log)",
                      refused + cut > 0, errs[-300:])
            print(f"     feedback acknowledged {acked}; jwt_jtis rows {jtis}; nginx retried "
                  f"{refused} calls refused at connect and {cut} cut after they were sent "
                  f"(each on another replica)")
            if a.figures:
                figures_ab(a, tmp, signer, calls, nginx, pg, hooks)
        finally:
            if load is not None:
                load.finish()
            nginx.stop()
            codes = reps.stop_all()
            stamp("replicas stopped")
            if dev is not None:
                dev.stop()
            pg.stop()
        res.check("every replica stops cleanly on SIGTERM (exit 0)", codes == [0] * REPLICAS,
                  str(codes))
    print(f"     cluster test took {time.monotonic() - started:.0f} s")
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
