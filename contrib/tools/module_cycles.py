#!/usr/bin/env python3
"""Module import graph of a crate's src/: which top-level module refers to which
(`crate::X` in code, tests aside), and the cycles among them."""
import os, re, sys, itertools
root = sys.argv[1] if len(sys.argv) > 1 else 'crates/weir/src'
def top(path):
    rel = os.path.relpath(path, root)
    part = rel.split(os.sep)[0]
    return part[:-3] if part.endswith('.rs') else part
edges = {}
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs') or f == 'tests.rs': continue
        p = os.path.join(dp, f)
        src = open(p).read()
        src = re.split(r'\n#\[cfg\(test\)\]\nmod tests', src)[0]
        src = re.sub(r'//.*', '', src)
        m = top(p)
        for t in re.findall(r'crate::([a-z_]+)', src):
            if t != m: edges.setdefault(m, set()).add(t)
mods = sorted(set(edges) | {t for v in edges.values() for t in v})
# strongly connected components (Tarjan)
idx = {}; low = {}; st = []; on = set(); comps = []; c = [0]
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges.get(v, ()):
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        comps.append(comp)
for v in mods:
    if v not in idx: sc(v)
cycles = [sorted(c) for c in comps if len(c) > 1]
for m in mods: print(f"{m} -> {', '.join(sorted(edges.get(m, ())))}")
print("cycles:", cycles or "none")
