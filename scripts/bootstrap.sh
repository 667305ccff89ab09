#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to build and test the project:
# the system's LMDB (liblmdb-dev, found through pkg-config) and the Python packages
# the independent test oracles use (jsonschema, lmdb, the CloudEvents SDK). Safe to run again: it only installs what is missing.
set -euo pipefail

need_apt=()
pkg-config --exists lmdb 2>/dev/null || need_apt+=(liblmdb-dev)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "bootstrap: installing ${need_apt[*]} with apt-get" >&2
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ "${REFERRAL_SKIP_PYTHON:-0}" != "1" ]; then
    missing_py=()
    python3 -c "import jsonschema" 2>/dev/null || missing_py+=(jsonschema)
    python3 -c "import lmdb" 2>/dev/null || missing_py+=(lmdb)
    python3 -c "import cloudevents.v1.http" 2>/dev/null || missing_py+=(cloudevents)
    if [ ${#missing_py[@]} -gt 0 ]; then
        echo "bootstrap: installing Python packages ${missing_py[*]}" >&2
        python3 -m pip install -q "${missing_py[@]}"
    fi
fi

command -v swift >/dev/null 2>&1 || { echo "bootstrap: swift is not on PATH; install Swift 6.x (https://swift.org) and retry" >&2; exit 1; }
