#!/usr/bin/env bash
# Builds the machine's own LMDB (the version liblmdb0 has, from Debian's source) with
# symbols, for profiling only: the project links the system's LMDB and never this build.
#
#   scripts/lmdb-debug.sh                       # builds /tmp/lmdb-debug/liblmdb.so.0
#   LD_LIBRARY_PATH=/tmp/lmdb-debug perf record -g .build/release/referral-bench batch --after 1M --nosync --runs 1
#
# Debian's liblmdb0 has no symbols (and no -dbgsym package in the archive), so perf and
# callgrind would show LMDB's time as one anonymous block; with this build they name
# mdb_node_search, mdb_page_search_root, mdb_page_touch and the rest.
set -euo pipefail
out=${1:-/tmp/lmdb-debug}
version=$(dpkg-query -W -f '${source:Upstream-Version}' liblmdb0)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsS -o "$work/lmdb.tar.gz" "http://deb.debian.org/debian/pool/main/l/lmdb/lmdb_${version}.orig.tar.gz"
tar -xzf "$work/lmdb.tar.gz" -C "$work"
src=$(echo "$work"/lmdb-*/libraries/liblmdb)
mkdir -p "$out"
gcc -O2 -g -fno-omit-frame-pointer -pthread -fPIC -shared -Wl,-soname,liblmdb.so.0 \
    -o "$out/liblmdb.so.0" "$src/mdb.c" "$src/midl.c"
echo "LMDB $version with symbols: $out/liblmdb.so.0 (use LD_LIBRARY_PATH=$out)"
