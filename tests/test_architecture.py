"""Rules of the house that a reader relies on: no import cycles, a modality-free core,
small modules."""

import ast
import collections
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "anytime_audio"
MAX_LINES = 420  # "about 400": a module past this does more than one thing


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = path
    return mods


def _import_graph() -> dict[str, set[str]]:
    """Module -> package modules it imports, lazy (function-level) imports included."""
    mods = _modules()
    graph = collections.defaultdict(set)
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                targets = [module] + [f"{module}.{a.name}" for a in node.names]
            else:
                continue
            graph[name].update(t for t in targets if t in mods and t != name)
    return graph


def test_the_import_graph_has_no_cycle():
    graph = _import_graph()
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(node, stack):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for module in sorted(_modules()):
        if module not in state:
            visit(module, [module])


def test_core_imports_no_modality():
    graph = _import_graph()
    bad = [(a, b) for a, deps in graph.items() for b in deps
           if a.startswith("anytime_audio.core") and b.startswith(("anytime_audio.audio", "anytime_audio.image"))]
    assert not bad, bad


def test_no_module_is_too_long():
    long = {str(p.relative_to(PACKAGE.parent)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long
