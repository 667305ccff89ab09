#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, build `referral` in release
# mode, create the default store (if there is none), load the deterministic demo data set
# (if the store is empty), then show caseloads and cross-sector statistics.
#
#   bash scripts/demo.sh                  # small demo (about 3,000 events)
#   SIZE=medium bash scripts/demo.sh      # about 100,000 events
#   REFERRAL_STORE=/tmp/s bash scripts/demo.sh   # another store than the default
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
echo "== building referral (release; the first build takes a few minutes)" >&2
build_log="$(mktemp)"
if ! swift build -c release --product referral >"$build_log" 2>&1; then
    cat "$build_log" >&2
    echo "scripts/demo.sh: the build failed (output above)" >&2
    exit 1
fi
rm -f "$build_log"
referral() { .build/release/referral "$@"; }

store="${REFERRAL_STORE:-${XDG_DATA_HOME:-$HOME/.local/share}/referral/store}"
if [ ! -e "$store/log.mdb" ]; then
    referral init --store "$store" --actor "${REFERRAL_ACTOR:-demo}" --org "${REFERRAL_ORG:-secretariat-viborg}"
fi
if referral head --store "$store" | grep -qE '"position":0[,}]'; then
    referral demo --store "$store" --size "${SIZE:-small}"
else
    echo "== $store already holds events; showing them (give REFERRAL_STORE=DIR for a new demo store)" >&2
fi

# The demo's data ends on 31.12.2025: the caseload as known that day, its flags (like "no
# activity for 30 days") judged on it. (--as-of rather than --today, so that a store holding
# later events too shows 2025's state instead of being judged before its own facts.)
echo; echo "== Caseload per area (open cases and their flags)"
referral caseload --store "$store" --by area --as-of 31.12.2025
echo; echo "== Caseload per liaison"
referral caseload --store "$store" --by liaison --as-of 31.12.2025
echo; echo "== Referrals sector → sector, 2025 (counts below 5 shown as <5)"
referral stats referrals --store "$store" --year 2025
echo; echo "== Funnel per area, 2025"
referral stats funnel --store "$store" --by area --year 2025
echo; echo "== Shared employee hours, delivered against agreed"
referral stats hours --store "$store" --year 2025
