"""The package's import graph has no circles: none between files, none between folders (TYPE_CHECKING aside)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "typed_inference"
ROOT = "typed_inference"
MAX_LINES = 500
# Deprecated aliases kept for one release: each imports its new home back, on purpose, until it is removed.
DEPRECATED_ALIASES = {"typed_inference.server.ray_serve": "moved to typed_inference.ray.serve (issue 33)"}


def _module(path: Path) -> str:
    parts = [ROOT, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(source: str, name: str, package: str, modules: set[str]) -> set[str]:
    """The package's modules that module `name` (in `package`) imports, at its top or inside functions (not under
    `if TYPE_CHECKING:`)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return {module for module in found if module in modules and module != name}


def _graph() -> dict[str, set[str]]:
    files = {_module(path): path for path in PACKAGE.rglob("*.py") if _module(path) not in DEPRECATED_ALIASES}
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = _imports(path.read_text(encoding="utf-8"), name, package, set(files))
    return graph


def _folder(module: str, packages: set[str]) -> str | None:
    """The sub-package (folder) a module lives in; None for the package's own top-level files."""
    parent = module if module in packages else module.rpartition(".")[0]
    return None if parent == ROOT else parent


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of the graph, as its nodes in import order, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := walk(target)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := walk(node)) is not None:
            return found
    return None


def test_no_circle_between_files() -> None:
    graph = _graph()
    # a package's __init__ importing its own modules is how packages re-export; a module importing its package's
    # __init__ back is the circle that matters, so edges into an __init__ from inside that package stay counted
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_no_circle_between_folders() -> None:
    graph = _graph()
    packages = {name for name, _ in graph.items() if (PACKAGE / Path(*name.split(".")[1:]) / "__init__.py").exists()}
    folders: dict[str, set[str]] = {}
    for source, targets in graph.items():
        here = _folder(source, packages)
        if here is None:
            continue
        for target in targets:
            there = _folder(target, packages)
            if (
                there is not None
                and there != here
                and not there.startswith(here + ".")
                and not here.startswith(there + ".")
            ):
                folders.setdefault(here, set()).add(there)
    assert _cycle(folders) is None, " -> ".join(_cycle(folders) or [])


def test_the_checker_sees_imports_inside_functions_and_skips_type_checking() -> None:
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import typed_inference.a\n"
        "def f():\n    from typed_inference import b\n    from . import c\n"
    )
    modules = {"typed_inference.a", "typed_inference.b", "typed_inference.c"}
    assert _imports(source, "typed_inference.d", "typed_inference", modules) == {
        "typed_inference.b",
        "typed_inference.c",
    }
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def _hand_written() -> list[Path]:
    """The package's modules written by hand (not codegen's `_generated/` and `types/`)."""
    skip = {"_generated", "types"}
    return sorted(path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] not in skip)


@pytest.mark.parametrize("path", _hand_written(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_hand_written_module_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, (
        f"{path.relative_to(PACKAGE)} has {lines} lines (at most {MAX_LINES}: split it by concern)"
    )
