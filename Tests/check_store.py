#!/usr/bin/env python3
"""Independent reader of a referral store, written only from docs/storage-format.md and
docs/lmdb-layout.md, using Python's own LMDB binding (PyPI `lmdb`), none of the project's code.

Checks: positions gapless from 1; every record's length matches its header; the SHA-256 of
each record and the link to the previous record's hash; recorded-at never decreasing; stream
versions contiguous; the event_ids, streams and stream_heads indexes agree with the records.

usage: check_store.py STORE_DIR
"""
import hashlib
import struct
import sys

import lmdb

KNOWN_CODES = {1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 30, 31, 32, 40, 50, 51}


def main(store):
    env = lmdb.open(store + "/log.mdb", subdir=False, readonly=True, lock=False, max_dbs=8)
    events = env.open_db(b"events", create=False)
    ids = env.open_db(b"event_ids", create=False)
    streams = env.open_db(b"streams", create=False)
    heads = env.open_db(b"stream_heads", create=False)
    failures = []
    checked = 0
    with env.begin() as txn:
        prev_hash = bytes(32)
        last_recorded = None
        versions = {}
        types = {}
        for key, rec in txn.cursor(db=events):
            checked += 1
            pos = struct.unpack(">Q", key)[0]
            where = f"position {pos}"
            if pos != checked:
                failures.append(f"{where}: expected position {checked}")
                break
            fmt, schema, code, flags, _, slen, rpos, version, occ, recd = struct.unpack_from("<BBHBBHQQqq", rec, 0)
            alen, olen, plen = struct.unpack_from("<HHI", rec, 88)
            expected_len = 96 + slen + alen + olen + (16 if flags & 1 else 0) + (16 if flags & 2 else 0) + plen + 32
            if fmt != 1 or code not in KNOWN_CODES or len(rec) != expected_len or rpos != pos:
                failures.append(f"{where}: bad header (format {fmt}, code {code}, length {len(rec)} vs {expected_len})")
                break
            if rec[56:88] != prev_hash:
                failures.append(f"{where}: previous-hash link broken")
                break
            if hashlib.sha256(rec[:-32]).digest() != rec[-32:]:
                failures.append(f"{where}: hash does not match the bytes")
                break
            if last_recorded is not None and recd < last_recorded:
                failures.append(f"{where}: recorded-at decreases")
            last_recorded = recd
            prev_hash = rec[-32:]
            stream = rec[96:96 + slen]
            stream.decode("utf-8")  # raises on invalid UTF-8
            versions[stream] = versions.get(stream, 0) + 1
            if version != versions[stream]:
                failures.append(f"{where}: stream {stream!r} version {version}, expected {versions[stream]}")
            if txn.get(rec[40:56], db=ids) != key:
                failures.append(f"{where}: event_ids index disagrees")
            if txn.get(stream + b"\x00" + struct.pack(">Q", version), db=streams) != key:
                failures.append(f"{where}: streams index disagrees")
            types[code] = types.get(code, 0) + 1
        for stream, version in versions.items():
            stored = txn.get(stream, db=heads)
            if stored is None or struct.unpack(">Q", stored)[0] != version:
                failures.append(f"stream_heads of {stream!r} disagrees with the log ({version})")
        if txn.stat(ids)["entries"] != checked or txn.stat(streams)["entries"] != checked:
            failures.append("index sizes differ from the number of events")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    print(f"independent reader: {checked} events, {len(versions)} streams, {len(types)} event types, "
          f"head {prev_hash.hex()[:16]}…: {'OK' if not failures else 'FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
