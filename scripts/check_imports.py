#!/usr/bin/env python
"""Check the house import rules of ``src/deepearth`` (docs/DESIGN.md, "Rules of the house").

1. No import circles between modules, counting every import: module level and inside functions
   (a late import inside a function hides a circle, it does not remove it). Imports under
   ``if TYPE_CHECKING:`` never run and are not counted.
2. No import circles between the top-level packages (``deepearth.properties`` ↔ ``deepearth.md`` ...).
3. No private name (``_x``) imported from another module (``from a.b import _helper``).

An edge goes to the most specific module an import names: ``from deepearth.geophysics import earth``
is an edge to ``deepearth.geophysics.earth``; ``from deepearth.properties import viscosity`` to the
package ``deepearth.properties`` (its ``__init__``). Parent packages that Python initialises on the way
are not counted (every module would otherwise sit in a circle with its package's ``__init__``).

    python scripts/check_imports.py [SRC_DIR]      # exit status 1 when a rule is broken

Only the standard library is used, so it runs in CI before anything is installed.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT_PACKAGE = "deepearth"


def module_names(src: Path) -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` under ``src/deepearth``."""
    out = {}
    for path in sorted((src / ROOT_PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Import nodes of ``tree``, skipping ``if TYPE_CHECKING:`` bodies (their ``else`` still runs)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """Absolute name of the module a ``from ... import`` reads from."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is one of our modules."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        cand = ".".join(parts[:k])
        if cand in modules:
            return cand
    return None


def import_graph(src: Path):
    """(edges {module: {target: [line, ...]}}, private imports [(module, line, source, name)])."""
    modules = module_names(src)
    edges: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    private = []
    for mod, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_pkg = path.name == "__init__.py"
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    tgt = _target(alias.name, modules)
                    if tgt and tgt != mod:
                        edges[mod][tgt].append(node.lineno)
                continue
            source = _resolve(mod, is_pkg, node)
            if not (source == ROOT_PACKAGE or source.startswith(ROOT_PACKAGE + ".")):
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                tgt = sub if sub in modules else _target(source, modules)
                if tgt and tgt != mod:
                    edges[mod][tgt].append(node.lineno)
                if alias.name.startswith("_") and not alias.name.startswith("__") and sub not in modules:
                    private.append((mod, node.lineno, source, alias.name))
    return modules, edges, private


def strongly_connected(nodes, succ) -> list[list[str]]:
    """Tarjan's algorithm (iterative); components with more than one node, each sorted."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(succ.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(succ.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def one_cycle(component: list[str], succ) -> list[str]:
    """A shortest cycle through the first node of a strongly connected component (BFS)."""
    start, members = component[0], set(component)
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(succ.get(v, ())):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return path[::-1] + [start]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return component


def package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    src = Path(argv[0]) if argv else Path(__file__).resolve().parents[1] / "src"
    modules, edges, private = import_graph(src)
    problems = 0

    def where(a, b):
        return f"{modules[a].relative_to(src)}:{','.join(map(str, sorted(set(edges[a][b]))))}"

    cycles = strongly_connected(modules, edges)
    print(f"modules: {len(modules)}, import edges: {sum(len(t) for t in edges.values())}")
    print(f"module-level circles: {len(cycles)}")
    for comp in cycles:
        problems += 1
        cyc = one_cycle(comp, edges)
        print(f"  circle of {len(comp)} modules: {', '.join(comp)}")
        for a, b in zip(cyc, cyc[1:]):
            print(f"    {a} -> {b}  ({where(a, b)})")

    pkg_edges: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for a, targets in edges.items():
        for b in targets:
            pa, pb = package_of(a), package_of(b)
            if pa != pb and pb != ROOT_PACKAGE and pa != ROOT_PACKAGE:
                pkg_edges[pa][pb].append((a, b))
    pkg_cycles = strongly_connected({package_of(m) for m in modules}, pkg_edges)
    print(f"package-level circles: {len(pkg_cycles)}")
    for comp in pkg_cycles:
        problems += 1
        cyc = one_cycle(comp, pkg_edges)
        print(f"  circle of {len(comp)} packages: {', '.join(comp)}")
        for a, b in zip(cyc, cyc[1:]):
            print(f"    {a} -> {b}:  " + "; ".join(f"{x} -> {y} ({where(x, y)})" for x, y in pkg_edges[a][b][:3])
                  + (f"; ... {len(pkg_edges[a][b]) - 3} more" if len(pkg_edges[a][b]) > 3 else ""))

    print(f"private names imported from another module: {len(private)}")
    for mod, line, source, name in sorted(private):
        problems += 1
        print(f"  {modules[mod].relative_to(src)}:{line}: from {source} import {name}")
    print("OK" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
