"""harness.py - what the Python integration runners share. Standard library only (plus the
openssl CLI for keys and certificates); nothing here talks to anything but 127.0.0.1.

- Results: counts checks and ends with exactly "N passed, M failed".
- scratch(name): a temporary directory, removed afterwards.
- The fixture cases: cases(fixtures) and fixture(fixtures, name); rule_ids(answer).
- Serve: one `myocds serve` on a free port ("--port 0" unless told), started with a config
  file (write_config), its stderr kept line by line (and copied to a log file if asked),
  and the calls made to it: request (status and parsed JSON or text), exchange (status,
  headers and raw bytes), healthy, metric, saw, send (a signal), stop.
- Raw sockets, for what http.client will not send: raw_exchange (status, closed),
  raw_answer (status and body), free_port.
- Error answers: check_outcome(body, status) checks a FHIR R4 OperationOutcome (its
  shape, the IssueType code the status earns, and the FHIR R4 JSON schema loaded once
  with load_schema(path)); FhirSchema validates any resource against that schema.
- FhirServer: one tests/fhir_server.py; without_prefetch and fhir_authorization aim a
  request at it.
- Keys, certificates and JWTs built with the openssl CLI: gen_key, jwk_of, make_token,
  jwt_claims, self_signed.
- clean_env, dead_proxy_env: environments without proxies (every address is loopback).
"""
import base64
import copy
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
JSON_CT = {"Content-Type": "application/json"}
START_TIMEOUT_S = 15
STOP_TIMEOUT_S = 15
FHIR_TOKEN = "test-token.abc-123_x"  # what FhirServer(..., "--token", FHIR_TOKEN) requires

# `myocds serve` prints this when ready; the address may be IPv4 or [IPv6].
LISTEN_RE = re.compile(r"listening on http://(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)")


class Results:
    """Counts checks (thread-safe); finish() prints "N passed, M failed" and gives the
    exit status: 1 when a check failed or none ran."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.lock = threading.Lock()

    def check(self, name, ok, detail=""):
        with self.lock:
            if ok:
                self.passed += 1
                print(f"ok   - {name}")
            else:
                self.failed += 1
                print(f"FAIL - {name}" + (f": {detail}" if detail else ""))
            sys.stdout.flush()
        return ok

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed or not self.passed else 0


def clean_env():
    """The environment without proxy settings."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def dead_proxy_env():
    """The environment with every proxy variable libcurl reads pointing at a closed port:
    a client that honoured one would fail (the service must use no proxy)."""
    env = clean_env()
    for k in ("http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env[k] = "http://127.0.0.1:9"
    return env


def scratch(name):
    """A temporary directory "myocds-NAME-...", removed with all it holds when the `with`
    block ends (whatever the server left in it)."""
    return tempfile.TemporaryDirectory(prefix=f"myocds-{name}-", ignore_cleanup_errors=True)


def write_config(path, **keys):
    """A config file holding keys; returns its path."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(keys, f)
    return path


# ---- the fixture cases -----------------------------------------------------------------

def cases(fixtures):
    """(name, expect, request path) of every case NAME.json + NAME.expect.json, by name."""
    out = []
    for entry in sorted(os.listdir(fixtures)):
        if entry.endswith(".expect.json"):
            name = entry[: -len(".expect.json")]
            with open(os.path.join(fixtures, entry), encoding="utf-8") as f:
                out.append((name, json.load(f), os.path.join(fixtures, name + ".json")))
    return out


def fixture(fixtures, name):
    """The request of case NAME (NAME.json), parsed."""
    with open(os.path.join(fixtures, name + ".json"), "rb") as f:
        return json.loads(f.read())


def rule_ids(doc):
    """The sorted rule ids of an answer's cards (none for an answer without cards)."""
    return sorted(c.get("source", {}).get("topic", {}).get("code", "")
                  for c in (doc or {}).get("cards", []))


# ---- myocds serve ----------------------------------------------------------------------

class Serve:
    """One `myocds serve [--dev] --port PORT --config CONFIG [ARGS]`, started by start().
    Its stderr is read on a thread into lines (and copied to log_path when given); the
    environment has no proxy unless env says otherwise. `wrap` goes before the binary
    (valgrind)."""

    def __init__(self, binary, config, dev=True, port=0, args=(), env=None, log_path=None,
                 timeout=10, stop_timeout=STOP_TIMEOUT_S, wrap=()):
        self.binary = binary
        self.dev = dev
        self.argv = list(wrap) + [binary, "serve"] + (["--dev"] if dev else []) + \
            ["--port", str(port), "--config", config] + list(args)
        self.env = env
        self.log_path = log_path
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self.lines = []
        self.proc = None
        self.host = self.port = self.base = None
        self._ready = threading.Event()

    def start(self, wait=START_TIMEOUT_S):
        """True once the server printed its `listening on` line within wait seconds."""
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=self.env if self.env is not None else clean_env())
        threading.Thread(target=self._drain, daemon=True).start()
        self._ready.wait(wait)
        if self.port is None:
            self.kill()
        return self.port is not None

    def _drain(self):
        log = open(self.log_path, "a", encoding="utf-8") if self.log_path else None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append(line)
            if log:
                log.write(line + "\n")
                log.flush()
            m = LISTEN_RE.search(line)
            if m and self.port is None:
                self.host, self.port = m.group(1).strip("[]"), int(m.group(2))
                self.base = f"http://{m.group(1)}:{self.port}"
                self._ready.set()
        if log:
            log.close()
        self._ready.set()

    def log(self):
        """All it has written to stderr so far."""
        return "\n".join(self.lines)

    def tail(self, n=3):
        return " | ".join(line.strip() for line in self.lines[-n:])

    def saw(self, needle, wait=5.0):
        """True once a line holds needle (stderr is read on another thread)."""
        end = time.monotonic() + wait
        while time.monotonic() < end:
            if any(needle in line for line in list(self.lines)):
                return True
            time.sleep(0.05)
        return False

    def conn(self, timeout=None, source=None):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout,
                                          source_address=(source, 0) if source else None)

    def exchange(self, method, path, body=None, headers=None, conn=None, timeout=None):
        """(status, headers lower-cased, body bytes), on a fresh connection unless given
        one. A dict or list body is sent as JSON, with Content-Type application/json
        unless headers are given."""
        c = conn or self.conn(timeout)
        try:
            data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
            if headers is None:
                headers = JSON_CT if data is not None else {}
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            if conn is None:
                c.close()

    def request(self, method, path, body=None, headers=None, timeout=None):
        """(status, the answer parsed as JSON, or its text when it is not JSON)."""
        status, _, raw = self.exchange(method, path, body, headers, timeout=timeout)
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def healthy(self):
        """GET /healthz answers 200 and the process still runs."""
        try:
            return self.exchange("GET", "/healthz", timeout=10)[0] == 200 and self.alive()
        except (OSError, http.client.HTTPException):
            return False

    def metric(self, series):
        """The value of one series of /metrics (its name with labels), or None."""
        _, text = self.request("GET", "/metrics")
        values = metric_values(str(text), series, exact=True)
        return int(values[0]) if values else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self):
        """Resident memory (VmRSS) in kB, from /proc."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def send(self, sig):
        """Sends the process signal sig."""
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=None):
        """sig (SIGTERM), then the exit status; None when it had to be killed."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout or self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def metric_values(text, name, exact=False):
    """The values of every series of the family name in a /metrics text (any labels), or,
    exact, of the one series written name."""
    labels = "" if exact else r"(?:\{[^}]*\})?"
    pat = re.compile(r"^" + re.escape(name) + labels + r" ([0-9.e+-]+)$", re.M)
    return [float(v) for v in pat.findall(text)]


# ---- raw sockets -----------------------------------------------------------------------

def free_port():
    """A port free on 127.0.0.1 just now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _read_head(s):
    """The bytes read from s up to and past the end of an answer's head (all of them when
    the server closes first), and the head's status code or None."""
    data = b""
    while b"\r\n\r\n" not in data:
        got = s.recv(65536)
        if not got:
            break
        data += got
    m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    return data, (int(m.group(1)) if m else None)


def raw_exchange(port, head, body_chunks=(), read=True, timeout=30):
    """Sends head and chunks verbatim on a new socket; returns the status code of the
    answer (None when the server closed first, or read is false) and whether the server
    closed the connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head)
        for chunk in body_chunks:
            s.sendall(chunk)
        if not read:
            return None, False
        return _read_head(s)[1], True
    except (BrokenPipeError, ConnectionResetError):
        return None, True
    finally:
        s.close()


def raw_answer(port, head, body_chunks=(), timeout=30, until_close=False):
    """Sends head and chunks verbatim on a new socket, then reads the answer: (status,
    body bytes) by its Content-Length, or until the server closes; until_close: then waits
    for the server to close (socket.timeout when it does not). A write the server refused
    (reset, broken pipe) raises, so a caller sees it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(head)
        for chunk in body_chunks:
            s.sendall(chunk)
        data, status = _read_head(s)
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            return status, b""
        m = re.search(rb"(?im)^content-length:\s*(\d+)", data[:head_end])
        body = data[head_end + 4:]
        while m is None or len(body) < int(m.group(1)):
            got = s.recv(65536)
            if not got:
                break
            body += got
        while until_close and s.recv(65536):
            pass
        return status, body[:int(m.group(1))] if m else body
    finally:
        s.close()


# ---- the FHIR R4 JSON schema --------------------------------------------------------

class FhirSchema:
    """Validates single resources against #/definitions/<resourceType> of fhir.schema.json.

    One Draft6Validator per resourceType, built lazily and cached; all of them share the
    schema's definitions (validating against the top-level oneOf would be far slower)."""

    def __init__(self, path):
        import jsonschema  # Debian: python3-jsonschema
        self._jsonschema = jsonschema
        with open(path, encoding="utf-8") as f:
            self.schema = json.load(f)
        self.definitions = self.schema.get("definitions") or {}
        if "Resource" not in self.definitions and "Patient" not in self.definitions:
            raise ValueError("%s does not look like the FHIR R4 JSON schema (no definitions)" % path)
        self._cache = {}

    def validator(self, resource_type):
        v = self._cache.get(resource_type)
        if v is None:
            v = self._jsonschema.Draft6Validator(
                {"$ref": "#/definitions/%s" % resource_type, "definitions": self.definitions})
            self._cache[resource_type] = v
        return v

    def errors(self, resource, limit=3):
        if not isinstance(resource, dict):
            return ["resource is not a JSON object"]
        rt = resource.get("resourceType")
        if not isinstance(rt, str) or rt not in self.definitions or "properties" not in self.definitions[rt]:
            return ["unknown resourceType %r" % (rt,)]
        out = []
        for err in self.validator(rt).iter_errors(resource):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            out.append("%s %s: %s" % (rt, where, err.message[:160]))
            if len(out) >= limit:
                break
        return out


# ---- error answers: FHIR R4 OperationOutcome ------------------------------------------

# The FHIR R4 IssueType value set (http://hl7.org/fhir/R4/valueset-issue-type.html).
ISSUE_TYPES = frozenset((
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown",
    "expired", "forbidden", "suppressed", "processing", "not-supported", "duplicate",
    "multiple-matches", "not-found", "deleted", "too-long", "code-invalid", "extension",
    "too-costly", "business-rule", "conflict", "transient", "lock-error", "no-store",
    "exception", "timeout", "incomplete", "throttled", "informational"))
SEVERITIES = frozenset(("fatal", "error", "warning", "information"))
# The code each error status carries (docs/INSTALL.md, "HTTP").
ISSUE_CODE = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
              405: "not-supported", 412: "processing", 413: "too-costly",
              415: "not-supported", 429: "throttled", 500: "exception", 503: "transient"}
SCHEMA = None  # the FhirSchema check_outcome validates against (load_schema)


def load_schema(path):
    """Loads the FHIR R4 JSON schema at path for check_outcome (and returns it); raises
    OSError / ValueError, or ImportError without python3-jsonschema."""
    global SCHEMA
    SCHEMA = FhirSchema(path)
    return SCHEMA


def check_outcome(body, status):
    """None when body (bytes, text or parsed JSON) is the OperationOutcome an answer of
    this status must carry; else what is wrong with it."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return f"not JSON: {bytes(body[:120]) if not isinstance(body, str) else body[:120]!r}"
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return f"not an OperationOutcome: {json.dumps(body)[:160]}"
    issues = body.get("issue")
    if not isinstance(issues, list) or not issues:
        return "no issue"
    for i, issue in enumerate(issues):
        if not isinstance(issue, dict):
            return f"issue[{i}] is not an object"
        if issue.get("severity") not in SEVERITIES or issue.get("code") not in ISSUE_TYPES:
            return f"issue[{i}] severity/code {issue.get('severity')!r}/{issue.get('code')!r}"
        if not isinstance(issue.get("diagnostics"), str) or not issue["diagnostics"].strip():
            return f"issue[{i}] without diagnostics"
    want = ISSUE_CODE.get(status, "exception" if status >= 500 else "invalid")
    if issues[0]["severity"] != "error" or issues[0]["code"] != want:
        return f"{status} carries {issues[0]['severity']}/{issues[0]['code']}, not error/{want}"
    if SCHEMA is None:
        return "no FHIR schema loaded (load_schema)"
    errs = SCHEMA.errors(body)
    return "; ".join(errs) if errs else None


def diagnostics(body):
    """The first issue's diagnostics of an OperationOutcome body (bytes, text or parsed),
    or "" when there is none."""
    try:
        obj = json.loads(body) if isinstance(body, (bytes, bytearray, str)) else body
        return obj["issue"][0]["diagnostics"]
    except (ValueError, UnicodeDecodeError, KeyError, IndexError, TypeError):
        return ""


# ---- the FHIR test server --------------------------------------------------------------

class FhirServer:
    """One tests/fhir_server.py process serving the cases of fixtures under /fhir/NAME;
    its counters are read from its stats file."""

    def __init__(self, tmp, name, fixtures, services, *args):
        self.stats_path = os.path.join(tmp, name + ".stats.json")
        cmd = [sys.executable, os.path.join(HERE, "fhir_server.py"), "--fixtures", fixtures,
               "--services", services, "--stats", self.stats_path] + [str(a) for a in args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"port (\d+)", line)
        if not m:
            raise RuntimeError(f"fhir_server.py {name} did not start: {line!r}")
        self.port = int(m.group(1))
        self.base = f"http://127.0.0.1:{self.port}/fhir"

    def stats(self):
        with open(self.stats_path) as f:
            return json.load(f)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def fhir_authorization(token=FHIR_TOKEN):
    """A request's fhirAuthorization carrying token."""
    return {"access_token": token, "token_type": "Bearer", "expires_in": 300,
            "scope": "patient/*.read", "subject": "myocds-test"}


def without_prefetch(request, base, case):
    """request with no prefetch, aimed at the FhirServer at base serving case, with its
    token."""
    r = copy.deepcopy(request)
    r.pop("prefetch", None)
    r["fhirServer"] = f"{base}/{case}"
    r["fhirAuthorization"] = fhir_authorization()
    return r


# ---- keys, certificates and JWTs, with the openssl CLI ---------------------------------

EC_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True,
                          timeout=60).stdout


def gen_key(path, kind):
    """A private key in path ("RSA": 2048 bits; else an EC curve, "P-384"), its public
    key in path.pub; returns path."""
    if kind == "RSA":
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
    else:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{kind}",
                "-pkeyopt", "ec_param_enc:named_curve", "-out", path)
    openssl("pkey", "-in", path, "-pubout", "-out", path + ".pub")
    return path


def self_signed(tmp, name):
    """A throw-away self-signed certificate for 127.0.0.1: (cert path, key path)."""
    cert, key = os.path.join(tmp, name + ".crt"), os.path.join(tmp, name + ".key")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1")
    return cert, key


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hex_block(text, label):
    """The colon-separated hex after a label line of `openssl pkey -text_pub`."""
    out, on = [], False
    for line in text.splitlines():
        if line.startswith(label):
            on = True
            continue
        if on and line.startswith(" "):
            out.append(line.strip().replace(":", ""))
        elif on:
            break
    return bytes.fromhex("".join(out))


def jwk_of(path, kid, alg):
    """The public JWK of the key in path."""
    text = openssl("pkey", "-in", path, "-noout", "-text_pub").decode()
    if "Modulus:" in text:
        n = hex_block(text, "Modulus:").lstrip(b"\0")
        e = int(re.search(r"Exponent: (\d+)", text).group(1))
        return {"kty": "RSA", "kid": kid, "alg": alg, "use": "sig", "n": b64u(n),
                "e": b64u(e.to_bytes((e.bit_length() + 7) // 8, "big"))}
    pub = hex_block(text, "pub:")
    size = (len(pub) - 1) // 2
    crv = {32: "P-256", 48: "P-384", 66: "P-521"}[size]
    return {"kty": "EC", "kid": kid, "alg": alg, "use": "sig", "crv": crv,
            "x": b64u(pub[1:1 + size]), "y": b64u(pub[1 + size:])}


def der_to_raw(der, size):
    """An ECDSA-Sig-Value (DER) -> the JWS form R || S, each size bytes."""
    def length(i):
        if der[i] < 0x80:
            return der[i], i + 1
        k = der[i] & 0x7F
        return int.from_bytes(der[i + 1:i + 1 + k], "big"), i + 1 + k
    _, i = length(1)
    out = b""
    for _ in range(2):
        n, i = length(i + 1)
        out += int.from_bytes(der[i:i + n], "big").to_bytes(size, "big")
        i += n
    return out


def sign(alg, key, signing_input):
    if alg.startswith("HS"):
        with open(key, "rb") as f:  # the algorithm-confusion attack: the public PEM as secret
            secret = f.read()
        return hmac.new(secret, signing_input, getattr(hashlib, "sha" + alg[2:])).digest()
    sig = openssl("dgst", "-sha" + alg[2:], "-sign", key, data=signing_input)
    return der_to_raw(sig, EC_SIZES[alg]) if alg.startswith("ES") else sig


def make_token(header, claims, key=None, alg=None, signature=None):
    """A compact JWS of header and claims, signed with the key file (none without one)."""
    hdr = b64u(json.dumps(header, separators=(",", ":")).encode())
    body = b64u(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{hdr}.{body}".encode()
    if signature is None:
        signature = b64u(sign(alg or header["alg"], key, signing_input)) if key else ""
    return f"{hdr}.{body}.{signature}"


def jwt_claims(iss, aud, **over):
    """iss, aud, exp in 5 minutes, iat now and a new jti, changed by over (None drops)."""
    now = int(time.time())
    c = {"iss": iss, "aud": aud, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


NGINX_BIN = "/usr/sbin/nginx"


class Nginx:
    """Debian's nginx running deploy/nginx.conf itself (a symlink, under tmp), with a test's
    own upstream and listen include files: upstream(ports), then start()."""

    def __init__(self, tmp, src):
        self.prefix = os.path.join(tmp, "nginx")
        os.makedirs(os.path.join(self.prefix, "logs"), exist_ok=True)
        self.conf = os.path.join(self.prefix, "nginx.conf")
        os.symlink(os.path.join(src, "deploy", "nginx.conf"), self.conf)
        self.port = free_port()
        with open(os.path.join(self.prefix, "myocds-listen.conf"), "w") as f:
            f.write(f"listen 127.0.0.1:{self.port};\n")
        self.err_path = os.path.join(tmp, "nginx.err")
        self.proc = None

    def upstream(self, ports):
        with open(os.path.join(self.prefix, "myocds-upstream.conf"), "w") as f:
            f.write("upstream myocds {\n")
            for p in ports:
                f.write(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n")
            f.write("    keepalive 32;\n    keepalive_timeout 8s;\n}\n")

    def start(self):
        """True once it answers GET /cds-services with 200."""
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([NGINX_BIN, "-p", self.prefix, "-c", self.conf, "-g",
                                      f"daemon off; pid {self.prefix}/nginx.pid; user root;"],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                c.request("GET", "/cds-services")
                ok = c.getresponse().status == 200
                c.close()
                if ok:
                    return True
            except OSError:
                pass
            if self.proc.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def reload(self, ports):
        """A new upstream list, taken by new workers (SIGHUP); old ones finish their calls."""
        self.upstream(ports)
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)

    def errors(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
