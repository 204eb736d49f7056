"""report_page.py - the checks of `myocds report --html`'s page that run_report.py makes:
every number in its tables and chart tooltips against the --json report and the counts
sent, nothing on it that loads from outside, and the page drawn by headless Chromium.
"""
import html.parser
import math
import os
import re
import shutil
import subprocess

BROWSER_TIMEOUT_S = 90
HEADLINE_MIN_ISSUED = 10
TOP_REASONS = 3
WILSON_Z = 1.959963984540054
NO_REASON = "no reason given"
PCT_SLACK = 0.051  # the page shows 1 decimal of a percentage, the JSON 4 of a share


class Page(html.parser.HTMLParser):
    """The page's tables (id -> rows of cell texts), chart tooltips (section id -> texts),
    the headline's rule, and per section the SVG shapes (tag, attributes)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables = {}
        self.titles = {}
        self.shapes = {}
        self.headline_rule = None
        self.tags = set()
        self.attrs = []
        self._section = None
        self._table = None
        self._row = None
        self._cell = None
        self._title = None
        self._svg = 0
        self._headline = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.add(tag)
        self.attrs.extend(k for k, _ in attrs)
        if tag == "section":
            self._section = a.get("id")
        elif tag == "table":
            self._table = self.tables.setdefault(a.get("id"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "svg":
            self._svg += 1
        elif tag == "title" and self._svg:
            self._title = []
        elif tag == "code" and a.get("id") == "headline-rule":
            self._headline = True
            self.headline_rule = ""
        if self._svg and tag in ("rect", "path") and self._section:
            self.shapes.setdefault(self._section, []).append((tag, a))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "svg":
            self._svg -= 1
        elif tag == "title" and self._title is not None:
            self.titles.setdefault(self._section, []).append("".join(self._title))
            self._title = None
        elif tag == "code":
            self._headline = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._title is not None:
            self._title.append(data)
        if self._headline:
            self.headline_rule += data


def parse(text):
    p = Page()
    p.feed(text)
    p.close()
    return p


def wilson(k, n):
    """The 95 % Wilson score interval of k in n, or None for n = 0."""
    if n == 0:
        return None
    p, z2 = k / n, WILSON_Z * WILSON_Z
    d = 1 + z2 / n
    c = (p + z2 / (2 * n)) / d
    h = WILSON_Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / d
    return (0.0 if k == 0 else c - h, 1.0 if k == n else c + h)


def pct(v):
    return float(v.rstrip(" %"))


def most_ignored(rules):
    """The rule the headline must name (report.h), or None."""
    ok = [r for r in rules if r["issued"] >= HEADLINE_MIN_ISSUED]
    ok.sort(key=lambda r: (r["accepted"] / r["issued"], -r["issued"], r["rule"]))
    return ok[0]["rule"] if ok else None


def check_outcomes(res, name, page, doc):
    rows = page.tables.get("outcomes-table", [])[1:]  # after the header
    got = {r[0]: r[1:] for r in rows}
    res.check(f"{name}: --html outcomes table has every rule, in order",
              [r[0] for r in rows] == [r["rule"] for r in doc["rules"]], str(rows)[:500])
    for r in doc["rules"]:
        row = got.get(r["rule"])
        if not res.check(f"{name}: --html row {r['rule']} present", row is not None):
            continue
        counts = [int(x) for x in row[:4]]
        nofb = max(0, r["issued"] - r["accepted"] - r["overridden"])
        res.check(f"{name}: --html {r['rule']} issued/accepted/overridden/no feedback",
                  counts == [r["issued"], r["accepted"], r["overridden"], nofb]
                  and r["no_feedback"] == nofb, f"{row} vs {r}")
        ci = wilson(r["accepted"], r["issued"])
        res.check(f"{name}: --html {r['rule']} rate and 95 % interval",
                  row[4] == f"{100 * r['accepted'] / r['issued']:.1f} %"
                  and abs(pct(row[5]) - 100 * r["acceptance_ci_low"]) <= PCT_SLACK
                  and abs(pct(row[6]) - 100 * r["acceptance_ci_high"]) <= PCT_SLACK
                  and abs(r["acceptance_ci_low"] - ci[0]) < 1e-4
                  and abs(r["acceptance_ci_high"] - ci[1]) < 1e-4,
                  f"{row} vs {r} (Wilson {ci})")


def check_reasons(res, name, page, doc, sent, categories):
    """sent: rule -> {(system, code): n} as the runner sent them."""
    rows = page.tables.get("reasons-table", [])[1:]
    want = []
    for r in doc["rules"]:
        for c in r["override_categories"]:
            cat = c["category"]
            codes = sorted(((code, n, system) for (system, code), n in
                            sent.get(r["rule"], {}).items()
                            if categories.get((r["rule"], system, code)) == cat),
                           key=lambda t: (-t[1], t[0], t[2]))[:TOP_REASONS]
            want.append([r["rule"], cat or "unknown", str(c["count"]),
                         ", ".join(f"{code} ({n})" for code, n, _ in codes)])
        none = r["overridden"] - sum(c["count"] for c in r["override_categories"])
        if none > 0:
            want.append([r["rule"], NO_REASON, str(none), ""])
    res.check(f"{name}: --html reasons table: categories, counts and top codes as sent",
              rows == want, f"\n got {rows}\nwant {want}")


def check_tooltips(res, name, page, doc):
    """Each bar segment's tooltip "rule: N what" against the report."""
    by_rule = {r["rule"]: r for r in doc["rules"]}
    bad = []
    n = 0
    for t in page.titles.get("outcomes", []):
        m = re.fullmatch(r"(.+): (\d+) (accepted|overridden|no feedback)", t)
        if m:
            n += 1
            key = m.group(3).replace(" ", "_")
            if by_rule[m.group(1)][key] != int(m.group(2)):
                bad.append(t)
    for t in page.titles.get("reasons", []):
        m = re.fullmatch(r"(.+): (\d+) (.+)", t)
        if m:
            n += 1
            r = by_rule[m.group(1)]
            cats = {c["category"] or "unknown": c["count"] for c in r["override_categories"]}
            cats[NO_REASON] = r["overridden"] - sum(cats.values())
            if cats.get(m.group(3)) != int(m.group(2)):
                bad.append(t)
    res.check(f"{name}: --html every chart tooltip's number is the report's", n > 0 and not bad,
              f"{n} tooltips, wrong: {bad[:5]}")


def check_burden(res, name, page, doc):
    """The alert burden's tables and tooltips against the --json report."""
    def per(cell):
        return None if cell == "-" else float(cell)
    rows = page.tables.get("burden-services", [])[1:]
    res.check(f"{name}: --html burden: calls, cards and cards per 100 calls per service",
              [(r[0], int(r[1]), int(r[2]), per(r[3])) for r in rows] ==
              [(s["service"], s["calls"], s["cards"], s["cards_per_100_calls"])
               for s in doc["services"]] and rows, str(rows))
    rows = page.tables.get("burden-rules", [])[1:]
    res.check(f"{name}: --html burden: cards per 100 calls per rule",
              [(r[0], int(r[1]), per(r[2])) for r in rows] ==
              [(r["rule"], r["issued"], r["cards_per_100_calls"]) for r in doc["rules"]]
              and rows, str(rows))
    by_service = {s["service"]: s for s in doc["services"]}
    tips = [re.fullmatch(r"(.+): (\d+) cards in (\d+) calls", t)
            for t in page.titles.get("burden", [])]
    res.check(f"{name}: --html burden chart tooltips are the report's",
              tips and all(m is not None and by_service[m.group(1)]["cards"] == int(m.group(2))
                           and by_service[m.group(1)]["calls"] == int(m.group(3))
                           for m in tips), str(page.titles.get("burden")))


def outcome_cells(o):
    """An outcomes row's cells as the page writes them (report_groups.c)."""
    if not o["issued"]:
        rate = ["-", "-", "-"]
    else:
        rate = [f"{100 * min(o['accepted'], o['issued']) / o['issued']:.1f} %"] + \
            [f"{100 * w:.1f} %" for w in wilson(min(o["accepted"], o["issued"]), o["issued"])]
    return [str(o["issued"]), str(o["accepted"]), str(o["overridden"]), str(o["no_feedback"])] \
        + rate


def check_weeks(res, name, page, doc):
    """The trend's table (weeks with any card) and every week column's tooltip."""
    want = [[r["rule"], w["week"], str(w["issued"]), str(w["accepted"]), str(w["overridden"])]
            for r in doc["rules"] for w in r["weeks"]
            if w["issued"] or w["accepted"] or w["overridden"]]
    rows = page.tables.get("weeks-table", [])[1:]
    res.check(f"{name}: --html weeks table: every week with cards, as --json",
              rows == want and rows, f"\n got {rows[:4]}\nwant {want[:4]}")
    tips = []
    for t in page.titles.get("weeks", []):
        m = re.fullmatch(r"(.+), week of (\S+): (\d+) issued, (\d+) accepted, (\d+) overridden",
                         t)
        if m:
            tips.append([m.group(1), m.group(2), m.group(3), m.group(4), m.group(5)])
    every = [[r["rule"], w["week"], str(w["issued"]), str(w["accepted"]), str(w["overridden"])]
             for r in doc["rules"] if r["issued"] for w in r["weeks"]]
    res.check(f"{name}: --html weeks chart: a tooltip per rule and week, as --json",
              tips == every and tips, f"{tips[:3]} vs {every[:3]}")


def check_groups(res, name, page, doc):
    """Per EHR and per service (tables and the EHR chart's tooltips), and what was in
    force."""
    rows = page.tables.get("ehrs-table", [])[1:]
    want = [[e["iss"] or "no issuer (a call without a JWT)", e["tenant"] or "-",
             *outcome_cells(e)] for e in doc["ehrs"]]
    res.check(f"{name}: --html EHR table as --json", rows == want and rows,
              f"\n got {rows}\nwant {want}")
    rows = page.tables.get("services-table", [])[1:]
    want = [[s["service"], *outcome_cells(s)] for s in doc["services"]
            if s["issued"] or s["accepted"] or s["overridden"]]
    res.check(f"{name}: --html service table as --json", rows == want and rows,
              f"\n got {rows}\nwant {want}")
    by_ehr = {(e["iss"] + (f", {e['tenant']}" if e["tenant"] else "")): e for e in doc["ehrs"]
              if e["iss"]}
    bad, n = [], 0
    for t in page.titles.get("groups", []):
        m = re.fullmatch(r"(.+): (\d+) (accepted|overridden|no feedback)", t)
        if m:
            n += 1
            e = by_ehr.get(m.group(1))
            if e is None or e[m.group(3).replace(" ", "_")] != int(m.group(2)):
                bad.append(t)
    res.check(f"{name}: --html EHR chart tooltips are the report's", n > 0 and not bad,
              f"{n} tooltips, wrong: {bad[:4]}")
    f = doc.get("in_force") or {}
    rows = page.tables.get("off-table", [])[1:]
    res.check(f"{name}: --html the rules switched off",
              rows == [[o["service"], o["rule"]] for o in f.get("switched_off", [])] and rows,
              str(rows))
    rows = page.tables.get("thresholds-table", [])[1:]
    res.check(f"{name}: --html the thresholds as loaded",
              {r[0]: float(r[1]) for r in rows} == {k: float(v) for k, v in
                                                   f.get("thresholds", {}).items()} and rows,
              str(rows)[:300])


def check_page(res, name, text, doc, sent, categories, feedback_entries):
    """text: the page; doc: the --json report of the same range."""
    res.check(f"{name}: --html is an HTML5 page with lang, charset and title",
              text.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
              and "<meta charset=\"utf-8\">" in text and re.search(r"<title>[^<]+</title>", text)
              is not None)
    page = parse(text)
    res.check(f"{name}: --html loads nothing and runs nothing",
              not ({"script", "link", "img", "iframe", "object", "embed"} & page.tags)
              and not ({"src", "href"} & set(page.attrs)) and "url(" not in text
              and "@import" not in text and not any(a.startswith("on") for a in page.attrs),
              str(sorted(page.tags)))
    res.check(f"{name}: --html has a print stylesheet", "@media print" in text)
    check_outcomes(res, name, page, doc)
    check_reasons(res, name, page, doc, sent, categories)
    check_tooltips(res, name, page, doc)
    check_burden(res, name, page, doc)
    check_weeks(res, name, page, doc)
    check_groups(res, name, page, doc)
    totals = {r[0]: int(r[1]) for r in page.tables.get("totals-table", []) if len(r) == 2}
    res.check(f"{name}: --html totals", totals == {
        "Cards issued": sum(r["issued"] for r in doc["rules"]),
        "Feedback entries received": feedback_entries,
        "of them for cards this store did not issue": doc["feedback_unmatched"]}
        and doc["feedback_total"] == feedback_entries, str(totals))
    want = most_ignored(doc["rules"])
    res.check(f"{name}: --html headline names the most ignored rule ({want})",
              page.headline_rule == want if want else "No rule had" in text,
              f"{page.headline_rule!r}")


def chromium(*args):
    return subprocess.run(["chromium", "--headless", "--disable-gpu", "--no-sandbox",
                           "--no-first-run", "--disable-extensions", *args],
                          capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S)


def check_browser(res, path, screenshot):
    """The page drawn by headless Chromium: its charts have shapes of some size; the
    screenshot saved at screenshot. Fails when Chromium is not installed."""
    if not res.check("chromium is installed (scripts/deps.sh test)",
                     shutil.which("chromium") is not None):
        return
    url = "file://" + os.path.abspath(path)
    p = chromium("--dump-dom", url)
    dom = parse(p.stdout)
    for sec, tag in (("outcomes", "rect"), ("outcomes", "path"), ("reasons", "rect"),
                     ("burden", "rect"), ("weeks", "path"), ("weeks", "rect"),
                     ("groups", "rect")):
        shapes = [a for t, a in dom.shapes.get(sec, []) if t == tag]
        sized = [a for a in shapes if float(a.get("width", "1")) > 0 and a.get("d", "M") != ""]
        res.check(f"chromium: the {sec} chart has {tag} elements, none empty",
                  len(shapes) > 0 and len(sized) == len(shapes),
                  f"{len(shapes)} {tag}, rc {p.returncode} {p.stderr[-300:]}")
    if os.path.exists(screenshot):
        os.unlink(screenshot)
    p = chromium(f"--screenshot={screenshot}", "--window-size=1200,2000",
                 "--hide-scrollbars", url)
    ok = os.path.exists(screenshot) and os.path.getsize(screenshot) > 10000
    if ok:
        with open(screenshot, "rb") as f:
            ok = f.read(8) == b"\x89PNG\r\n\x1a\n"
    res.check(f"chromium: screenshot saved as {screenshot}", ok,
              f"rc {p.returncode} {p.stderr[-300:]}")
