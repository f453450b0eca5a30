#!/usr/bin/env python3
"""Module dependency graph of osc-codec/src: A -> B when A's code (comments and string
literals stripped) names crate::B..., super::B (from a child module), or an item lib.rs
re-exports from B. Prints the edges and any cycle; exits 1 on a cycle.

Usage: scripts/codec-modgraph.py [SRC_DIR]   (default: osc-codec/src)"""
import os, re, sys
src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', 'osc-codec', 'src')
files = {}
for root, _, names in os.walk(src):
    for n in names:
        if not n.endswith('.rs'): continue
        path = os.path.join(root, n)
        rel = os.path.relpath(path, src)[:-3].split(os.sep)
        if rel[-1] == 'mod': rel = rel[:-1]
        mod = '::'.join(rel) if rel != ['lib'] else 'lib'
        files[mod] = open(path).read()

def strip(s):
    s = re.sub(r'/\*.*?\*/', '', s, flags=re.S)
    s = re.sub(r'//[^\n]*', '', s)
    s = re.sub(r'"(\\.|[^"\\])*"', '""', s)
    return s

lib = strip(files['lib'])
reexport = {}
for m in re.finditer(r'pub use (\w+)::(\{[^}]*\}|\w+)\s*;', lib):
    mod, items = m.group(1), m.group(2)
    for it in re.findall(r'\w+', items):
        reexport[it] = mod
top = {m.split('::')[0] for m in files if m != 'lib'}

def trees(s, i):
    """Parse a use-tree list after 'crate::' at s[i:]; return first idents."""
    while i < len(s) and s[i].isspace(): i += 1
    if i < len(s) and s[i] == '{':
        depth, j, start, out = 0, i, i + 1, []
        while j < len(s):
            if s[j] == '{': depth += 1
            elif s[j] == '}':
                depth -= 1
                if depth == 0: break
            j += 1
        inner = s[i + 1:j]
        # split top-level commas
        parts, d, cur = [], 0, ''
        for ch in inner:
            if ch == '{': d += 1
            if ch == '}': d -= 1
            if ch == ',' and d == 0: parts.append(cur); cur = ''
            else: cur += ch
        parts.append(cur)
        for p in parts:
            m = re.match(r'\s*(\w+)', p)
            if m: out.append(m.group(1))
        return out
    m = re.match(r'(\w+)', s[i:])
    return [m.group(1)] if m else []

edges = {}
for mod, text in files.items():
    if mod == 'lib': continue
    s = strip(text)
    deps = set()
    for m in re.finditer(r'\b(?:crate|\$crate)::', s):
        for ident in trees(s, m.end()):
            if ident in top: deps.add(ident)
            elif ident in reexport: deps.add(reexport[ident])
    parts = mod.split('::')
    if len(parts) > 1:  # super:: from a child module means the parent's items
        for m in re.finditer(r'\bsuper::', s):
            for ident in trees(s, m.end()):
                if ident == '*': continue
                sib = parts[0] + '::' + ident
                if sib in files: deps.add(sib)
    deps.discard(mod.split('::')[0]) if len(parts) > 1 else deps.discard(mod)
    deps.discard(mod)
    edges[mod] = sorted(deps)

for mod in sorted(edges):
    print(f'{mod:16} -> {", ".join(edges[mod])}')

# cycle detection (on top-level names too: child deps collapse onto the file node)
color, stack, cycles = {}, [], []
def dfs(u):
    color[u] = 1; stack.append(u)
    for v in edges.get(u, []):
        if v not in edges: continue
        if color.get(v) == 1:
            cycles.append(stack[stack.index(v):] + [v])
        elif not color.get(v):
            dfs(v)
    stack.pop(); color[u] = 2
for u in sorted(edges):
    if not color.get(u): dfs(u)
if cycles:
    for c in cycles: print('CYCLE:', ' -> '.join(c))
    sys.exit(1)
print('no cycle among', len(edges), 'modules')
