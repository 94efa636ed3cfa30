#!/usr/bin/env python3
"""Compares `bpfcheck verify --table` output with a reference verdict TSV
(../shared/ebpf-samples/kernel-verdicts.tsv) and prints agreement figures and the disagreements.

usage: compare_verdicts.py OURS.tsv REFERENCE.tsv [--list]
"""
import sys, os, collections

def read_tsv(path):
    rows = []
    with open(path) as f:
        header = None
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            cols = line.rstrip('\n').split('\t')
            if header is None:
                header = cols
                continue
            rows.append(dict(zip(header, cols)))
    return rows

def norm(path):
    # make file paths relative to the samples folder
    p = path.replace('\\', '/')
    for marker in ('ebpf-samples/',):
        if marker in p:
            p = p.split(marker, 1)[1]
    return p

ours = {(norm(r['file']), r['section'], r['function']): r for r in read_tsv(sys.argv[1])}
ref = read_tsv(sys.argv[2])
listing = '--list' in sys.argv
c = collections.Counter()
dis = []
for r in ref:
    key = (r['file'], r['section'], r['function'])
    kv = r['kernel_verdict']
    if kv not in ('accepted', 'rejected'):
        continue
    c['judged'] += 1
    o = ours.get(key)
    if o is None:
        c['missing'] += 1
        dis.append(('missing', key, kv, '', ''))
        continue
    ov = o['verdict']
    if ov == kv:
        c['agree'] += 1
        c['agree_' + kv] += 1
    else:
        c[f'kernel_{kv}_ours_{ov}'] += 1
        dis.append((f'kernel {kv}, ours {ov}', key, kv, o.get('first_error', ''), r.get('error_line', '')))
print(f"judged by the kernel: {c['judged']}")
print(f"agree: {c['agree']} ({100.0*c['agree']/max(1,c['judged']):.1f}%)  [accepted {c['agree_accepted']}, rejected {c['agree_rejected']}]")
for k in sorted(c):
    if k.startswith('kernel_') or k == 'missing':
        print(f"{k}: {c[k]}")
if listing:
    dis.sort(key=lambda d: (0 if 'rejected, ours accepted' in d[0] else 1, d[1]))
    for why, key, kv, ours_err, k_err in dis:
        print(f"{why}\t{key[0]}\t{key[1]}\t{key[2]}\tours: {ours_err}\tkernel: {k_err}")
