#!/usr/bin/env python3
"""Which of a store's LMDB trees the pages a commit wrote belong to.

Reads log.mdb's own format (LMDB 0.9: meta pages, the free and main trees, each named
database's tree), none of the project's code, and the page writes an strace of the commit
recorded. For profiling appends: a commit's cost on this machine follows the pages it
writes and flushes (BENCHMARKS.md, "Appending to a large log").

    strace -f -y -e trace=lseek,pwrite64,writev,fdatasync -o /tmp/commit.txt \\
        referral assign CASE --to LIAISON --store STORE
    python3 scripts/commit_pages.py STORE /tmp/commit.txt

Run it right after the commit: a page written then and freed by a later commit is counted
as "not in any tree now". The meta page (written through a second descriptor) is left out.
"""
import re
import struct
import sys
from collections import Counter

PAGE = 4096
P_BRANCH, P_LEAF, P_OVERFLOW = 0x01, 0x02, 0x04
F_BIGDATA, F_SUBDATA = 0x01, 0x02


def main(store, trace):
    f = open(store.rstrip('/') + '/log.mdb', 'rb')

    def page(n):
        f.seek(n * PAGE)
        return f.read(PAGE)

    def meta(n):
        p = page(n)
        dbs = [struct.unpack_from('<IHHQQQQQ', p, 16 + 24 + 48 * i) for i in range(2)]
        txnid = struct.unpack_from('<Q', p, 16 + 24 + 96 + 8)[0]
        return txnid, dbs

    _, (free, main_db) = max(meta(0), meta(1))
    owner = {}

    def walk(root, name, holds_databases=False):
        if root == 0xFFFFFFFFFFFFFFFF:  # an empty tree
            return
        stack, named = [root], []
        while stack:
            n = stack.pop()
            owner[n] = name
            p = page(n)
            _, _, flags, lower, _ = struct.unpack_from('<QHHHH', p, 0)
            if flags & P_OVERFLOW:
                for k in range(struct.unpack_from('<I', p, 12)[0]):
                    owner[n + k] = name + ' (overflow)'
                continue
            for i in range((lower - 16) // 2):
                off = struct.unpack_from('<H', p, 16 + 2 * i)[0]
                lo, hi, node_flags, key_size = struct.unpack_from('<HHHH', p, off)
                if flags & P_BRANCH:
                    stack.append(lo | (hi << 16) | (node_flags << 32))
                elif flags & P_LEAF:
                    data = off + 8 + key_size
                    if node_flags & F_BIGDATA:
                        stack.append(struct.unpack_from('<Q', p, data)[0])
                    if node_flags & F_SUBDATA and holds_databases:
                        key = p[off + 8:off + 8 + key_size].decode()
                        named.append((key, struct.unpack_from('<IHHQQQQQ', p, data)[7]))
        for key, database_root in named:
            walk(database_root, key)

    walk(free[7], 'free list')
    walk(main_db[7], 'main (the named databases)', holds_databases=True)

    pages, position = [], {}
    for line in open(trace):
        m = re.search(r'lseek\((\d+)<[^>]*/log\.mdb>, (\d+), SEEK_SET\)', line)
        if m:
            position[m.group(1)] = int(m.group(2))
            continue
        m = re.search(r'pwrite64\((\d+)<[^>]*/log\.mdb>, .*, (\d+), (\d+)\) = (\d+)$', line)
        if m and int(m.group(4)) >= PAGE:
            pages += [int(m.group(3)) // PAGE + k for k in range(int(m.group(4)) // PAGE)]
            continue
        m = re.search(r'writev\((\d+)<[^>]*/log\.mdb>, .*\) = (\d+)$', line)
        if m and m.group(1) in position:
            start = position.pop(m.group(1))
            pages += [start // PAGE + k for k in range(int(m.group(2)) // PAGE)]
    counts = Counter(owner.get(p, 'not in any tree now') for p in pages)
    print(f'{len(pages)} pages written:', ', '.join(f'{name} {n}' for name, n in counts.most_common()))


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
