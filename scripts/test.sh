#!/usr/bin/env bash
# The project's test command: bootstrap, Swift tests, then the independent Python oracles
# (JSON Schema validation of every event type's CloudEvents form; a second reader of the
# LMDB log that checks the hash chain without any of this project's code; an oracle that
# recomputes every statistic and the caseload from the exported log; an oracle of the
# domain rules on case streams).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export REFERRAL_SAMPLES_OUT="$work/samples.jsonl"
# Commands that save an identity write it here, not into the CI user's home.
export REFERRAL_CONFIG="$work/config.json"
swift build --build-tests
swift test --skip-build 2>&1 | tee "$work/swift-test.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"

if [ -f Tests/schema_check.py ] && [ -s "$REFERRAL_SAMPLES_OUT" ]; then
    echo "== JSON Schema check (python jsonschema) of every event type =="
    python3 Tests/schema_check.py "$REFERRAL_SAMPLES_OUT"
    python3 Tests/schema_check.py --expect-invalid Tests/schema_fixtures/invalid-events.jsonl
fi
if [ -f Tests/check_store.py ]; then
    echo "== Independent reader: demo store through Python's lmdb binding =="
    swift run --skip-build referral --store "$work/store" init --actor ci --org ci >/dev/null
    swift run --skip-build referral --store "$work/store" demo --size small >/dev/null
    python3 Tests/check_store.py "$work/store"
    # The statistics and caseload recomputed from the exported log (standard library only):
    # 45-60 s against this debug build, worth it for an independent check of the figures
    # boards publish (it found rates that gave suppressed counts away).
    if [ -f Tests/stats_oracle.py ]; then
        echo "== Independent statistics and caseload oracle on the demo store =="
        python3 Tests/stats_oracle.py "$work/store" "$(swift build --show-bin-path)/referral"
    fi
fi
# The domain rules on case streams: a model written from docs/domain-rules.md predicts
# accept/refuse and the rule for every event of directed scenarios and random sequences,
# fed to the CLI one at a time (standard library only). 8 random sequences take about 30 s
# against this debug build; REFERRAL_HEAVY=1 runs 300 (about 15 minutes).
if [ -f Tests/rules_oracle.py ]; then
    echo "== Independent domain-rules oracle on case streams =="
    sequences=8
    if [ "${REFERRAL_HEAVY:-}" = 1 ]; then sequences=300; fi
    python3 Tests/rules_oracle.py "$work/rules" "$(swift build --show-bin-path)/referral" \
        --seed "${REFERRAL_RULES_SEED:-1}" --sequences "$sequences"
fi

# The Swift test summary last, so it is the run's closing line.
grep -E "Test run with .* (passed|failed)|Executed .* tests" "$work/swift-test.log" | tail -n 2
