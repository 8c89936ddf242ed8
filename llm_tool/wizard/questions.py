"""What the studio asks, as plain data: questions, choices, defaults and validators (no prompt library here)."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from llm_tool.config import ModelConfig
from llm_tool.config.fields import build, field_help
from llm_tool.data.formats import EXTENSIONS
from llm_tool.dispatch.tmux_server import INSTALL_HINT
from llm_tool.errors import ConfigError

BACK = "← Back"
TYPE_PATH = "__type_path__"
TYPE_MODEL = "__type_model__"
DONE = "__done__"
AT_BACK = "__at_back__"  # a select's default: point at its Back choice (where a stray Enter must start nothing)
TMUX_INSTALL = INSTALL_HINT  # one wording of the install hint, the dispatch layer's
LONG_RUN_SECONDS = 30 * 60  # above this estimate tmux is the recommended place to run
DATA_SUFFIXES = tuple(sorted(s for s in EXTENSIONS if s != ".txt"))


class GoBack(Exception):
    """The person chose "← Back" or pressed Ctrl+C: return to the previous step."""


@dataclass(frozen=True)
class Choice:
    title: str
    value: Any
    hint: str = ""  # shown under the list while the choice is pointed at
    disabled: str | None = None  # why it cannot be chosen (shown next to it)


@dataclass(frozen=True)
class Question:
    """One prompt. ``validate`` returns an error message or None; ``convert`` turns valid text into a value."""

    name: str
    kind: Literal["select", "checkbox", "text", "path", "confirm"]
    message: str
    default: Any = None  # checkbox: the values ticked at first
    choices: tuple[Choice, ...] = ()
    back: str | None = BACK  # select: title of the last, numbered choice that goes back (None: none)
    help: str = ""
    validate: Callable[[Any], str | None] | None = None  # the typed text; checkbox: the list of ticked values
    convert: Callable[[str], Any] | None = None

    def check(self, text: Any) -> str | None:
        return self.validate(text) if self.validate else None

    def value_of(self, text: str) -> Any:
        return self.convert(text) if self.convert else text


# ----- menus -----------------------------------------------------------------------------------
MAIN_MENU = Question("main_menu", "select", "Main menu", back=None, choices=(
    Choice("Training Studio", "studio", "start a new training or resume/relaunch one"),
    Choice("Sessions (history)", "history", "the 20 most recent training sessions, their details and actions"),
    Choice("Monitor running trainings", "monitor", "live view of the trainings running now"),
    Choice("Test a trained model (inference)", "inference", "type texts, evaluate on a labelled file, or a report"),
    Choice("Environment check", "doctor", "tmux, Python, torch, device, disk, memory, offline models"),
    Choice("Exit", "exit"),
))
LEAVE_STUDIO = Question("leave", "confirm", "Leave the Training Studio?", default=False,
                        help="(y then Enter, or Ctrl+C again: leave · Enter: stay) ")
STUDIO_MENU = Question("studio_menu", "select", "Training Studio", back="Back to Main Menu", choices=(
    Choice("Resume/Relaunch Training", "resume", "continue an interrupted run, or run past settings again"),
    Choice("New Training Session", "new", "step by step: data, columns, analysis, settings, model, run"),
))


def select(name: str, message: str, choices: Iterable[Choice], default: Any = None, *,
           back: str | None = BACK, help: str = "") -> Question:  # help: the Question field
    return Question(name, "select", message, default=default, choices=tuple(choices), back=back, help=help)


# ----- step 1: data file -----------------------------------------------------------------------
def validate_data_path(text: str) -> str | None:
    path = Path(text.strip()).expanduser()
    if not text.strip():
        return "type the path of a data file"
    if not path.exists():
        return f"{path} does not exist"
    if path.is_dir():
        return f"{path} is a folder: type a file inside it"
    if path.suffix.lower() not in EXTENSIONS:
        return f"unknown data format {path.suffix or '(no extension)'}: use {', '.join(DATA_SUFFIXES)}"
    return None


def data_file_question(files: list[Path], home: Path, default: Path | None = None) -> Question:
    choices = []
    for path in files:
        label = str(path.relative_to(home)) if path.is_relative_to(home) else str(path)
        size = path.stat().st_size if path.exists() else 0
        choices.append(Choice(f"{label}  ({_size(size)})", path, str(path)))
    choices.append(Choice("Type a path…", TYPE_PATH, "any data file, with Tab completion"))
    # a typed path (not among the files): "Type a path…", pre-filled with it
    chosen: Path | str = default if default in files else files[0] if files and default is None else TYPE_PATH
    return select("data_file", "Step 1/8 · Data file", choices, chosen,
                  help=f"data files found under {home}" if files else "no data file found under the home")


def data_path_question(default: str = "") -> Question:
    return Question("data_path", "path", "Path of the data file", default=default, validate=validate_data_path,
                    convert=lambda text: Path(text.strip()).expanduser().resolve(),
                    help="CSV, TSV, JSONL, JSON, Parquet or Excel; Tab completes")


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


# ----- step 2: columns and task ----------------------------------------------------------------
def column_question(name: str, message: str, columns: list[str], default: str | None,
                    hints: dict[str, str]) -> Question:
    choices = [Choice(col, col, hints.get(col, "")) for col in columns]
    return select(name, message, choices, default if default in columns else None)


def task_question(detected: str, reason: str, default: str | None = None) -> Question:
    return select("task", "Step 2/8 · Task type", [
        Choice("single-label (one label per text)", "single-label"),
        Choice("multi-label (several labels per text)", "multi-label"),
    ], default or detected, help=f"detected: {detected} ({reason})")


# ----- step 4: training mode and hyperparameters -----------------------------------------------
PRESET_MODE = "preset:"  # + a preset's name: automatic settings within its time budget, nothing asked


def mode_question(default: str = "quick", *, tmux_available: bool = True, slurm_available: bool = False) -> Question:
    sweeps_run = tmux_available or slurm_available  # a benchmark is a sweep: tmux here, or a Slurm job array
    from llm_tool.config.presets import PRESETS, format_budget

    presets = [Choice(f"Preset {p.name} (time budget {format_budget(p.budget_seconds)}): {p.description}",
                      PRESET_MODE + p.name, "learning rate, epochs and batch size chosen from the model and data "
                      "size; stops gracefully at the budget (resumable)") for p in PRESETS.values()]
    return select("mode", "Step 4/8 · Training mode", [
        Choice("Quick: recommended defaults, asks epochs and batch size", "quick"),
        Choice("Custom: every hyperparameter, each validated", "custom"),
        Choice("Benchmark: compare several models on the same data and split", "benchmark",
               "one training per model, run as a sweep (tmux or Slurm); a leaderboard ranks them by test macro-F1",
               None if sweeps_run else "needs tmux (or a Slurm cluster), neither is here"),
        *presets,
    ], default, help="" if sweeps_run else f"benchmark needs tmux: {TMUX_INSTALL}")


QUICK_FIELDS = ("epochs", "batch_size")  # also asked in benchmark mode: the same settings for every candidate
FIXED_FIELDS = ("selected_model", "training_mode")
# Asked at the step they belong to (the data analysis, the tasks step, the trackers), not among the settings.
ASKED_ELSEWHERE = ("long_text", "chunk_stride", "max_chunks_per_text", "language_strategy", "report_to")
HYPERPARAMETERS = tuple(f.name for f in dataclasses.fields(ModelConfig)
                        if f.name not in FIXED_FIELDS and f.name not in ASKED_ELSEWHERE)
_HINTS = typing.get_type_hints(ModelConfig)
_HELP = field_help(ModelConfig)
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ModelConfig) if f.default is not dataclasses.MISSING}
# Asked only when another answer makes them matter.
WHEN: dict[str, Callable[[dict[str, Any]], bool]] = {
    "early_stopping_patience": lambda answers: bool(answers.get("early_stopping", _DEFAULTS["early_stopping"])),
}


def default_of(name: str, answers: dict[str, Any]) -> Any:
    return answers.get(name, _DEFAULTS.get(name))


def _optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def parse_text(name: str, text: str) -> Any:
    """Typed text to a JSON-like value: numbers, true/false, {objects}; empty or 'auto' is None when allowed."""
    text = text.strip()
    if _optional(_HINTS[name]) and text.lower() in ("", "auto", "none", "null", "default"):
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def check_setting(name: str, value: Any, answers: dict[str, Any]) -> str | None:
    """The ConfigError message ModelConfig gives for ``value`` (with the other answers), or None."""
    try:
        build(ModelConfig, {**answers, name: value}, "model_config")
    except ConfigError as exc:
        return str(exc)
    return None


NONE_MEANS = {"class_weights": "none", "save_steps": "each epoch end", "max_length": "auto (p95 of the data)",
              "eval_batch_size": "auto (2 × batch_size)"}


def format_value(value: Any, name: str = "") -> str:
    if value is None:
        return NONE_MEANS.get(name, "auto")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def setting_question(name: str, answers: dict[str, Any]) -> Question:
    """The question for one ModelConfig field, validated by ModelConfig itself."""
    tp, current = _HINTS[name], default_of(name, answers)
    help_text = _HELP.get(name, "")
    if tp is bool:
        return select(name, name, [Choice("yes", True), Choice("no", False)], bool(current), help=help_text)
    if typing.get_origin(tp) is typing.Literal:
        return select(name, name, [Choice(str(v), v) for v in typing.get_args(tp)], current, help=help_text)
    return Question(name, "text", name, default="" if current is None else format_value(current), help=help_text,
                    validate=lambda text: check_setting(name, parse_text(name, text), answers),
                    convert=lambda text: parse_text(name, text))


def settings_to_ask(mode: str, answers: dict[str, Any]) -> list[str]:
    if mode.startswith(PRESET_MODE):
        return []  # a preset chooses them
    names = HYPERPARAMETERS if mode == "custom" else QUICK_FIELDS
    return [n for n in names if n not in WHEN or WHEN[n](answers)]


# ----- step 5: model -----------------------------------------------------------------------------
def validate_model_name(text: str) -> str | None:
    name = text.strip()
    if not name:
        return "type a Hugging Face model id (e.g. bert-base-uncased) or the path of a model folder"
    if name.startswith((".", "/", "~")) and not Path(name).expanduser().is_dir():
        return f"model folder not found: {name}"
    return None


def model_question(suggestions: list[tuple[str, str, bool]], default: str | None) -> Question:
    """``suggestions``: (name, why, available offline)."""
    choices = [Choice(f"{name}{'  ✓ offline' if offline else '  (not downloaded)'}", name,
                      why if offline else f"{why}; get it once with `llm-tool models add {name}` (needs internet)")
               for name, why, offline in suggestions]
    choices.append(Choice("Type a model name or folder…", TYPE_MODEL, "any Hugging Face id or local folder"))
    names = [s[0] for s in suggestions]
    return select("model", "Step 5/8 · Model", choices, default if default in names else None,
                  help="✓ offline: usable without a connection")


def model_name_question(default: str = "") -> Question:
    return Question("model_name", "text", "Model name or folder", default=default, validate=validate_model_name,
                    convert=lambda text: text.strip(), help="a Hugging Face id or a local folder")


# ----- step 5 in benchmark mode: several models --------------------------------------------------
MIN_CANDIDATES = 2


def models_question(suggestions: list[tuple[str, str, bool]], ticked: list[str]) -> Question:
    """A checkbox of the recommended models (``suggestions`` as for ``model_question``) and "Type…"."""
    choices = [Choice(f"{name}{'  ✓ offline' if offline else ''}", name, why) for name, why, offline in suggestions]
    choices.append(Choice("Type model names or folders…", TYPE_MODEL, "any Hugging Face ids or local folders"))

    def validate(values: list[Any]) -> str | None:
        if TYPE_MODEL in values or len(values) >= MIN_CANDIDATES:
            return None
        return (f"tick at least {MIN_CANDIDATES} models (Space), or tick 'Type model names or folders…' "
                "to add your own")
    return Question("models", "checkbox", "Step 5/8 · Models to compare", default=tuple(ticked),
                    choices=tuple(choices), validate=validate,
                    help="✓ offline: usable without a connection; at least 2")


def split_model_names(text: str) -> list[str]:
    """Names separated by commas, or by spaces when there is no comma (a folder may contain spaces)."""
    parts = text.split(",") if "," in text else text.split()
    return [p.strip() for p in parts if p.strip()]


def check_model_names(text: str, ticked: list[str]) -> str | None:
    names = split_model_names(text)
    for name in names:
        problem = validate_model_name(name)
        if problem:
            return problem
    everything = [*ticked, *names]
    twice = next((n for n in everything if everything.count(n) > 1), None)
    if twice:
        return f"{twice} is listed twice: each model once"
    if len(everything) < MIN_CANDIDATES:
        missing = MIN_CANDIDATES - len(everything)
        return f"a benchmark compares at least {MIN_CANDIDATES} models: {len(ticked)} ticked, type {missing} more"
    return None


def model_names_question(ticked: list[str], default: str = "") -> Question:
    return Question("model_names", "text", "Other models to compare", default=default,
                    validate=lambda text: check_model_names(text, ticked), convert=split_model_names,
                    help="Hugging Face ids or local folders, separated by commas or spaces")


def benchmark_run_question(sweep: str, candidates: int, *, tmux_available: bool) -> Question:
    return select("run_benchmark", "Step 8/8 · Run the benchmark", [
        Choice(f"Start it in tmux now: sweep {sweep}, one training per model ({candidates})", "tmux",
               "keeps running if you close the terminal; window 0 of its tmux session lists the candidates",
               None if tmux_available else "tmux is not installed"),
    ], AT_BACK)  # a stray Enter must not start it: the number or ↑ picks it


# ----- steps 7 and 8: save and where to run ------------------------------------------------------
def save_question(default: bool = True) -> Question:
    return Question("save", "confirm", "Step 7/8 · Save training parameters to JSON?", default=default)


def where_question(*, saved: bool, estimate_seconds: float | None, tmux_available: bool,
                   allow_save_only: bool = True, name: str = "where",
                   message: str = "Step 8/8 · Where to run", slurm_available: bool = False) -> Question:
    long_run = estimate_seconds is not None and estimate_seconds > LONG_RUN_SECONDS
    tmux_hint = "keeps running if you close the terminal or lose the connection"
    tmux_title = "In tmux (recommended: estimated over 30 min)" if long_run else "In tmux"
    tmux_disabled = None
    if not saved:
        tmux_disabled = "needs the saved JSON"
    elif not tmux_available:
        tmux_disabled = "tmux is not installed"
    choices = [Choice("Here, in the foreground (shows progress; Ctrl+C stops and keeps a checkpoint)", "foreground"),
               Choice(tmux_title, "tmux", tmux_hint, tmux_disabled)]
    if allow_save_only:
        choices.append(Choice("Save only (run it later)", "save", "writes the session file; nothing runs now",
                              None if saved else "needs the saved JSON"))
    if slurm_available:  # last, so the other places keep their numbers on every machine
        choices.append(Choice("On the Slurm cluster (sbatch)", "slurm", "queued; checkpoints and requeues itself "
                              "(the config's slurm_config settings)", None if saved else "needs the saved JSON"))
    # An Enter meant for the previous question must not start a run: the pointer starts on "Save only" (or Back).
    default = "save" if allow_save_only and saved else AT_BACK
    return select(name, message, choices, default)


# ----- sessions: pick, act, relaunch settings, inference --------------------------------------
def session_pick_question(rows: list[dict[str, Any]], message: str = "Pick a session by its number") -> Question:
    """Rows from ``llm_tool.sessions.summaries.list_rows``, numbered 1..N in order; the answer is the file name."""
    choices = []
    for row in rows:
        if row.get("error"):
            choices.append(Choice(f"{row['file']}", row["file"], disabled="unreadable"))
            continue
        f1 = f"F1 {row['best_f1']:.3f}" if isinstance(row.get("best_f1"), (int, float)) else ""
        title = f"{row['session_id']}  {row.get('model') or '-'}  {row.get('status')}  {f1}".rstrip()
        choices.append(Choice(title, row["file"], row.get("dataset") or ""))
    return select("session", message, choices, next((c.value for c in choices if not c.disabled), None))


def session_actions(status: str, has_checkpoint: bool, budget_spent: bool = False) -> list[Choice]:
    """Resume only when something is there to resume; a pending session can be started as it is; a run its
    time budget stopped can train on from its checkpoint (`sessions resume ID --time-budget 1h`)."""
    actions = []
    if status in ("interrupted", "failed") and has_checkpoint:
        actions.append(Choice("Resume from the last checkpoint", "resume"))
    if status == "completed" and budget_spent and has_checkpoint:
        actions.append(Choice("Continue training (stopped by its time budget)", "continue",
                              "trains on from its last checkpoint, with a new time budget if you like"))
    if status == "pending":
        actions.append(Choice("Start it now (as saved)", "start"))
    actions += [
        Choice("Relaunch with the same settings", "relaunch", "a new session; this one is kept as its parent"),
        Choice("Relaunch with another data file", "relaunch_data"),
        Choice("Relaunch with changed settings", "relaunch_settings"),
        Choice("Show every recorded parameter", "details", "the session file, field by field"),
    ]
    return actions


def action_question(session_id: str, status: str, has_checkpoint: bool, budget_spent: bool = False) -> Question:
    actions = session_actions(status, has_checkpoint, budget_spent)
    return select("action", f"Session {session_id} ({status}): what next?", actions, actions[0].value)


def settings_menu_question(values: dict[str, Any]) -> Question:
    choices = [Choice("Done: relaunch with these settings", DONE)]
    choices.append(Choice(f"selected_model = {values.get('selected_model')}", "selected_model"))
    choices += [Choice(f"{name} = {format_value(default_of(name, values), name)}", name, _HELP.get(name, ""))
                for name in HYPERPARAMETERS]
    return select("settings", "Relaunch: change a setting (or Done)", choices, DONE)


def override_option(name: str, value: Any) -> str:
    """A ``--set`` option for ``llm_tool.sessions.operations.relaunch``."""
    return f"model_config.{name}={json.dumps(value)}"


INFERENCE_TEXT = Question("text", "text", "Text to classify", help="empty line: back")
