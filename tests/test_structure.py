"""The package's shape: no import cycles (imports inside functions count), a Jupyter-free core, distinct names."""

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGES = {"ftlab": ROOT / "ftlab", "ftlab.widgets": ROOT / "widgets"}
JUPYTER = ("ipywidgets", "IPython", "ipykernel", "jupyter", "jupyterlab", "anywidget", "nbformat", "papermill",
           "plotly", "nbval")


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of ftlab and of the widgets (installed as ftlab.widgets)."""
    found = {}
    for package, folder in PACKAGES.items():
        for file in folder.rglob("*.py"):
            parts = list(file.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package] + parts)] = file
    return found


def imported_names(file: Path) -> set[str]:
    """Every module a file imports, wherever the import statement is (module level, function, TYPE_CHECKING)."""
    names = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {n for n in imported_names(file) if n in known and n != name} for name, file in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_counting_imports_inside_functions():
    graph = import_graph()
    assert len(graph) > 60  # the whole package was read
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_core_imports_no_jupyter_package_anywhere():
    offending = defaultdict(list)
    for name, file in modules().items():
        if name.startswith("ftlab.widgets"):
            continue
        for imported in imported_names(file):
            if imported.split(".")[0] in JUPYTER:
                offending[name].append(imported)
    assert dict(offending) == {}


def test_importing_the_core_and_cli_loads_no_jupyter_package():
    code = ("import sys, ftlab, ftlab.cli, ftlab.quickstart, ftlab.training.runner, ftlab.data.prepare, "
            "ftlab.models.strategy, ftlab.eval.evaluation\n"
            "from ftlab.training.methods import METHODS; from ftlab.data.formats import FORMATS\n"
            "from ftlab.eval.metrics import METRICS; from ftlab.training.stages import STAGES\n"
            "[len(r) for r in (METHODS, FORMATS, METRICS, STAGES)]\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {JUPYTER!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_no_two_modules_share_a_name_and_none_is_named_after_the_standard_library():
    by_stem = defaultdict(list)
    for name, file in modules().items():
        if file.name != "__init__.py":
            by_stem[file.stem].append(name)
    assert {stem: names for stem, names in by_stem.items() if len(names) > 1} == {}
    shadowing = sorted(name for name, file in modules().items()
                       if file.name != "__init__.py" and file.stem in sys.stdlib_module_names)
    assert shadowing == []
