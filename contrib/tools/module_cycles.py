#!/usr/bin/env python3
"""Module import graph among the child modules of one folder (default crates/weir/src, the
crate's top level; or e.g. crates/weir/src/expr), tests aside, and its cycles: an edge
a -> b when a file of child a refers to child b through `crate::...`, `super::...` or `self::...` paths (grouped `use` braces included). A
child using its parent (names defined or re-exported in DIR/mod.rs) is not an edge; the
siblings must form a DAG, and any cycle is printed. Exits 1 when there is a cycle.
(`--children DIR` is the same as `DIR`.)

`module_cycles.py --all SRC` checks every folder of a crate's src/ that way (SRC itself
included, so the top level too) and prints each folder's cycles; exits 1 if any folder has
one. This is the check issue 12 asks for: no cycle apart from a parent and its children."""
import os, re, sys


def strip_tests_and_comments(src):
    src = re.split(r'\n#\[cfg\(test\)\]\nmod tests', src)[0]
    return re.sub(r'//.*', '', src)


def children_graph(folder):
    """Edges among the child modules of `folder` (a module directory with a mod.rs)."""
    folder = os.path.normpath(folder)
    # The crate root is the nearest folder up with a lib.rs or main.rs; DIR's module path
    # inside the crate follows from it.
    src = folder
    while not any(os.path.exists(os.path.join(src, f)) for f in ('lib.rs', 'main.rs')):
        parent = os.path.dirname(src)
        if parent == src:
            sys.exit(f'no lib.rs or main.rs above {folder}')
        src = parent
    prefix = [] if src == folder else os.path.relpath(folder, src).split(os.sep)
    children = set()
    files = []
    for dp, _, fs in os.walk(folder):
        for f in fs:
            if not f.endswith('.rs') or f == 'tests.rs':
                continue
            rel = os.path.relpath(os.path.join(dp, f), folder).split(os.sep)
            if rel == ['mod.rs'] or (prefix == [] and rel in (['lib.rs'], ['main.rs'])):
                continue  # the folder's own module, the parent of its children
            mod = rel[:-1] + ([] if rel[-1] == 'mod.rs' else [rel[-1][:-3]])
            children.add(mod[0])
            files.append((os.path.join(dp, f), mod))
    path_re = re.compile(r'\b(crate|super|self)((?:::\w+)*)(::\{)?')
    edges = {c: set() for c in children}
    for path, mod in files:
        text = strip_tests_and_comments(open(path).read())
        for m in path_re.finditer(text):
            head, tail, brace = m.group(1), m.group(2), m.group(3)
            segs = [s for s in tail.split('::') if s]
            names = [segs]
            if brace:
                # the top-level items of a `{...}` group, each a path of its own
                depth, i, start, items = 1, m.end(), m.end(), []
                while i < len(text) and depth:
                    c = text[i]
                    if c == '{':
                        depth += 1
                    elif c == '}':
                        depth -= 1
                    if (c == ',' and depth == 1) or depth == 0:
                        items.append(text[start:i])
                        start = i + 1
                    i += 1
                names = [segs + re.findall(r'\w+', it)[:1] for it in items if it.strip()]
            for segs in names:
                if head == 'crate':
                    if segs[:len(prefix)] != prefix:
                        continue
                    target = segs[len(prefix):]
                else:
                    base = list(mod)
                    ups = 1 if head == 'super' else 0
                    while segs and segs[0] == 'super':
                        ups += 1
                        segs = segs[1:]
                    if ups > len(base):
                        continue  # above the folder: not a sibling
                    target = base[:len(base) - ups] + segs
                if target and target[0] in children and target[0] != mod[0]:
                    edges[mod[0]].add(target[0])
    return edges


def cycles_of(edges):
    """The strongly connected components of more than one module (Tarjan)."""
    mods = sorted(set(edges) | {t for v in edges.values() for t in v})
    idx, low, st, on, comps, c = {}, {}, [], set(), [], [0]

    def sc(v):
        idx[v] = low[v] = c[0]
        c[0] += 1
        st.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in idx:
                sc(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = st.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            comps.append(comp)

    for v in mods:
        if v not in idx:
            sc(v)
    return [sorted(c) for c in comps if len(c) > 1]


if len(sys.argv) > 2 and sys.argv[1] == '--all':
    bad = 0
    for dp, _, fs in sorted(os.walk(sys.argv[2])):
        if not any(f.endswith('.rs') for f in fs):
            continue
        found = cycles_of(children_graph(dp))
        print(f"{dp}: {found or 'no cycle'}")
        bad += bool(found)
    sys.exit(1 if bad else 0)
args = [a for a in sys.argv[1:] if a != '--children']
edges = children_graph(args[0] if args else 'crates/weir/src')
cycles = cycles_of(edges)
for m in sorted(set(edges) | {t for v in edges.values() for t in v}):
    print(f"{m} -> {', '.join(sorted(edges.get(m, ())))}")
print("cycles:", cycles or "none")
sys.exit(1 if cycles else 0)
