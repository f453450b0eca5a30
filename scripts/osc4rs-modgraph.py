#!/usr/bin/env python3
"""Module dependency graph of osc4rs/src (code only, comments stripped); exits 1 on a
cycle, or if a driver module depends on runtime.rs. Run from the repository root:
`python3 scripts/osc4rs-modgraph.py`.

A depends on B if A names crate::B::..., crate::Item where lib.rs re-exports Item from B,
super::... (the parent module, or super::B:: a sibling), or a child module it declares."""
import os, re, sys
root = sys.argv[1] if len(sys.argv) > 1 else 'osc4rs/src'

def strip(src):
    src = re.sub(r'/\*.*?\*/', '', src, flags=re.S)
    return '\n'.join(re.sub(r'//.*', '', l) for l in src.splitlines())

mods = {}
for dp, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        rel = os.path.relpath(os.path.join(dp, f), root)[:-3].replace(os.sep, '::')
        if rel.endswith('::mod'): rel = rel[:-5]
        mods[rel] = strip(open(os.path.join(dp, f)).read())
lib = mods.pop('lib')
reexport = {}
for m, items in re.findall(r'pub use (\w+)::\{?([^;}]*)\}?;', lib):
    if m in mods:
        for it in items.split(','):
            reexport[it.strip().split(' as ')[-1]] = m

def split_top(s):
    out, depth, cur = [], 0, ''
    for ch in s:
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        if ch == ',' and depth == 0: out.append(cur); cur = ''
        else: cur += ch
    out.append(cur)
    return [x.strip() for x in out if x.strip()]

def first_segments(path):
    # path after crate:: / super::, maybe a {group}
    path = path.strip()
    if path.startswith('{'):
        return [p for x in split_top(path[1:path.rindex('}')]) for p in first_segments(x)]
    return [re.split(r'::|\s', path)[0]]

graph = {m: set() for m in mods}
for m, src in mods.items():
    parent = m.rsplit('::', 1)[0] if '::' in m else None
    # crate:: paths, including use groups
    for mt in re.finditer(r'\bcrate::(\{|\w+)', src):
        if mt.group(1) == '{':
            start = mt.end() - 1; depth = 0
            for i in range(start, len(src)):
                if src[i] == '{': depth += 1
                elif src[i] == '}':
                    depth -= 1
                    if depth == 0: break
            segs = first_segments(src[start:i + 1])
            # a segment that is a module whose next segment is a child module
            subs = re.findall(r'(\w+)::(\w+)', src[start:i + 1])
        else:
            segs = [mt.group(1)]
            tail = src[mt.end():mt.end() + 40]
            subs = []
            nxt = re.match(r'::(\w+)', tail)
            if nxt: subs = [(mt.group(1), nxt.group(1))]
        for s in segs:
            dep = s if s in mods else reexport.get(s)
            if dep and dep != m: graph[m].add(dep)
        for a, b in subs:
            if f'{a}::{b}' in mods and f'{a}::{b}' != m: graph[m].add(f'{a}::{b}')
    for mt in re.finditer(r'\bsuper::(\{[^;]*\}|\w+)', src):
        if parent is None: continue  # super:: inside a top-level file is a #[cfg(test)] child
        for s in first_segments(mt.group(1)):
            sib = f'{parent}::{s}'
            graph[m].add(sib if sib in mods else parent)
    for c in re.findall(r'^\s*(?:pub(?:\([^)]*\))?\s+)?mod (\w+);', src, flags=re.M):
        graph[m].add(f'{m}::{c}')
for m in sorted(graph):
    print(f'{m:22} -> {", ".join(sorted(graph[m])) or "-"}')
# cycles: strongly connected components
index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
def sc(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
sys.setrecursionlimit(10000)
for v in graph:
    if v not in index: sc(v)
allowed = lambda c: all(x == 'driver' or x.startswith('driver::') for x in c)
for c in sccs:
    print('CYCLE:', ' <-> '.join(sorted(c)), '(driver and its children: allowed by the brief)' if allowed(c) else '')
bad = [c for c in sccs if not allowed(c)]
for m in graph:
    if (m == 'driver' or m.startswith('driver::')) and 'runtime' in graph[m]:
        print('BAD: driver module depends on runtime:', m); bad.append(m)
sys.exit(1 if bad else 0)
