#!/usr/bin/env python3
"""Tampers with a referral store through Python's own LMDB binding (PyPI `lmdb`), none of the
project's code, for the reliability tests (Tests/ReferralReliabilityTests/TamperTests.swift).
Layout from docs/lmdb-layout.md and docs/storage-format.md. Run only on a store nothing else
has open.

usage: tamper_store.py STORE_DIR OPERATION ARGS...
  delete P          remove the record at position P (indexes untouched)
  delete-all P      remove P and its id and stream index entries, as a careful forger would
  truncate P        remove P and everything after it, indexes fixed up:
                    a clean rollback that only an external head can reveal
  swap P Q          exchange the records at P and Q
  flip P I          xor byte I of the record at P with 0xFF
  repoint-id P Q    make the id index entry of P's event point to Q
  bump-hours        change the hours of the first daily hours rule row (the log untouched)
  reopen-case ID    mark case ID's rule row open (the log untouched)
  as-layout-5       put the store back to layout 5 (format 5, no close-lapse boundary), as a
                    layout-5 build left a store whose log no close-lapse rule would change
"""
import struct
import sys

import lmdb


def be(n):
    return struct.pack(">Q", n)


CHUNK = 64


def varints(positions):
    out, prev = bytearray(), 0
    for p in positions:
        v = p - prev
        prev = p
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
    return bytes(out)


def positions(value):
    out, pos, i = [], 0, 0
    while i < len(value):
        delta, shift = 0, 0
        while True:
            b = value[i]
            i += 1
            delta |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        pos += delta
        out.append(pos)
    return out


def drop_from_stream(txn, streams, stream, version):
    """Removes the stream index entry of `version` and every later one (chunks of 64)."""
    first = (version - 1) // CHUNK * CHUNK + 1
    cursor = txn.cursor(db=streams)
    prefix = stream + b"\x00"
    doomed = []
    if cursor.set_range(prefix + be(first)):
        for key, value in cursor:
            if not key.startswith(prefix) or len(key) != len(prefix) + 8:
                break
            doomed.append((bytes(key), bytes(value)))
    for key, value in doomed:
        start = struct.unpack(">Q", key[-8:])[0]
        txn.delete(key, db=streams)
        kept = positions(value)[:max(0, version - start)]
        if kept:
            txn.put(key, varints(kept), db=streams)


def remove_entry(txn, streams, stream, version):
    """Removes just the stream index entry of `version` from its chunk."""
    first = (version - 1) // CHUNK * CHUNK + 1
    key = stream + b"\x00" + be(first)
    kept = positions(bytes(txn.get(key, db=streams)))
    del kept[version - first]
    txn.delete(key, db=streams)
    if kept:
        txn.put(key, varints(kept), db=streams)


def parse(rec):
    slen = struct.unpack_from("<H", rec, 6)[0]
    version = struct.unpack_from("<Q", rec, 16)[0]
    return rec[40:56], rec[96:96 + slen], version


def main(store, op, args):
    env = lmdb.open(store + "/log.mdb", subdir=False, lock=False, max_dbs=8, map_size=1 << 30)
    events = env.open_db(b"events", create=False)
    ids = env.open_db(b"event_ids", create=False)
    streams = env.open_db(b"streams", create=False)
    rules = env.open_db(b"rules", create=False)
    meta = env.open_db(b"meta", create=False)
    with env.begin(write=True) as txn:
        def record(p):
            rec = txn.get(be(p), db=events)
            if rec is None:
                raise SystemExit(f"no record at position {p}")
            return bytes(rec)

        if op == "delete":
            txn.delete(be(args[0]), db=events)
        elif op == "delete-all":
            eid, stream, version = parse(record(args[0]))
            txn.delete(be(args[0]), db=events)
            txn.delete(eid, db=ids)
            remove_entry(txn, streams, stream, version)
        elif op == "truncate":
            p = args[0]
            last = {}
            while True:
                rec = txn.get(be(p), db=events)
                if rec is None:
                    break
                eid, stream, version = parse(bytes(rec))
                txn.delete(be(p), db=events)
                txn.delete(eid, db=ids)
                last[stream] = min(last.get(stream, version), version)
                p += 1
            for stream, first_removed in last.items():
                drop_from_stream(txn, streams, stream, first_removed)
        elif op == "swap":
            a, b = record(args[0]), record(args[1])
            txn.put(be(args[0]), b, db=events)
            txn.put(be(args[1]), a, db=events)
        elif op == "flip":
            rec = bytearray(record(args[0]))
            rec[args[1]] ^= 0xFF
            txn.put(be(args[0]), bytes(rec), db=events)
        elif op == "repoint-id":
            eid, _, _ = parse(record(args[0]))
            txn.put(eid, be(args[1]), db=ids)
        elif op == "bump-hours":
            cursor = txn.cursor(db=rules)
            if not cursor.set_range(b"h\x00") or not cursor.key().startswith(b"h\x00"):
                raise SystemExit("no daily hours row")
            value = bytearray(cursor.value())
            value[-1] ^= 0x01
            txn.put(cursor.key(), bytes(value), db=rules)
        elif op == "reopen-case":
            key = b"case-" + str(args[0]).encode() + b"\x00"
            row = txn.get(key, db=streams)
            if row is None:
                raise SystemExit(f"no rule row for case {args[0]}")
            txn.put(key, b"\x01" + bytes(row)[1:], db=streams)
        elif op == "as-layout-5":
            txn.put(b"format", b"\x05", db=meta)
            txn.delete(b"rules-3-from", db=meta)
        else:
            raise SystemExit(f"unknown operation {op}\n{__doc__}")
    env.close()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2], [int(a) if a.isdigit() else a for a in sys.argv[3:]])
