"""Attack run: many bad inputs, each a real `llm-tool` process in a fresh temp home; counts what went wrong.

For each case: exit code, whether a traceback appeared, whether the error says "unexpected" (a user mistake
handled as a crash), files written or deleted outside the home's session folders (the watched folder is the
case's whole temp folder), and sessions left `running`. Prints a table and writes benchmarks/results/.

Add a case: write ``def case_x(ctx: Ctx) -> list[str]`` that prepares files under ctx.root / ctx.home and
returns the llm-tool arguments, and append it to CASES (or decorate with @case). Expected exit codes default
to 2 (a user error); pass expect=(0,) for inputs the tool must accept.

    python benchmarks/attack_run.py [--only SUBSTRING] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "sentiment_labelled_sentences.csv"
V2 = ROOT / "tests" / "data" / "reference_training_metadata_v2.json"
ALLOWED = ("logs/training_sessions", "models")  # where a command may write, relative to the home


@dataclass
class Ctx:
    root: Path  # the case's temp folder (watched)
    home: Path  # LLM_TOOL_HOME, inside root
    stdin: str = ""

    @property
    def sessions(self) -> Path:
        path = self.home / "logs" / "training_sessions"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def data(self, name: str = "data.csv", rows: int = 40, folder: Path | None = None) -> Path:
        lines = SAMPLE.read_text(encoding="utf-8").splitlines()
        pos = [line for line in lines[1:] if ",positive," in line][: rows // 2]
        neg = [line for line in lines[1:] if ",negative," in line][: rows // 2]
        path = (folder or self.home) / name
        path.write_text("\n".join([lines[0], *pos, *neg]) + "\n", encoding="utf-8")
        return path

    def config(self, data: Path | str | None = None, dataset: dict[str, Any] | None = None,
               model: dict[str, Any] | None = None, name: str = "c.json") -> Path:
        raw = {"dataset_config": {"primary_file": str(data or self.data()), "text_column": "text",
                                  "label_column": "label", **(dataset or {})},
               "model_config": {"selected_model": "all-MiniLM-L6-v2", "epochs": 1, **(model or {})}}
        path = self.root / name
        path.write_text(json.dumps(raw), encoding="utf-8")
        return path

    def text(self, name: str, content: str | bytes) -> Path:
        path = self.root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def session(self, stamp: str, data: Any = None, raw: str | None = None) -> Path:
        path = self.sessions / f"training_metadata_{stamp}.json"
        path.write_text(raw if raw is not None else json.dumps(data), encoding="utf-8")
        return path


@dataclass
class Case:
    name: str
    klass: str
    build: Callable[[Ctx], list[str]]
    expect: tuple[int, ...] = (2,)
    timeout: float = 120.0
    env: dict[str, str] = field(default_factory=dict)


CASES: list[Case] = []


def case(klass: str, expect: tuple[int, ...] = (2,), **kw: Any) -> Callable[[Callable[[Ctx], list[str]]], Any]:
    def register(fn: Callable[[Ctx], list[str]]) -> Callable[[Ctx], list[str]]:
        CASES.append(Case(fn.__name__.removeprefix("case_"), klass, fn, expect, **kw))
        return fn
    return register


# ----- class 4: bad values and data ---------------------------------------------------------------------------
BAD_VALUES = [("learning_rate", "Infinity"), ("learning_rate", "NaN"), ("learning_rate", "-1"),
              ("learning_rate", "1e400"), ("batch_size", "1000000000000"), ("batch_size", "0"),
              ("eval_batch_size", "-4"), ("num_threads", "-2"), ("seed", "-1"), ("seed", str(2**70)),
              ("save_steps", "-1"), ("epochs", "0"), ("warmup_ratio", "1.5"), ("weight_decay", "-Infinity"),
              ("gradient_accumulation_steps", "0"), ("early_stopping_patience", "0"), ("max_length", "2"),
              ("class_weights", '{"positive": -1, "negative": 1}'), ("epochs", "9" * 5000)]


def _value_case(key: str, value: str) -> Callable[[Ctx], list[str]]:
    def build(ctx: Ctx) -> list[str]:
        path = ctx.config()
        text = path.read_text().replace('"epochs": 1', f'"epochs": 1, "{key}": {value}')
        if key == "epochs":
            text = path.read_text().replace('"epochs": 1', f'"epochs": {value}')
        path.write_text(text)
        return ["train", str(path)]
    return build


for _key, _value in BAD_VALUES:
    CASES.append(Case(f"value_{_key}={_value[:12]}", "4-values", _value_case(_key, _value)))


@case("4-values")
def case_set_nan(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config()), "--set", "model_config.learning_rate=NaN"]


@case("4-values")
def case_set_deep(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config()), "--set", "model_config.epochs=" + "[" * 20000]


@case("4-values")
def case_config_not_utf8(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.text("c.json", b'{"dataset_config": {"primary_file": "caf\xe9"}}'))]


@case("4-values")
def case_config_deep(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.text("c.json", "[" * 100_000 + "]" * 100_000))]


@case("4-values")
def case_config_huge_int(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.text("c.json", '{"model_config": {"seed": ' + "9" * 10_000 + "}}"))]


@case("4-values")
def case_config_fifo(ctx: Ctx) -> list[str]:
    os.mkfifo(ctx.root / "c.json")
    return ["train", str(ctx.root / "c.json")]


@case("4-values")
def case_config_over_size(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.text("c.json", '{"x": "' + "a" * (6 * 2**20) + '"}'))]


@case("4-values")
def case_long_data_path(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config("/" + "d" * 20_000 + ".csv")), "--dry-run"]


@case("4-values")
def case_long_model_name(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config(model={"selected_model": "m" * 100_000})), "--dry-run"]


@case("4-values")
def case_duplicate_columns(ctx: Ctx) -> list[str]:
    data = ctx.text("d.csv", "text,label,label\n" + "".join(f"t{i},a,b\n" for i in range(20)))
    return ["train", str(ctx.config(data)), "--dry-run"]


@case("4-values")
def case_header_only(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config(ctx.text("d.csv", "text,label\n"))), "--dry-run"]


@case("4-values")
def case_list_labels_single(ctx: Ctx) -> list[str]:
    rows = "".join(json.dumps({"text": f"t{i}", "label": ["a" if i % 2 else "b"]}) + "\n" for i in range(20))
    return ["train", str(ctx.config(ctx.text("d.jsonl", rows))), "--dry-run"]


@case("4-values")
def case_multilabel_all_empty(ctx: Ctx) -> list[str]:
    rows = "".join(json.dumps({"text": f"t{i}", "label": []}) + "\n" for i in range(20))
    return ["train", str(ctx.config(ctx.text("d.jsonl", rows), dataset={"strategy": "multi-label"})), "--dry-run"]


@case("4-values")
def case_data_fifo(ctx: Ctx) -> list[str]:
    os.mkfifo(ctx.root / "d.csv")
    return ["train", str(ctx.config(ctx.root / "d.csv")), "--dry-run"]


@case("4-values")
def case_jsonl_deep_line(ctx: Ctx) -> list[str]:
    data = ctx.text("d.jsonl", '{"text": "a", "label": ' + "[" * 50_000 + "]" * 50_000 + "}\n")
    return ["train", str(ctx.config(data)), "--dry-run"]


@case("4-values")
def case_json_data_deep(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config(ctx.text("d.json", "[" * 100_000 + "]" * 100_000))), "--dry-run"]


@case("4-values")
def case_split_out_of_range(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config(dataset={"validation_split": 0.9})), "--dry-run"]


# ----- class 2: injection --------------------------------------------------------------------------------------
HOSTILE = {"osc_title": "\x1b]0;owned\x07", "clear": "\x1b[2J\x1b[H", "osc52": "\x1b]52;c;cm0gLXJm\x07",
           "markup_close": "[/x]", "markup_link": "[link=http://evil]x[/link]", "rtl": "a\u202etxt"}


def _hostile_session(text: str) -> Callable[[Ctx], list[str]]:
    def build(ctx: Ctx) -> list[str]:
        ctx.session("20250101_000001", {
            "training_session": {"session_name": text, "notes": [text]},
            "dataset_config": {"primary_file": f"/d/{text}.csv", "text_column": text},
            "model_config": {"selected_model": text},
            "execution_status": {"status": "failed", "error_message": text}})
        return ["sessions", "list"]
    return build


for _name, _text in HOSTILE.items():
    CASES.append(Case(f"list_{_name}", "2-injection", _hostile_session(_text), expect=(0,)))
    CASES.append(Case(f"show_{_name}", "2-injection",
                      lambda ctx, t=_text: [*_hostile_session(t)(ctx)[:1], "show", "1"], expect=(0,)))


@case("2-injection", expect=(0,))
def case_compare_hostile(ctx: Ctx) -> list[str]:
    for n, text in enumerate(HOSTILE.values()):
        _hostile_session(text)(ctx)
        os.replace(ctx.sessions / "training_metadata_20250101_000001.json",
                   ctx.sessions / f"training_metadata_20250102_00000{n}.json")
    return ["sessions", "compare", "1", "2", "3"]


@case("2-injection")
def case_markup_in_data_path(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config(ctx.root / "bad[/x].csv")), "--dry-run"]


@case("2-injection")
def case_link_in_column(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config(dataset={"text_column": "[link=http://evil]x[/link]\x1b[2J"})), "--dry-run"]


@case("2-injection")
def case_home_with_markup(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config(ctx.root / "missing.csv"))]


@case("2-injection")
def case_imported_reads_etc_passwd(ctx: Ctx) -> list[str]:
    shared = ctx.text("s.json", json.dumps({"dataset_config": {"primary_file": "/etc/passwd",
                                                               "text_column": "root"}, "model_config": {}}))
    subprocess.run(_cmd(["sessions", "import", str(shared)]), env=_env(ctx), capture_output=True, timeout=60)
    return ["sessions", "relaunch", "1"]


# ----- class 3: the session folder -------------------------------------------------------------------------------
@case("3-store", expect=(0,), timeout=30)
def case_fifo_session(ctx: Ctx) -> list[str]:
    os.mkfifo(ctx.sessions / "training_metadata_20250101_000001.json")
    return ["sessions", "list"]


@case("3-store", expect=(0,))
def case_deep_session_list(ctx: Ctx) -> list[str]:
    ctx.session("20250101_000001", raw='{"a":' * 100_000 + "1" + "}" * 100_000)
    return ["sessions", "list", "--json"]


@case("3-store")
def case_deep_session_show(ctx: Ctx) -> list[str]:
    ctx.session("20250101_000001", raw="[" * 100_000 + "]" * 100_000)
    return ["sessions", "show", "1"]


@case("3-store", expect=(0,))
def case_deep_session_clean(ctx: Ctx) -> list[str]:
    ctx.session("20250101_000001", raw="[" * 100_000 + "]" * 100_000)
    return ["sessions", "clean", "--older-than", "0", "--yes"]


@case("3-store", expect=(0,))
def case_big_session_list(ctx: Ctx) -> list[str]:
    ctx.session("20250101_000001", raw='{"x": "' + "a" * (8 * 2**20) + '"}')
    return ["sessions", "list"]


@case("3-store")
def case_import_200mb(ctx: Ctx) -> list[str]:
    path = ctx.root / "big.json"
    with path.open("w") as handle:
        handle.write('{"dataset_config": {"primary_file": "d.csv"}, "pad": "')
        chunk = "a" * 2**20
        for _ in range(200):
            handle.write(chunk)
        handle.write('"}')
    return ["sessions", "import", str(path)]


@case("3-store")
def case_import_fifo(ctx: Ctx) -> list[str]:
    os.mkfifo(ctx.root / "s.json")
    return ["sessions", "import", str(ctx.root / "s.json")]


@case("3-store", expect=(0,))
def case_delete_dangling_link(ctx: Ctx) -> list[str]:
    (ctx.sessions / "training_metadata_20250101_000001.json").symlink_to(ctx.root / "nowhere.json")
    return ["sessions", "delete", "train_20250101_000001", "--yes"]


@case("3-store", expect=(0,))
def case_foreign_pid_running(ctx: Ctx) -> list[str]:
    ctx.session("20250101_000001", {"dataset_config": {"primary_file": "/d.csv"},
                                    "execution_status": {"status": "running", "pid": 1}})
    return ["sessions", "list"]


@case("3-store", expect=(0,))
def case_future_heartbeat_running(ctx: Ctx) -> list[str]:
    ctx.session("20250101_000001", {"dataset_config": {"primary_file": "/d.csv"},
                                    "execution_status": {"status": "running", "host": "far.invalid",
                                                         "heartbeat": "2999-01-01T00:00:00+00:00"}})
    return ["sessions", "list"]


@case("3-store")
def case_sessions_folder_is_a_file(ctx: Ctx) -> list[str]:
    (ctx.home / "logs").mkdir()
    (ctx.home / "logs" / "training_sessions").write_text("x")
    return ["sessions", "list"]


# ----- class 5 (export/import) and 6 (other tools) ---------------------------------------------------------------
@case("5-sharing", expect=(0,))
def case_import_missing_data(ctx: Ctx) -> list[str]:
    return ["sessions", "import", str(ctx.text("s.json", json.dumps(
        {"dataset_config": {"primary_file": "data/gone.csv"}, "model_config": {}})))]


@case("5-sharing")
def case_import_relative_escape(ctx: Ctx) -> list[str]:
    return ["sessions", "import", str(ctx.text("s.json", json.dumps(
        {"dataset_config": {"primary_file": "../../../../etc/passwd"}, "model_config": {}})))]


@case("5-sharing", expect=(0,))
def case_import_hostile_values(ctx: Ctx) -> list[str]:
    ctx.data()
    return ["sessions", "import", str(ctx.text("s.json", '{"dataset_config": {"primary_file": "data.csv"}, '
                                               '"model_config": {"learning_rate": Infinity, "save_steps": -1}}'))]


@case("5-sharing", expect=(0,))
def case_import_output_paths_elsewhere(ctx: Ctx) -> list[str]:
    ctx.data()
    return ["sessions", "import", str(ctx.text("s.json", json.dumps(
        {"dataset_config": {"primary_file": "data.csv"}, "model_config": {},
         "output_paths": {"model_dir": str(ctx.root / "victim"), "checkpoints_dir": "/"}})))]


@case("5-sharing")
def case_import_not_a_session(ctx: Ctx) -> list[str]:
    return ["sessions", "import", str(ctx.text("s.json", "[1, 2, 3]"))]


@case("6-foreign", expect=(0,))
def case_import_reference_v2(ctx: Ctx) -> list[str]:
    return ["sessions", "import", str(V2), "--dataset", str(ctx.data())]


@case("6-foreign", expect=(0,))
def case_import_reference_v2_no_data(ctx: Ctx) -> list[str]:
    return ["sessions", "import", str(V2)]


@case("6-foreign", expect=(0,))
def case_import_v2_wrong_types(ctx: Ctx) -> list[str]:
    raw = json.loads(V2.read_text())
    raw["training_params"].update(epochs="many", batch_size=[8], learning_rate={"x": 1})
    raw["split_config"]["validation_ratio"] = 7
    return ["sessions", "import", str(ctx.text("s.json", json.dumps(raw))), "--dataset", str(ctx.data())]


# ----- the runner -------------------------------------------------------------------------------------------------
def _cmd(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "llm_tool", *args]


def _env(ctx: Ctx, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "LLM_TOOL_HOME": str(ctx.home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "LLM_TOOL_NON_INTERACTIVE": "1", "PYTHONPATH": str(ROOT), **(extra or {})}


def _snapshot(folder: Path) -> dict[str, tuple[float, int]]:
    out = {}
    for base, dirs, names in os.walk(folder):
        for name in names + [d for d in dirs if os.path.islink(os.path.join(base, d))]:
            path = os.path.join(base, name)
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue
            out[path] = (info.st_mtime, info.st_size)
    return out


def _allowed(path: str, home: Path) -> bool:
    return any(path.startswith(str(home / sub) + os.sep) for sub in ALLOWED)


def run_case(item: Case) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="attack-") as tmp:
        root = Path(tmp)
        home = root / ("home[/x]" if item.name == "home_with_markup" else "home")
        home.mkdir(parents=True)
        ctx = Ctx(root, home)
        args = item.build(ctx)
        before = _snapshot(root)
        started = time.monotonic()
        try:
            proc = subprocess.run(_cmd(args), env=_env(ctx, item.env), capture_output=True, text=True,
                                  timeout=item.timeout, stdin=subprocess.DEVNULL, cwd=root)
            rc, out, err = proc.returncode, proc.stdout, proc.stderr
        except subprocess.TimeoutExpired:
            rc, out, err = -9, "", "timeout (hung)"
        seconds = time.monotonic() - started
        after = _snapshot(root)
        written = sorted(p for p in after if (p not in before or after[p] != before[p]) and not _allowed(p, home))
        deleted = sorted(p for p in before if p not in after and not _allowed(p, home))
        running = _running(ctx)
    text = out + err
    error_lines = [line for line in err.splitlines() if line.startswith("error:")]
    return {"case": item.name, "class": item.klass, "args": [a[:60] for a in args], "rc": rc,
            "expected": list(item.expect), "ok_rc": rc in item.expect, "traceback": "Traceback" in text,
            "unexpected": any("unexpected" in line for line in error_lines), "escape_seq": "\x1b]" in text
            or "\x1b[2J" in text or "\x07" in text, "longest_line": max((len(x) for x in text.splitlines()), default=0),
            "written_outside": written, "deleted_outside": deleted, "left_running": running,
            "seconds": round(seconds, 2), "first_error": (error_lines[0][:160] if error_lines else "")}


def _running(ctx: Ctx) -> int:
    proc = subprocess.run(_cmd(["sessions", "list", "--all", "--json"]), env=_env(ctx), capture_output=True,
                          text=True, timeout=60)
    try:
        return sum(1 for row in json.loads(proc.stdout) if row.get("status") == "running")
    except ValueError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "attack_run.json")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or args.only in c.name]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(run_case, cases))
    print(f"{'case':38} {'class':12} {'rc':>4} {'tb':>3} {'unx':>4} {'esc':>4} {'out':>4} {'run':>4}  first error")
    for r in results:
        flag = "" if r["ok_rc"] else f" (expected {r['expected']})"
        print(f"{r['case'][:38]:38} {r['class']:12} {r['rc']:>4} {int(r['traceback']):>3} {int(r['unexpected']):>4} "
              f"{int(r['escape_seq']):>4} {len(r['written_outside']) + len(r['deleted_outside']):>4} "
              f"{r['left_running']:>4}  {r['first_error'][:70]}{flag}")
    totals = {"cases": len(results), "tracebacks": sum(r["traceback"] for r in results),
              "unexpected_exit1": sum(r["unexpected"] or r["rc"] == 1 for r in results),
              "wrong_exit_code": sum(not r["ok_rc"] for r in results),
              "escape_sequences_printed": sum(r["escape_seq"] for r in results),
              "files_written_outside": sum(len(r["written_outside"]) for r in results),
              "files_deleted_outside": sum(len(r["deleted_outside"]) for r in results),
              "sessions_left_running": sum(r["left_running"] for r in results),
              "error_lines_over_1100_chars": sum(r["longest_line"] > 1100 for r in results)}
    print(json.dumps(totals, indent=2))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"totals": totals, "results": results}, indent=2) + "\n")
    print(f"written: {args.output}")
    bad = totals["tracebacks"] + totals["unexpected_exit1"] + totals["files_written_outside"] + \
        totals["files_deleted_outside"] + totals["sessions_left_running"] + totals["wrong_exit_code"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
