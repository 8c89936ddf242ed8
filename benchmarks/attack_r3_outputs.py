"""Issue 21 §2 attack cases: outputs that follow links or overwrite what they should not (infer --output,
report -o, sessions export -o). A session file overwritten in place through a link is inside logs/, so each such
case also hard-links it from outside the home: an in-place write changes that outside name and is counted.

    python benchmarks/attack_round3.py --only 2-outputs
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from attack_round3 import TEARDOWN, r3_case
from attack_run import ROOT, SAMPLE, Ctx

SECTION = "2-outputs"
_LOCK = threading.Lock()
_BUILT: dict[str, Path] = {}


def trained() -> Path:
    """A home with one completed training of the tiny test model, built once per run (outside every case)."""
    with _LOCK:
        if "home" not in _BUILT:
            sys.path.insert(0, str(ROOT))
            from tests.helpers import build_tiny_model, sample_rows, write_config, write_csv

            base = Path(tempfile.mkdtemp(prefix="llm-tool-r3-trained-"))
            TEARDOWN.append(lambda: shutil.rmtree(base, ignore_errors=True))
            home = base / "home"
            home.mkdir()
            model = build_tiny_model(base / "tiny", SAMPLE)
            config = write_config(base / "c.json", write_csv(base / "d.csv", sample_rows(SAMPLE, 40)), model,
                                  num_threads=1)
            env = {**os.environ, "LLM_TOOL_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
            subprocess.run([sys.executable, "-m", "llm_tool", "train", str(config)], env=env, check=True,
                           capture_output=True, timeout=900)
            _BUILT["home"], _BUILT["cache"] = home, base / "cache"
        return _BUILT["home"]


def with_model(ctx: Ctx) -> tuple[Path, Path]:
    """Copy the trained session and its model into the case's home: (session file, model folder)."""
    home = trained()
    (session,) = (home / "logs" / "training_sessions").glob("training_metadata_*.json")
    model = next((home / "models").glob("train_*"))
    target = ctx.sessions / session.name
    shutil.copy2(session, target)
    shutil.copytree(model, ctx.home / "models" / model.name, symlinks=True)
    os.link(target, ctx.root / "session_hardlink.json")  # an in-place write of the session shows here
    return target, ctx.home / "models" / model.name


def texts(ctx: Ctx, name: str = "texts.csv") -> Path:
    return ctx.text(name, "text\ngreat phone\n=cmd|' /C calc'!A0\n")


def infer(model: Path, source: Path, output: Path | str, *extra: str) -> list[str]:
    return ["infer", "--model-dir", str(model), "--input", str(source), "--output", str(output), *extra]


@r3_case(SECTION)
def case_infer_output_link_to_session(ctx: Ctx) -> list[str]:
    session, model = with_model(ctx)
    (ctx.root / "out.csv").symlink_to(session)
    return infer(model, texts(ctx), ctx.root / "out.csv", "--force")


@r3_case(SECTION)
def case_infer_output_link_outside(ctx: Ctx) -> list[str]:
    _, model = with_model(ctx)
    ctx.text("precious.txt", "keep me")
    (ctx.root / "out.csv").symlink_to(ctx.root / "precious.txt")
    return infer(model, texts(ctx), ctx.root / "out.csv", "--force")


@r3_case(SECTION)
def case_infer_output_is_input(ctx: Ctx) -> list[str]:
    _, model = with_model(ctx)
    return infer(model, texts(ctx), ctx.root / "texts.csv", "--force")


@r3_case(SECTION)
def case_infer_output_hardlink_of_input(ctx: Ctx) -> list[str]:
    _, model = with_model(ctx)
    os.link(texts(ctx), ctx.root / "same.csv")
    return infer(model, ctx.root / "texts.csv", ctx.root / "same.csv", "--force")


@r3_case(SECTION)
def case_infer_output_exists_without_force(ctx: Ctx) -> list[str]:
    _, model = with_model(ctx)
    return infer(model, texts(ctx), ctx.text("old.csv", "text\nkeep me\n"))


@r3_case(SECTION)
def case_infer_output_into_sessions(ctx: Ctx) -> list[str]:
    session, model = with_model(ctx)
    return infer(model, texts(ctx), session.parent / "p.csv")


@r3_case(SECTION)
def case_infer_output_into_model_folder(ctx: Ctx) -> list[str]:
    _, model = with_model(ctx)
    return infer(model, texts(ctx), model / "predictions.csv")


@r3_case(SECTION)
def case_infer_output_via_folder_link_to_logs(ctx: Ctx) -> list[str]:
    session, model = with_model(ctx)
    (ctx.root / "logs_link").symlink_to(session.parent.parent)
    return infer(model, texts(ctx), ctx.root / "logs_link" / "training_sessions" / "p.csv")


@r3_case(SECTION)
def case_infer_output_fifo(ctx: Ctx) -> list[str]:
    _, model = with_model(ctx)
    os.mkfifo(ctx.root / "out.csv")
    return infer(model, texts(ctx), ctx.root / "out.csv", "--force")


@r3_case(SECTION)
def case_infer_output_is_folder(ctx: Ctx) -> list[str]:
    _, model = with_model(ctx)
    (ctx.root / "out.csv").mkdir()
    return infer(model, texts(ctx), ctx.root / "out.csv", "--force")


@r3_case(SECTION, expect=(0,), timeout=90)  # loads the model and predicts: slower than a refusal
def case_infer_safe_csv_force_outside_the_watched_folder(ctx: Ctx) -> list[str]:
    _, model = with_model(ctx)
    folder = Path(tempfile.mkdtemp(prefix="llm-tool-r3-out-"))  # a legitimate output, outside the counted folder
    (folder / "p.csv").write_text("old\n")
    TEARDOWN.append(lambda: shutil.rmtree(folder, ignore_errors=True))
    return infer(model, texts(ctx), folder / "p.csv", "--force", "--safe-csv")


@r3_case(SECTION)
def case_report_html_link_outside(ctx: Ctx) -> list[str]:
    with_model(ctx)
    ctx.text("precious.txt", "keep me")
    (ctx.root / "rep").mkdir()
    (ctx.root / "rep" / "report.html").symlink_to(ctx.root / "precious.txt")
    return ["report", "1", "-o", str(ctx.root / "rep"), "--force"]


@r3_case(SECTION)
def case_report_html_link_to_session(ctx: Ctx) -> list[str]:
    session, _ = with_model(ctx)
    (ctx.root / "rep").mkdir()
    (ctx.root / "rep" / "report.html").symlink_to(session)
    return ["report", "1", "-o", str(ctx.root / "rep"), "--force"]


@r3_case(SECTION)
def case_report_png_link_outside(ctx: Ctx) -> list[str]:
    with_model(ctx)
    ctx.text("precious.png", "keep me")
    (ctx.root / "rep").mkdir()
    (ctx.root / "rep" / "training_curves.png").symlink_to(ctx.root / "precious.png")
    return ["report", "1", "-o", str(ctx.root / "rep"), "--force"]


@r3_case(SECTION)
def case_report_into_sessions_folder(ctx: Ctx) -> list[str]:
    session, _ = with_model(ctx)
    return ["report", "1", "-o", str(session.parent)]


@r3_case(SECTION)
def case_report_existing_without_force(ctx: Ctx) -> list[str]:
    with_model(ctx)
    (ctx.root / "rep").mkdir()
    ctx.text("rep/report.html", "keep me")
    return ["report", "1", "-o", str(ctx.root / "rep")]


@r3_case(SECTION)
def case_report_own_folder_is_a_link(ctx: Ctx) -> list[str]:
    _, model = with_model(ctx)
    ctx.text("precious.html", "keep me")
    (model / "report").mkdir(exist_ok=True)
    (model / "report" / "report.html").symlink_to(ctx.root / "precious.html")
    return ["report", "1"]


@r3_case(SECTION)
def case_export_link_to_session(ctx: Ctx) -> list[str]:
    session, _ = with_model(ctx)
    (ctx.root / "shared.json").symlink_to(session)
    return ["sessions", "export", "1", "-o", str(ctx.root / "shared.json"), "--force"]


@r3_case(SECTION)
def case_export_onto_the_session_itself(ctx: Ctx) -> list[str]:
    session, _ = with_model(ctx)
    return ["sessions", "export", "1", "-o", str(session), "--force"]


@r3_case(SECTION)
def case_export_existing_without_force(ctx: Ctx) -> list[str]:
    with_model(ctx)
    return ["sessions", "export", "1", "-o", str(ctx.text("x.json", json.dumps({"keep": True})))]
