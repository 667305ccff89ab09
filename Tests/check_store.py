#!/usr/bin/env python3
"""Independent reader of a referral store, written only from docs/storage-format.md and
docs/lmdb-layout.md, using Python's own LMDB binding (PyPI `lmdb`), none of the project's code.

Checks: positions gapless from 1; every record's length matches its header; the SHA-256 of
each record and the link to the previous record's hash; recorded-at never decreasing; stream
versions contiguous; the event_ids and streams indexes agree with the records (the streams
index in chunks of 64 versions, varint-packed positions, with each case's rule row beside
them under `stream id 0x00`; store layout format 6); each case row parses to its end (flags,
opening and closing days, parties, consents with their days, referrals with their day,
placements) and its parties are organisation numbers that the `rules` rows `n`/`N` map to
organisation ids and back; both rules boundaries in `meta` (`rules-2-from`, `rules-3-from`)
lie between 1 and the head + 1.

usage: check_store.py STORE_DIR
"""
import hashlib
import struct
import sys

import lmdb

CHUNK = 64
KNOWN_CODES = {1, 2, 3, 4, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 30, 31, 32, 40, 50, 51}


def read_varint(data, i):
    """An unsigned LEB128 varint at data[i]: its value and the index after it."""
    value, shift = 0, 0
    while True:
        if i >= len(data):
            raise ValueError("varint runs off the end")
        b = data[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def chunk_positions(value):
    """The positions of a streams chunk: LEB128 varints, the first absolute, then deltas."""
    out, pos, i = [], 0, 0
    while i < len(value):
        delta, i = read_varint(value, i)
        if out and delta == 0:
            raise ValueError("positions do not increase")
        pos += delta
        out.append(pos)
    return out


def read_day(data, i):
    """A day: Int32 little-endian days since 1970-01-01."""
    if i + 4 > len(data):
        raise ValueError("a day runs off the end")
    return struct.unpack_from("<i", data, i)[0], i + 4


def read_string(data, i):
    n, i = read_varint(data, i)
    if i + n > len(data):
        raise ValueError("a string runs off the end")
    data[i:i + n].decode("utf-8")
    return data[i:i + n], i + n


def parse_case_row(value):
    """A layout-5 case row: flags byte (bit 0 open, 1 first contact held, 2-5 outcomes 1, 3,
    6, 12 months since the last close), opening day, last closing day, the table of parties
    (varint count, varint organisation numbers), consents (id, flags: bit 0 lapsed, bit 1
    valid-until follows; party indexes, purpose bytes, [valid-until], given-on, [lapsed-on]),
    referrals (id, answered byte, made-on), placements (id, start, ended byte). Returns the
    parties' numbers; raises ValueError if the row is malformed."""
    if not value:
        raise ValueError("empty")
    flags = value[0]
    if flags & ~0x3F:
        raise ValueError(f"unknown flag bits {flags:#x}")
    _, i = read_day(value, 1)
    _, i = read_day(value, i)
    count, i = read_varint(value, i)
    table = []
    for _ in range(count):
        n, i = read_varint(value, i)
        table.append(n)
    consents, i = read_varint(value, i)
    for _ in range(consents):
        _, i = read_string(value, i)
        if i >= len(value):
            raise ValueError("a consent ends after its id")
        cflags = value[i]
        i += 1
        if cflags & ~3:
            raise ValueError(f"unknown consent flag bits {cflags:#x}")
        parties, i = read_varint(value, i)
        for _ in range(parties):
            k, i = read_varint(value, i)
            if k >= len(table):
                raise ValueError(f"a consent names party {k} of {len(table)}")
        purposes, i = read_varint(value, i)
        i += purposes
        if cflags & 2:
            _, i = read_day(value, i)
        _, i = read_day(value, i)
        if cflags & 1:
            _, i = read_day(value, i)
    referrals, i = read_varint(value, i)
    for _ in range(referrals):
        _, i = read_string(value, i)
        if i >= len(value) or value[i] > 1:
            raise ValueError("a referral's answered byte is missing or not 0/1")
        _, i = read_day(value, i + 1)
    placements, i = read_varint(value, i)
    for _ in range(placements):
        _, i = read_string(value, i)
        _, i = read_day(value, i)
        if i >= len(value) or value[i] > 1:
            raise ValueError("a placement's ended byte is missing or not 0/1")
        i += 1
    if i != len(value):
        raise ValueError(f"{len(value) - i} bytes after the placements")
    return table


def main(store):
    env = lmdb.open(store + "/log.mdb", subdir=False, readonly=True, lock=False, max_dbs=8)
    events = env.open_db(b"events", create=False)
    ids = env.open_db(b"event_ids", create=False)
    streams = env.open_db(b"streams", create=False)
    meta = env.open_db(b"meta", create=False)
    rules = env.open_db(b"rules", create=False)
    failures = []
    checked = 0
    with env.begin() as txn:
        layout = txn.get(b"format", db=meta)
        if layout != b"\x06":
            print(f"FAIL: store layout format {layout!r}; this reader knows format 6", file=sys.stderr)
            return 1
        boundaries = {}
        for name in (b"rules-2-from", b"rules-3-from"):
            boundary = txn.get(name, db=meta)
            if boundary is None or len(boundary) != 8:
                print(f"FAIL: the rules boundary {name.decode()} in meta is {boundary!r}, not 8 bytes", file=sys.stderr)
                return 1
            boundaries[name.decode()] = struct.unpack(">Q", boundary)[0]
        chunks = {}

        def slot(stream, version):
            first = (version - 1) // CHUNK * CHUNK + 1
            key = stream + b"\x00" + struct.pack(">Q", first)
            if key not in chunks:
                raw = txn.get(key, db=streams)
                try:
                    chunks[key] = None if raw is None else chunk_positions(bytes(raw))
                except ValueError:
                    chunks[key] = None
            got = chunks[key]
            i = version - first
            return got[i] if got is not None and i < len(got) else None

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
            if slot(stream, version) != pos:
                failures.append(f"{where}: streams index disagrees")
            types[code] = types.get(code, 0) + 1
        # Organisation numbers: `n` 0x00 id -> BE u32, `N` 0x00 BE u32 -> id, inverse of each
        # other, numbered 1, 2, 3 … without gaps.
        by_number, by_id = {}, {}
        for key, value in txn.cursor(db=rules):
            if key[:2] == b"N\x00" and len(key) == 6:
                by_number[struct.unpack(">I", key[2:])[0]] = bytes(value)
            elif key[:2] == b"n\x00":
                by_id[bytes(key[2:])] = struct.unpack(">I", value)[0] if len(value) == 4 else None
        if sorted(by_number) != list(range(1, len(by_number) + 1)):
            failures.append(f"organisation numbers are not 1…{len(by_number)}")
        if {i: n for n, i in by_number.items()} != by_id:
            failures.append("the organisation number rows n and N do not map to each other")

        indexed = 0
        case_rows = 0
        for key, value in txn.cursor(db=streams):
            if key[-1:] == b"\x00":
                # A case's rule row (a chunk key ends in its first version, 64k + 1, never 0).
                stream = bytes(key[:-1])
                if not stream.startswith(b"case-") or stream not in versions:
                    failures.append(f"a rule row for {stream!r}, which is not a case in the log")
                try:
                    unknown = [n for n in parse_case_row(bytes(value)) if n not in by_number]
                except ValueError as e:
                    failures.append(f"the rule row of {stream!r} is malformed: {e}")
                    unknown = []
                if unknown:
                    failures.append(f"the rule row of {stream!r} names organisation numbers {unknown}, which no organisation has")
                case_rows += 1
                continue
            first = struct.unpack(">Q", key[-8:])[0]
            try:
                n = len(chunk_positions(bytes(value)))
            except ValueError:
                n = 0
            if key[-9] != 0 or (first - 1) % CHUNK != 0 or not 1 <= n <= CHUNK:
                failures.append(f"malformed streams entry {bytes(key)!r}")
            stream = bytes(key[:-9])
            if first + n - 1 > versions.get(stream, 0):
                failures.append(f"streams index of {stream!r} goes past the log's version {versions.get(stream, 0)}")
            indexed += n
        if txn.stat(ids)["entries"] != checked or indexed != checked:
            failures.append("index sizes differ from the number of events")
        for name, at in boundaries.items():
            if not 1 <= at <= checked + 1:
                failures.append(f"the rules boundary {name} {at} is not between 1 and the head + 1 ({checked + 1})")
    for f in failures:
        print("FAIL:", f, file=sys.stderr)
    print(f"independent reader: {checked} events, {len(versions)} streams, {len(types)} event types, {case_rows} case rows, {len(by_number)} numbered organisations, rules boundaries {boundaries['rules-2-from']} and {boundaries['rules-3-from']}, "
          f"head {prev_hash.hex()[:16]}…: {'OK' if not failures else 'FAILED'}")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
