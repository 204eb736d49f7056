#!/usr/bin/python3
"""run_deploy.py - the container files, checked without a Docker engine.

- `docker-compose config -q` accepts docker-compose.yml, and its services are the ones
  docs/INSTALL.md promises (two replicas behind nginx, PostgreSQL, HAPI FHIR, the loader);
- the Dockerfile is two-stage on debian:12-slim and runs as a non-root user;
- nginx.conf balances over both replicas; deploy/myocds.json is a config `myocds` loads;
- deploy/load_fhir.py builds a sound transaction Bundle for every fixture case (--check)
  and sends them to a FHIR server (a stand-in on 127.0.0.1 that checks each Bundle).

Prints "N passed, M failed".
    run_deploy.py --bin build/myocds --source .
"""
import argparse
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Results  # noqa: E402

SERVICES = {"postgres", "hapi", "fhir-loader", "myocds-1", "myocds-2", "nginx"}
RUN_TIMEOUT_S = 120


class FakeFhir(http.server.BaseHTTPRequestHandler):
    """GET /fhir/metadata and POST /fhir (a transaction Bundle of PUTs) only."""
    bundles = []
    problems = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        ok = self.path == "/fhir/metadata"
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/fhir+json")
        self.end_headers()
        self.wfile.write(b'{"resourceType": "CapabilityStatement"}' if ok else b"{}")

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = (self.path == "/fhir" and body.get("type") == "transaction" and
              all(e["request"]["method"] == "PUT" and e["request"]["url"] ==
                  f"{e['resource']['resourceType']}/{e['resource']['id']}"
                  for e in body.get("entry", [])))
        (FakeFhir.bundles if ok else FakeFhir.problems).append(body)
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/fhir+json")
        self.end_headers()
        self.wfile.write(b'{"resourceType": "Bundle", "type": "transaction-response"}')


def compose(res, src):
    exe = shutil.which("docker-compose")
    if not res.check("docker-compose is installed (scripts/deps.sh test)", exe is not None):
        return
    bare = {k: v for k, v in os.environ.items() if k not in ("MYOCDS_DB_PASSWORD", "MYOCDS_CONFIG")}
    p = subprocess.run([exe, "-f", os.path.join(src, "docker-compose.yml"), "config", "-q"],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT_S, env=bare)
    res.check("compose: no default database password (config refused without MYOCDS_DB_PASSWORD)",
              p.returncode != 0 and "MYOCDS_DB_PASSWORD" in p.stderr, p.stderr[-200:])
    os.environ["MYOCDS_DB_PASSWORD"] = "test-only"
    p = subprocess.run([exe, "-f", os.path.join(src, "docker-compose.yml"), "config", "-q"],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    res.check("docker-compose config -q accepts docker-compose.yml", p.returncode == 0, p.stderr)
    p = subprocess.run([exe, "-f", os.path.join(src, "docker-compose.yml"), "config",
                        "--services"], capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    got = set(p.stdout.split())
    res.check("compose services: two replicas, nginx, postgres, hapi, loader", got == SERVICES,
              str(got))
    p = subprocess.run([exe, "-f", os.path.join(src, "docker-compose.yml"), "config"],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    res.check("compose: HAPI FHIR image, PostgreSQL image, nginx publishes 8080",
              "hapiproject/hapi" in p.stdout and "image: postgres:" in p.stdout and
              re.search(r"published: 8080\s+target: 8080", p.stdout) is not None)
    res.check("compose: only nginx publishes a port (HAPI stays on the compose network)",
              len(re.findall(r"published:", p.stdout)) == 1, p.stdout[-300:])
    res.check("compose: the replicas run read-only, with no capabilities, no new privileges "
              "and memory and pid limits",
              p.stdout.count("read_only: true") >= 2 and p.stdout.count("- ALL") >= 2 and
              p.stdout.count("no-new-privileges:true") >= 2 and "mem_limit" in p.stdout and
              "pids_limit" in p.stdout, p.stdout[-300:])


def dockerfile(res, src):
    with open(os.path.join(src, "Dockerfile"), encoding="utf-8") as f:
        text = f.read()
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    res.check("Dockerfile: two stages, both debian:12-slim", froms == ["debian:12-slim"] * 2,
              str(froms))
    users = re.findall(r"^USER (\S+)", text, re.M)
    res.check("Dockerfile: the final stage runs as a non-root user",
              users and users[-1] not in ("root", "0") and text.rfind("USER") > text.rfind("FROM"))
    with open(os.path.join(src, "deploy", "myocds-upstream.conf"), encoding="utf-8") as f:
        upstream = f.read()
    with open(os.path.join(src, "docker-compose.yml"), encoding="utf-8") as f:
        compose = f.read()
    res.check("nginx: upstream over both replicas, its files mounted where nginx.conf includes them",
              "server myocds-1:8080" in upstream and "server myocds-2:8080" in upstream and
              all(f"/etc/nginx/{n}:ro" in compose
                  for n in ("nginx.conf", "myocds-upstream.conf", "myocds-listen.conf")))


def config(res, binary, src):
    for name in ("myocds.json", "myocds-sandbox.json"):
        p = subprocess.run([binary, "services", "--config", os.path.join(src, "deploy", name)],
                           capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        res.check(f"deploy/{name} loads (myocds services --config)", p.returncode == 0, p.stderr)
    with open(os.path.join(src, "deploy", "myocds.json"), encoding="utf-8") as f:
        default = json.load(f)
    res.check("deploy/myocds.json trusts no public test key and reads no server without a token",
              not default["auth"]["issuers"] and not default["fhir"].get("anonymous_servers"))


def loader(res, src):
    script = os.path.join(src, "deploy", "load_fhir.py")
    fixtures = os.path.join(src, "fixtures", "cases")
    p = subprocess.run([sys.executable, script, "--check", "--fixtures", fixtures],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    res.check("load_fhir.py --check: every case builds", p.returncode == 0, p.stdout[-2000:])
    n_cases = int(re.search(r"(\d+) passed", p.stdout).group(1)) if p.returncode == 0 else -1
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeFhir)
    t = threading.Thread(target=srv.serve_forever)
    t.start()
    try:
        p = subprocess.run([sys.executable, script, "--base",
                            f"http://127.0.0.1:{srv.server_address[1]}/fhir", "--fixtures",
                            fixtures, "--wait", "10"], capture_output=True, text=True,
                           timeout=RUN_TIMEOUT_S)
    finally:
        srv.shutdown()
        t.join()
    res.check("load_fhir.py sends one transaction per case", p.returncode == 0 and
              len(FakeFhir.bundles) == n_cases and not FakeFhir.problems,
              f"{len(FakeFhir.bundles)} of {n_cases}, {len(FakeFhir.problems)} bad")
    ids = [e["resource"]["id"] for b in FakeFhir.bundles for e in b["entry"]]
    res.check("loaded resources have distinct, valid ids",
              len(ids) == len(set((e["resource"]["resourceType"], e["resource"]["id"])
                                  for b in FakeFhir.bundles for e in b["entry"])) and
              all(re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", i) for i in ids))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    res = Results()
    compose(res, args.source)
    dockerfile(res, args.source)
    config(res, args.bin, args.source)
    loader(res, args.source)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
