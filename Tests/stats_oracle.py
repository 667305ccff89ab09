#!/usr/bin/env python3
"""Independent oracle for `referral stats` and `referral caseload`.

Written from docs/projections.md ("What the statistics count", "Caseload", "Retractions",
"Time travel", "Suppression"), docs/cli.md (stats, caseload, export), docs/cloudevents.md and
shared/DOMAIN.md, with none of the project's code: it exports the log with the CLI
(CloudEvents JSON Lines), folds it again in plain Python, runs the CLI's statistics and
caseload as JSON and compares every figure. Standard library only. JSON keys are compared
in camelCase (kebab-case keys such as "first-contact" are converted), so either spelling of
the CLI's output works.

usage: stats_oracle.py STORE_DIR REFERRAL_BINARY [--today DATE] [--as-of DATE ...]
                       [--no-edge] [--no-catch-up] [--verbose]

Three parts, each comparing every statistic and the caseload:
1. STORE_DIR as it is (e.g. a small demo store): every statistic over the plans' span, in
   total by sector, one year by quarter and one by month grouped by area / organisation /
   age band, ranges given as --quarter, --month, --plan, --to alone and a range that cuts a
   quarter, the --area and --organisation filters, suppression (default and --suppress 10),
   the caseload with each --by, filter and --flag; then the same log as known at the end of
   some days (--as-of: the middle of the recorded-at span and days on which a retracted
   event was recorded but its retraction not yet), at an ISO 8601 instant, and as of
   positions (--as-of-position: the middle, just before every retraction and just after
   one that takes away a registration, an opening or an agreement).
2. A store of edge cases the demo never makes (`edge_events`, imported with `referral
   import` into a temporary store): retracted openings, closes, reopenings, answers,
   placement starts and ends, withdrawals, assignments, referrals, hour logs and agreement
   ends; late registrations dated before earlier events; times with UTC offsets across a
   month boundary; outcomes attributed to an earlier close and replaced; residents on
   period boundaries; caseload flags on their boundaries; a rate that ties at one decimal;
   hours without an area or a party; 18.53 agreed hours a week; a case before the plans.
   Imported events are all recorded at once, so its views are by position only.
3. Catch-up: STORE_DIR's log imported into a temporary store in nine parts, the
   projections read after each part (a part without a retraction is applied row by row,
   one with a retraction rebuilds) and compared with the oracle's fold of that prefix.

Exit 0 when every figure agrees, 1 with one readable line per difference, 2 when the CLI
fails.

Definitions taken from the docs (and where the docs left a choice, the choice made):
- A view is the log up to a position (as known at the end of a day or at an instant: every
  event recorded by then). Within a view, an event named by an `event-retracted` of the same
  view is left out, and so is the retraction; a case event for a case whose opening is not
  there (retracted, or not yet recorded) is ignored, and so is a second `case-opened`.
- Days are the UTC date of `time` (occurred at), except placement start/end (`startDate`,
  `endDate`), hours (`date`) and agreement ends (`endDate`), which carry their own day.
- cases: opened = a case's first opening, in the month of its occurred-at; reopened and
  closed = each such event.
- referrals: made = each referral, in its month; accepted / rejected = the answers (in the
  view) to those referrals, counted in the referral's month; awaiting = made - answered;
  acceptance % = accepted / (accepted + rejected), one decimal rounded half up, null when
  none answered. Always split from-sector -> to-sector (the registry sector of each end) and
  kind; --by organisation adds the referring and receiving organisation, --by area the
  case's area; --organisation matches either end.
- funnel: per case, its first referral (earliest day; ties in log order) -> the earliest
  jobcenter contact (any kind) on or after that day -> the earliest placement start on or
  after that contact -> any placement ending (end date on or after that start) in ordinary
  job or education, or an outcome (occurred on or after that start) of ordinary job or
  education. All counted in the first referral's month.
- first-contact: days from that first referral to that first contact; lower median
  (the ceil(n/2)-th smallest) and nearest-rank 90th percentile (the ceil(0.9 n)-th
  smallest), as docs/projections.md says.
- placements: started in the month of startDate, ended (by outcome) in the month of endDate;
  always split by placement kind.
- outcomes: per (close, months after close) the last outcome recorded (log order) wins; the
  close is the latest close dated on or before the outcome; counted in that close's month.
- residents: distinct pseudonyms with a case open on at least one day of the period (an
  episode runs from its opening to its closing day, both included; a period cut by the
  range covers only the range's months); grouping by the case's area, organisation,
  sector, and age band, gender, target group as recorded at opening; the target group's
  label is the definition in effect on the period's last day (when none is in effect then,
  the latest recorded one, and the code itself when the view holds none: the docs did not
  say; read in ProjectionView.targetGroupLabel).
- hours: delivered = logged hours in the month of their date; agreed = hoursPerWeek / 5 per
  Monday-Friday from validFrom to the earlier of validTo and the agreement's end, rounded
  (half up) to 0.01 h per month, then summed; balance = delivered - agreed. The
  per-agreement row (party "all") carries agreed; --by organisation / --by area add
  delivered-only rows per logged servedOrganisation / areaId ("unspecified" when the log
  has none). --organisation keeps the agreements it pays or is served by, and with --by
  organisation only the rows of those parties unless it pays the agreement; --area those
  that serve the area, and with --by area only the rows of those areas.
- caseload: open cases as of the view; active placements = started and not ended (in any
  episode); pending referrals = not answered; consents in force = given, not withdrawn, not
  lapsed by a close, and not past validUntil on --today; last activity = the latest
  occurred-at day of the case's applied events (retracted events and retractions do not
  count); openedOn = the first opening; flags as docs/projections.md "Caseload".
- suppression: counts 1..N-1 shown as "<N"; an acceptance rate when its accepted or its
  rejected count is; median and p90 days when their case count is; hours never.

What cannot be checked: the sealed personal details (names, CPR numbers) never appear in
an export, so nothing about them, nor that a pseudonym is the keyed hash of a CPR number;
"unique residents" is checked per pseudonym as recorded (two pseudonyms of one person
cannot be told apart). Only --json output is compared (not the table, CSV or Excel forms).
--from alone (to the wall clock's month) is not checked. The CLI silently ignores
--by age-band/gender/target-group for every statistic but residents, and --by sector for
hours; the oracle does the same (see the report).
"""
import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal, ROUND_HALF_UP

# hours logged without a served organisation or an area are grouped under this name (the
# docs do not say how; Sources/ReferralProjections/Queries/Statistics.swift, read for it)
UNSPECIFIED = "unspecified"
JOB_OR_EDUCATION = {"ordinary-job", "education"}
PLACEMENT_OUTCOMES = ["ordinary-job", "education", "extended", "dropped", "other"]


# ---------------------------------------------------------------------------------------
# small helpers

def day_of(ts):
    """The UTC date of an RFC 3339 time."""
    t = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return t.astimezone(dt.timezone.utc).date()


def date(s):
    return dt.date.fromisoformat(s) if s is not None else None


def month_of(day):
    return (day.year, day.month)


def month_index(m):
    return m[0] * 12 + m[1] - 1


def month_from_index(i):
    return (i // 12, i % 12 + 1)


def month_first(m):
    return dt.date(m[0], m[1], 1)


def month_last(m):
    y, mo = (m[0], m[1] + 1) if m[1] < 12 else (m[0] + 1, 1)
    return dt.date(y, mo, 1) - dt.timedelta(days=1)


def camel(key):
    """kebab-case -> camelCase ("first-contact" -> "firstContact"), camelCase unchanged."""
    return re.sub(r"-(.)", lambda m: m.group(1).upper(), key)


def canonical_key(key):
    k = camel(key)
    # "acceptance-%" (kebab) becomes "acceptance%"; accept the spellings a camelCase
    # rename might choose.
    if k.lower().startswith("acceptance"):
        return "acceptancePercent"
    return k


def normalise_rows(rows):
    return [{canonical_key(k): v for k, v in r.items()} for r in rows]


def round_half_up(x, places):
    q = Decimal(1).scaleb(-places)
    return Decimal(x).quantize(q, rounding=ROUND_HALF_UP)


def lower_median(values):
    s = sorted(values)
    n = len(s)
    return s[(n + 1) // 2 - 1]


def p90(values):
    s = sorted(values)
    n = len(s)
    return s[(9 * n + 9) // 10 - 1]  # ceil(0.9 n)-th smallest, 1-based


# ---------------------------------------------------------------------------------------
# the fold

class Case:
    def __init__(self, cid, data, day, pos):
        self.id = cid
        self.resident = data["resident"]
        self.area = data["areaId"]
        self.organisation = data["organisationId"]
        self.liaison = data["liaisonId"]
        self.target_group = data["targetGroup"]
        self.age_band = data["ageBand"]
        self.gender = data["gender"]
        self.opened_on = day
        self.episodes = [[day, None]]
        self.reopens = []
        self.closes = []
        self.is_open = True
        self.last_activity = day
        self.referrals = {}      # id -> dict, in log order
        self.contacts = []       # days
        self.placements = {}     # id -> dict
        self.outcomes = []       # (day, months, status)
        self.consents = {}       # id -> dict


class World:
    """Everything the statistics need, folded from a view of the log."""

    def __init__(self, events):
        retracted = set()
        for e in events:
            if e["type"] == "dk.referral.event-retracted.v1":
                retracted.add(e["data"]["retractedEventId"])
        self.retracted_count = len(retracted)
        self.organisations = {}
        self.areas = {}
        self.target_groups = defaultdict(list)   # code -> [(from, to, label)]
        self.cases = {}
        self.agreements = {}
        self.head = events[-1]["position"] if events else 0
        for e in events:
            if e["id"] in retracted or e["type"] == "dk.referral.event-retracted.v1":
                continue
            self.apply(e)

    def apply(self, e):
        name = e["type"].split(".")[2]
        data = e["data"]
        subject = e["subject"]
        day = day_of(e["time"])
        if subject == "registry":
            if name == "organisation-registered":
                self.organisations[data["organisationId"]] = data
            elif name == "housing-area-registered":
                self.areas[data["areaId"]] = data
            elif name == "target-group-defined":
                self.target_groups[data["code"]].append(
                    (date(data["effectiveFrom"]), date(data.get("effectiveTo")), data["label"]))
            return
        if subject.startswith("agreement-"):
            aid = subject[len("agreement-"):]
            if name == "hours-agreement-made":
                if aid not in self.agreements:
                    self.agreements[aid] = dict(data, ended=None, logs=[])
                return
            ag = self.agreements.get(aid)
            if ag is None:
                return
            if name == "hours-agreement-ended":
                ag["ended"] = date(data["endDate"])
            elif name == "shared-hours-logged":
                ag["logs"].append((date(data["date"]), Decimal(str(data["hours"])),
                                   data.get("servedOrganisation"), data.get("areaId")))
            return
        if not subject.startswith("case-"):
            return  # resident-<pseudonym>: erasure decisions change no figure
        cid = subject[len("case-"):]
        if name == "case-opened":
            if cid not in self.cases:
                self.cases[cid] = Case(cid, data, day, e["position"])
            return
        c = self.cases.get(cid)
        if c is None:
            return
        c.last_activity = max(c.last_activity, day)
        if name == "case-assigned":
            c.liaison = data["liaisonId"]
        elif name == "consent-given":
            c.consents[data["consentId"]] = dict(given=day, until=date(data.get("validUntil")),
                                                 withdrawn=False, lapsed=False)
        elif name == "consent-withdrawn":
            if data["consentId"] in c.consents:
                c.consents[data["consentId"]]["withdrawn"] = True
        elif name == "referral-made":
            c.referrals[data["referralId"]] = dict(
                kind=data["kind"], frm=data["fromOrganisation"], to=data["toOrganisation"],
                day=day, answer=None)
        elif name == "referral-answered":
            r = c.referrals.get(data["referralId"])
            if r is not None:
                r["answer"] = bool(data["accepted"])
        elif name == "jobcenter-contact-held":
            c.contacts.append(day)
        elif name == "placement-started":
            c.placements[data["placementId"]] = dict(
                kind=data["kind"], start=date(data["startDate"]), end=None, outcome=None)
        elif name == "placement-ended":
            p = c.placements.get(data["placementId"])
            if p is not None:
                p["end"] = date(data["endDate"])
                p["outcome"] = data["outcome"]
        elif name == "outcome-recorded":
            c.outcomes.append((day, str(data["monthsAfterClose"]), data["status"]))
        elif name == "case-closed":
            c.closes.append(day)
            c.episodes[-1][1] = day
            c.is_open = False
            for k in c.consents.values():
                k["lapsed"] = True
        elif name == "case-reopened":
            c.reopens.append(day)
            c.episodes.append([day, None])
            c.is_open = True

    # -- lookups ---------------------------------------------------------------------

    def sector(self, org):
        o = self.organisations.get(org)
        return o["sector"] if o else None

    def target_group_label(self, code, on_day):
        defs = self.target_groups.get(code, [])
        for f, t, label in reversed(defs):
            if f <= on_day and (t is None or on_day <= t):
                return label
        # None in effect on that day: the docs do not say. ProjectionView.targetGroupLabel,
        # read for it, takes the latest recorded definition, or the code when there is none.
        return defs[-1][2] if defs else code

    def case_dims(self, c, by):
        out = {}
        for b in by:
            if b == "area":
                out["area"] = c.area
            elif b == "organisation":
                out["organisation"] = c.organisation
            elif b == "sector":
                out["sector"] = self.sector(c.organisation)
        return out


# ---------------------------------------------------------------------------------------
# periods

class Range:
    def __init__(self, first, last, period):
        self.first, self.last, self.period = first, last, period  # months (y, m)

    def periods(self):
        """[(label, first month, last month)]."""
        a, b = month_index(self.first), month_index(self.last)
        groups = []
        for i in range(a, b + 1):
            m = month_from_index(i)
            if self.period == "month":
                key = "%04d-%02d" % m
            elif self.period == "quarter":
                key = "%04d-Q%d" % (m[0], (m[1] - 1) // 3 + 1)
            elif self.period == "year":
                key = "%04d" % m[0]
            elif self.period == "plan":
                key = self.plan_label
            else:
                key = "%04d-%02d..%04d-%02d" % (self.first + self.last)
            if groups and groups[-1][0] == key:
                groups[-1][2] = m
            else:
                groups.append([key, m, m])
        return [tuple(g) for g in groups]

    def label(self, month):
        for label, f, l in self.periods():
            if month_index(f) <= month_index(month) <= month_index(l):
                return label
        return None


# ---------------------------------------------------------------------------------------
# the statistics

def stat_cases(w, rng, by, areas=None, orgs=None):
    rows = defaultdict(lambda: dict(opened=0, reopened=0, closed=0))
    for c in w.cases.values():
        if areas and c.area not in areas:
            continue
        if orgs and c.organisation not in orgs:
            continue
        dims = w.case_dims(c, by)
        for measure, days in (("opened", [c.opened_on]), ("reopened", c.reopens),
                              ("closed", c.closes)):
            for d in days:
                p = rng.label(month_of(d))
                if p is not None:
                    rows[key_of(p, dims)][measure] += 1
    return to_rows(rows)


def stat_referrals(w, rng, by, areas=None, orgs=None):
    rows = defaultdict(lambda: dict(made=0, accepted=0, rejected=0))
    for c in w.cases.values():
        if areas and c.area not in areas:
            continue
        for r in c.referrals.values():
            if orgs and r["frm"] not in orgs and r["to"] not in orgs:
                continue
            p = rng.label(month_of(r["day"]))
            if p is None:
                continue
            dims = {"fromSector": w.sector(r["frm"]), "toSector": w.sector(r["to"]),
                    "kind": r["kind"]}
            if "area" in by:
                dims["area"] = c.area
            if "organisation" in by:
                dims["fromOrganisation"] = r["frm"]
                dims["toOrganisation"] = r["to"]
            row = rows[key_of(p, dims)]
            row["made"] += 1
            if r["answer"] is True:
                row["accepted"] += 1
            elif r["answer"] is False:
                row["rejected"] += 1
    out = to_rows(rows)
    for r in out:
        r["awaitingAnswer"] = r["made"] - r["accepted"] - r["rejected"]
        answered = r["accepted"] + r["rejected"]
        r["acceptancePercent"] = (None if answered == 0 else
                                  round_half_up(Decimal(r["accepted"] * 100) / answered, 1))
    return out


def funnel_of(c):
    """(first referral day, first contact day, placement start, job-or-education) or None."""
    if not c.referrals:
        return None
    r = min(c.referrals.values(), key=lambda x: x["day"])["day"]  # min is stable: log order
    contacts = [d for d in c.contacts if d >= r]
    contact = min(contacts) if contacts else None
    start = None
    if contact is not None:
        starts = [p["start"] for p in c.placements.values() if p["start"] >= contact]
        start = min(starts) if starts else None
    job = False
    if start is not None:
        job = any(p["end"] is not None and p["end"] >= start and p["outcome"] in JOB_OR_EDUCATION
                  for p in c.placements.values()) or \
            any(d >= start and status in JOB_OR_EDUCATION for d, _, status in c.outcomes)
    return r, contact, start, job


def stat_funnel(w, rng, by, areas=None, orgs=None):
    rows = defaultdict(lambda: dict(referred=0, firstContact=0, placement=0, jobOrEducation=0))
    for c in w.cases.values():
        if areas and c.area not in areas:
            continue
        if orgs and c.organisation not in orgs:
            continue
        f = funnel_of(c)
        if f is None:
            continue
        p = rng.label(month_of(f[0]))
        if p is None:
            continue
        row = rows[key_of(p, w.case_dims(c, by))]
        row["referred"] += 1
        row["firstContact"] += f[1] is not None
        row["placement"] += f[2] is not None
        row["jobOrEducation"] += bool(f[3])
    return to_rows(rows)


def stat_first_contact(w, rng, by, areas=None, orgs=None):
    days = defaultdict(list)
    for c in w.cases.values():
        if areas and c.area not in areas:
            continue
        if orgs and c.organisation not in orgs:
            continue
        f = funnel_of(c)
        if f is None or f[1] is None:
            continue
        p = rng.label(month_of(f[0]))
        if p is None:
            continue
        days[key_of(p, w.case_dims(c, by))].append((f[1] - f[0]).days)
    out = []
    for k, v in days.items():
        r = dict(k)
        r.update(cases=len(v), medianDays=lower_median(v), p90Days=p90(v))
        out.append(r)
    return out


def stat_placements(w, rng, by, areas=None, orgs=None):
    def blank():
        d = dict(started=0, ended=0)
        for o in PLACEMENT_OUTCOMES:
            d[camel("ended-" + o)] = 0
        return d
    rows = defaultdict(blank)
    for c in w.cases.values():
        if areas and c.area not in areas:
            continue
        if orgs and c.organisation not in orgs:
            continue
        for pl in c.placements.values():
            dims = dict(w.case_dims(c, by), kind=pl["kind"])
            p = rng.label(month_of(pl["start"]))
            if p is not None:
                rows[key_of(p, dims)]["started"] += 1
            if pl["end"] is not None:
                p = rng.label(month_of(pl["end"]))
                if p is not None:
                    row = rows[key_of(p, dims)]
                    row["ended"] += 1
                    row[camel("ended-" + pl["outcome"])] += 1
    return to_rows(rows)


def stat_outcomes(w, rng, by, areas=None, orgs=None):
    rows = defaultdict(lambda: dict(cases=0))
    for c in w.cases.values():
        if areas and c.area not in areas:
            continue
        if orgs and c.organisation not in orgs:
            continue
        marks = {}
        for d, months, status in c.outcomes:
            before = [i for i, cd in enumerate(c.closes) if cd <= d]
            if not before:
                continue
            i = before[-1]
            marks[(i, months)] = status
        for (i, months), status in marks.items():
            p = rng.label(month_of(c.closes[i]))
            if p is None:
                continue
            dims = dict(w.case_dims(c, by), monthsAfterClose=months, status=status)
            rows[key_of(p, dims)]["cases"] += 1
    return to_rows(rows)


def stat_residents(w, rng, by, areas=None, orgs=None):
    out = []
    for label, f, l in rng.periods():
        first, last = month_first(f), month_last(l)
        groups = defaultdict(set)
        for c in w.cases.values():
            if areas and c.area not in areas:
                continue
            if orgs and c.organisation not in orgs:
                continue
            if not any(o <= last and (cl is None or cl >= first) for o, cl in c.episodes):
                continue
            dims = w.case_dims(c, by)
            for b in by:
                if b == "age-band":
                    dims["ageBand"] = c.age_band
                elif b == "gender":
                    dims["gender"] = c.gender
                elif b == "target-group":
                    dims["targetGroup"] = c.target_group
                    dims["targetGroupLabel"] = w.target_group_label(c.target_group, last)
            groups[key_of(label, dims)].add(c.resident)
        for k, v in groups.items():
            r = dict(k)
            r["residents"] = len(v)
            out.append(r)
    return out


def agreed_by_month(ag):
    """{month: Decimal hours agreed}, rounded to 0.01 h per month."""
    start = date(ag["validFrom"])
    end = date(ag.get("validTo")) if ag.get("validTo") else None
    if ag["ended"] is not None:
        end = ag["ended"] if end is None else min(end, ag["ended"])
    if end is None:
        end = dt.date(2199, 12, 31)
    per_day = Decimal(str(ag["hoursPerWeek"])) / 5
    days = defaultdict(int)
    d = start
    one = dt.timedelta(days=1)
    while d <= end and d.year < 2200:
        if d.weekday() < 5:
            days[month_of(d)] += 1
        d += one
    return {m: round_half_up(per_day * n, 2) for m, n in days.items()}


def stat_hours(w, rng, by, areas=None, orgs=None):
    rows = defaultdict(lambda: dict(agreed=Decimal(0), delivered=Decimal(0)))
    for aid, ag in w.agreements.items():
        # "for hours [the organisation filter matches] the paying or a served organisation"
        if orgs and not ({ag["payingOrganisation"]} | set(ag["servedOrganisations"])) & orgs:
            continue
        # "the area filter [keeps] the agreements that serve the area: each agreement's own
        # row ..., and with --by area only the rows of the areas asked for"
        if areas and not set(ag["servedAreas"]) & areas:
            continue
        base = dict(agreement=aid, employee=ag["employee"],
                    payingOrganisation=ag["payingOrganisation"])
        for m, h in agreed_by_month(ag).items():
            p = rng.label(m)
            if p is not None:
                rows[key_of(p, dict(base, party="all", area=None))]["agreed"] += h
        for d, h, party, area in ag["logs"]:
            p = rng.label(month_of(d))
            if p is None:
                continue
            rows[key_of(p, dict(base, party="all", area=None))]["delivered"] += h
            if "organisation" in by or "area" in by:
                dims = dict(base, party=(party or UNSPECIFIED) if "organisation" in by else None,
                            area=(area or UNSPECIFIED) if "area" in by else None)
                if areas and "area" in by and dims["area"] not in areas:
                    continue
                if (orgs and "organisation" in by and ag["payingOrganisation"] not in orgs
                        and dims["party"] not in orgs):
                    continue
                rows[key_of(p, dims)]["delivered"] += h
    out = []
    for k, v in rows.items():
        r = dict(k)
        if r["party"] == "all":
            r.update(agreed=v["agreed"], delivered=v["delivered"],
                     balance=v["delivered"] - v["agreed"])
        else:
            r.update(agreed=None, delivered=v["delivered"], balance=None)
        out.append(r)
    return out


STATS = {
    "cases": stat_cases, "referrals": stat_referrals, "funnel": stat_funnel,
    "first-contact": stat_first_contact, "placements": stat_placements,
    "outcomes": stat_outcomes, "residents": stat_residents, "hours": stat_hours,
}

# the figures of each statistic; every other column of a row names the row
VALUES = {
    "cases": {"opened", "reopened", "closed"},
    "referrals": {"made", "accepted", "rejected", "awaitingAnswer", "acceptancePercent"},
    "funnel": {"referred", "firstContact", "placement", "jobOrEducation"},
    "first-contact": {"cases", "medianDays", "p90Days"},
    "placements": {"started", "ended"} | {camel("ended-" + o) for o in PLACEMENT_OUTCOMES},
    "outcomes": {"cases"},
    "residents": {"residents"},
    "hours": {"agreed", "delivered", "balance"},
}


# the counts each rate or day figure is computed from (docs/projections.md, "Suppression")
DERIVED = {"acceptancePercent": ("accepted", "rejected"),
           "medianDays": ("cases",), "p90Days": ("cases",)}


def suppressed(row, stat, n):
    """A row as shown with suppression threshold n: counts 1..n-1 as "<n", a rate or day
    figure computed from such a count too; hours never."""
    if stat == "hours":
        return row
    small = {k for k in VALUES[stat] if k not in DERIVED and isinstance(row.get(k), int)
             and 0 < row[k] < n}
    out = dict(row)
    for k in VALUES[stat]:
        if k in small or (k in DERIVED and row.get(k) is not None
                          and any(d in small for d in DERIVED[k])):
            out[k] = "<%d" % n
    return out


def key_of(period, dims):
    return tuple(sorted(dict(dims, period=period).items(), key=lambda kv: kv[0]))


def to_rows(rows):
    out = []
    for k, v in rows.items():
        r = dict(k)
        r.update(v)
        out.append(r)
    return out


# ---------------------------------------------------------------------------------------
# caseload

def caseload(w, today, inactive_days=30, consent_days=14):
    rows = []
    for c in w.cases.values():
        if not c.is_open:
            continue
        in_force = [k for k in c.consents.values()
                    if not k["withdrawn"] and not k["lapsed"] and k["given"] <= today
                    and (k["until"] is None or k["until"] >= today)]
        ends = [k["until"] for k in in_force if k["until"] is not None]
        active = sum(1 for p in c.placements.values() if p["end"] is None)
        pending = sum(1 for r in c.referrals.values() if r["answer"] is None)
        since = (today - c.last_activity).days
        flags = []
        if active:
            flags.append("active-placement")
        if pending:
            flags.append("awaiting-answer")
        if since >= inactive_days:
            flags.append("inactive")
        if any(today <= e <= today + dt.timedelta(days=consent_days) for e in ends):
            flags.append("consent-expiring")
        rows.append(dict(
            case=c.id, liaison=c.liaison, organisation=c.organisation, area=c.area,
            targetGroup=c.target_group, openedOn=c.opened_on.isoformat(),
            lastActivity=c.last_activity.isoformat(), daysSinceActivity=since,
            activePlacements=active, pendingReferrals=pending, consentsInForce=len(in_force),
            nextConsentExpiry=min(ends).isoformat() if ends else None,
            flags=",".join(flags) if flags else None))
    return rows


def caseload_summary(rows, by):
    out = defaultdict(lambda: dict(openCases=0, activePlacement=0, awaitingAnswer=0,
                                   inactive=0, consentExpiring=0))
    for r in rows:
        s = out[r[by]]
        s["openCases"] += 1
        flags = (r["flags"] or "").split(",")
        s["activePlacement"] += "active-placement" in flags
        s["awaitingAnswer"] += "awaiting-answer" in flags
        s["inactive"] += "inactive" in flags
        s["consentExpiring"] += "consent-expiring" in flags
    return [dict({by: k}, **v) for k, v in out.items()]


# ---------------------------------------------------------------------------------------
# comparing

def same_value(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, str) or isinstance(b, str):
        return str(a) == str(b)
    return abs(Decimal(str(a)) - Decimal(str(b))) < Decimal("0.000001")


def is_empty(row, values):
    return all(row.get(k) in (None, 0) for k in values)


def compare(title, cli_rows, oracle_rows, values):
    """A list of readable differences (empty when the same)."""
    def index(rows, side):
        out, dups = {}, []
        for r in rows:
            k = tuple(sorted((kk, vv) for kk, vv in r.items() if kk not in values))
            if k in out:
                dups.append("%s: %s row twice: %s" % (title, side, fmt_key(k)))
            out[k] = r
        return out, dups
    cli, d1 = index(cli_rows, "CLI")
    orc, d2 = index(oracle_rows, "oracle")
    diffs = d1 + d2
    for k in sorted(set(cli) | set(orc), key=repr):
        a, b = cli.get(k), orc.get(k)
        if a is None:
            if not is_empty(b, values):
                diffs.append("%s: row missing from the CLI: %s, oracle %s"
                             % (title, fmt_key(k), fmt_values(b, values)))
            continue
        if b is None:
            if not is_empty(a, values):
                diffs.append("%s: row only in the CLI: %s, CLI %s"
                             % (title, fmt_key(k), fmt_values(a, values)))
            continue
        bad = [v for v in sorted(values) if not same_value(a.get(v), b.get(v))]
        if bad:
            diffs.append("%s: %s: %s" % (title, fmt_key(k), ", ".join(
                "%s CLI %s oracle %s" % (v, a.get(v), b.get(v)) for v in bad)))
    return diffs


def fmt_key(k):
    return " ".join("%s=%s" % kv for kv in k)


def fmt_values(r, values):
    return ", ".join("%s=%s" % (v, r.get(v)) for v in sorted(values))


# ---------------------------------------------------------------------------------------
# a store of edge cases (the demo never makes them): built with `referral import`

EDGE_NS = "6f1c0000-0000-4000-8000-000000000000"


class EdgeLog:
    def __init__(self):
        self.events = []

    def add(self, subject, name, day, data, org="edge-sec"):
        import uuid
        e = {"specversion": "1.0",
             "id": str(uuid.uuid5(uuid.UUID(EDGE_NS), str(len(self.events)))),
             "source": "urn:referral:org:" + org, "type": "dk.referral.%s.v1" % name,
             "subject": subject, "time": day if "T" in day else day + "T10:00:00.000Z",
             "datacontenttype": "application/json", "data": data,
             "actor": "edge-qa", "organisation": org}
        self.events.append(e)
        return e["id"]

    def retract(self, subject, eid, day):
        return self.add(subject, "event-retracted", day,
                        {"retractedEventId": eid, "reason": "edge case"})


def edge_events():
    """Events that exercise what the demo does not: retracted openings, closes, answers,
    placement ends and starts, withdrawals, assignments, hour logs and agreement ends; late
    registrations dated before earlier ones; outcomes attributed to an earlier close and
    replaced; residents on period boundaries; caseload flags on their boundaries; hours
    logged without an area or a party; an agreement of 18.53 hours a week."""
    import hashlib
    L = EdgeLog()
    reg = "registry"
    for oid, kind, sector in (("edge-jc", "municipality", "jobcenter"),
                              ("edge-sec", "secretariat", "housing-social"),
                              ("edge-emp", "employer", "other"),
                              ("edge-school", "school", "school"),
                              ("edge-hous", "housing-organisation", "housing-social")):
        L.add(reg, "organisation-registered", "2024-01-02",
              {"organisationId": oid, "name": oid, "kind": kind, "sector": sector,
               "municipality": "Edge"})
    for aid in ("edge-a1", "edge-a2"):
        L.add(reg, "housing-area-registered", "2024-01-02",
              {"areaId": aid, "name": aid, "municipality": "edge-jc",
               "housingOrganisations": ["edge-hous"], "plan": "Edge plan 2024-2025",
               "planFrom": "2024-01-01", "planTo": "2025-12-31"})
    for lid in ("edge-l1", "edge-l2"):
        L.add(reg, "liaison-registered", "2024-01-02",
              {"liaisonId": lid, "name": lid, "organisationId": "edge-sec"})
    L.add(reg, "target-group-defined", "2024-01-02",
          {"code": "tg1", "label": "Old label", "effectiveFrom": "2024-01-01",
           "effectiveTo": "2024-06-30"})
    L.add(reg, "target-group-defined", "2024-01-02",
          {"code": "tg1", "label": "New label", "effectiveFrom": "2024-07-01"})
    L.add(reg, "target-group-defined", "2024-01-02",
          {"code": "tg2", "label": "Second", "effectiveFrom": "2023-01-01"})
    # a target group with a gap (April and May 2024) between two definitions
    L.add(reg, "target-group-defined", "2024-01-02",
          {"code": "tg3", "label": "Gap after", "effectiveFrom": "2024-06-01"})
    L.add(reg, "target-group-defined", "2024-01-02",
          {"code": "tg3", "label": "Gap before", "effectiveFrom": "2024-01-01",
           "effectiveTo": "2024-03-31"})

    def pseudonym(name):
        return hashlib.md5(name.encode()).hexdigest()

    def s(cid):
        return "case-" + cid

    def open_(cid, day, area="edge-a1", tg="tg1", age="25-29", gender="female",
              resident=None, liaison="edge-l1"):
        return L.add(s(cid), "case-opened", day, {
            "resident": pseudonym(resident or cid), "areaId": area,
            "organisationId": "edge-sec", "liaisonId": liaison, "targetGroup": tg,
            "ageBand": age, "gender": gender})

    def consent(cid, kid, day, until=None):
        d = {"consentId": kid, "parties": ["edge-jc", "edge-school", "edge-emp"],
             "purposes": ["referral"], "form": "written"}
        if until:
            d["validUntil"] = until
        return L.add(s(cid), "consent-given", day, d)

    def refer(cid, rid, day, to="edge-jc", kind="jobcenter-contact", frm="edge-sec"):
        return L.add(s(cid), "referral-made", day, {
            "referralId": rid, "kind": kind, "fromOrganisation": frm, "toOrganisation": to,
            "reason": "edge", "decidedBy": "edge-l1"})

    def answer(cid, rid, day, accepted):
        return L.add(s(cid), "referral-answered", day,
                     {"referralId": rid, "accepted": accepted, "reason": "edge"})

    def contact(cid, day, kind):
        return L.add(s(cid), "jobcenter-contact-held", day,
                     {"contactKind": kind, "jobcenter": "edge-jc"}, org="edge-jc")

    def start(cid, pid, day, kind="work-placement"):
        return L.add(s(cid), "placement-started", day, {
            "placementId": pid, "kind": kind, "employer": "edge-emp", "startDate": day,
            "hoursPerWeek": 20})

    def end(cid, pid, day, outcome):
        return L.add(s(cid), "placement-ended", day,
                     {"placementId": pid, "endDate": day, "outcome": outcome})

    def outcome(cid, months, status, day):
        return L.add(s(cid), "outcome-recorded", day,
                     {"monthsAfterClose": months, "status": status})

    def close(cid, day):
        return L.add(s(cid), "case-closed", day, {"reason": "edge"})

    def reopen(cid, day):
        return L.add(s(cid), "case-reopened", day, {"reason": "edge"})

    # E01: the opening retracted (with a consent and a referral after it), then opened anew
    o = open_("E01", "2024-02-01")
    consent("E01", "K1", "2024-02-01", "2025-12-31")
    refer("E01", "R1", "2024-02-05")
    L.retract(s("E01"), o, "2024-02-06")
    open_("E01", "2024-03-01", area="edge-a2", tg="tg2")
    consent("E01", "K2", "2024-03-01", "2024-12-31")
    refer("E01", "R2", "2024-03-02")
    answer("E01", "R2", "2024-03-03", True)
    contact("E01", "2024-03-10", "first")
    close("E01", "2024-09-30")

    # E02: an answer retracted and answered anew; a referral with an answer retracted
    open_("E02", "2024-03-01", age="18-24", gender="male")
    consent("E02", "K1", "2024-03-01", "2025-06-30")
    refer("E02", "R1", "2024-03-01")
    a = answer("E02", "R1", "2024-03-05", True)
    r2 = refer("E02", "R2", "2024-03-02", to="edge-school", kind="education")
    answer("E02", "R2", "2024-03-04", True)
    L.retract(s("E02"), a, "2024-03-06")
    answer("E02", "R1", "2024-03-10", False)
    L.retract(s("E02"), r2, "2024-03-11")
    refer("E02", "R3", "2024-03-12", to="edge-school", kind="education", frm="edge-jc")
    answer("E02", "R3", "2024-03-13", True)
    close("E02", "2024-05-31")

    # E03: a referral registered late, dated before the case's first recorded referral
    open_("E03", "2024-03-15", area="edge-a2")
    consent("E03", "K1", "2024-03-15", "2025-03-15")
    contact("E03", "2024-03-20", "first")
    refer("E03", "R1", "2024-04-10")
    refer("E03", "R2", "2024-04-01", kind="mentor")
    contact("E03", "2024-04-05", "follow-up")

    # E04: a placement's end retracted; another placement's start retracted after its end
    open_("E04", "2024-04-01", area="edge-a2")
    consent("E04", "K1", "2024-04-01", "2026-01-14")
    refer("E04", "R1", "2024-04-02")
    answer("E04", "R1", "2024-04-03", True)
    contact("E04", "2024-04-08", "first")
    start("E04", "P1", "2024-05-01")
    e1 = end("E04", "P1", "2024-06-01", "ordinary-job")
    L.retract(s("E04"), e1, "2024-06-05")
    s2 = start("E04", "P2", "2024-05-15", kind="wage-subsidy")
    end("E04", "P2", "2024-06-20", "education")
    L.retract(s("E04"), s2, "2024-07-02")
    contact("E04", "2025-12-10", "follow-up")

    # E05: a close retracted: the case is open and its consent in force again
    open_("E05", "2024-01-15")
    consent("E05", "K1", "2024-01-15", "2026-01-05")
    c = close("E05", "2024-06-30")
    L.retract(s("E05"), c, "2024-07-01")
    contact("E05", "2025-11-15", "first")

    # E06: a withdrawal and an assignment retracted; consents at the caseload's boundaries
    open_("E06", "2024-02-10", area="edge-a2", liaison="edge-l2")
    consent("E06", "K1", "2024-02-10", "2025-12-31")
    consent("E06", "K2", "2024-02-10", "2025-12-30")
    consent("E06", "K3", "2024-02-10")
    w = L.add(s("E06"), "consent-withdrawn", "2024-03-01", {"consentId": "K1", "reason": "x"})
    L.retract(s("E06"), w, "2024-03-02")
    L.add(s("E06"), "consent-withdrawn", "2024-03-03", {"consentId": "K3", "reason": "x"})
    asg = L.add(s("E06"), "case-assigned", "2024-04-01", {"liaisonId": "edge-l1", "reason": "x"})
    L.retract(s("E06"), asg, "2024-04-02")
    refer("E06", "R1", "2025-12-01")

    # E07: outcomes after two closes: one dated before the second close belongs to the
    # first; a second record for the same close and mark replaces the first
    open_("E07", "2024-01-10", tg="tg2")
    close("E07", "2024-03-10")
    outcome("E07", 1, "education", "2024-04-10")
    outcome("E07", 12, "unknown", "2024-04-01")
    reopen("E07", "2024-05-01")
    close("E07", "2024-06-15")
    outcome("E07", 1, "ordinary-job", "2024-07-15")
    outcome("E07", 3, "public-support", "2024-06-10")
    outcome("E07", 12, "self-supporting", "2024-04-20")

    # E08: one resident in two cases; episodes that touch a period only on its first or
    # last day, or open and close on the same day
    open_("E08A", "2024-01-05", resident="X")
    close("E08A", "2024-04-01")
    open_("E08B", "2024-06-30", resident="X")
    close("E08B", "2024-07-01")
    open_("E08C", "2024-03-31", area="edge-a2", tg="tg2", age="60+", gender="other")
    close("E08C", "2024-03-31")

    # E09: 29 days without activity; a consent lapsed by a close, one given after reopening
    open_("E09A", "2025-12-02", liaison="edge-l2")
    consent("E09A", "K1", "2025-12-02", "2026-01-15")
    open_("E09B", "2025-11-01", age="40-49")
    consent("E09B", "K1", "2025-11-01", "2026-01-10")
    close("E09B", "2025-11-10")
    reopen("E09B", "2025-11-20")
    consent("E09B", "K2", "2025-11-21", "2026-01-10")

    # E10: the funnel's job through an outcome after the close
    open_("E10", "2024-02-01", area="edge-a2")
    consent("E10", "K1", "2024-02-01", "2024-12-31")
    refer("E10", "R1", "2024-02-01")
    answer("E10", "R1", "2024-02-02", True)
    contact("E10", "2024-02-10", "first")
    start("E10", "P1", "2024-03-01")
    end("E10", "P1", "2024-04-01", "dropped")
    close("E10", "2024-05-01")
    outcome("E10", 1, "education", "2024-06-01")

    # E11: a placement started before the contact ends in a job after the qualifying start
    open_("E11", "2024-02-01")
    consent("E11", "K1", "2024-02-01", "2024-12-31")
    refer("E11", "R1", "2024-02-01")
    start("E11", "P1", "2024-02-02", kind="internship")
    contact("E11", "2024-02-10", "first")
    start("E11", "P2", "2024-03-01")
    end("E11", "P2", "2024-03-20", "dropped")
    end("E11", "P1", "2024-05-01", "ordinary-job")
    close("E11", "2024-06-01")

    # E12: referral, contact, placement start and end on one day
    open_("E12", "2024-06-03", area="edge-a2")
    consent("E12", "K1", "2024-06-03", "2024-12-31")
    refer("E12", "R1", "2024-06-03")
    contact("E12", "2024-06-03", "first")
    start("E12", "P1", "2024-06-03", kind="leisure-job")
    end("E12", "P1", "2024-06-03", "ordinary-job")
    close("E12", "2024-06-04")

    # E13: a case open only in January (a quarter cut by --from 2024-02 leaves it out or in)
    open_("E13", "2024-01-08", area="edge-a2", gender="unknown")
    close("E13", "2024-01-20")

    # E14: 16 answered referrals, one accepted: 6.25 %, a tie for the one-decimal rounding
    open_("E14", "2024-08-01", area="edge-a2")
    consent("E14", "K1", "2024-08-01", "2024-12-31")
    for i in range(16):
        refer("E14", "R%d" % (i + 1), "2024-08-02", to="edge-emp", kind="work-placement")
        answer("E14", "R%d" % (i + 1), "2024-08-03", i == 0)
    close("E14", "2024-08-30")

    # E15: a reopening retracted: the case is closed again
    open_("E15", "2024-01-10", age="50-59")
    close("E15", "2024-02-10")
    ro = reopen("E15", "2024-03-10")
    L.retract(s("E15"), ro, "2024-03-11")

    # E16: an opening retracted and nothing after: the case is gone
    o = open_("E16", "2024-05-02", area="edge-a2")
    consent("E16", "K1", "2024-05-02", "2025-12-31")
    refer("E16", "R1", "2024-05-03")
    L.retract(s("E16"), o, "2024-05-04")

    # E17: times with an offset: the UTC date decides (an opening on 1 April at 00:30 +02:00
    # is 31 March in UTC; a referral at 23:30 -02:00 on 30 April is 1 May)
    open_("E17", "2024-04-01T00:30:00+02:00", area="edge-a2", age="30-39")
    consent("E17", "K1", "2024-04-01T00:30:00+02:00", "2024-12-31")
    refer("E17", "R1", "2024-04-30T23:30:00-02:00")
    contact("E17", "2024-05-01T01:00:00+02:00", "first")
    close("E17", "2024-06-30T23:00:00-03:00")

    # E18: a case before the plans' period: only a range reaching back finds it
    open_("E18", "2023-11-15", tg="tg2")
    close("E18", "2023-12-01")

    # E19: the first referral retracted: the next one starts the funnel and the days
    open_("E19", "2024-07-01", area="edge-a2")
    consent("E19", "K1", "2024-07-01", "2024-12-31")
    r1 = refer("E19", "R1", "2024-07-01")
    contact("E19", "2024-07-05", "first")
    refer("E19", "R2", "2024-07-10", kind="mentor")
    contact("E19", "2024-07-12", "follow-up")
    L.retract(s("E19"), r1, "2024-07-13")
    close("E19", "2024-08-01")

    # E20: a case in a target group whose definitions leave April and May out
    open_("E20", "2024-02-01", tg="tg3", age="under-18")
    close("E20", "2024-06-15")

    # hours
    def made(aid, hpw, frm, to=None):
        d = {"agreementId": aid, "employee": aid + "-emp", "payingOrganisation": "edge-jc",
             "servedOrganisations": ["edge-sec"], "servedAreas": ["edge-a1", "edge-a2"],
             "hoursPerWeek": hpw, "validFrom": frm}
        if to:
            d["validTo"] = to
        return L.add("agreement-" + aid, "hours-agreement-made", "2024-01-02", d, org="edge-jc")

    def log(aid, day, hours, area=None, party=None):
        d = {"date": day, "hours": hours, "activity": "edge"}
        if area:
            d["areaId"] = area
        if party:
            d["servedOrganisation"] = party
        return L.add("agreement-" + aid, "shared-hours-logged", day, d, org="edge-jc")

    def ended(aid, day):
        return L.add("agreement-" + aid, "hours-agreement-ended", day,
                     {"endDate": day, "reason": "edge"}, org="edge-jc")

    made("ag1", 18.53, "2024-01-01", "2025-12-31")
    log("ag1", "2024-01-05", 7.25, "edge-a1", "edge-sec")
    log("ag1", "2024-01-12", 3.5)
    x = log("ag1", "2024-02-07", 4, "edge-a2", "edge-sec")
    L.retract("agreement-ag1", x, "2024-02-09")
    log("ag1", "2024-02-08", 4.25, "edge-a2")
    log("ag1", "2024-02-09", 1.75, None, "edge-sec")
    e = ended("ag1", "2024-08-15")
    L.retract("agreement-ag1", e, "2024-08-20")
    log("ag1", "2024-09-02", 6, "edge-a1", "edge-sec")
    made("ag4", 1, "2025-06-01")  # open-ended: agreed to the end of any range
    log("ag4", "2025-06-02", 0.01, "edge-a2", "edge-sec")
    made("ag2", 7.5, "2024-03-13")
    log("ag2", "2024-03-13", 2, "edge-a1", "edge-sec")
    ended("ag2", "2024-09-10")
    m3 = made("ag3", 10, "2024-01-01")
    log("ag3", "2024-01-03", 5, "edge-a1", "edge-sec")
    L.retract("agreement-ag3", m3, "2024-01-04")
    return L.events


def make_edge_store(binary, directory):
    import os
    import tempfile
    subprocess.run([binary, "--store", directory, "init", "--actor", "edge-qa", "--org",
                    "edge-sec"], check=True, capture_output=True)
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    with os.fdopen(fd, "w") as f:
        for e in edge_events():
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    p = subprocess.run([binary, "--store", directory, "import", path], capture_output=True,
                       text=True)
    os.unlink(path)
    if p.returncode != 0:
        sys.stderr.write("stats_oracle: importing the edge cases failed (exit %d):\n%s"
                         % (p.returncode, p.stderr))
        sys.exit(2)


# ---------------------------------------------------------------------------------------
# running the CLI

class CLI:
    def __init__(self, binary, store):
        self.binary, self.store = binary, store
        self.calls = 0

    def run(self, *args):
        self.calls += 1
        cmd = [self.binary] + list(args) + ["--store", self.store]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.stderr.write("stats_oracle: `%s` failed (exit %d):\n%s"
                             % (" ".join(cmd), p.returncode, p.stderr))
            sys.exit(2)
        return p.stdout

    def json(self, *args):
        return normalise_rows(json.loads(self.run(*args, "--json")))


def parse_day(s):
    if re.fullmatch(r"\d\d\.\d\d\.\d{4}", s):
        d, m, y = s.split(".")
        return dt.date(int(y), int(m), int(d))
    return dt.date.fromisoformat(s)


def view_known_at(events, day):
    """The events recorded by the end of `day` (UTC): the log up to that position."""
    out = []
    for e in events:
        if day_of(e["recordedat"]) > day:
            break
        out.append(e)
    return out


CASE_VALUES = {"liaison", "organisation", "area", "targetGroup", "openedOn", "lastActivity",
               "daysSinceActivity", "activePlacements", "pendingReferrals", "consentsInForce",
               "nextConsentExpiry", "flags"}
SUMMARY_VALUES = {"openCases", "activePlacement", "awaitingAnswer", "inactive",
                  "consentExpiring"}


class Checker:
    """Runs the CLI's statistics and caseload against one store and compares them with the
    oracle's figures for a view of the exported log."""

    def __init__(self, cli, name, verbose):
        self.cli, self.name, self.verbose = cli, name, verbose
        self.diffs = []
        self.comparisons = 0

    def stat(self, title, world, stat, rng, range_args, by=(), filters=None, extra=(),
             name_filters=True, suppress=None):
        filters = filters or {}
        cmd = ["stats", stat] + (["--no-suppress"] if suppress is None else
                                 [] if suppress == 5 else ["--suppress", str(suppress)])
        cmd += list(range_args) + list(extra)
        for b in by:
            cmd += ["--by", b]
        if name_filters:
            for a in sorted(filters.get("areas", ())):
                cmd += ["--area", a]
            for o in sorted(filters.get("orgs", ())):
                cmd += ["--organisation", o]
        label = "%s: %s [%s]" % (self.name, title, " ".join(cmd))
        got = self.cli.json(*cmd)
        want = STATS[stat](world, rng, list(by), filters.get("areas"), filters.get("orgs"))
        if suppress is not None:
            want = [suppressed(r, stat, suppress) for r in want]
        self.record(label, got, compare(label, got, want, VALUES[stat]))

    def caseload(self, title, world, today, args=(), by=None, only=None, inactive_days=30,
                 consent_days=14):
        cmd = ["caseload"] + list(args)
        if by:
            cmd += ["--by", by]
        label = "%s: %s [%s]" % (self.name, title, " ".join(cmd))
        rows = caseload(world, today, inactive_days, consent_days)
        if only:
            rows = [r for r in rows if only(r)]
        got = self.cli.json(*cmd)
        if by:
            self.record(label, got, compare(label, got, caseload_summary(rows, by),
                                            SUMMARY_VALUES))
        else:
            self.record(label, got, compare(label, got, rows, CASE_VALUES))

    def record(self, label, got, diffs):
        self.comparisons += 1
        if self.verbose:
            print("  %-100s %4d rows  %s" % (label[:100], len(got),
                                             "ok" if not diffs else "%d DIFFERENCES" % len(diffs)))
        self.diffs += diffs


def plan_span(world):
    first = min(date(a["planFrom"]) for a in world.areas.values())
    last = max(date(a["planTo"]) for a in world.areas.values())
    return month_of(first), month_of(last)


def light_view_checks(ck, title, world, span, extra, today, stats=None, with_caseload=True):
    """Every statistic (or `stats`) over the plans' span by year, grouped, and the caseload,
    for one view (as of a day or a position, or after a catch-up)."""
    rargs = ["--from", "%04d-%02d" % span[0], "--to", "%04d-%02d" % span[1],
             "--period", "year"]
    rng = Range(span[0], span[1], "year")
    for stat in stats or STATS:
        by = {"residents": ["target-group"], "hours": ["area", "organisation"]}.get(
            stat, ["area"])
        ck.stat(title + " " + stat, world, stat, rng, rargs, by, extra=extra)
    if not with_caseload:
        return
    targs = list(extra) + (["--today", today.isoformat()] if today else [])
    judged = today or parse_day(extra[1])
    ck.caseload(title + " caseload", world, judged, targs)
    ck.caseload(title + " caseload", world, judged, targs, by="area")


def check_store(cli, name, events, today, as_of_days, verbose, views=True):
    ck = Checker(cli, name, verbose)
    now = World(events)
    span = plan_span(now)
    whole = Range(span[0], span[1], "year")
    total = Range(span[0], span[1], "total")
    # the two years with the most case events, for the quarter and the month cuts
    per_year = defaultdict(int)
    for e in events:
        if e["subject"].startswith("case-"):
            per_year[day_of(e["time"]).year] += 1
    busy = sorted((y for y in per_year if span[0][0] <= y <= span[1][0]),
                  key=lambda y: (-per_year[y], y))
    y1, y2 = busy[0], busy[1] if len(busy) > 1 else busy[0]
    def most(values):
        count = defaultdict(int)
        for v in values:
            count[v] += 1
        return sorted(count, key=lambda v: (-count[v], v))[0]
    some_area = most(c.area for c in now.cases.values())
    some_org = most(r["to"] for c in now.cases.values() for r in c.referrals.values())
    case_org = most(c.organisation for c in now.cases.values())

    def year(y, period):
        return Range((y, 1), (y, 12), period), ["--year", str(y), "--period", period]

    for stat in STATS:
        dims = ["area", "organisation"] if stat != "residents" else \
            ["area", "age-band", "gender", "target-group"]
        ck.stat(stat, now, stat, whole, [])                       # the default range
        ck.stat(stat, now, stat, total, ["--period", "total"],
                ["sector"] if stat != "hours" else [])
        ck.stat(stat, now, stat, *year(y1, "quarter"), [dims[0]])
        ck.stat(stat, now, stat, *year(y2, "month"), dims[1:2])
        if stat in ("residents", "cases", "funnel"):
            # a range that cuts a quarter: its rows cover the months inside the range
            ck.stat(stat, now, stat, Range((y1, 2), (y1, 7), "quarter"),
                    ["--from", "%d-02" % y1, "--to", "%d-07" % y1, "--period", "quarter"])
    ck.stat("residents", now, "residents", *year(y1, "year"),
            ["area", "age-band", "gender", "target-group"])
    ck.stat("residents", now, "residents", *year(y2, "quarter"), ["target-group"])
    ck.stat("residents", now, "residents", *year(y1, "month"), ["target-group"])
    # several groupings at once
    ck.stat("referrals", now, "referrals", *year(y1, "quarter"), ["area", "organisation"])
    ck.stat("residents", now, "residents", *year(y1, "quarter"), ["sector", "gender"])
    ck.stat("outcomes", now, "outcomes", *year(y1, "quarter"), ["area", "sector"])
    # filters
    ck.stat("referrals", now, "referrals", whole, [], ["organisation"], {"orgs": {some_org}})
    ck.stat("referrals", now, "referrals", whole, [], [], {"areas": {some_area}})
    for stat in ("cases", "funnel", "first-contact", "placements", "outcomes", "residents"):
        ck.stat(stat, now, stat, whole, [], [], {"areas": {some_area}})
        ck.stat(stat, now, stat, whole, [], [], {"orgs": {case_org}})

    if now.agreements:
        served = sorted(now.agreements.values(), key=lambda a: a["agreementId"])[0]
        ck.stat("hours", now, "hours", whole, [], ["organisation"],
                {"orgs": {served["servedOrganisations"][0]}})
        ck.stat("hours", now, "hours", whole, [], ["organisation"],
                {"orgs": {served["payingOrganisation"]}})
        ck.stat("hours", now, "hours", whole, [], ["area"], {"areas": {served["servedAreas"][-1]}})

    # the other ways to name a range
    for stat in ("cases", "referrals", "placements", "hours"):
        ck.stat(stat, now, stat, Range((y1, 4), (y1, 6), "quarter"), ["--quarter", "%d-Q2" % y1])
        ck.stat(stat, now, stat, Range((y2, 3), (y2, 3), "month"), ["--month", "%d-03" % y2])
    # --to alone: from the first month with data (the plans' first month, or an earlier
    # counted case, referral, contact, placement or outcome)
    firsts = [span[0]]
    for c in now.cases.values():
        firsts += [month_of(d) for d in [c.opened_on] + c.reopens + c.closes + c.contacts]
        firsts += [month_of(r["day"]) for r in c.referrals.values()]
        firsts += [month_of(p["start"]) for p in c.placements.values()]
    first_month = min(firsts, key=month_index)
    to = (first_month[0] + 1, 3)
    for stat in ("cases", "residents", "funnel"):
        ck.stat(stat, now, stat, Range(first_month, to, "month"), ["--to", "%d-%02d" % to])
    # a plan: its period and its areas, the period labelled with the plan's name
    plans = defaultdict(list)
    for aid, a in now.areas.items():
        plans[(a["plan"], a["planFrom"], a["planTo"])].append(aid)
    plan, pfrom, pto = sorted(plans, key=lambda k: (-len(plans[k]), k))[0]
    prange = Range(month_of(date(pfrom)), month_of(date(pto)), "plan")
    prange.plan_label = plan
    for stat in ("cases", "referrals", "funnel", "residents", "outcomes", "placements"):
        ck.stat(stat, now, stat, prange, ["--plan", plan], ["area"],
                {"areas": set(plans[(plan, pfrom, pto)])}, name_filters=False)
    # suppression (default threshold and --suppress 10): counts from 1 to N-1 as "<N", and
    # rates and days computed from such a count
    for stat in STATS:
        by = ["area"] if stat != "hours" else ["area", "organisation"]
        ck.stat(stat, now, stat, whole, [], by, suppress=5)
        ck.stat(stat, now, stat, *year(y1, "quarter"), ["sector"] if stat != "hours" else [],
                suppress=10)

    # caseload
    targs = ["--today", today.isoformat()]
    ck.caseload("caseload", now, today, targs)
    for by in ("area", "liaison", "organisation"):
        ck.caseload("caseload", now, today, targs, by=by)
    rows = caseload(now, today)
    if rows:
        r0 = sorted(rows, key=lambda r: r["case"])[0]
        for flag, key in (("--liaison", "liaison"), ("--area", "area"),
                          ("--organisation", "organisation")):
            ck.caseload("caseload", now, today, targs + [flag, r0[key]],
                        only=lambda r, k=key, v=r0[key]: r[k] == v)
        ck.caseload("caseload", now, today, targs + ["--inactive-days", "10", "--consent-days",
                                                     "60"], inactive_days=10, consent_days=60)
        ck.caseload("caseload", now, today, targs + ["--inactive-days", "1", "--consent-days",
                                                     "0"], by="area", inactive_days=1,
                    consent_days=0)
        for flag in ("inactive", "awaiting-answer", "active-placement", "consent-expiring"):
            ck.caseload("caseload", now, today, targs + ["--flag", flag],
                        only=lambda r, f=flag: f in (r["flags"] or "").split(","))

    if views:
        # as known at the end of some days: the middle of the log, and days between the
        # recording of a retracted event and that of its retraction
        for day in as_of_days:
            light_view_checks(ck, "as-of " + day.isoformat(), World(view_known_at(events, day)),
                              span, ["--as-of", day.isoformat()], None)
        if as_of_days:
            # an ISO 8601 time: only the events recorded by that instant
            instant = dt.datetime.combine(as_of_days[-1], dt.time(12, 0), dt.timezone.utc)
            view = [e for e in events if dt.datetime.fromisoformat(
                e["recordedat"].replace("Z", "+00:00")) <= instant]
            for stat in ("cases", "referrals", "hours"):
                ck.stat("as-of " + instant.isoformat(), World(view), stat, whole, [],
                        extra=["--as-of", instant.strftime("%Y-%m-%dT%H:%M:%SZ")])
        # as of positions: the middle, and just before each retraction
        by_id = {e["id"]: e for e in events}
        positions = {len(events) * 2 // 3}
        after = set()
        for e in events:
            if e["type"] == "dk.referral.event-retracted.v1":
                positions.add(e["position"] - 1)
                # and just after one that takes away a registration, an opening or an
                # agreement (before anything is recorded anew)
                t = by_id.get(e["data"]["retractedEventId"])
                if t is not None and t["type"].split(".")[2] in (
                        "target-group-defined", "organisation-registered", "case-opened",
                        "housing-area-registered", "hours-agreement-made"):
                    after.add(e["position"])
        for p in sorted(positions):
            light_view_checks(ck, "as-of-position %d" % p, World(events[:p]), span,
                              ["--as-of-position", str(p)], today)
        for p in sorted(after - positions):
            light_view_checks(ck, "as-of-position %d" % p, World(events[:p]), span,
                              ["--as-of-position", str(p)], today,
                              stats=["cases", "residents", "hours"], with_caseload=False)
    return ck, now


def retraction_window_days(events):
    """Days on which a retracted event was already recorded and its retraction not yet."""
    by_id = {e["id"]: e for e in events}
    days = set()
    for e in events:
        if e["type"] == "dk.referral.event-retracted.v1":
            t = by_id.get(e["data"]["retractedEventId"])
            if t is not None and day_of(t["recordedat"]) < day_of(e["recordedat"]):
                days.add(day_of(t["recordedat"]))
    return sorted(days)


def export(cli):
    events = [json.loads(line) for line in cli.run("export").splitlines() if line.strip()]
    events.sort(key=lambda e: e["position"])
    if [e["position"] for e in events] != list(range(1, len(events) + 1)):
        sys.stderr.write("stats_oracle: the export's positions are not 1...n\n")
        sys.exit(2)
    return events


def import_lines(binary, store, lines):
    import os
    import tempfile
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    with os.fdopen(fd, "w") as f:
        f.writelines(lines)
    p = subprocess.run([binary, "--store", store, "import", path], capture_output=True,
                       text=True)
    os.unlink(path)
    if p.returncode != 0:
        sys.stderr.write("stats_oracle: import failed (exit %d):\n%s" % (p.returncode, p.stderr))
        sys.exit(2)


def check_catch_up(binary, events, today, verbose, work):
    """The same log imported a part at a time, the projections read after each part: what
    the catch-up keeps (a part without a retraction is applied row by row) must be what
    the oracle folds from the log up to that part."""
    store = work + "/catch-up"
    subprocess.run([binary, "--store", store, "init", "--actor", "oracle", "--org", "oracle"],
                   check=True, capture_output=True)
    cli = CLI(binary, store)
    ck = Checker(cli, "catch-up", verbose)
    lines = [json.dumps(e, ensure_ascii=False) + "\n" for e in events]
    # parts: the first half at once (the first read rebuilds), then parts of 1/16, so the
    # parts after the last retraction (and between retractions) are caught up row by row
    cuts = sorted({len(events) // 2} | {len(events) // 2 + k * len(events) // 16
                                        for k in range(1, 9)} | {len(events)})
    start, caught_up = 0, 0
    for cut in cuts:
        import_lines(binary, store, lines[start:cut])
        cli.run("stats", "cases", "--json", "--no-suppress")  # brings the projections up to date
        if start > 0 and not any(e["type"] == "dk.referral.event-retracted.v1"
                                 for e in events[start:cut]):
            caught_up += 1
        start = cut
        view = World(export(cli))
        light_view_checks(ck, "after %d events" % cut, view, plan_span(view), [], today)
    ck.parts, ck.caught_up = len(cuts), caught_up
    return ck


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("store", help="a store to check (e.g. a small demo store)")
    ap.add_argument("binary", help="the referral binary")
    ap.add_argument("--today", default="31.12.2025",
                    help="the caseload's --today (default: the demo's last day)")
    ap.add_argument("--as-of", action="append", default=[],
                    help="an --as-of day to check (repeatable; default: the middle of the "
                         "log's recorded-at span and the days inside retraction windows)")
    ap.add_argument("--no-edge", action="store_true",
                    help="skip the store of edge cases (built with `referral import`)")
    ap.add_argument("--no-catch-up", action="store_true",
                    help="skip re-importing the store's log in parts to check the catch-up")
    ap.add_argument("--verbose", action="store_true", help="one line per comparison")
    args = ap.parse_args()
    import shutil
    import tempfile
    started = time.monotonic()
    today = parse_day(args.today)
    work = tempfile.mkdtemp(prefix="stats-oracle-")
    checkers = []
    try:
        cli = CLI(args.binary, args.store)
        events = export(cli)
        first_rec = day_of(events[0]["recordedat"])
        last_rec = day_of(events[-1]["recordedat"])
        # the middle of the log, and the two latest days inside a retraction's window
        days = [parse_day(d) for d in args.as_of] or sorted(
            {first_rec + (last_rec - first_rec) / 2} | set(retraction_window_days(events)[-2:]))
        t0 = time.monotonic()
        ck, now = check_store(cli, args.store, events, today, days, args.verbose)
        checkers.append(ck)
        print("stats_oracle: %s: %d events (%d retracted), %d cases, as-of days %s: "
              "%d comparisons in %.1f s" % (args.store, len(events), now.retracted_count,
                                             len(now.cases), ", ".join(d.isoformat() for d in days),
                                             ck.comparisons, time.monotonic() - t0))
        if not args.no_edge:
            t0 = time.monotonic()
            store = work + "/edge"
            make_edge_store(args.binary, store)
            ecli = CLI(args.binary, store)
            eevents = export(ecli)
            ck, enow = check_store(ecli, "edge cases", eevents, today, [], args.verbose)
            checkers.append(ck)
            print("stats_oracle: edge cases: %d events (%d retracted), %d cases: "
                  "%d comparisons in %.1f s" % (len(eevents), enow.retracted_count,
                                                 len(enow.cases), ck.comparisons,
                                                 time.monotonic() - t0))
        if not args.no_catch_up:
            t0 = time.monotonic()
            ck = check_catch_up(args.binary, events, today, args.verbose, work)
            checkers.append(ck)
            print("stats_oracle: catch-up: %s re-imported in %d parts (%d of them caught up "
                  "row by row, the others hold a retraction and rebuild): %d comparisons in "
                  "%.1f s" % (args.store, ck.parts, ck.caught_up, ck.comparisons,
                              time.monotonic() - t0))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    diffs = [d for ck in checkers for d in ck.diffs]
    took = time.monotonic() - started
    for d in diffs:
        print(d)
    if diffs:
        print("stats_oracle: %d differences (%.1f s)" % (len(diffs), took))
        return 1
    print("stats_oracle: every figure agrees (%d comparisons, %.1f s)"
          % (sum(ck.comparisons for ck in checkers), took))
    return 0


if __name__ == "__main__":
    sys.exit(main())
