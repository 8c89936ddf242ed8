"""Dependencies point one way: core packages never import UI code (Rich, questionary, cli, wizard, monitor)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "llm_tool"
CORE = ("config", "data", "sessions", "training", "dispatch", "sweeps", "doctor")
FORBIDDEN = ("rich", "questionary", "prompt_toolkit", "llm_tool.ui", "llm_tool.cli", "llm_tool.wizard",
             "llm_tool.monitor", "llm_tool.sweeps_ui")
HEAVY = ("torch", "transformers", "datasets", "sklearn", "matplotlib")


def _sources(package: str) -> list[Path]:
    """The package's modules; a package that is gone is a failure, not a pass."""
    files = sorted((PACKAGE / package).rglob("*.py"))
    assert files, f"no package llm_tool.{package}"
    return files


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
    return found


def _module_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_core_never_imports_ui():
    offenders = []
    for package in CORE:
        for path in _sources(package):
            for name, line in _imports(path):
                if any(name == f or name.startswith(f + ".") for f in FORBIDDEN):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{line} imports {name}")
    assert not offenders, offenders


def test_light_modules_import_no_heavy_library_at_module_level():
    """cli, sessions, config, dispatch and ui load on every command: torch & co only inside functions."""
    offenders = []
    for package in ("cli", "sessions", "config", "dispatch", "ui", "monitor", "sweeps"):
        for path in _sources(package):
            for name in _module_level_imports(path):
                if name.split(".")[0] in HEAVY:
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not offenders, offenders


def test_every_package_says_its_job():
    inits = list(PACKAGE.rglob("__init__.py"))
    assert len(inits) > len(CORE)
    for init in inits:
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc, f"{init.relative_to(PACKAGE)} has no docstring"
