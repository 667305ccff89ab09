#!/usr/bin/env python3
"""Independent differential test of the domain rules on case streams.

Written from docs/domain-rules.md (the rule table and the order of checks, "Days", "The
rules boundary", "Retractions and the rule state"), docs/cli.md (the case commands, their
options, defaults and exit statuses) and docs/cloudevents.md (the import format), with none
of the project's code. A Python model of the rules predicts, for each event, whether the
append is accepted or refused and by which rule; the real CLI appends the same event (a
case command, `referral import -` of one CloudEvent, or now and then a batch of 2-4
CloudEvents in one import) and the two are compared.

usage: rules_oracle.py STORE_ROOT BINARY [--seed N] [--sequences N] [--events N]
                       [--import-share P] [--verbose]

STORE_ROOT holds scratch stores (one per run, one for minimising); it is created if
missing. Deterministic for a seed: the same seed generates the same commands. Every run
first plays the directed scenarios (`scenarios()`: the interplay the docs spell out, each
step with what the docs say, against which the model is checked too), then --sequences
random case streams of up to --events events on days in a two-week window (some with UTC
offsets that move the day, some after today). Each stream is one case in one shared store
with a fixed registry; it stops at its first disagreement, which is minimised (earlier
events dropped while the last still disagrees) and printed as a shell script of the exact
commands. Exit 0 when every prediction held, 1 on any disagreement (or a scenario step
where the model contradicts the docs).

The model:
- Outcomes: accepted (exit 0); refused by rule R (exit 67, stderr `refused (R)`; a batch
  also names the line); not found (exit 66: a case command for a case with no event in the
  log, `answer` or `contact --referral --jobcenter` naming a referral the case never had,
  `contact --referral` without --jobcenter naming one that is retracted or never was,
  `retract` of an event id not in the log); usage (exit 64: --hours-per-week 0, `refer`
  without --by when the case has no liaison). Through import all of these are rules.
- Days are UTC dates of occurred-at; a bare `--on` date is midnight UTC.
- A new store: every rule applies to every event (rules boundary 1).
- Rule state of a case, folded over its events: existence, open/closed, the opening day,
  the last closing day, consents (parties, purposes, given day, validUntil, lapsed day:
  the earliest of the withdrawal and the closes after it was given), referrals (day,
  answered), the first-contact flag, outcome marks since the last reopening, placements
  (start date, ended).
- A retraction marks its event retracted; unless it is a case-assigned or a follow-up
  contact (or a registration, in the registry stream), the case's state is rebuilt by
  folding its non-retracted events from scratch, each checked by every rule against the
  registry as it is now, and left out of the state if refused.
- When an event breaks several rules, the one named is the first in the order of
  domain-rules.md (`check`).

Not modelled: registry streams beyond one scenario's own organisation, agreements and
hours, erasure streams, invalid-value for over-long or malformed ids and texts, the rules
boundary of stores older than layout 5 (`import --as-recorded`), concurrent writers.
"""

import argparse
import copy
import datetime as dt
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import uuid

DAY = dt.timedelta(days=1)
BASE = dt.date(2026, 3, 1)          # the window of dates the sequences use
TODAY = dt.datetime.now(dt.timezone.utc).date()

ORGS = {  # id -> (kind, sector)
    "jc": ("municipality", "jobcenter"),
    "sec": ("secretariat", "housing-social"),
    "ho": ("housing-organisation", "housing-social"),
    "muni": ("municipality", "other"),
    "emp": ("employer", "other"),
}
GHOST_ORG = "ghost-org"
LIAISONS = ["li", "li2"]
GHOST_LIAISON = "ghost-li"
AREA = "ar"
GHOST_AREA = "ghost-area"
# target groups: code -> (from, to or None)
TARGET_GROUPS = {"tg": (dt.date(2020, 1, 1), None),
                 "tg2": (BASE + 5 * DAY, BASE + 9 * DAY)}
PURPOSES = ["referral", "information-sharing", "personal-details"]
REF_KINDS = ["jobcenter-contact", "work-placement", "mentor", "education", "other"]
RESIDENT = "0123456789abcdef0123456789abcdef"
ACTOR, ORG = "qa", "jc"


def registry_commands():
    cmds = []
    for oid, (kind, sector) in ORGS.items():
        cmds.append(["registry", "add-organisation", oid, "--name", oid.upper(), "--kind", kind,
                     "--sector", sector, "--municipality", "X", "--on", "2026-01-01"])
    cmds.append(["registry", "add-area", AREA, "--name", "Area", "--municipality", "muni",
                 "--housing-org", "ho", "--plan", "Plan", "--plan-from", "2025-01-01",
                 "--plan-to", "2027-12-31", "--on", "2026-01-01"])
    for li in LIAISONS:
        cmds.append(["registry", "add-liaison", li, "--name", li.upper(), "--works-for", "sec",
                     "--on", "2026-01-01"])
    for code, (frm, to) in TARGET_GROUPS.items():
        c = ["registry", "define-target-group", code, "--label", code.upper(),
             "--from", frm.isoformat(), "--on", "2026-01-01"]
        if to:
            c += ["--to", to.isoformat()]
        cmds.append(c)
    return cmds


# ---------------------------------------------------------------------------------------
# The model


class Consent:
    def __init__(self, parties, purposes, given, until):
        self.parties, self.purposes, self.given, self.until = parties, purposes, given, until
        self.lapsed = None        # the day it lapsed, earliest of withdrawal and closes
        self.withdrawn = False

    def covers(self, org, purpose, day):
        return (org in self.parties and purpose in self.purposes and self.given <= day
                and (self.until is None or day <= self.until)
                and (self.lapsed is None or self.lapsed > day))


TAGS = {}


def tag(name):
    TAGS[name] = TAGS.get(name, 0) + 1


class CaseState:
    def __init__(self):
        self.exists = False
        self.open = False
        self.opened = None
        self.closed = None
        self.consents = {}
        self.referrals = {}       # id -> [day, answered]
        self.first_contact = False
        self.marks = set()
        self.placements = {}      # id -> [start date, ended]


def check(st, ev, registry):
    """The rule that refuses ev against state st, or None. CHECK ORDER lives here."""
    t, d = ev["type"], ev["day"]
    orgs, liaisons = registry["orgs"], registry["liaisons"]
    if ev["time"] > dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5):
        return "future-date"
    if t == "open":
        if st.exists:
            return "case-already-exists"
        if ev["area"] != AREA:
            return "unknown-area"
        if ev["owner"] not in orgs:
            return "unknown-organisation"
        if ev["liaison"] not in liaisons:
            return "unknown-liaison"
        tg = TARGET_GROUPS.get(ev["tg"])
        if tg is None or d < tg[0] or (tg[1] is not None and d > tg[1]):
            return "unknown-target-group"
        return None
    if t == "retract":
        raise AssertionError("retractions are checked by the Case model")
    if not st.exists:
        return "case-must-exist"
    needs_open = t in ("assign", "consent", "refer", "contact", "start", "close")
    if needs_open and not st.open:
        return "case-must-be-open"
    # every case event but the opening and retractions: not before the opening day
    if d < st.opened:
        return "date-order"
    if t in ("reopen", "outcome") and st.open:
        return "case-must-be-closed"
    if t == "assign":
        if ev["to"] not in liaisons:
            return "unknown-liaison"
    elif t == "consent":
        for p in ev["parties"]:
            if p not in orgs:
                return "unknown-organisation"
        if ev["until"] is not None and ev["until"] < d:
            return "date-order"
        if ev["cid"] in st.consents:
            return "already-registered"
    elif t == "withdraw":
        c = st.consents.get(ev["cid"])
        if c is None or c.lapsed is not None:     # withdrawn, or lapsed by a close
            return "unknown-consent"
        if d < c.given:
            return "date-order"
    elif t == "refer":
        if ev["to"] not in orgs or ev["from"] not in orgs:
            return "unknown-organisation"
        if ev["by"] not in liaisons:
            return "unknown-liaison"
        if ev["rid"] in st.referrals:
            return "already-registered"
    elif t == "answer":
        r = st.referrals.get(ev["rid"])
        if r is None:
            return "unknown-referral"
        if r[1]:
            return "referral-already-answered"
        if d < r[0]:
            return "date-order"
    elif t == "contact":
        if ev["jobcenter"] not in orgs:
            return "unknown-organisation"
        if ev["rid"] is not None and ev["rid"] not in st.referrals:
            return "unknown-referral"
        if ev["kind"] == "first" and st.first_contact:
            return "first-contact-already-held"
    elif t == "start":
        if ev["employer"] not in orgs:
            return "unknown-organisation"
        if ev["pid"] in st.placements:
            return "placement-already-started"
        if ev["planned_end"] is not None and ev["planned_end"] < ev["start"]:
            return "date-order"
        if not (0 < ev["hours"] <= 168):
            return "hours-out-of-range"
        if ev["rid"] is not None and ev["rid"] not in st.referrals:
            return "unknown-referral"
    elif t == "end":
        p = st.placements.get(ev["pid"])
        if p is None:
            return "placement-not-started"
        if p[1]:
            return "placement-already-ended"
        if ev["end"] > TODAY:
            return "future-date"
        if ev["end"] < p[0]:
            return "date-order"
    elif t == "reopen":
        if st.closed is not None and d < st.closed:
            return "date-order"
    elif t == "outcome":
        if ev["months"] in st.marks:
            return "outcome-already-recorded"
    if t == "refer":
        cover = [c for c in st.consents.values() if c.covers(ev["to"], "referral", d)]
        if not cover:
            near = [c for c in st.consents.values()
                    if ev["to"] in c.parties and "referral" in c.purposes]
            if any(c.given > d for c in near):
                tag("refused: consent given after the referral's day")
            if any(c.until is not None and c.until < d for c in near):
                tag("refused: consent past its validUntil")
            if any(c.lapsed is not None and c.lapsed <= d and c.withdrawn for c in near):
                tag("refused: consent withdrawn on or before the day")
            if any(c.lapsed is not None and c.lapsed <= d and not c.withdrawn for c in near):
                tag("refused: consent lapsed by a close on or before the day")
            return "consent-required"
        if all(c.lapsed is not None for c in cover):
            tag("accepted: dated before its consent lapsed (withdrawn or closed later)")
        if st.closed is not None:
            tag("accepted: referral in a reopened case")
    return None


def apply(st, ev):
    t, d = ev["type"], ev["day"]
    if t == "open":
        st.exists, st.open, st.opened = True, True, d
    elif t == "consent":
        st.consents[ev["cid"]] = Consent(ev["parties"], ev["purposes"], d, ev["until"])
    elif t == "withdraw":
        c = st.consents[ev["cid"]]
        c.withdrawn = True
        c.lapsed = d if c.lapsed is None else min(c.lapsed, d)
    elif t == "refer":
        st.referrals[ev["rid"]] = [d, False]
    elif t == "answer":
        st.referrals[ev["rid"]][1] = True
    elif t == "contact":
        if ev["kind"] == "first":
            st.first_contact = True
    elif t == "start":
        st.placements[ev["pid"]] = [ev["start"], False]
    elif t == "end":
        st.placements[ev["pid"]][1] = True
    elif t == "close":
        st.open, st.closed = False, d
        for c in st.consents.values():
            # docs: lapsed when withdrawn or closed, whichever day is earlier
            c.lapsed = d if c.lapsed is None else min(c.lapsed, d)
    elif t == "reopen":
        st.open = True
        st.marks = set()
    elif t == "outcome":
        st.marks.add(ev["months"])


class Case:
    """One case stream as the model sees it: its accepted events and the rule state."""

    def __init__(self, registry):
        # a copy: a scenario may register (and retract) an organisation of its own
        self.registry = {k: set(v) for k, v in registry.items()}
        self.log = []              # accepted events (dicts, with "eid" once known)
        self.retracted = set()     # indexes into log
        self.state = CaseState()
        self.counting = False

    def predict(self, ev, path):
        """('ok',) | ('refused', rule) | ('not-found',)"""
        cli = path == "cli"
        t = ev["type"]
        if t == "retract":
            tgt = ev["target"]                     # index into self.log, or None (unknown id)
            if tgt is None and cli:
                return ("not-found",)        # the CLI looks the event up first
            if ev["time"] > dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5):
                return ("refused", "future-date")
            if tgt is None:
                return ("refused", "unknown-event")
            if ev.get("subject"):
                return ("refused", "wrong-stream")   # not in the retracted event's stream
            if self.log[tgt]["type"] == "retract":
                return ("refused", "invalid-value")   # a retraction cannot be retracted
            if tgt in self.retracted:
                return ("refused", "already-retracted")
            return ("ok",)
        if t == "reg-org":
            return ("refused", "already-registered") if ev["org"] in self.registry["orgs"] \
                else ("ok",)
        if cli and t != "open" and not any(e["type"] not in ("reg-org",) for e in self.log):
            return ("not-found",)
        if cli and t == "start" and ev["hours"] <= 0:
            return ("usage",)        # the CLI takes only hours more than 0
        if cli and t in ("answer", "contact") and ev.get("rid") is not None:
            # a referral the case never had is not found; `contact` without --jobcenter
            # also needs the receiver of a referral that stands (not retracted)
            live = t == "contact" and ev.get("jobcenter_defaulted")
            if not any(e["type"] == "refer" and e["rid"] == ev["rid"]
                       for i, e in enumerate(self.log) if not live or i not in self.retracted):
                return ("not-found",)
        if cli and t == "refer" and ev.get("by_missing"):
            return ("usage",)        # no --by, and the case has no liaison to default to
        rule = check(self.state, ev, self.registry)
        return ("ok",) if rule is None else ("refused", rule)

    def accept(self, ev):
        self.log.append(ev)
        if ev["type"] == "reg-org":
            self.registry["orgs"].add(ev["org"])
            return
        if ev["type"] != "retract":
            apply(self.state, ev)
            return
        tgt = self.log[ev["target"]]
        self.retracted.add(ev["target"])
        if tgt["type"] == "reg-org":
            # a registration's retraction removes the organisation; the case's rule state
            # is not rebuilt (the retraction stands in the registry stream)
            self.registry["orgs"].discard(tgt["org"])
            return
        if self.counting:
            tag("retracted %s" % (tgt["type"] if tgt["type"] != "contact"
                                  else "contact " + tgt["kind"]))
        if tgt["type"] == "assign" or (tgt["type"] == "contact" and tgt["kind"] == "follow-up"):
            return
        self.replay()

    def replay(self):
        st = CaseState()
        for i, e in enumerate(self.log):
            if e["type"] in ("retract", "reg-org") or i in self.retracted:
                continue
            if check(st, e, self.registry) is None:
                apply(st, e)
            elif self.counting:
                tag("replay left out a later %s" % e["type"])
        self.state = st


# ---------------------------------------------------------------------------------------
# Random sequences


def fmt_on(rng, day):
    """A --on / time value whose UTC day is `day`, in one of the forms the CLI takes."""
    r = rng.random()
    if r < 0.6:
        return day.isoformat(), dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    if r < 0.75:
        return day.strftime("%d.%m.%Y"), dt.datetime(day.year, day.month, day.day,
                                                     tzinfo=dt.timezone.utc)
    # a local time whose local date differs from the UTC date
    if rng.random() < 0.5:
        # 00:30 local at +01:00 / +02:00 on the next day = 23:30 / 22:30 UTC on `day`
        off = rng.choice([1, 2])
        local = dt.datetime(day.year, day.month, day.day, 24 - off, 30) + dt.timedelta(hours=off)
        tz = dt.timezone(dt.timedelta(hours=off))
        s = local.strftime("%Y-%m-%dT%H:%M:%S") + "+0%d:00" % off
        utc = local.replace(tzinfo=tz).astimezone(dt.timezone.utc)
    else:
        # 22:30 local at -02:00 on the day before = 00:30 UTC on `day`
        local = dt.datetime(day.year, day.month, day.day, 0, 30) - dt.timedelta(hours=2)
        tz = dt.timezone(dt.timedelta(hours=-2))
        s = local.strftime("%Y-%m-%dT%H:%M:%S") + "-02:00"
        utc = local.replace(tzinfo=tz).astimezone(dt.timezone.utc)
    assert utc.date() == day, (s, day)
    return s, utc


class Generator:
    def __init__(self, rng):
        self.rng = rng

    def day(self, cursor):
        return cursor + self.rng.choice([-3, -2, -1, 0, 0, 0, 1, 1, 2, 3]) * DAY

    def next_event(self, case, cursor, n):
        """A plausible (sometimes deliberately wrong) next event for the model's case."""
        rng, st = self.rng, case.state
        opened = any(e["type"] == "open" for e in case.log)
        if not st.exists:
            if rng.random() < 0.95 or not case.log:
                kinds = ["open"]
            else:
                kinds = ["refer", "consent", "close", "retract"]
        elif st.open:
            kinds = (["consent"] * 4 + ["refer"] * 6 + ["withdraw"] * 2 + ["answer"] * 4
                     + ["contact"] * 3 + ["start"] * 2 + ["end"] * 2 + ["assign"] + ["close"] * 2
                     + ["retract"] * 3 + ["outcome", "reopen"] + (["open"] if opened else []))
        else:
            kinds = (["reopen"] * 3 + ["outcome"] * 4 + ["answer", "withdraw", "end"]
                     + ["retract"] * 3 + ["refer", "consent", "contact", "close", "start"])
        t = rng.choice(kinds)
        d = self.day(cursor)
        ev = {"type": t, "day": d}
        r = rng.random()
        if r < 0.02 and t not in ("start", "end"):
            ev["on"], ev["time"] = None, dt.datetime.now(dt.timezone.utc)   # no --on: now
            ev["day"] = ev["time"].date()
        elif r < 0.035:
            ev["day"] = TODAY + rng.randint(1, 5) * DAY                      # in the future
            ev["on"], ev["time"] = fmt_on(rng, ev["day"])
        else:
            ev["on"], ev["time"] = fmt_on(rng, d)
        if t == "open":
            ev["area"] = AREA if rng.random() < 0.95 else GHOST_AREA
            ev["liaison"] = rng.choice(LIAISONS) if rng.random() < 0.95 else GHOST_LIAISON
            ev["tg"] = "tg" if rng.random() < 0.7 else "tg2"
            ev["owner"] = ORG if rng.random() < 0.8 else rng.choice(["sec", GHOST_ORG])
        elif t == "assign":
            ev["to"] = rng.choice(LIAISONS) if rng.random() < 0.9 else GHOST_LIAISON
        elif t == "consent":
            known = list(st.consents)
            ev["cid"] = rng.choice(known) if known and rng.random() < 0.08 else "K%d" % n
            pool = ["jc", "sec", "ho", "muni"]
            ev["parties"] = rng.sample(pool, rng.randint(1, 2))
            if rng.random() < 0.03:
                ev["parties"].append(GHOST_ORG)
            ev["purposes"] = (["referral"] if rng.random() < 0.7
                              else rng.sample(PURPOSES, rng.randint(1, 2)))
            ev["until"] = None if rng.random() < 0.4 else d + rng.randint(-1, 5) * DAY
        elif t == "withdraw":
            known = list(st.consents) or ["K1"]
            ev["cid"] = rng.choice(known) if rng.random() < 0.95 else "K99"
        elif t == "refer":
            known = list(st.referrals)
            ev["rid"] = rng.choice(known) if known and rng.random() < 0.08 else "R%d" % n
            parties = [p for c in st.consents.values() for p in c.parties]
            if parties and rng.random() < 0.8:
                ev["to"] = rng.choice(parties)
            else:
                ev["to"] = rng.choice(list(ORGS) + [GHOST_ORG])
            ev["kind"] = rng.choice(REF_KINDS)
            ev["from"] = None if rng.random() < 0.6 else rng.choice(["sec", "jc", "ho"])
            ev["by"] = None if rng.random() < 0.6 else (
                rng.choice(LIAISONS) if rng.random() < 0.9 else GHOST_LIAISON)
        elif t == "answer":
            known = list(st.referrals) + [e["rid"] for e in case.log if e["type"] == "refer"]
            ev["rid"] = rng.choice(known) if known and rng.random() < 0.95 else "R99"
            ev["accepted"] = rng.random() < 0.6
        elif t == "contact":
            ev["kind"] = rng.choice(["first", "first", "follow-up", None])
            known = [e["rid"] for e in case.log if e["type"] == "refer"]
            r = rng.random()
            ev["rid"] = (rng.choice(known) if known and r < 0.4 else
                         "R99" if r < 0.43 else None)
            if ev["rid"] is not None and rng.random() < 0.5:
                ev["jobcenter"] = None   # the referral's receiver
            else:
                ev["jobcenter"] = "jc" if rng.random() < 0.85 else rng.choice(["sec", GHOST_ORG])
        elif t == "start":
            known = list(st.placements)
            ev["pid"] = rng.choice(known) if known and rng.random() < 0.08 else "P%d" % n
            ev["employer"] = "emp" if rng.random() < 0.95 else GHOST_ORG
            ev["start"] = d
            ev["planned_end"] = None if rng.random() < 0.5 else d + rng.randint(-2, 20) * DAY
            ev["hours"] = rng.choice([20, 18.5, 37] * 10 + [0, 169, 168])
            known_r = [e["rid"] for e in case.log if e["type"] == "refer"]
            ev["rid"] = (rng.choice(known_r) if known_r and rng.random() < 0.3 else
                         "R99" if rng.random() < 0.03 else None)
            if rng.random() < 0.5:    # --on defaults to the start day
                ev["on"], ev["time"] = None, dt.datetime(d.year, d.month, d.day,
                                                         tzinfo=dt.timezone.utc)
                ev["day"] = d
            else:
                od = self.day(cursor)
                ev["on"], ev["time"] = fmt_on(rng, od)
                ev["day"] = od
        elif t == "end":
            known = list(st.placements)
            ev["pid"] = rng.choice(known) if known and rng.random() < 0.95 else "P99"
            ev["end"] = TODAY + DAY if rng.random() < 0.03 else d
            ev["outcome"] = rng.choice(["dropped", "ordinary-job", "education"])
            if rng.random() < 0.5:    # --on defaults to the end day when not in the future
                if ev["end"] > TODAY:
                    now = dt.datetime.now(dt.timezone.utc)
                    ev["on"], ev["time"], ev["day"] = None, now, now.date()
                else:
                    e = ev["end"]
                    ev["on"], ev["time"], ev["day"] = None, dt.datetime(
                        e.year, e.month, e.day, tzinfo=dt.timezone.utc), e
            else:
                od = self.day(cursor)
                ev["on"], ev["time"] = fmt_on(rng, od)
                ev["day"] = od
        elif t == "outcome":
            ev["months"] = rng.choice([1, 3, 6, 12])
        elif t == "retract":
            candidates = [i for i, e in enumerate(case.log)
                          if i not in case.retracted and e["type"] != "retract"
                          and (e["type"] != "open" or rng.random() < 0.3)]
            others = list(range(len(case.log)))
            r = rng.random()
            weighty = [i for i in candidates if case.log[i]["type"] in
                       ("consent", "withdraw", "close", "reopen", "outcome", "refer")
                       or (case.log[i]["type"] == "contact" and case.log[i]["kind"] == "first")]
            if weighty and r < 0.6:
                ev["target"] = rng.choice(weighty)
            elif candidates and r < 0.85:
                ev["target"] = rng.choice(candidates)
            elif others and r < 0.97:
                ev["target"] = rng.choice(others)
            else:
                ev["target"] = None
                ev["unknown_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return ev


# ---------------------------------------------------------------------------------------
# Turning an event into a CLI command or a CloudEvent


def resolve_defaults(case, ev):
    """Fill in what the CLI works out itself, as cli.md says, for the model and for import."""
    if ev["type"] == "refer":
        ev["from_eff"] = ev["from"] or ORG
        ev["by_eff"] = ev["by"] or current_liaison(case)
        ev["by_missing"] = ev["by_eff"] is None
    elif ev["type"] == "contact":
        # cli.md: first while the case has no jobcenter contact (retracted ones aside)
        held = any(e["type"] == "contact" for i, e in enumerate(case.log)
                   if i not in case.retracted)
        ev["kind_eff"] = ev["kind"] or ("follow-up" if held else "first")
        ev["jobcenter_defaulted"] = ev["jobcenter"] is None
        if ev["jobcenter"] is None:
            rec = [e for i, e in enumerate(case.log) if e["type"] == "refer"
                   and e["rid"] == ev["rid"] and i not in case.retracted]
            ev["jobcenter_eff"] = rec[-1]["to"] if rec else "jc"
        else:
            ev["jobcenter_eff"] = ev["jobcenter"]


def current_liaison(case):
    """The case's liaison as `refer` defaults --by to it: that of the last opening or
    assignment in the log that is not retracted; None when there is none."""
    li = None
    for i, e in enumerate(case.log):
        if i in case.retracted:
            continue
        if e["type"] == "open":
            li = e["liaison"]
        elif e["type"] == "assign":
            li = e["to"]
    return li


def model_view(ev):
    """The event with the CLI's defaults in place, as the rules see it."""
    m = dict(ev)
    if ev["type"] == "refer":
        m["from"], m["by"] = ev["from_eff"], ev["by_eff"] or LIAISONS[0]
    elif ev["type"] == "contact":
        m["kind"], m["jobcenter"] = ev["kind_eff"], ev["jobcenter_eff"]
    return m


def cli_args(case_id, ev, target_ref):
    t = ev["type"]
    a = []
    if t == "open":
        a = ["open", case_id, "--resident", RESIDENT, "--area", ev["area"], "--liaison",
             ev["liaison"], "--target-group", ev["tg"], "--age-band", "25-29"]
        if ev["owner"] != ORG:
            a += ["--owner", ev["owner"]]
    elif t == "assign":
        a = ["assign", case_id, "--to", ev["to"], "--reason", "handover"]
    elif t == "consent":
        a = ["consent", case_id]
        for p in ev["parties"]:
            a += ["--party", p]
        for p in ev["purposes"]:
            a += ["--purpose", p]
        if ev["until"] is not None:
            a += ["--until", ev["until"].isoformat()]
        a += ["--id", ev["cid"]]
    elif t == "withdraw":
        a = ["withdraw-consent", case_id, ev["cid"], "--reason", "changed mind"]
    elif t == "refer":
        a = ["refer", case_id, "--to", ev["to"], "--kind", ev["kind"], "--reason", "help",
             "--id", ev["rid"]]
        if ev["from"]:
            a += ["--from", ev["from"]]
        if ev["by"]:
            a += ["--by", ev["by"]]
    elif t == "answer":
        a = ["answer", case_id, ev["rid"], "--accept" if ev["accepted"] else "--reject",
             "--reason", "ok"]
    elif t == "contact":
        a = ["contact", case_id]
        if ev["rid"]:
            a += ["--referral", ev["rid"]]
        if ev["jobcenter"]:
            a += ["--jobcenter", ev["jobcenter"]]
        if ev["kind"]:
            a += ["--kind", ev["kind"]]
    elif t == "start":
        a = ["start-placement", case_id, "--kind", "work-placement", "--employer",
             ev["employer"], "--start", ev["start"].isoformat(), "--hours-per-week",
             str(ev["hours"]), "--id", ev["pid"]]
        if ev["planned_end"]:
            a += ["--planned-end", ev["planned_end"].isoformat()]
        if ev["rid"]:
            a += ["--referral", ev["rid"]]
    elif t == "end":
        a = ["end-placement", case_id, ev["pid"], "--end", ev["end"].isoformat(),
             "--outcome", ev["outcome"]]
    elif t == "close":
        a = ["close", case_id, "--reason", "done"]
    elif t == "reopen":
        a = ["reopen", case_id, "--reason", "back"]
    elif t == "outcome":
        a = ["outcome", case_id, "--months", str(ev["months"]), "--status", "unknown"]
    elif t == "retract":
        a = ["retract", target_ref, "--reason", "wrong"]
    elif t == "reg-org":
        a = ["registry", "add-organisation", ev["org"], "--name", "Own", "--kind", "employer",
             "--sector", "other", "--municipality", "X"]
    if ev["on"] is not None:
        a += ["--on", ev["on"]]
    return a


def iso_time(t):
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        "%03dZ" % (t.microsecond // 1000)


def cloud_event(case_id, ev, target_id):
    t = ev["type"]
    names = {"open": "case-opened", "assign": "case-assigned", "consent": "consent-given",
             "withdraw": "consent-withdrawn", "refer": "referral-made",
             "answer": "referral-answered", "contact": "jobcenter-contact-held",
             "start": "placement-started", "end": "placement-ended", "close": "case-closed",
             "reopen": "case-reopened", "outcome": "outcome-recorded",
             "retract": "event-retracted"}
    if t == "open":
        data = {"resident": RESIDENT, "areaId": ev["area"], "organisationId": ev["owner"],
                "liaisonId": ev["liaison"], "targetGroup": ev["tg"], "ageBand": "25-29",
                "gender": "unknown"}
    elif t == "assign":
        data = {"liaisonId": ev["to"], "reason": "handover"}
    elif t == "consent":
        data = {"consentId": ev["cid"], "parties": ev["parties"], "purposes": ev["purposes"],
                "form": "written"}
        if ev["until"] is not None:
            data["validUntil"] = ev["until"].isoformat()
    elif t == "withdraw":
        data = {"consentId": ev["cid"], "reason": "changed mind"}
    elif t == "refer":
        data = {"referralId": ev["rid"], "kind": ev["kind"], "fromOrganisation": ev["from_eff"],
                "toOrganisation": ev["to"], "reason": "help", "decidedBy": ev["by_eff"] or LIAISONS[0]}
    elif t == "answer":
        data = {"referralId": ev["rid"], "accepted": ev["accepted"], "reason": "ok"}
    elif t == "contact":
        data = {"contactKind": ev["kind_eff"], "jobcenter": ev["jobcenter_eff"]}
        if ev["rid"]:
            data["referralId"] = ev["rid"]
    elif t == "start":
        data = {"placementId": ev["pid"], "kind": "work-placement", "employer": ev["employer"],
                "startDate": ev["start"].isoformat(), "hoursPerWeek": ev["hours"]}
        if ev["planned_end"]:
            data["plannedEndDate"] = ev["planned_end"].isoformat()
        if ev["rid"]:
            data["referralId"] = ev["rid"]
    elif t == "end":
        data = {"placementId": ev["pid"], "endDate": ev["end"].isoformat(),
                "outcome": ev["outcome"]}
    elif t in ("close", "reopen"):
        data = {"reason": "done"}
    elif t == "outcome":
        data = {"monthsAfterClose": ev["months"], "status": "unknown"}
    elif t == "retract":
        data = {"retractedEventId": target_id, "reason": "wrong"}
    return {"specversion": "1.0", "id": ev["eid"], "source": "urn:referral:org:jc",
            "type": "dk.referral.%s.v1" % names[t],
            "subject": ev.get("subject") or "case-" + case_id,
            "time": iso_time(ev["time"]), "actor": ACTOR, "organisation": ORG, "data": data}


# ---------------------------------------------------------------------------------------
# Running the CLI

EVENT_RE = re.compile(r"event ([0-9a-f-]{36})")
RULE_RE = re.compile(r"refused \(([a-z0-9-]+)\)")


class Runner:
    def __init__(self, binary, store, env):
        self.binary, self.store, self.env = binary, store, env
        self.calls = 0

    def run(self, args, stdin=None):
        self.calls += 1
        p = subprocess.run([self.binary, "--store", self.store] + args, input=stdin,
                           capture_output=True, text=True, env=self.env)
        return p.returncode, p.stdout, p.stderr


def outcome_of(rc, out, err):
    if rc == 0:
        return ("ok",)
    if rc == 67:
        m = RULE_RE.search(err)
        return ("refused", m.group(1) if m else "?")
    if rc == 66:
        return ("not-found",)
    if rc == 64:
        return ("usage",)
    return ("exit-%d" % rc, err.strip().splitlines()[-1] if err.strip() else "")


def show(o):
    if o[0] == "refused" and len(o) == 3:
        return "refused (%s) at line %d" % (o[1], o[2])
    if o[0] == "refused":
        return "refused (%s)" % o[1]
    if o[0] == "ok":
        return "accepted"
    if o[0] == "not-found":
        return "not found (exit 66)"
    if o[0] == "usage":
        return "usage error (exit 64)"
    return "%s: %s" % o


class Sequence:
    """Feeds a list of steps to the CLI and the model; returns the first disagreement."""

    def __init__(self, runner, case_id, registry):
        self.runner, self.case_id = runner, case_id
        self.case = Case(registry)
        self.case.counting = True
        self.steps = []            # (ev, path, args or json line, prediction, actual)

    def feed(self, ev, path):
        ev = own_org(dict(ev), "x-" + self.case_id.lower())
        resolve_defaults(self.case, ev)
        saved = dict(TAGS)
        mv = model_view(ev)
        pred = self.case.predict(mv, path)
        if not self.case.counting:
            TAGS.clear()
            TAGS.update(saved)
        target_id = None
        if ev["type"] == "retract":
            target_id = (self.case.log[ev["target"]]["eid"] if ev["target"] is not None
                         else ev["unknown_id"])
        if path == "cli":
            args = cli_args(self.case_id, ev, target_id)
            rc, out, err = self.runner.run(args)
            m = EVENT_RE.search(out)
            if rc == 0 and m:
                ev["eid"] = m.group(1)
        else:
            line = json.dumps(cloud_event(self.case_id, ev, target_id), sort_keys=True)
            rc, out, err = self.runner.run(["import", "-"], stdin=line + "\n")
            args = line
        actual = outcome_of(rc, out, err)
        self.steps.append((ev, path, args, pred, actual, err))
        if actual[0] == "ok":
            self.case.accept(model_view(ev) | {"eid": ev["eid"]})
        return pred == actual


def feed_batch(self, evs):
    """One `referral import` of several events: all or nothing, later ones seeing earlier
    ones (domain-rules.md). Predicted: accepted, or the first refusal and its line."""
    org = "x-" + self.case_id.lower()
    evs = [own_org(dict(ev), org) for ev in evs]
    trial = copy.deepcopy(self.case)
    pred = ("ok",)
    for j, ev in enumerate(evs):
        resolve_defaults(trial, ev)
        p = trial.predict(model_view(ev), "import")
        if p != ("ok",):
            pred = ("refused", p[1], j + 1)
            break
        trial.accept(model_view(ev) | {"eid": ev["eid"]})
    lines = []
    for ev in evs:
        if "from_eff" not in ev and "kind_eff" not in ev:
            resolve_defaults(trial, ev)      # after a predicted refusal: fields only
        target_id = None
        if ev["type"] == "retract":
            target_id = ev.get("target_eid") or (
                self.case.log[ev["target"]]["eid"] if ev["target"] is not None
                else ev["unknown_id"])
        lines.append(json.dumps(cloud_event(self.case_id, ev, target_id), sort_keys=True))
    text = "\n".join(lines) + "\n"
    rc, out, err = self.runner.run(["import", "-"], stdin=text)
    if rc == 67:
        m, line = RULE_RE.search(err), re.search(r"line (\d+)", err)
        actual = ("refused", m.group(1) if m else "?", int(line.group(1)) if line else 0)
    else:
        actual = outcome_of(rc, out, err)
    self.steps.append(({"type": "batch", "events": evs}, "batch", text.rstrip("\n"), pred,
                       actual, err))
    if actual == ("ok",) and pred == ("ok",):
        self.case = trial
    return pred == actual


def own_org(ev, org):
    """Replace the placeholder "@new" (a scenario's own organisation) by its id."""
    for k, v in list(ev.items()):
        if v == "@new":
            ev[k] = org
        elif isinstance(v, list):
            ev[k] = [org if x == "@new" else x for x in v]
    return ev


def retarget(events, keep):
    """The events at indexes `keep`, with retraction targets renumbered (None if dropped)."""
    out = []
    pos = {}
    for i in keep:
        ev = dict(events[i])
        if ev["type"] == "retract" and ev["target"] is not None:
            if ev["target"] not in pos:
                return None
            ev["target"] = pos[ev["target"]]
        pos[i] = len(out)
        out.append(ev)
    return out


# The generated sequence is a list of (event, path); retraction targets index the accepted
# events of the case. For minimisation we keep them as indexes into the step list instead.


def run_steps(runner, registry, case_id, steps):
    """Feed steps [(ev, path)], where a retraction's "target_step" names an earlier step.
    Returns (sequence, index of first disagreement or None)."""
    seq = Sequence(runner, case_id, registry)
    step_to_log = {}
    k = 0
    while k < len(steps):
        ev, path = steps[k]
        if path == "batch":
            group = [k]
            while (group[-1] + 1 < len(steps) and steps[group[-1] + 1][1] == "batch"
                   and steps[group[-1] + 1][0]["batch"] == ev["batch"]):
                group.append(group[-1] + 1)
            before = len(seq.case.log)
            evs = []
            for j, i in enumerate(group):
                e = dict(steps[i][0])
                e["eid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, case_id + "/" + e["import_id"]))
                if e["type"] == "retract":
                    ts = e.get("target_step")
                    if ts is None:
                        e["target"] = None
                    elif ts in group:
                        e["target"] = before + group.index(ts)
                        e["target_eid"] = evs[group.index(ts)]["eid"]
                    elif ts in step_to_log:
                        e["target"] = step_to_log[ts]
                    else:
                        return seq, "skip"
                evs.append(e)
            agree = feed_batch(seq, evs)
            if len(seq.case.log) > before:
                for j, i in enumerate(group):
                    step_to_log[i] = before + j
            if not agree:
                return seq, group[-1]
            k = group[-1] + 1
            continue
        ev = dict(ev)
        if ev["type"] == "retract":
            ts = ev.get("target_step")
            if ts is None:
                ev["target"] = None
            elif ts in step_to_log:
                ev["target"] = step_to_log[ts]
            else:
                return seq, "skip"
        if path == "import":
            # a fresh id per case id, so that a minimisation can run a step again
            ev["eid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, case_id + "/" + ev["import_id"]))
        before = len(seq.case.log)
        agree = seq.feed(ev, path)
        if len(seq.case.log) > before:
            step_to_log[k] = before
        if not agree:
            return seq, k
        k += 1
    return seq, None


# ---------------------------------------------------------------------------------------


def shell_quote(s):
    if re.fullmatch(r"[A-Za-z0-9_.,:+/=@-]+", s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


def reproduction(seq, binary):
    lines = ["B=%s" % shell_quote(os.path.abspath(binary)),
             "export REFERRAL_CONFIG=$(mktemp -d)/config.json",
             "S=$(mktemp -d)/store",
             "$B --store $S init --actor %s --org %s" % (ACTOR, ORG)]
    for c in registry_commands():
        lines.append("$B --store $S " + " ".join(shell_quote(x) for x in c))
    var = {}
    for n, (ev, path, args, pred, actual, err) in enumerate(seq.steps):
        note = "# model: %s; CLI: %s" % (show(pred), show(actual))
        if path == "cli":
            words = []
            for x in args:
                if ev["type"] == "retract" and x in var:
                    words.append('"$%s"' % var[x])
                else:
                    words.append(shell_quote(x))
            cmd = "$B --store $S " + " ".join(words)
            if actual[0] == "ok" and "eid" in ev and n + 1 < len(seq.steps):
                v = "E%d" % (n + 1)
                var[ev["eid"]] = v
                lines.append("%s=$(%s | sed -n 's/.*event \\([0-9a-f-]*\\).*/\\1/p')  %s"
                             % (v, cmd, note))
            else:
                lines.append(cmd + "  " + note)
        else:
            line = args
            for eid, v in var.items():
                line = line.replace('"%s"' % eid, '"$%s"' % v)
            lines.append("$B --store $S import - <<EOF  %s\n%s\nEOF" % (note, line))
    return "\n".join(lines)


def make_store(root, name, binary, env):
    store = os.path.join(root, name)
    if os.path.exists(store):
        shutil.rmtree(store)
    runner = Runner(binary, store, env)
    rc, out, err = runner.run(["init", "--actor", ACTOR, "--org", ORG])
    if rc != 0:
        sys.exit("referral init failed (%d): %s" % (rc, err.strip()))
    for c in registry_commands():
        rc, out, err = runner.run(c)
        if rc != 0:
            sys.exit("registry setup failed (%d) for %s: %s" % (rc, " ".join(c), err.strip()))
    return runner


def generate(rng, case_registry, n_events, import_share, batch_share=0.08):
    """Generate steps on the model's own predictions (a model that runs ahead of the CLI:
    the CLI only confirms), so generation does not depend on the binary."""
    gen = Generator(rng)
    case = Case(case_registry)
    steps = []
    step_to_log = {}
    cursor = BASE + rng.randint(0, 3) * DAY
    k = 0
    batch_no = 0
    while k < n_events:
        # now and then a batch: 2-4 events in one import, all or nothing
        size = rng.randint(2, 4) if rng.random() < batch_share else 1
        size = min(size, n_events - k)
        path = ("batch" if size > 1 else
                "import" if rng.random() < import_share else "cli")
        batch_no += 1
        model = copy.deepcopy(case) if size > 1 else case
        mapping = dict(step_to_log)
        all_ok = True
        for _ in range(size):
            ev = gen.next_event(model, cursor, k + 1)
            ev["import_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            ev["batch"] = batch_no
            if ev["type"] == "retract":
                ev["target_step"] = None
                if ev["target"] is not None:
                    ev["target_step"] = next(s for s, li in mapping.items()
                                             if li == ev["target"])
            if rng.random() < 0.3:
                cursor += DAY
            e = dict(ev)
            resolve_defaults(model, e)
            pred = model.predict(model_view(e), "import" if size > 1 else path)
            steps.append((ev, path))
            if pred == ("ok",):
                mapping[k] = len(model.log)
                model.accept(model_view(e) | {"eid": ev["import_id"]})
            else:
                all_ok = False
            k += 1
        if size == 1 or all_ok:
            case = model
            step_to_log = mapping
    return steps


def minimise(root, binary, env, registry, steps, bad, trial_counter):
    """Drop earlier steps while the last step still disagrees. Returns the smallest
    sequence found (a Sequence that was run)."""
    runner = make_store(root, "min", binary, env)
    cur = list(range(bad + 1))

    def attempt(idx):
        trial_counter[0] += 1
        sub = []
        mapping = {}
        for j, i in enumerate(idx):
            ev, path = steps[i]
            ev = dict(ev)
            if ev["type"] == "retract" and ev.get("target_step") is not None:
                if ev["target_step"] not in mapping:
                    return None
                ev["target_step"] = mapping[ev["target_step"]]
            mapping[i] = j
            sub.append((ev, path))
        seq, k = run_steps(runner, registry, "M%d" % trial_counter[0], sub)
        if k == len(sub) - 1:
            return seq
        return None

    best = attempt(cur)
    if best is None:
        return None
    i = len(cur) - 2
    while i >= 0:
        cand = cur[:i] + cur[i + 1:]
        seq = attempt(cand)
        if seq is not None:
            cur, best = cand, seq
        i -= 1
    return best


# ---------------------------------------------------------------------------------------
# Directed scenarios: the interplay domain-rules.md spells out, run on every seed. Each step
# may carry "expect" (accepted, or the rule): what the docs say; the model is checked
# against it first, so these scenarios also test the model's reading of the docs.


def mk(t, day, path="cli", on=None, expect=None, **f):
    if on is None:
        d = BASE + day * DAY
        on = d.isoformat()
    when = dt.datetime.fromisoformat(on if "T" in on else on + "T00:00:00+00:00")
    ev = {"type": t, "on": on, "time": when, "day": when.astimezone(dt.timezone.utc).date()}
    defaults = {
        "open": dict(area=AREA, liaison="li", tg="tg", owner=ORG),
        "assign": dict(to="li2"),
        "consent": dict(cid="K1", parties=["jc"], purposes=["referral"], until=None),
        "withdraw": dict(cid="K1"),
        "refer": dict(rid="R1", to="jc", kind="other", **{"from": None}, by="li"),
        "answer": dict(rid="R1", accepted=True),
        "contact": dict(kind="first", rid=None, jobcenter="jc"),
        "start": dict(pid="P1", employer="emp", start=ev["day"], planned_end=None, hours=20,
                      rid=None),
        "end": dict(pid="P1", end=ev["day"], outcome="dropped"),
        "close": {}, "reopen": {}, "outcome": dict(months=1),
        "retract": dict(target_step=None), "reg-org": dict(org="@new"),
    }[t]
    ev.update(defaults)
    ev.update(f)
    if expect is not None:
        ev["expect"] = expect
    return (ev, path)


def scenarios():
    d = lambda n: BASE + n * DAY   # noqa: E731
    S = {}
    S["referral registered late, dated before the withdrawal"] = [
        mk("open", 1), mk("consent", 1), mk("withdraw", 5),
        mk("refer", 4, expect="ok"), mk("refer", 5, rid="R2", expect="consent-required"),
        mk("refer", 6, rid="R3", path="import", expect="consent-required")]
    S["close lapses consents; reopening does not revive them"] = [
        mk("open", 1), mk("consent", 1), mk("close", 5), mk("reopen", 6),
        mk("refer", 4, expect="ok"), mk("refer", 5, rid="R2", expect="consent-required"),
        mk("refer", 7, rid="R3", expect="consent-required"),
        mk("withdraw", 7, expect="unknown-consent"),
        mk("consent", 7, cid="K2"), mk("refer", 7, rid="R4", expect="ok")]
    S["a retracted consent: the referral that rested on it is left out of the rule state"] = [
        mk("open", 1), mk("consent", 1), mk("refer", 2), mk("retract", 3, target_step=1),
        mk("answer", 3, expect="unknown-referral"),
        mk("contact", 3, rid="R1", kind="follow-up", expect="unknown-referral"),
        mk("start", 3, rid="R1", expect="unknown-referral"), mk("consent", 1, cid="K2"),
        mk("refer", 2, expect="ok")]
    S["a retracted close: the case is open and its consents stand"] = [
        mk("open", 1), mk("consent", 1), mk("close", 3), mk("retract", 4, target_step=2),
        mk("refer", 4, expect="ok"), mk("withdraw", 5, expect="ok"),
        mk("reopen", 5, expect="case-must-be-closed")]
    S["a retracted reopening: closed again, with the outcome marks of that close"] = [
        mk("open", 1), mk("close", 2), mk("outcome", 3), mk("reopen", 4),
        mk("outcome", 4, months=3, expect="case-must-be-closed"),
        mk("retract", 5, target_step=3),
        mk("outcome", 5, expect="outcome-already-recorded"),
        mk("outcome", 5, months=3, path="import", expect="ok"),
        mk("close", 6, expect="case-must-be-open")]
    S["a retracted outcome no longer counts; reopening starts over"] = [
        mk("open", 1), mk("close", 2), mk("outcome", 3), mk("retract", 4, target_step=2),
        mk("outcome", 4, expect="ok"), mk("outcome", 4, expect="outcome-already-recorded"),
        mk("reopen", 5), mk("close", 6), mk("outcome", 7, expect="ok")]
    S["a retracted first contact; a retracted follow-up changes nothing"] = [
        mk("open", 1), mk("contact", 2), mk("contact", 2, expect="first-contact-already-held"),
        mk("retract", 3, target_step=1), mk("contact", 3, expect="ok"),
        mk("contact", 3, kind="follow-up"), mk("retract", 4, target_step=5),
        mk("contact", 4, path="import", expect="first-contact-already-held"),
        mk("contact", 4, kind=None, expect="ok")]
    S["a retracted opening: the case's events are gone until it is opened anew"] = [
        mk("open", 1), mk("consent", 1), mk("retract", 2, target_step=0),
        mk("refer", 2, path="import", expect="case-must-exist"),
        mk("refer", 2, expect="case-must-exist"),
        mk("consent", 2, cid="K2", expect="case-must-exist"),
        mk("open", 2, expect="ok"), mk("refer", 3, expect="consent-required"),
        mk("consent", 3, expect="ok"), mk("refer", 3, expect="ok")]
    S["a retracted withdrawal: the consent covers again"] = [
        mk("open", 1), mk("consent", 1), mk("withdraw", 3), mk("refer", 4, expect="consent-required"),
        mk("retract", 4, target_step=2), mk("refer", 4, expect="ok"),
        mk("withdraw", 2, expect="ok")]
    S["days are UTC days of occurred-at"] = [
        mk("open", 1),
        # 00:30 at +02:00 on the 5th is the 4th in UTC
        mk("consent", 0, on="2026-03-05T00:30:00+02:00", until=d(6)),
        mk("refer", 3, expect="ok"),                                                # the 4th
        mk("refer", 0, rid="R2", on="2026-03-03T23:30:00-01:00", expect="ok"),      # the 4th
        mk("refer", 0, rid="R3", on="2026-03-03T23:30:00+00:00", expect="consent-required"),
        mk("refer", 0, rid="R4", on="2026-03-07T00:30:00+01:00", expect="ok"),      # the 6th
        mk("refer", 7, rid="R5", expect="consent-required"),
        mk("contact", 0, on="2026-03-02T00:30:00+01:00", expect="date-order"),  # 1 March UTC
        mk("withdraw", 0, on="2026-03-05T01:00:00+02:00", expect="ok"),            # the 4th
        # earlier on the day of the withdrawal, in UTC: that day is no longer covered
        mk("refer", 0, rid="R6", on="2026-03-04T00:10:00+00:00", expect="consent-required"),
        mk("refer", 2, rid="R7", expect="consent-required")]                       # before given
    S["validUntil is the last day; not before the day given"] = [
        mk("open", 1), mk("consent", 3, until=d(2), expect="date-order"),
        mk("consent", 3, until=d(3), expect="ok"), mk("refer", 3, expect="ok"),
        mk("refer", 4, rid="R2", expect="consent-required")]
    S["a close dated before the consent was given lapses it at once"] = [
        mk("open", 1), mk("consent", 5), mk("close", 3), mk("reopen", 4),
        mk("refer", 5, expect="consent-required"), mk("withdraw", 6, expect="unknown-consent")]
    S["a close recorded after a withdrawal but dated before it lapses the consent from the close"] = [
        mk("open", 1), mk("consent", 1), mk("withdraw", 8), mk("close", 5), mk("reopen", 6),
        mk("refer", 4, expect="ok"), mk("refer", 6, rid="R2", expect="consent-required"),
        mk("refer", 7, rid="R3", path="import", expect="consent-required")]
    S["a first contact stays held across a close and a reopening"] = [
        mk("open", 1), mk("contact", 2), mk("close", 3), mk("reopen", 4),
        mk("contact", 5, expect="first-contact-already-held"),
        mk("contact", 5, kind=None, path="cli", expect="ok")]
    S["a target group is in effect on the UTC day of the opening"] = [
        mk("open", 0, tg="tg2", on="2026-03-06T00:30:00+02:00", expect="unknown-target-group"),
        mk("open", 0, tg="tg2", on="2026-03-10T23:30:00-01:00", expect="unknown-target-group"),
        mk("open", 0, tg="tg2", on="2026-03-10T23:30:00+00:00", expect="ok")]
    S["a retraction imported into another stream"] = [
        mk("open", 1), mk("consent", 1),
        mk("retract", 2, target_step=1, path="import", subject="case-elsewhere",
           expect="wrong-stream"),
        mk("retract", 2, target_step=1, path="import", expect="ok"),
        mk("retract", 2, target_step=3, path="import", expect="invalid-value"),
        mk("retract", 2, target_step=1, expect="already-retracted")]
    S["answers, placement ends and withdrawals after the close"] = [
        mk("open", 1), mk("consent", 1), mk("refer", 2), mk("start", 2), mk("close", 3),
        mk("answer", 1, expect="date-order"), mk("answer", 4, expect="ok"),
        mk("answer", 4, expect="referral-already-answered"),
        mk("end", 1, expect="date-order"), mk("end", 4, expect="ok"),
        mk("end", 4, expect="placement-already-ended"),
        mk("start", 4, pid="P2", expect="case-must-be-open"),
        mk("withdraw", 4, expect="unknown-consent")]
    S["a registration retracted: a replay drops the consent, a short rebuild keeps it"] = [
        mk("reg-org", 0, on="2026-01-01"), mk("open", 1),
        mk("consent", 1, parties=["@new", "jc"]), mk("contact", 2),
        mk("contact", 2, kind="follow-up"),
        mk("retract", 3, target_step=0),                       # the organisation's registration
        mk("retract", 3, target_step=4),                       # follow-up: no replay
        mk("refer", 3, expect="ok"),
        mk("retract", 3, target_step=3),                       # first contact: replay
        mk("refer", 4, rid="R2", expect="consent-required"),
        mk("withdraw", 4, expect="unknown-consent"),
        mk("consent", 4, cid="K2", parties=["@new"], expect="unknown-organisation")]
    out = []
    for name, steps in S.items():
        for k, (ev, path) in enumerate(steps):
            ev["import_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "scenario/%s/%d" % (name, k)))
        out.append((name, steps))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("store_root")
    ap.add_argument("binary")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sequences", type=int, default=150)
    ap.add_argument("--events", type=int, default=30, help="events per sequence (at most)")
    ap.add_argument("--import-share", type=float, default=0.25,
                    help="share of events appended with `referral import` (the rest: CLI)")
    ap.add_argument("--max-reports", type=int, default=10)
    ap.add_argument("--verbose", action="store_true",
                    help="print every step of the directed scenarios and each disagreement")
    a = ap.parse_args()

    # Some events are dated "now" or after today: keep the run clear of midnight UTC, where
    # the model's today and the CLI's could differ by a day.
    now = dt.datetime.now(dt.timezone.utc)
    to_midnight = (dt.datetime.combine(now.date() + DAY, dt.time(), dt.timezone.utc)
                   - now).total_seconds()
    if to_midnight < 15 * 60:
        print("rules oracle: waiting %d s for midnight UTC to pass" % (to_midnight + 5))
        time.sleep(to_midnight + 5)
    global TODAY
    TODAY = dt.datetime.now(dt.timezone.utc).date()
    os.makedirs(a.store_root, exist_ok=True)
    env = dict(os.environ)
    env["REFERRAL_CONFIG"] = os.path.join(a.store_root, "config.json")
    for k in ("REFERRAL_STORE", "REFERRAL_ACTOR", "REFERRAL_ORG"):
        env.pop(k, None)
    started = time.time()
    registry = {"orgs": set(ORGS), "liaisons": set(LIAISONS)}
    runner = make_store(a.store_root, "run-%d" % a.seed, a.binary, env)
    rng = random.Random(a.seed)
    stats = {"events": 0, "cli": 0, "import": 0, "batches": 0, "batched": 0}
    rules = {}
    reports = []
    trial_counter = [0]
    work = [("scenario: " + name, "D%d-%d" % (a.seed, i), steps)
            for i, (name, steps) in enumerate(scenarios())]
    for s in range(a.sequences):
        n = rng.randint(a.events // 2, a.events)
        work.append(("sequence %d" % s, "S%d-%d" % (a.seed, s),
                     generate(random.Random(rng.getrandbits(64)), registry, n,
                              a.import_share)))
    for what, case_id, steps in work:
        seq, bad = run_steps(runner, registry, case_id, steps)
        for k, (ev, path, args, pred, actual, err) in enumerate(seq.steps):
            if path == "batch":
                stats["events"] += len(ev["events"])
                stats["import"] += len(ev["events"])
                stats["batches"] += 1
                stats["batched"] += len(ev["events"])
                key = "batch " + ("accepted" if actual == ("ok",) else show(actual))
                rules[key] = rules.get(key, 0) + 1
                continue
            stats["events"] += 1
            stats[path] += 1
            key = show(actual)
            rules[key] = rules.get(key, 0) + 1
            want = ev.get("expect")
            if want is not None and pred != (("ok",) if want == "ok" else ("refused", want)):
                reports.append("model self-check (%s, step %d, %s): the docs say %s, the model "
                               "predicts %s\n" % (what, k + 1, ev["type"], want, show(pred)))
        if a.verbose and what.startswith("scenario"):
            print(what)
            for ev, path, args, pred, actual, err in seq.steps:
                shown = " ".join(args) if path == "cli" else "import " + ev["type"]
                print("  %-40s %s" % (show(actual), shown[:110]))
        if bad is None or bad == "skip":
            continue
        s = what
        ev, path, args, pred, actual, err = seq.steps[bad]
        if a.verbose:
            print("%s step %d: model %s, CLI %s" % (s, bad + 1, show(pred), show(actual)))
        if len(reports) >= a.max_reports:
            reports.append(None)
            continue
        small = minimise(a.store_root, a.binary, env, registry, steps, bad, trial_counter)
        if small is None:
            small = seq
        last = small.steps[-1]
        reports.append("disagreement (seed %d, %s, step %d): %s %s\n"
                       "  model: %s\n  CLI:   %s\n  CLI said: %s\nreproduction:\n%s\n" % (
                           a.seed, s, bad + 1, last[0]["type"], "via " + last[1],
                           show(last[3]), show(last[4]), last[5].strip() or "(nothing)",
                           reproduction(small, a.binary)))
    elapsed = time.time() - started
    for r in reports:
        if r:
            print(r)
    if None in reports:
        print("(%d more disagreements not minimised)" % reports.count(None))
    print("rules oracle: seed %d, %d scenarios and %d random sequences, %d events (%d CLI, "
          "%d import, of them %d in %d batches), %d disagreements, %.1f s" % (
              a.seed, len(work) - a.sequences, a.sequences, stats["events"], stats["cli"],
              stats["import"], stats["batched"],
              stats["batches"], len(reports), elapsed))
    print("  outcomes: " + ", ".join("%s %d" % (k, v) for k, v in sorted(rules.items())))
    print("  situations: " + ", ".join("%s %d" % (k, v) for k, v in sorted(TAGS.items())))
    return 1 if reports else 0


if __name__ == "__main__":
    sys.exit(main())
