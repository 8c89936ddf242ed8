"""Dependencies point one way: presentation over core, the core in layers (imports go down, never up), no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "llm_tool"
# The core in layers, lowest first: a module imports its own layer and the layers below, never one above (a leaf
# that a lower layer needs moves down to where its users stand). Each core package and module is listed here once.
CORE_LAYERS = (
    ("errors",),
    # the floor: single modules every package may use
    ("paths", "untrusted", "atomic", "outputs", "model_folder", "python_argv", "process_end"),
    ("config",),
    ("data",),
    ("sessions",),  # the session store; liveness (Slurm queue reading included)
    ("catalog",),  # model names: resolution, loading, what works offline, the registry
    ("doctor",),
    ("results",),  # metrics and what a run leaves behind: predictions, thresholds, model card, report
    ("training",),  # the engine, inference, evaluation on another file
    ("dispatch",),
    ("sweeps",),
)
CORE = tuple(name for layer in CORE_LAYERS for name in layer if (PACKAGE / name).is_dir())
CORE_MODULES = tuple(name for layer in CORE_LAYERS for name in layer if name not in CORE)  # single-module core
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


# ----- the import graph: every import, module level or inside a function, absolute or relative ------------------
PRESENTATION = ("cli", "wizard", "monitor", "sweeps_ui", "ui", "api")  # api: the Python API, beside the CLI


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, importer: str, level: int, is_package: bool) -> str:
    """The absolute name of an import written in ``importer`` (relative imports included)."""
    if level == 0:
        return module
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _known(name: str, modules: set[str]) -> str | None:
    """The most specific llm_tool module an import name refers to."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node.module or "", name, node.level, is_package)
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for target in targets:
                found = _known(target, modules)
                if found and found != name:
                    graph[name].add(found)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
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
    return found


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert _cycles(import_graph()) == []


def test_the_graph_sees_lazy_and_relative_imports():
    graph = import_graph()
    assert "llm_tool.training.engine" in graph["llm_tool.dispatch.seam"]  # imported inside a function
    assert _resolve("schema", "llm_tool.sessions.store", 1, False) == "llm_tool.sessions.schema"
    assert _resolve("", "llm_tool.sessions", 2, True) == "llm_tool"


# ----- layers: every import of a core module goes down or sideways, never up ------------------------------------
def _layer(module: str) -> int | None:
    return next((i for i, names in enumerate(CORE_LAYERS) if _package(module) in names), None)


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a core module that goes to a higher layer than its own."""
    return sorted(f"{name} imports {target}" for name, targets in graph.items() for target in targets
                  if (own := _layer(name)) is not None and (other := _layer(target)) is not None and other > own)


def test_every_core_package_has_one_layer():
    listed = [name for names in CORE_LAYERS for name in names]
    assert len(listed) == len(set(listed))
    unplaced = {_package(m) for m in import_graph()} - set(listed) - set(PRESENTATION) - {"", "__main__"}
    assert unplaced == set(), f"place these in CORE_LAYERS (or PRESENTATION): {sorted(unplaced)}"


def test_the_layer_check_finds_an_upward_import():
    assert upward_imports({"llm_tool.sessions.store": {"llm_tool.dispatch.jobs", "llm_tool.config.schema"},
                           "llm_tool.dispatch.jobs": {"llm_tool.sessions.store"}}) == [
        "llm_tool.sessions.store imports llm_tool.dispatch.jobs"]


def test_core_imports_only_its_own_layer_and_lower():
    """Lazy imports count too: a function-level import up a layer is still a loop waiting to happen."""
    assert upward_imports(import_graph()) == []


def test_core_never_imports_presentation_even_lazily_or_relatively():
    offenders = [f"{name} imports {target}" for name, targets in import_graph().items()
                 if _package(name) in CORE + CORE_MODULES for target in targets if _package(target) in PRESENTATION]
    assert offenders == []


def test_the_wizard_never_imports_the_cli():
    offenders = [f"{name} imports {target}" for name, targets in import_graph().items()
                 if _package(name) == "wizard" for target in targets if _package(target) == "cli"]
    assert offenders == []


def test_cli_command_modules_never_import_each_other():
    offenders = [f"{name} imports {target}" for name, targets in import_graph().items()
                 if _package(name) == "cli" and name != "llm_tool.cli"
                 for target in targets if _package(target) == "cli"]
    assert offenders == []


def test_presentation_packages_share_only_ui_and_the_seam():
    """cli, wizard, monitor and sweeps_ui use ui/ and core; of each other only the entry points: the studio
    (`wizard.main_menu`), the dashboard and its job table (`monitor.dashboard`, `monitor.views`) and the sweep
    tables (`sweeps_ui.tables`)."""
    entry_points = {"llm_tool.wizard.main_menu", "llm_tool.monitor.dashboard", "llm_tool.monitor.views",
                    "llm_tool.sweeps_ui.tables"}
    offenders = []
    for name, targets in import_graph().items():
        source = _package(name)
        if source not in PRESENTATION or source == "ui":
            continue
        for target in targets:
            other = _package(target)
            if other in PRESENTATION and other not in (source, "ui") and target not in entry_points:
                offenders.append(f"{name} imports {target}")
    assert offenders == []


def test_the_python_api_uses_only_the_core_and_ui():
    """llm_tool.api is glue over the core (as the CLI is): of the presentation only ui (its verbose output)."""
    offenders = [f"{name} imports {target}" for name, targets in import_graph().items()
                 if _package(name) == "api" for target in targets if _package(target) in PRESENTATION
                 and _package(target) not in ("api", "ui")]
    assert offenders == []


def test_rich_and_questionary_only_in_presentation():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        if _package(name) in PRESENTATION:
            continue
        for imported, line in _imports(path):
            if imported.split(".")[0] in ("rich", "questionary", "prompt_toolkit"):
                offenders.append(f"{name}:{line} imports {imported}")
    assert offenders == []


def test_only_the_interaction_module_reads_input():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "input":
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []


# ----- one owner for the model folder's file names, the multi-label threshold and the exit codes ---------------
def _constants(path: Path) -> list[ast.Constant]:
    return [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Constant)]


def _model_folder_names() -> set[str]:
    from llm_tool import model_folder

    return {value for name, value in vars(model_folder).items() if name.endswith("_FILE") and isinstance(value, str)}


def test_model_folder_file_names_are_written_only_in_the_contract():
    owned = _model_folder_names()
    assert {"metrics.json", "label_mapping.json", "config.json", "README.md", "model.onnx"} <= owned
    offenders = [f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}"
                 for path in PACKAGE.rglob("*.py") if path.name != "model_folder.py" or path.parent != PACKAGE
                 for node in _constants(path) if isinstance(node.value, str) and node.value in owned]
    assert offenders == [], "use llm_tool.model_folder's constants instead of these literals"


# 0.5 that is not a decision threshold: a split's upper bound, a share of rows, a median, a poll interval
OTHER_HALVES = {"config/schema.py", "wizard/detect.py", "data/analysis.py", "sweeps/scheduler.py", "sweeps/curve.py"}


def test_the_multi_label_threshold_is_defined_once():
    offenders = [f"{path.relative_to(PACKAGE)}:{node.lineno}"
                 for path in PACKAGE.rglob("*.py")
                 if str(path.relative_to(PACKAGE)) not in OTHER_HALVES | {"model_folder.py"}
                 for node in _constants(path) if type(node.value) is float and node.value == 0.5]
    assert offenders == [], "use llm_tool.model_folder.DEFAULT_THRESHOLD"


def _literal_exit_codes(path: Path) -> list[int]:
    """Lines that return an exit code as a bare number, name EXIT_* after numbers, or write 130 at all."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        interrupted = isinstance(node, ast.Constant) and type(node.value) is int and node.value == 130
        bare_return = isinstance(node, ast.Return) and isinstance(node.value, ast.Constant) and \
            type(node.value.value) is int and node.value.value in (1, 2)
        named = isinstance(node, ast.Assign) and any(isinstance(t, (ast.Name, ast.Tuple)) and "EXIT_" in ast.unparse(t)
                                                     for t in node.targets)
        if interrupted or bare_return or (named and any(isinstance(c, ast.Constant) and type(c.value) is int
                                                        for c in ast.walk(node.value))):
            found.append(node.lineno)
    return found


def test_exit_codes_come_from_one_table():
    scanned = [p for package in ("cli", "dispatch", "ui", "training") for p in _sources(package)]
    offenders = [f"{path.relative_to(PACKAGE)}:{line}" for path in scanned for line in _literal_exit_codes(path)]
    assert offenders == [], "use llm_tool.errors.ExitCode"
    from llm_tool.errors import ExitCode, LlmToolError, UserError

    assert (LlmToolError.exit_code, UserError.exit_code) == (ExitCode.FAILED, ExitCode.USER_ERROR)
