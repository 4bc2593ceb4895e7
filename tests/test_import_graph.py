"""teer's modules import each other without circles, no two share a name, and no
public constant has two values under one name.

The graph is drawn from the source (``ast``), every ``import`` counted, also those
inside functions (a deferred import is still an arrow between the two modules).
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "teer"

#: circles not yet undone (issue 23); this list only shrinks
KNOWN_CYCLES: list[list[str]] = []
#: names every module of a kind declares for the same role: each format module's FORMAT,
#: each command's HELP
INTERFACE_NAMES = {"FORMAT", "HELP"}
#: constants that still mean different things in different modules (issue 23)
KNOWN_SHARED_CONSTANTS: set[str] = set()
#: (importer, module, name) of private names imported from another module, not yet undone
KNOWN_PRIVATE_IMPORTS: set[tuple[str, str, str]] = set()


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of teer (a package is its ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the teer modules it imports."""
    found = modules()

    def module_of(name: str) -> str | None:
        # the longest prefix that is a module: `teer.io.FORMATS` is `teer.io`
        while name and name not in found:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets.update(module_of(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    origin = ".".join(base + ([node.module] if node.module else []))
                else:
                    origin = node.module or ""
                # `from . import matcher` imports the module teer.matcher; `from .segments
                # import InputError` the module teer.segments
                targets.update(module_of(f"{origin}.{alias.name}") for alias in node.names)
        targets.discard(None)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_graph_is_drawn_from_the_imports():
    graph = import_graph()
    assert "teer.engine" in graph["teer.pipeline"] and "teer.io" in graph["teer.inputs"]  # `from . import io`
    assert "teer.segments" in graph["teer.io.rttm"]  # `from ..segments import ...`
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circles():
    assert cycles(import_graph()) == KNOWN_CYCLES


def test_no_two_modules_share_a_name():
    by_name = defaultdict(list)
    for name, path in modules().items():
        if path.name != "__init__.py":
            by_name[path.name].append(name)
    assert {base: sorted(names) for base, names in by_name.items() if len(names) > 1} == {}


def test_the_lazily_loaded_names_are_found_where_the_packages_say():
    # `teer` and `teer.io` import their public names on first use, by module name
    # (strings the graph above does not see): each must still be there
    import teer
    import teer.io

    for package in (teer, teer.io):
        table = package._PUBLIC if package is teer else package._LAZY
        for name in table:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"


def test_no_public_constant_has_two_values():
    values = defaultdict(dict)
    for name, path in modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            # a constant given another module's value (`DEFAULT_PRESET = presets.DEFAULT_PRESET`)
            # is the same constant
            if isinstance(target, ast.Name) and target.id.isupper() and not target.id.startswith("_") \
                    and not isinstance(value, (ast.Name, ast.Attribute)):
                values[target.id][name] = ast.unparse(value)
    shared = {constant for constant, where in values.items()
              if len(set(where.values())) > 1 and constant not in INTERFACE_NAMES}
    assert shared == KNOWN_SHARED_CONSTANTS, {c: values[c] for c in shared ^ KNOWN_SHARED_CONSTANTS}


def test_no_module_imports_a_private_name_of_another():
    found = modules()
    private = set()
    for name, path in found.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                origin = ".".join(base + ([node.module] if node.module else []))
                private.update((name, origin, alias.name) for alias in node.names
                               if alias.name.startswith("_") and not alias.name.startswith("__"))
    assert private == KNOWN_PRIVATE_IMPORTS


def test_the_wording_of_warnings_imports_no_teer_module():
    # every module that finds something worth a warning may call teer.messages
    assert import_graph()["teer.messages"] == set()


def test_the_sweep_returns_counts_and_words_no_warning():
    # the engine's findings (files on one side only, self-overlaps, hedged seconds) are
    # counts; teer.messages words them, called by the API, never by the sweep
    graph = import_graph()
    sweep = [name for name in graph if name == "teer.engine" or name.startswith("teer.engine.")]
    assert len(sweep) > 1 and all("teer.messages" not in graph[name] for name in sweep)


def test_the_sweep_is_modules_of_a_few_hundred_lines():
    # one module per step of the sweep (teer/engine/__init__.py lists them), none over ~600 lines
    lines = {name: len(path.read_text(encoding="utf-8").splitlines())
             for name, path in modules().items() if name.startswith("teer.engine")}
    assert {"teer.engine.grid", "teer.engine.sides", "teer.engine.together", "teer.engine.matching"} <= set(lines)
    assert max(lines.values()) <= 600, lines
