#!/usr/bin/env python3
"""How many `streams` leaves a 1,000-event batch would touch with rows in another order.

A what-if for the store layout, not a check: it packs the `streams` rows of a store into
leaves (a fixed fill, like LMDB after random inserts) once in key order, as stored, and
once ordered by each stream's first position (when it was opened), then counts the
distinct leaves the streams of the next events would touch, a batch at a time. Reads the
stores with the `lmdb` package, none of the project's code (BENCHMARKS.md, "Appending to
a large log").

    python3 scripts/leaf_order.py PREFIX_STORE FULL_STORE [FIRST] [BATCHES]

PREFIX_STORE holds the log's first events (the bench's `prefix-1000000-of-…`), FULL_STORE
the whole log, whose chunks say which stream each later position belongs to; FIRST is the
first position of the batches (default: the prefix's head + 1).
"""
import sys

import lmdb

FILL = 0.70
PAGE = 4096 - 16  # page header


def varints(data):
    values, i = [], 0
    while i < len(data):
        value = shift = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        values.append(value)
    return values


def streams_rows(path):
    env = lmdb.open(f"{path}/log.mdb", subdir=False, readonly=True, lock=False, max_dbs=10)
    with env.begin() as txn:
        return list(txn.cursor(env.open_db(b"streams", txn=txn, create=False)))


def stream_of(key):
    return key[:-1] if key.endswith(b"\0") else key[:-9]


def pack(rows):
    leaf_of, leaf, used = {}, 0, 0
    for key, value in rows:
        size = len(key) + len(value) + 8 + 2  # node header, slot
        if used + size > PAGE * FILL:
            leaf, used = leaf + 1, 0
        used += size
        leaf_of.setdefault(stream_of(key), set()).add(leaf)
    return leaf_of, leaf + 1


def main():
    prefix, full = sys.argv[1], sys.argv[2]
    owner, first_position = {}, {}
    for key, value in streams_rows(full):
        if key.endswith(b"\0"):
            continue
        stream, position = stream_of(key), 0
        for index, step in enumerate(varints(value)):
            position = step if index == 0 else position + step
            owner[position] = stream
            first_position[stream] = min(first_position.get(stream, position), position)
    rows = streams_rows(prefix)
    if len(sys.argv) > 3:
        start = int(sys.argv[3])
    else:
        env = lmdb.open(f"{prefix}/log.mdb", subdir=False, readonly=True, lock=False, max_dbs=10)
        with env.begin() as txn:
            cursor = txn.cursor(env.open_db(b"events", txn=txn, create=False))
            start = int.from_bytes(cursor.key(), "big") + 1 if cursor.last() else 1
    batches = int(sys.argv[4]) if len(sys.argv) > 4 else 6
    by_key, leaves = pack(rows)
    by_creation, _ = pack(sorted(rows, key=lambda r: (first_position.get(stream_of(r[0]), 1 << 62), r[0])))
    cases = {stream_of(k) for k, _ in rows if k.endswith(b"\0")}
    print(f"{leaves} leaves at {FILL:.0%} fill; batches of 1,000 from position {start:,}")
    for batch in range(batches):
        lo = start + batch * 1000
        streams = {owner[p] for p in range(lo, lo + 1000) if p in owner}
        touched = lambda table: len(set().union(*(table.get(s, {-1}) for s in streams)))
        print(f"  {lo:,}: {len(streams)} streams ({len(streams & cases)} cases); "
              f"leaves in key order {touched(by_key)}, by first position {touched(by_creation)}")


if __name__ == "__main__":
    main()
