#!/usr/bin/env python3
"""Tampers with a referral store through Python's own LMDB binding (PyPI `lmdb`), none of the
project's code, for the reliability tests (Tests/ReferralReliabilityTests/TamperTests.swift).
Layout from docs/lmdb-layout.md and docs/storage-format.md. Run only on a store nothing else
has open.

usage: tamper_store.py STORE_DIR OPERATION ARGS...
  delete P          remove the record at position P (indexes untouched)
  delete-all P      remove P and its id and stream index entries, as a careful forger would
  truncate P        remove P and everything after it, indexes and stream heads fixed up:
                    a clean rollback that only an external head can reveal
  swap P Q          exchange the records at P and Q
  flip P I          xor byte I of the record at P with 0xFF
  repoint-id P Q    make the id index entry of P's event point to Q
"""
import struct
import sys

import lmdb


def be(n):
    return struct.pack(">Q", n)


def parse(rec):
    slen = struct.unpack_from("<H", rec, 6)[0]
    version = struct.unpack_from("<Q", rec, 16)[0]
    return rec[40:56], rec[96:96 + slen], version


def main(store, op, args):
    env = lmdb.open(store + "/log.mdb", subdir=False, lock=False, max_dbs=8, map_size=1 << 30)
    events = env.open_db(b"events", create=False)
    ids = env.open_db(b"event_ids", create=False)
    streams = env.open_db(b"streams", create=False)
    heads = env.open_db(b"stream_heads", create=False)
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
            txn.delete(stream + b"\x00" + be(version), db=streams)
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
                txn.delete(stream + b"\x00" + be(version), db=streams)
                last[stream] = min(last.get(stream, version), version)
                p += 1
            for stream, first_removed in last.items():
                if first_removed == 1:
                    txn.delete(stream, db=heads)
                else:
                    txn.put(stream, be(first_removed - 1), db=heads)
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
        else:
            raise SystemExit(f"unknown operation {op}\n{__doc__}")
    env.close()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2], [int(a) for a in sys.argv[3:]])
