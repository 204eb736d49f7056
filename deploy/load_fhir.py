#!/usr/bin/env python3
"""Loads the demo patients of fixtures/cases into a FHIR R4 server (HAPI in compose).

Every case's prefetch (Patient, Conditions, MedicationRequests, Observations,
AllergyIntolerances, ...) becomes one transaction Bundle of PUTs. Ids are prefixed with
the case's number (c007-cond-dm) because cases reuse ids; references are rewritten to
match. References to resources a case does not hold (prescribers) keep only their text. The
draft orders stay in the requests: an EHR sends them in the hook's context.

  load_fhir.py --base http://hapi:8080/fhir --fixtures /fixtures/cases [--wait 300]
  load_fhir.py --check --fixtures fixtures/cases      (build every Bundle, check, send none)

Prints "N passed, M failed" (cases loaded or checked) and exits 1 when any failed.
Standard library only; it talks to --base and nothing else.
"""
import argparse
import glob
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
REF_RE = re.compile(r"^([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})$")
TIMEOUT_S = 30


def cases(fixtures):
    """(number, name, request) of every request file, in name order."""
    names = sorted(p for p in glob.glob(os.path.join(fixtures, "*.json"))
                   if not p.endswith(".expect.json"))
    for i, path in enumerate(names):
        with open(path, encoding="utf-8") as f:
            yield i, os.path.basename(path)[:-5], json.load(f)


def resources(request):
    """Every record resource of the request's prefetch (Bundles unpacked; an outcome entry
    or an OperationOutcome is about the search, not the patient's record)."""
    for value in (request.get("prefetch") or {}).values():
        if not isinstance(value, dict):
            continue
        if value.get("resourceType") == "Bundle":
            for entry in value.get("entry") or []:
                res = entry.get("resource")
                if (isinstance(res, dict) and res.get("resourceType") != "OperationOutcome"
                        and (entry.get("search") or {}).get("mode") != "outcome"):
                    yield res
        elif value.get("resourceType") != "OperationOutcome":
            yield value


def rewrite(node, prefix, known):
    """Prefixes every reference to a resource of this case, in place. A reference to one
    the case does not hold (the prescriber) keeps only its text: the server checks that
    references resolve."""
    if isinstance(node, dict):
        ref = node.get("reference")
        m = REF_RE.match(ref) if isinstance(ref, str) else None
        if m and (m.group(1), m.group(2)) in known:
            node["reference"] = f"{m.group(1)}/{prefix}-{m.group(2)}"
        elif m:
            del node["reference"]
            node.setdefault("display", f"{m.group(1)} {m.group(2)}")
        for key, value in node.items():
            if key != "contained":  # contained resources keep their local ids
                rewrite(value, prefix, known)
    elif isinstance(node, list):
        for value in node:
            rewrite(value, prefix, known)


def bundle(number, request):
    """The transaction Bundle of one case, and a list of problems (empty when sound)."""
    prefix = f"c{number:03d}"
    found = [json.loads(json.dumps(r)) for r in resources(request)]
    known = {(r.get("resourceType"), r.get("id")) for r in found}
    problems, entries, seen = [], [], set()
    for r in found:
        rewrite(r, prefix, known)
        r["id"] = f"{prefix}-{r.get('id')}"
        key = (r["resourceType"], r["id"])
        if not ID_RE.match(r["id"]):
            problems.append(f"id {r['id']!r} is not a FHIR id")
        if key in seen:
            continue  # the same resource in two prefetch keys
        seen.add(key)
        entries.append({"resource": r,
                        "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}})
    for r in found:
        for ref in re.findall(r'"reference": "([A-Z][A-Za-z]+/[^"]+)"', json.dumps(r)):
            if tuple(ref.split("/", 1)) not in seen:
                problems.append(f"reference {ref} points outside the case")
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}, problems


def wait_for(base, seconds):
    """Polls {base}/metadata until the server answers (HAPI takes a while to start)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{base}/metadata", timeout=TIMEOUT_S) as resp:
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(5)


def post(base, body):
    req = urllib.request.Request(base, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/fhir+json"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return resp.status, ""
    except urllib.error.HTTPError as e:
        return e.code, e.read(300).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, str(e)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--base", help="FHIR base URL, e.g. http://hapi:8080/fhir")
    ap.add_argument("--wait", type=int, default=300, help="seconds to wait for the server")
    ap.add_argument("--check", action="store_true", help="build and check, send nothing")
    args = ap.parse_args()
    if not args.check and not args.base:
        ap.error("--base is required unless --check")
    if not args.check and not wait_for(args.base.rstrip("/"), args.wait):
        print(f"load_fhir: {args.base} did not answer within {args.wait} s", file=sys.stderr)
        return 1
    passed = failed = 0
    for number, name, request in cases(args.fixtures):
        body, problems = bundle(number, request)
        if not args.check and not problems:
            status, text = post(args.base.rstrip("/"), body)
            if status != 200:
                problems.append(f"HTTP {status} {text}")
        patient = next((e["resource"]["id"] for e in body["entry"]
                        if e["resource"]["resourceType"] == "Patient"), "-")
        if problems:
            failed += 1
            print(f"FAIL {name}: {'; '.join(problems)}")
        else:
            passed += 1
            print(f"ok {name}: Patient/{patient}, {len(body['entry'])} resources")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
