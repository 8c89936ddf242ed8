"""Leaderboard columns fitted to a terminal width: names shortened from the left, per-class columns dropped first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import JustifyMethod
from rich.markup import escape

from llm_tool.sweeps.naming import short_model_name
from llm_tool.sweeps.ranking import ConfigRow, diff_text, rank_text, score_text
from llm_tool.ui.console import status_text

ELLIPSIS = "…"
NAME_MIN = {"configuration": 12, "model": 16}
NAME_FLOOR = 8
NAME_MAX = 64
SEPARATORS = "/-_."


def shorten_left(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, keeping its distinctive tail: `…/all-MiniLM-L6-v2`, `…lr2e-5_bs16`
    (cut after a separator when one is close, else anywhere)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    room = width - 1
    for i in range(len(text) - room, len(text)):
        if i > 0 and (text[i] == "/" or text[i - 1] in SEPARATORS) and len(text) - i >= room - 6:
            return ELLIPSIS + text[i:]
    return ELLIPSIS + text[-room:]


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


@dataclass
class Column:
    header: str
    cells: list[str]
    justify: JustifyMethod = "right"
    style: Callable[[ConfigRow, str], str] | None = None
    name: bool = False
    width: int = 0

    def natural(self) -> int:
        return max([len(self.header), *(len(c) for c in self.cells)])

    def styled(self, config: ConfigRow, cell: str) -> str:
        text = shorten_left(cell, self.width) if self.name and self.width else cell
        return self.style(config, text) if self.style else escape(text)


def _rank_style(config: ConfigRow, text: str) -> str:
    return f"[success]{text}[/success]" if config.rank == 1 else text


def _score_style(config: ConfigRow, text: str) -> str:
    return f"[success]{text}[/success]" if config.best or config.tied else text


def _all_columns(configs: list[ConfigRow]) -> tuple[list[Column], list[Column], list[Column]]:
    """(columns in display order, those dropped before the names are shortened, those dropped after), each in
    the order they are dropped."""
    classes = list(dict.fromkeys(n for c in configs for n in c.per_class))
    titles = [c.title for c in configs]
    models = [c.model or "-" for c in configs]
    rank = Column("rank", [rank_text(c) for c in configs], style=_rank_style)
    config = Column("configuration", titles, justify="left", name=True)
    model = Column("model", models, justify="left", name=True)
    score = Column("macro-F1", [score_text(c) for c in configs], style=_score_style)
    diff = Column("Δ to best [95% CI]", [diff_text(c) for c in configs])
    p = Column("McNemar p", [_num(c.p_value, ".3g") for c in configs])
    seeds = Column("seeds", [str(len(c.scores) or len(c.jobs)) for c in configs])
    status = Column("status", [c.status for c in configs], justify="left",
                    style=lambda c, t: status_text(c.statuses[0]) if len(set(c.statuses)) == 1 else escape(t))
    time = Column("train time", [_num(c.train_runtime_seconds, ".1f") for c in configs])
    speed = Column("samples/s", [_num(c.train_samples_per_second, ".1f") for c in configs])
    session = Column("session", [c.best_session_id or "-" for c in configs], justify="left")
    per_class = [Column(f"F1 {n}", [_num(c.per_class.get(n), ".3f") for c in configs]) for n in classes]
    same = all(t == short_model_name(m) for t, m in zip(titles, models, strict=False))
    one_model = len(configs) > 1 and len(set(models)) == 1  # then the caption names it
    names = [model] if same else [config] if one_model else [config, model]
    # a benchmark's configuration is the model's short name: the model column says it all
    shown = [rank, *names, score, diff, p, seeds, status, *per_class, time, speed, session]
    return shown, [*per_class[::-1], session, speed, time], [status, p, seeds]


def _fixed(columns: list[Column]) -> int:
    """The width of everything but the names: other columns at their natural width, borders and padding."""
    return sum(c.natural() for c in columns if not c.name) + 3 * len(columns) + 1


def _wanted(columns: list[Column], full: bool = False) -> int:
    return sum(min(c.natural(), NAME_MAX if full else NAME_MIN[c.header]) for c in columns if c.name)


def leaderboard_columns(configs: list[ConfigRow], width: int) -> list[Column]:
    """The columns that fit in ``width``: optional ones dropped (per-class F1 first) while the names would get
    less than their minimum, then the names given the space left, shortened from the left."""
    shown, first, then = _all_columns(configs)
    for column in first:  # names at full length come before per-class F1, session and speed
        if _fixed(shown) + _wanted(shown, full=True) <= width:
            break
        shown.remove(column)
    for column in then:  # names at their minimum come before p-value, status and seeds
        if _fixed(shown) + _wanted(shown) <= width:
            break
        shown.remove(column)
    names = [c for c in shown if c.name]
    room = max(NAME_FLOOR * len(names), width - _fixed(shown))
    wanted = _wanted(shown)
    for column in names:
        share = min(column.natural(), NAME_MIN[column.header])
        column.width = max(NAME_FLOOR, share if wanted <= room else share * room // max(1, wanted))
    spare = room - sum(c.width for c in names)
    for column in names:  # the configuration (what tells rows apart) first, then the model
        grow = max(0, min(spare, min(column.natural(), NAME_MAX) - column.width))
        column.width += grow
        spare -= grow
    return shown
