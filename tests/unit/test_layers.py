"""The package's imports point one way: entry points down to schemas and errors, no circle.

Reads every module's imports (those inside functions too: a late import does not make an upward
one acceptable) and checks them against the layers the README's Layout section draws.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import pytest

import payroll_sync

PACKAGE_DIR: Final = Path(payroll_sync.__file__).parent

#: Top to bottom. A module may import its own package and anything in a lower layer, nothing in
#: its own layer's other packages and nothing above.
LAYERS: Final = (
    ("cli",),
    # The local stack (simulators, an in-process worker): only the CLI's demo and simulate
    # commands and the tests use it.
    ("demo",),
    ("stack",),
    ("intake", "dashboard"),
    # What the settings wizard shows and checks, shared by the intake's API and the dashboard's
    # pages; it shows the scheduler's coming slots.
    ("wizard",),
    ("scheduler",),
    # Alerts per integration: the scheduler process runs their loop, the dashboard shows them.
    ("alerts",),
    # The worker runs sync requests that arrive on the `requests` queue through the producer;
    # the producer sends tasks by actor name and never imports the worker.
    ("worker",),
    ("producer",),
    # The live catalog: the settings file's integrations or the registry's, kept current.
    ("catalog",),
    # Health checks (Redis, PostgreSQL) and /healthz, /readyz for every HTTP service.
    ("health",),
    ("runs", "connectors", "queue", "simulators", "registry"),
    ("config",),
    ("rules",),
    ("schemas",),
    ("errors", "assumptions", "logs"),
)
#: Packages nobody but these may import: they are not part of the service.
ASIDE: Final = {"simulators": {"cli", "demo", "stack"}, "stack": {"demo"}, "demo": {"cli"}}


def _layer_of(part: str) -> int:
    for index, layer in enumerate(LAYERS):
        if part in layer:
            return index
    raise AssertionError(f"payroll_sync.{part} is in no layer: add it to LAYERS")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at module level) for each payroll_sync import in `path`."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text(), str(path))
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            names = [".".join([*base, node.module] if node.module else base)]
        elif node.module:
            # `from payroll_sync.queue import broker` imports the module `queue.broker`.
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name.startswith("payroll_sync."):
                yield name, node.lineno, id(node) in top_level


def _part(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


def _modules() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def _known(module: str) -> str:
    """`module`, or its package when `module` is a name imported from it."""
    while module and not (
        (PACKAGE_DIR.parent / (module.replace(".", "/") + ".py")).exists()
        or (PACKAGE_DIR.parent / module.replace(".", "/") / "__init__.py").exists()
    ):
        module = module.rsplit(".", 1)[0]
    return module


def test_no_module_imports_upward_or_sideways() -> None:
    wrong: list[str] = []
    for path in _modules():
        importer = _part(_module_name(path))
        if not importer:
            continue
        for imported, line, _ in _imports(path):
            target = _part(_known(imported))
            if not target or target == importer:
                continue
            where = f"{path.relative_to(PACKAGE_DIR)}:{line} imports {imported}"
            if target in ASIDE and importer not in ASIDE[target]:
                wrong.append(f"{where}: {target} is kept aside")
            elif _layer_of(target) <= _layer_of(importer):
                wrong.append(f"{where}: not below {importer}")
    assert not wrong, "\n".join(wrong)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle in `graph`, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_circle() -> None:
    graph: dict[str, set[str]] = {}
    for path in _modules():
        importer = _module_name(path)
        targets = graph.setdefault(importer, set())
        for imported, _, _ in _imports(path):
            target = _known(imported)
            # A package's __init__ importing its own modules is how a package exports them.
            if target != importer and not importer.startswith(target + "."):
                targets.add(target)
    circle = _cycle(graph)
    assert circle is None, " -> ".join(circle or [])


@pytest.mark.parametrize(
    ("graph", "circle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
        ({"a": {"a"}}, ["a", "a"]),
    ],
)
def test_the_circle_finder_finds_circles(
    graph: dict[str, set[str]], circle: list[str] | None
) -> None:
    assert _cycle(graph) == circle


def _loaded_by(entry: str, *, aside: tuple[str, ...]) -> list[str]:
    """The modules of `aside` (top-level names, or payroll_sync's packages) importing `entry`
    loads, in a fresh interpreter."""
    code = (
        "import sys\n"
        "from payroll_sync.queue import broker\n"
        "broker.install_stub()\n"
        f"import {entry}\n"
        f"aside = {aside!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in aside"
        " or (m.startswith('payroll_sync.') and m.split('.')[1] in aside)))\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    loaded: list[str] = ast.literal_eval(answer.stdout)
    return loaded


@pytest.mark.parametrize("entry", ["payroll_sync.cli.main", "payroll_sync.worker.actors"])
def test_the_local_stack_stays_aside(entry: str) -> None:
    """Starting the worker or the CLI loads no simulator, no demo and no fakeredis."""
    assert _loaded_by(entry, aside=("fakeredis", "simulators", "stack", "demo")) == []


def test_the_demo_loads_fakeredis_only_to_run_without_redis() -> None:
    loaded = _loaded_by("payroll_sync.demo", aside=("fakeredis", "simulators"))
    assert loaded, "the demo uses the simulators"
    assert not [name for name in loaded if name.startswith("fakeredis")]
