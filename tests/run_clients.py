#!/usr/bin/python3
"""run_clients.py - cards shaped to each client profile (config "clients"), on a live serve.

Every fixture that fires cards is posted to `myocds serve --dev` under four profiles of the
"default" client: a CDS Hooks 2.0 client (no profile), a 3.0 client that understands
actionSelectionBehavior, a client that takes only "any", one action per suggestion and
alphanumeric topic codes (what Epic documents), and one that takes only "at-most-one" and
one action. For each answer: the selectionBehavior is one the client accepts, no suggestion
has more actions than it takes, actionSelectionBehavior ("all") is sent exactly to the
client that supports it and only on suggestions of several actions, topic codes are as the
client wants them, an "at-most-one" card recommends at most one suggestion, every action's
resource is valid FHIR R4, and nothing the 2.0 client is offered is lost to a client that
takes "any" (methotrexate and its folic acid both offered). Then a non-dev serve picks the
profile by the verified JWT iss. Prints "N passed, M failed".

    run_clients.py --bin build/myocds --fixtures fixtures/cases --schema build/fhir.schema.json
"""
import argparse
import json
import os
import re
import sys

from harness import (Results, Serve, cases, gen_key, jwk_of, jwt_claims, load_schema,
                     make_token, scratch, write_config)

PROFILES = {
    "2.0": None,
    "3.0": {"actionSelectionBehavior": True},
    "any-1": {"selectionBehavior": ["any"], "maxActionsPerSuggestion": 1,
              "topicCodeAlphanumeric": True},
    "one-1": {"selectionBehavior": ["at-most-one"], "maxActionsPerSuggestion": 1},
}
MONOTHERAPY = "order-sign-pm-pred60-alone"
ISS = "https://ehr.clients.test"
BASE = "https://cds.clients.test"


def firing(fixtures):
    """(name, service, body) of the cases that fire cards."""
    out = []
    for name, exp, path in cases(fixtures):
        if exp.get("status", 200) == 200 and exp.get("fire"):
            with open(path, "rb") as f:
                out.append((name, exp["service"], f.read()))
    return out


def answers(srv, bodies, headers=None):
    """name -> the answer's cards of every case."""
    out = {}
    for name, service, body in bodies:
        status, doc = srv.request("POST", f"/cds-services/{service}", body,
                                  dict({"Content-Type": "application/json"}, **(headers or {})))
        out[name] = doc.get("cards", []) if status == 200 and isinstance(doc, dict) else None
    return out


def offered(cards):
    """The action descriptions offered, per rule."""
    out = {}
    for c in cards or []:
        rule = c["source"]["topic"]["code"].replace("-", "")
        for s in c.get("suggestions", []):
            for a in s["actions"]:
                out.setdefault(rule, set()).add(a["description"])
    return out


def shape_problems(cards, prof, schema):
    """What in cards does not fit profile prof (None: a 2.0 client)."""
    p = prof or {}
    accepted = set(p.get("selectionBehavior", ["any", "at-most-one"]))
    most = p.get("maxActionsPerSuggestion")
    asb = p.get("actionSelectionBehavior", False)
    out, uuids = [], set()
    for c in cards or []:
        code = c["source"]["topic"]["code"]
        if p.get("topicCodeAlphanumeric") and not re.fullmatch(r"[a-z0-9]{1,100}", code):
            out.append(f"topic code {code} not alphanumeric")
        if not p.get("topicCodeAlphanumeric") and "-" not in code:
            out.append(f"topic code {code} lost its hyphens")
        sugg = c.get("suggestions", [])
        if sugg and c.get("selectionBehavior") not in accepted:
            out.append(f"{code}: selectionBehavior {c.get('selectionBehavior')}")
        if c.get("selectionBehavior") == "at-most-one" and \
                sum(1 for s in sugg if s.get("isRecommended")) > 1:
            out.append(f"{code}: at-most-one with several recommended")
        for s in sugg:
            n = len(s["actions"])
            if s["uuid"] in uuids:
                out.append(f"{code}: suggestion uuid twice")
            uuids.add(s["uuid"])
            if most is not None and n > most:
                out.append(f"{code}: {n} actions in '{s['label']}'")
            want = "all" if asb and n > 1 else None
            if s.get("actionSelectionBehavior") != want:
                out.append(f"{code}: actionSelectionBehavior {s.get('actionSelectionBehavior')} "
                           f"on {n} actions")
            for a in s["actions"]:
                if "resource" in a:
                    out += [f"{code}: {e}" for e in schema.errors(a["resource"])]
    return out


def dev_profiles(res, args, tmp, bodies, schema):
    got = {}
    for name, prof in PROFILES.items():
        keys = {"cards": {"repeat_window_min": 0}, "log_level": "warn",
                "data_dir": os.path.join(tmp, "data-" + name)}
        if prof is not None:
            keys["clients"] = {"default": prof}
        srv = Serve(args.bin, write_config(os.path.join(tmp, name + ".json"), **keys))
        if not res.check(f"{name}: server starts", srv.start(), srv.log()[-1000:]):
            continue
        try:
            got[name] = answers(srv, bodies)
        finally:
            srv.stop()
        missing = [n for n, cards in got[name].items() if cards is None]
        res.check(f"{name}: every case answered 200", not missing, str(missing[:3]))
        problems = [f"{n}: {p}" for n, cards in got[name].items()
                    for p in shape_problems(cards, prof, schema)]
        res.check(f"{name}: every card fits the client ({len(bodies)} cases)", not problems,
                  "; ".join(problems[:5]))
    return got


def compare(res, got):
    base = got.get("2.0", {})
    if not base:
        return
    for name in ("3.0", "any-1"):
        lost = [n for n in base if offered(base[n]) != offered(got.get(name, {}).get(n))]
        res.check(f"{name}: every action the 2.0 client is offered is offered", not lost,
                  str(lost[:3]))
    kept = [n for n in base
            if any(not acts <= offered(base[n]).get(rule, set())
                   for rule, acts in offered(got.get("one-1", {}).get(n)).items())]
    res.check("one-1: only actions the 2.0 client is offered", not kept, str(kept[:3]))
    for name in ("any-1", "one-1"):
        cards = got.get(name, {}).get(MONOTHERAPY) or []
        mono = [c for c in cards if c["source"]["topic"]["code"].replace("-", "") ==
                "steroidmonotherapy"]
        descs = [a["description"].lower() for c in mono for s in c.get("suggestions", [])
                 for a in s["actions"]]
        want_folic = name == "any-1"  # cut to one action, at-most-one cannot carry both
        res.check(f"{name}: steroid-monotherapy offers methotrexate"
                  + (" and folic acid" if want_folic else ""),
                  any("methotrexate" in d for d in descs) and
                  (not want_folic or any("folic acid" in d for d in descs)), str(descs))
    rec = [s for c in got.get("any-1", {}).get(MONOTHERAPY) or []
           if c["source"]["topic"]["code"] == "steroidmonotherapy"
           for s in c.get("suggestions", []) if s.get("isRecommended")]
    labels = [s["label"].lower() for s in rec]
    res.check("any-1: the recommended methotrexate + folic acid split, each part recommended",
              any("methotrexate" in x for x in labels) and any("folic acid" in x for x in labels)
              and all(len(s["actions"]) == 1 for s in rec), str(labels))


def by_issuer(res, args, tmp, bodies, schema):
    """A non-dev serve: the verified iss picks its profile, a call of another iss the
    default."""
    key = gen_key(os.path.join(tmp, "ec.pem"), "P-384")
    jwks = os.path.join(tmp, "jwks.json")
    with open(jwks, "w") as f:
        json.dump({"keys": [jwk_of(key, "k1", "ES384")]}, f)
    other = "https://other.clients.test"
    cfg = write_config(os.path.join(tmp, "jwt.json"), public_base_url=BASE, log_level="warn",
                       data_dir=os.path.join(tmp, "data-jwt"), cards={"repeat_window_min": 0},
                       auth={"issuers": [{"iss": ISS, "jwks_file": jwks},
                                         {"iss": other, "jwks_file": jwks}]},
                       clients={ISS: PROFILES["any-1"], "default": PROFILES["3.0"]})
    srv = Serve(args.bin, cfg, dev=False)
    if not res.check("jwt: server starts", srv.start(), srv.log()[-1000:]):
        return
    try:
        for iss, prof in ((ISS, "any-1"), (other, "3.0")):
            problems, n = [], 0
            for name, service, body in bodies:
                token = make_token({"alg": "ES384", "typ": "JWT", "kid": "k1"},
                                   jwt_claims(iss, f"{BASE}/cds-services/{service}"), key)
                got = answers(srv, [(name, service, body)], {"Authorization": "Bearer " + token})
                n += 1
                problems += [f"{name}: {p}" for p in shape_problems(got[name], PROFILES[prof],
                                                                   schema)]
                if got[name] is None:
                    problems.append(f"{name}: not answered 200")
            res.check(f"jwt: iss {iss} gets the {prof} profile ({n} cases)", not problems,
                      "; ".join(problems[:5]))
    finally:
        srv.stop()


def config_refusals(res, args, tmp):
    """A client entry with an unknown or ill-typed key stops start-up, naming it."""
    import subprocess
    bad = {"default": {"maxActionsPerSugestion": 1}}
    worse = {"default": {"selectionBehavior": ["all"]}}
    for label, clients, needle in (("unknown key", bad, "clients.default.maxActionsPerSugestion"),
                                   ("bad selectionBehavior", worse,
                                    "clients.default.selectionBehavior")):
        cfg = write_config(os.path.join(tmp, "bad.json"), clients=clients)
        p = subprocess.run([args.bin, "serve", "--dev", "--port", "0", "--config", cfg],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        res.check(f"config {label}: start-up refused (exit 2), naming it",
                  p.returncode == 2 and needle.encode() in p.stderr, p.stderr[-300:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--schema", required=True)
    args = ap.parse_args()
    args.bin = os.path.abspath(args.bin)
    res = Results()
    schema = load_schema(args.schema)
    bodies = firing(args.fixtures)
    res.check("fixtures that fire cards found", len(bodies) >= 20, str(len(bodies)))
    with scratch("clients") as tmp:
        compare(res, dev_profiles(res, args, tmp, bodies, schema))
        by_issuer(res, args, tmp, bodies[:40], schema)
        config_refusals(res, args, tmp)
    return res.finish()


if __name__ == "__main__":
    sys.exit(main())
