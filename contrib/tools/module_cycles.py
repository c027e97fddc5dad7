#!/usr/bin/env python3
"""Module import graph of a crate's src/: which top-level module refers to which
(`crate::X` in code, tests aside), and the cycles among them.

Usage: module_cycles.py [src]                  the top-level modules of src (default crates/weir/src)
       module_cycles.py [src] --children DIR   the child modules of the folder DIR (e.g.
                                               crates/weir/src/engine): which child refers to which
                                               sibling (`super::X`, `crate::...::X`, resolved from
                                               each file's own module path); a child's use of its
                                               parent is not an edge. Exits 1 when there is a cycle."""
import os, re, sys

def strip(src):
    src = re.split(r'\n#\[cfg\(test\)\]\nmod tests', src)[0]
    return re.sub(r'//.*', '', src)

def sccs(edges):
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
    return mods, [sorted(c) for c in comps if len(c) > 1]

def module_path(root, path):
    """The module path of a file under root: src/engine/gate/head.rs -> [engine, gate, head]."""
    parts = os.path.relpath(path, root).split(os.sep)
    parts[-1] = parts[-1][:-3]
    if parts[-1] in ('mod', 'lib', 'main'):
        parts.pop()
    return parts

def paths_in(src):
    """Every path a file names from `crate::`, `super::` or `self::`, with `use` groups
    (`use super::{a::X, b}`) opened one level or more."""
    out = []
    for m in re.finditer(r'\b((?:crate|super|self)(?:::(?:super|self))*)::', src):
        head = m.group(1).split('::')
        rest = src[m.end():]
        more = re.match(r'(?:[A-Za-z_][A-Za-z0-9_]*::)*', rest).group(0)
        head = head + more.split('::')[:-1]
        rest = rest[len(more):]
        if rest.startswith('{'):
            depth, j = 0, 0
            for j, ch in enumerate(rest):
                depth += (ch == '{') - (ch == '}')
                if depth == 0: break
            inner = rest[1:j]
            depth, item, items = 0, '', []
            for ch in inner:
                if ch == ',' and depth == 0:
                    items.append(item); item = ''
                    continue
                depth += (ch == '{') - (ch == '}')
                item += ch
            items.append(item)
            for it in items:
                name = re.match(r'\s*([A-Za-z_][A-Za-z0-9_]*)', it)
                if name: out.append(head + [name.group(1)])
        else:
            name = re.match(r'([A-Za-z_][A-Za-z0-9_]*)', rest)
            if name: out.append(head + [name.group(1)])
    return out

def children_graph(root, folder):
    base = module_path(root, os.path.join(folder, 'mod.rs'))
    kids = set()
    for e in os.listdir(folder):
        p = os.path.join(folder, e)
        if e.endswith('.rs') and e not in ('mod.rs', 'tests.rs'): kids.add(e[:-3])
        elif os.path.isdir(p): kids.add(e)
    edges = {k: set() for k in kids}
    for dp, _, fs in os.walk(folder):
        for f in fs:
            if not f.endswith('.rs') or f == 'tests.rs': continue
            p = os.path.join(dp, f)
            here = module_path(root, p)
            if here == base: continue  # the parent itself
            me = here[len(base)]
            # a file's `super` is its parent module: for a mod.rs or a leaf file alike, the
            # module path without its last part
            for path in paths_in(strip(open(p).read())):
                cur = list(here)
                if path[0] == 'crate': cur = []; path = path[1:]
                while path and path[0] in ('super', 'self'):
                    if path[0] == 'super': cur = cur[:-1]
                    path = path[1:]
                full = cur + path
                if full[:len(base)] == base and len(full) > len(base):
                    t = full[len(base)]
                    if t in kids and t != me: edges[me].add(t)
    return edges

def top_graph(root):
    def top(path):
        part = os.path.relpath(path, root).split(os.sep)[0]
        return part[:-3] if part.endswith('.rs') else part
    edges = {}
    for dp, _, fs in os.walk(root):
        for f in fs:
            if not f.endswith('.rs') or f == 'tests.rs': continue
            p = os.path.join(dp, f)
            src = strip(open(p).read())
            m = top(p)
            for t in re.findall(r'crate::([a-z_]+)', src):
                if t != m: edges.setdefault(m, set()).add(t)
    return edges

args = sys.argv[1:]
folder = None
if '--children' in args:
    i = args.index('--children')
    folder = args[i + 1].rstrip('/')
    del args[i:i + 2]
root = args[0] if args else 'crates/weir/src'
edges = children_graph(root, folder) if folder else top_graph(root)
mods, cycles = sccs(edges)
for m in mods: print(f"{m} -> {', '.join(sorted(edges.get(m, ())))}")
print("cycles:", cycles or "none")
if folder and cycles: sys.exit(1)
