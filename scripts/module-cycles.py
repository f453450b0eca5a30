#!/usr/bin/env python3
"""Checks that the modules inside each crate of the workspace import each other
without a cycle.

A module A depends on module B when A's source (outside inline `#[cfg(test)]`
modules, which nothing imports) names an item through `crate::B...`,
`super::...` (the parent module, or a sibling through it), or `crate::Name` where
the crate root re-exports `Name` from B (`pub use b::Name`). Declaring a child module
(`mod pass;`) is not a dependency. Prints each crate's graph with `-v`; exits 1 and
prints the cycle when one is found.

    python3 scripts/module-cycles.py [-v] [CRATE_DIR...]
"""
import os
import re
import sys

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_files(src):
    """Maps module path (tuple) -> file path."""
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel == ["lib"] or rel == ["main"]:
                mods[()] = path
            elif rel[-1] == "mod":
                mods[tuple(rel[:-1])] = path
            else:
                mods[tuple(rel)] = path
    return mods


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = "\n".join(line.split("//")[0] for line in text.splitlines())
    return strip_test_modules(text)


def closing_brace(text, k):
    """The index of the `}` that closes the `{` at or after index `k`."""
    depth = 0
    while k < len(text):
        if text[k] == "{":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
        k += 1
    return k


def strip_test_modules(text):
    """Drops inline `#[cfg(test)] mod x { ... }` blocks: a test module is a child
    module that nothing imports, so it cannot close a cycle."""
    out = ""
    i = 0
    pat = re.compile(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*mod\s+%s\s*\{" % IDENT)
    while True:
        m = pat.search(text, i)
        if not m:
            return out + text[i:]
        out += text[i:m.start()]
        i = closing_brace(text, m.end() - 1) + 1


def split_top(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return [x.strip() for x in out if x.strip()]


def expand(prefix, rest):
    """`a::{b, c::d}` -> [a::b, a::c::d]."""
    rest = rest.strip()
    m = re.match(r"^((?:%s::)*)\{(.*)\}$" % IDENT, rest, flags=re.S)
    if m:
        head = prefix + [p for p in m.group(1).split("::") if p]
        paths = []
        for part in split_top(m.group(2)):
            paths += expand(head, part)
        return paths
    name = re.split(r"\s+as\s+", rest)[0]
    return [prefix + [p for p in name.split("::") if p]]


def references(text, kw):
    """Paths after `crate::` or `super::` (kw), braces expanded."""
    paths = []
    i = 0
    pat = re.compile(r"\b%s::" % kw)
    while True:
        m = pat.search(text, i)
        if not m:
            return paths
        j = m.end()
        if text[j:j + 1] == "{" or re.match(r"(?:%s::)+\{" % IDENT, text[j:]):
            k = closing_brace(text, j)
            paths += expand([], text[j:k + 1])
            i = k + 1
        else:
            pm = re.match(r"(?:%s)(?:::%s)*" % (IDENT, IDENT), text[j:])
            if pm:
                paths.append(pm.group(0).split("::"))
            i = j + 1


def reexports(mods, root_text):
    """Name re-exported at the crate root -> module path it comes from."""
    names = {}
    for m in re.finditer(r"pub\s+use\s+([^;]+);", root_text, flags=re.S):
        body = m.group(1).strip()
        for path in expand([], body):
            if not path or path[0] in ("crate", "self"):
                path = path[1:]
            mod = resolve(mods, path)
            if mod and mod != ():
                names[path[-1]] = mod
    return names


def resolve(mods, path):
    """The longest module prefix of `path` (a path from the crate root)."""
    best = None
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in mods:
            best = tuple(path[:n])
            break
    return best


def graph(crate_dir):
    src = os.path.join(crate_dir, "src")
    mods = module_files(src)
    texts = {m: strip_comments(open(p, encoding="utf-8").read()) for m, p in mods.items()}
    names = reexports(mods, texts.get((), ""))
    edges = {m: set() for m in mods}
    for mod, text in texts.items():
        if mod == ():
            continue
        for path in references(text, "crate"):
            target = resolve(mods, path)
            if target is None and path and path[0] in names:
                target = names[path[0]]
            if target is not None and target != mod and target[:len(mod)] != mod:
                edges[mod].add(target)
        parent = mod[:-1]
        for path in references(text, "super"):
            target = resolve(mods, list(parent) + path) or parent
            if target == ():
                target = names.get(path[0]) if path else None
            if target is not None and target != mod and target[:len(mod)] != mod:
                edges[mod].add(target)
    edges.pop((), None)
    return edges


def find_cycle(edges):
    state = {}
    stack = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def name(m):
    return "::".join(m) or "crate"


def main(argv):
    verbose = "-v" in argv
    crates = [a for a in argv if a != "-v"]
    if not crates:
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
        crates = sorted(
            os.path.join(root, d) for d in os.listdir(root)
            if os.path.isfile(os.path.join(root, d, "Cargo.toml"))
            and os.path.isdir(os.path.join(root, d, "src"))
        )
    failed = 0
    for crate in crates:
        edges = graph(crate)
        cycle = find_cycle(edges)
        label = os.path.basename(os.path.normpath(crate))
        if verbose:
            for m in sorted(edges):
                print(f"{label}: {name(m)} -> {', '.join(name(t) for t in sorted(edges[m]))}")
        if cycle:
            failed += 1
            print(f"{label}: module cycle: {' -> '.join(name(m) for m in cycle)}")
        else:
            print(f"{label}: {len(edges)} modules, no cycle")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
