#!/usr/bin/env python3
"""Reads a `referral export` file with the CloudEvents Python SDK (pip install cloudevents).

An independent check that the export is CloudEvents 1.0 as other systems read it: every
line must parse with the SDK's structured-mode JSON reader (both its v1 HTTP API and its
core v1 event model, which validates attribute names and required attributes), and the
attributes must come back as written. Prints "N events read"; exits 1 on the first failure.

    referral export --out /tmp/all.jsonl && python3 Tests/cli_cloudevents_sdk_check.py /tmp/all.jsonl
"""
import json
import sys

from cloudevents.v1.http import from_json
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent


def main(path):
    fmt = JSONFormat()
    count = 0
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            raw = json.loads(line)
            try:
                legacy = from_json(line)
                core = fmt.read(CloudEvent, line)
            except Exception as e:  # noqa: BLE001 - report whatever the SDK refuses
                print(f"line {number}: the CloudEvents SDK refuses it: {e}")
                return 1
            for name in ("specversion", "id", "source", "type", "subject", "time"):
                if str(legacy[name]) != raw[name]:
                    print(f"line {number}: {name} reads back as {legacy[name]!r}, not {raw[name]!r}")
                    return 1
            if core.get_type() != raw["type"] or core.get_id() != raw["id"] or core.get_data() != raw["data"]:
                print(f"line {number}: the core event model reads type, id or data differently")
                return 1
            if legacy.data != raw["data"]:
                print(f"line {number}: data reads back differently")
                return 1
            count += 1
    print(f"{count} events read")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
