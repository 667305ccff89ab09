#!/usr/bin/env bash
# Checks the CloudEvents JSON edge with an independent validator:
#   1. every sample event, exported by the Swift code as JSON Lines, must be valid
#      against Schemas/ (Python jsonschema, Draft 2020-12, format checking);
#   2. every hand-made bad event in Tests/schema_fixtures/invalid-events.jsonl
#      must be rejected.
# If REFERRAL_SAMPLES_OUT names an existing file (written by an earlier
# `REFERRAL_SAMPLES_OUT=... swift test`), that file is checked; otherwise the
# samples are written now with `swift test --filter SchemaFileTests`.
# Ends with "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import jsonschema' 2>/dev/null; then
    echo "schema_check: installing the Python package jsonschema"
    python3 -m pip install --quiet jsonschema
fi

out="${REFERRAL_SAMPLES_OUT:-}"
if [ -z "$out" ] || [ ! -s "$out" ]; then
    out="${out:-$(mktemp -d)/samples.jsonl}"
    log="$(mktemp)"
    if ! REFERRAL_SAMPLES_OUT="$out" swift test --filter SchemaFileTests >"$log" 2>&1; then
        cat "$log"
        echo "schema_check: swift test --filter SchemaFileTests failed" >&2
        exit 1
    fi
fi

python3 Tests/schema_check.py --quiet --expect-invalid Tests/schema_fixtures/invalid-events.jsonl
python3 Tests/schema_check.py "$out"
