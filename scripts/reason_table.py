#!/usr/bin/python3
"""reason_table.py - the override reasons of every rule, as the Markdown table of
docs/RULES.md ("Override reasons"), from hooks/rules.json.

    scripts/reason_table.py [--hooks hooks]          # prints the table
    scripts/reason_table.py --check docs/RULES.md    # exit 1 when the page's table differs
"""
import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def table(hooks):
    with open(os.path.join(hooks, "rules.json"), encoding="utf-8") as f:
        doc = json.load(f)
    std = doc["override_codes"]["codes"]
    lines = ["| rule | card | reason (display) | code | category |",
             "|---|---|---|---|---|"]
    for rid, rule in doc["rules"].items():
        for key, reasons in rule.items():
            if not key.startswith("override_reasons"):
                continue
            card = "main" if key == "override_reasons" else key[len("override_reasons_"):]
            for r in reasons:
                if r.get("standard"):
                    code, cat = f"`{r['code']}` (HL7)", std[r["code"]]["category"]
                else:
                    code, cat = f"`{r['code']}` (own)", r["category"]
                lines.append(f"| `{rid}` | {card} | {r['display']} | {code} | `{cat}` |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hooks", default=os.path.join(ROOT, "hooks"))
    ap.add_argument("--check", help="a Markdown page that must hold the table as printed")
    a = ap.parse_args()
    t = table(a.hooks)
    if a.check is None:
        sys.stdout.write(t)
        return 0
    with open(a.check, encoding="utf-8") as f:
        ok = t in f.read()
    print(("ok   - " if ok else "FAIL - ") + f"{a.check} holds the override reasons of "
          f"{a.hooks}/rules.json (scripts/reason_table.py prints it)")
    print(f"{int(ok)} passed, {int(not ok)} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
