"""Attack cases, round 3, section 6 (issue 21 §6, "what a new user trips on", CLI part): each is a command a new
user types, checked by its exit code, time and first error line (one line, no traceback, not 'unexpected')."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import attack_round3
from attack_run import Ctx

from llm_tool.sessions import SessionStore
from tests.helpers import fake_session

# run as `python benchmarks/attack_round3.py`, the runner is __main__: register there, not in a second copy of it
r3_case = getattr(sys.modules["__main__"], "r3_case", attack_round3.r3_case)
NO_HUB = {"HF_HUB_OFFLINE": "", "TRANSFORMERS_OFFLINE": "", "HF_ENDPOINT": "http://127.0.0.1:9",
          "HTTPS_PROXY": "", "https_proxy": ""}  # offline without saying so: nothing listens at the hub address


def _history_with_a_model_behind_a_pending_session(ctx: Ctx) -> None:
    """#2: completed, with a model folder; #1: newer, queued, no model yet."""
    store = SessionStore(ctx.home)
    when = datetime(2026, 12, 4, 9, 0)
    old = fake_session(store, when, model="all-MiniLM-L6-v2", dataset=str(ctx.data()))
    sid = json.loads(old.read_text(encoding="utf-8"))["training_session"]["session_id"]
    folder = ctx.home / "models" / sid
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    fake_session(store, when + timedelta(hours=1), status="pending", best_f1=None)


@r3_case("6-ux")
def case_report_1_while_newest_has_no_model(ctx: Ctx) -> list[str]:
    _history_with_a_model_behind_a_pending_session(ctx)
    return ["report", "1"]  # one line naming #2 and `latest`, exit 2


@r3_case("6-ux")
def case_infer_1_while_newest_has_no_model(ctx: Ctx) -> list[str]:
    _history_with_a_model_behind_a_pending_session(ctx)
    return ["infer", "1", "--text", "great"]


@r3_case("6-ux")
def case_evaluate_latest_without_any_model(ctx: Ctx) -> list[str]:
    fake_session(SessionStore(ctx.home), datetime(2026, 12, 4, 9, 0), status="pending", best_f1=None)
    return ["evaluate", "latest", "--data", str(ctx.data())]


@r3_case("6-ux", env=NO_HUB)
def case_offline_unknown_model_one_line_at_once(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config(model={"selected_model": "camembert-base"}))]  # within 20 s, not 49-60 s


@r3_case("6-ux", env=NO_HUB)
def case_offline_unknown_model_dry_run(ctx: Ctx) -> list[str]:
    return ["train", str(ctx.config(model={"selected_model": "no-such-org/no-such-model"})), "--dry-run"]


@r3_case("6-ux", expect=(0,))
def case_tmux_start_takes_session_name(ctx: Ctx) -> list[str]:
    return ["tmux", "start", "--config", str(ctx.config()), "--session-name", "night run", "--dry-run"]


@r3_case("6-ux")
def case_tmux_start_session_name_like_a_number(ctx: Ctx) -> list[str]:
    return ["tmux", "start", "--config", str(ctx.config()), "--session-name", "12", "--auto-confirm"]


@r3_case("6-ux", expect=(0,), env={"COLUMNS": "80"})
def case_sessions_list_80_columns_sweep_names(ctx: Ctx) -> list[str]:
    store = SessionStore(ctx.home)
    for i, name in enumerate(("sweep_dims-lr2e-5_bs16", "sweep_dims-lr3e-5_bs16", "")):
        path = fake_session(store, datetime(2026, 12, 4, 9, i), model="camembert-base",
                            dataset=f"/data/tweets_{('english', 'french', 'german')[i]}_sample_train.csv")
        data = json.loads(path.read_text(encoding="utf-8"))
        data["training_session"]["session_name"] = name or None
        Path(path).write_text(json.dumps(data), encoding="utf-8")
    return ["sessions", "list"]
