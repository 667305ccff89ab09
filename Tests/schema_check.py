#!/usr/bin/env python3
"""Validate JSON Lines of CloudEvents against the project's JSON Schemas.

An independent check of the Swift exporter: every line is validated with the
PyPI package jsonschema (Draft 2020-12, with format checking) against
Schemas/cloudevent.json and against Schemas/<name>.v<version>.json, chosen by
the event's `type` (dk.referral.case-opened.v1 -> case-opened.v1.json).

Usage:
    python3 Tests/schema_check.py FILE.jsonl [FILE.jsonl ...]
        Every line must be valid. Exits 1 on any invalid line.
    python3 Tests/schema_check.py --expect-invalid FILE.jsonl
        Every line must be rejected (hand-made bad events). Exits 1 if one passes.

Options: --schemas DIR (default: Schemas/ beside Tests/), --quiet.
Ends with the line "N passed, M failed". Exit codes: 0 all as expected,
1 some line not as expected, 2 the check itself could not run.
Needs: pip install 'jsonschema[format-nongpl]' (plain jsonschema also works).
"""

import argparse
import datetime
import json
import re
import sys
from pathlib import Path

try:
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import SchemaError
except ImportError:
    print("schema_check: the Python package 'jsonschema' is missing; "
          "install it with: pip install 'jsonschema[format-nongpl]'", file=sys.stderr)
    sys.exit(2)

TYPE_PREFIX = "dk.referral."
ENVELOPE = "cloudevent.json"

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII)


def format_checker():
    """Draft 2020-12's format checker; date-time checked by hand if rfc3339-validator is missing."""
    checker = Draft202012Validator.FORMAT_CHECKER
    if "date-time" not in checker.checkers:
        checker = FormatChecker()

        @checker.checks("date-time", raises=ValueError)
        def _date_time(instance):
            if not isinstance(instance, str):
                return True
            m = _RFC3339.match(instance)
            if not m:
                return False
            y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
            datetime.datetime(y, mo, d, h, mi, min(s, 59))
            return True
    return checker


def load_schemas(folder):
    """Every *.json in the folder, checked to be a valid Draft 2020-12 schema."""
    schemas = {}
    for path in sorted(folder.glob("*.json")):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(schema)
        except (ValueError, SchemaError) as e:
            print(f"schema_check: {path} is not a valid JSON Schema: {e}", file=sys.stderr)
            sys.exit(2)
        schemas[path.name] = schema
    if ENVELOPE not in schemas:
        print(f"schema_check: {folder / ENVELOPE} is missing", file=sys.stderr)
        sys.exit(2)
    return schemas


def field_path(error):
    """`data.parties[1]`, like the Swift importer names fields; `(event)` for the whole object."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(event)"


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"duplicate key(s) {', '.join(dupes)}")
    return dict(pairs)


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def problems(raw, schemas, checker):
    """Everything wrong with one line, as messages; empty if it is valid."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"not valid UTF-8 at byte {e.start}"]
    try:
        event = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=reject_constant)
    except ValueError as e:
        return [f"not valid JSON: {e}"]
    if not isinstance(event, dict):
        return [f"expected a JSON object, found {type(event).__name__}"]

    found = []
    names = [ENVELOPE]
    event_type = event.get("type")
    if isinstance(event_type, str) and event_type.startswith(TYPE_PREFIX):
        name = event_type[len(TYPE_PREFIX):] + ".json"
        if name in schemas:
            names.append(name)
        else:
            found.append(f"type: no schema for '{event_type}' (no Schemas/{name})")
    else:
        found.append(f"type: {event_type!r} is not a {TYPE_PREFIX}* event type")
    for name in names:
        validator = Draft202012Validator(schemas[name], format_checker=checker)
        for error in sorted(validator.iter_errors(event), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
            message = f"{field_path(error)}: {error.message} [{name}]"
            if message not in found:
                found.append(message)
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="JSON Lines files of CloudEvents")
    parser.add_argument("--expect-invalid", action="store_true", help="every line must be rejected")
    parser.add_argument("--schemas", type=Path, default=Path(__file__).resolve().parent.parent / "Schemas")
    parser.add_argument("--quiet", action="store_true", help="print only failures and the summary")
    args = parser.parse_args()

    schemas = load_schemas(args.schemas)
    checker = format_checker()
    passed = failed = 0
    for path in args.files:
        try:
            data = path.read_bytes()
        except OSError as e:
            print(f"schema_check: cannot read {path}: {e.strerror}", file=sys.stderr)
            sys.exit(2)
        lines = 0
        for number, raw in enumerate(data.split(b"\n"), start=1):
            raw = raw.removesuffix(b"\r")
            if number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if not raw.strip():
                continue
            lines += 1
            found = problems(raw, schemas, checker)
            where = f"{path}:{number}"
            if args.expect_invalid:
                if found:
                    passed += 1
                    if not args.quiet:
                        print(f"ok   {where}: rejected: {found[0]}")
                else:
                    failed += 1
                    print(f"FAIL {where}: the event is valid, but this file should hold only invalid events")
            elif found:
                failed += 1
                for message in found:
                    print(f"FAIL {where}: {message}")
            else:
                passed += 1
        if lines == 0:
            failed += 1
            print(f"FAIL {path}: holds no events; is it the right file?")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
