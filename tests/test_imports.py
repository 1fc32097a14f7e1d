"""No import cycles between civicgen's modules, read from the source (the AST), not by importing.

Two graphs: the imports that run when a module is imported (module level, class bodies
included; `if TYPE_CHECKING:` blocks excluded, they never run), and those plus the
imports inside functions. A cycle in the first fails. A cycle that needs a function-level
import is how a cycle hides (the import is deferred so that it does not fail); each one
left is listed in DEFERRED with the reason it is still there, and any other fails.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "civicgen"

# Cycles through function-level imports that remain, each as its sorted set of modules
# (with the reason it is still there). Keep it as short as possible.
DEFERRED: dict[frozenset[str], str] = {
    frozenset({"civicgen.site.budget_explorer", "civicgen.site.enquiries"}): (
        "the explorer's node pages show the questions about their lines, and the questions "
        "are placed by the explorer's nodes; to go when the explorer takes its page sections "
        "from the profiles instead of calling the enquiries module"
    ),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of civicgen, by dotted name (a package by its own name); a compiled
    module (.pyx) is known by name, its imports are not read."""
    sources = sorted([*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.pyx")])
    return {module_name(path): path for path in sources}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(
    tree: ast.AST, deferred: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Each import statement that runs, and whether it runs only when a function is called."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, deferred
        elif isinstance(node, ast.If) and is_type_checking(node):
            for child in node.orelse:
                yield from imports(ast.Module(body=[child], type_ignores=[]), deferred)
        else:
            inner = deferred or isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            )
            yield from imports(node, inner)


def base_of(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module a `from ... import` names."""
    if not node.level:
        return node.module or ""
    parts = importer.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def targets(node: ast.Import | ast.ImportFrom, importer: str, known: dict[str, Path]) -> set[str]:
    """The civicgen modules an import statement runs (a submodule runs its packages first)."""
    if isinstance(node, ast.Import):
        named = {alias.name for alias in node.names}
    else:
        base = base_of(node, importer, known[importer].name == "__init__.py")
        named = {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
    found = set()
    for name in named:
        parts = name.split(".")
        for end in range(1, len(parts) + 1):
            module = ".".join(parts[:end])
            ancestor = importer == module or importer.startswith(module + ".")
            if module in known and (end == len(parts) or not ancestor):
                found.add(module)  # a package being imported already is not run again
    found.discard(importer)
    return found


def graphs() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(module-level edges, module- and function-level edges) between civicgen's modules."""
    known = modules()
    eager: dict[str, set[str]] = {name: set() for name in known}
    every: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        if path.suffix != ".py":
            continue
        for node, deferred in imports(ast.parse(path.read_text(encoding="utf-8"))):
            found = targets(node, name, known)
            every[name] |= found
            if not deferred:
                eager[name] |= found
    return eager, every


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def path_through(graph: dict[str, set[str]], component: list[str]) -> str:
    """One cycle inside a component, as `a -> b -> a`, to name it in a failure."""
    members, start = set(component), component[0]
    trail, node = [start], start
    while True:
        node = sorted(graph[node] & members)[0]
        if node in trail:
            return " -> ".join(trail[trail.index(node) :] + [node])
        trail.append(node)


def test_no_cycle_between_modules_at_import() -> None:
    eager, _ = graphs()
    found = [path_through(eager, component) for component in cycles(eager)]
    assert not found, "import cycles:\n" + "\n".join(found)


def test_no_cycle_hidden_in_a_function_level_import() -> None:
    _, every = graphs()
    found = [c for c in cycles(every) if frozenset(c) not in DEFERRED]
    named = [path_through(every, component) for component in found]
    assert not named, "cycles through function-level imports:\n" + "\n".join(named)


def test_the_deferred_cycles_listed_are_still_there() -> None:
    _, every = graphs()
    gone = set(DEFERRED) - {frozenset(c) for c in cycles(every)}
    assert not gone, f"fixed, remove from DEFERRED: {sorted(sorted(c) for c in gone)}"


def test_a_cycle_is_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert path_through(graph, ["a", "b", "c"]) == "a -> b -> c -> a"


def test_imports_resolve_relative_names_and_packages() -> None:
    known = modules()
    source = "from . import reference\nfrom .plan import TablePlan\nfrom .. import errors\n"
    node_list = [node for node, _ in imports(ast.parse(source))]
    found = set().union(*(targets(node, "civicgen.scan.engine", known) for node in node_list))
    assert found == {"civicgen.scan.reference", "civicgen.scan.plan", "civicgen.errors"}
    # civicgen is already being imported (a package of the importer): not an edge
    outside = targets(
        ast.parse("from .scan.plan import TablePlan").body[0], "civicgen.cache", known
    )
    assert outside == {"civicgen.scan", "civicgen.scan.plan"}  # the package runs first


def test_type_checking_imports_do_not_count_and_function_imports_are_deferred() -> None:
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\nelse:\n    import b\n"
        "def f():\n    import c\nclass K:\n    import d\n"
    )
    found = {
        (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name, deferred)
        for node, deferred in imports(ast.parse(source))
    }
    assert found == {("typing", False), ("b", False), ("c", True), ("d", False)}


def test_the_graph_is_read_from_the_package() -> None:
    eager, every = graphs()
    assert {"civicgen.scan", "civicgen.scan.plan"} <= eager["civicgen.cache"]
    assert "civicgen.scan.checkers" in eager["civicgen.scan.reference"]
    assert "civicgen.scan.reference" not in every["civicgen.scan.checkers"]
    assert "civicgen.site.pages" in every["civicgen.profiles"]  # inside the page hooks
    assert "civicgen.site.pages" not in eager["civicgen.profiles"]
