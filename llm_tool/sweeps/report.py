"""A sweep or benchmark report: Markdown (leaderboard, jobs, settings) plus a PNG bar chart of the scores."""

from __future__ import annotations

import json
from pathlib import Path

from llm_tool.sessions.lifecycle import now_iso
from llm_tool.sweeps.leaderboard import LeaderRow, best, class_names, table_cells
from llm_tool.sweeps.state import SweepState


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(header: list[str], cells: list[list[str]]) -> str:
    lines = ["| " + " | ".join(_md_escape(h) for h in header) + " |",
             "|" + "|".join("---:" if h in ("rank", "macro-F1", "train time (s)", "samples/s") or h.startswith("F1 ")
                            else "---" for h in header) + "|"]
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in cells]
    return "\n".join(lines)


def markdown(state: SweepState, rows: list[LeaderRow], chart_name: str | None) -> str:
    name = state.name or "?"
    kind = "Benchmark" if state.kind == "benchmark" else "Sweep"
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.status] = counts.get(row.status, 0) + 1
    top = best(rows)
    parts = [f"# {kind} `{name}`", "",
             f"- created {state.created_at or '-'}, report written {now_iso()}",
             f"- {len(rows)} jobs: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())),
             f"- ranked by {'test' if not top or top.split == 'test' else 'validation'} macro-F1 "
             "(from each job's metrics.json)"]
    if top is not None:
        parts.append(f"- **best: {top.title}** ({top.model}) macro-F1 {top.score:.4f}, session `{top.session_id}`")
    if state.parent_session is not None and state.parent_session.session_id:
        parts.append(f"- benchmark session `{state.parent_session.session_id}`")
    parts += ["", "## Leaderboard", "", markdown_table(*table_cells(rows)), ""]
    if chart_name:
        parts += [f"![scores]({chart_name})", ""]
    parts += ["## Jobs", "", "| job | window | status | settings | session |", "|---|---|---|---|---|"]
    for job in sorted(state.jobs, key=lambda j: j.number):
        settings = ", ".join(f"{k}={json.dumps(v)}" for k, v in job.overrides.items()) or "-"
        parts.append(f"| {_md_escape(job.title or '?')} | {_md_escape(job.window or '-')} | "
                     f"{job.status} | {_md_escape(settings)} | {job.session_id or '-'} |")
    return "\n".join(parts) + "\n"


def write_chart(rows: list[LeaderRow], path: Path, title: str) -> Path | None:
    """A horizontal bar chart of macro-F1 (and per-class F1 beside it); None when no job has scores."""
    scored = [r for r in rows if r.score is not None]
    if not scored:
        return None
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    classes = class_names(scored)
    labels = [r.title for r in scored][::-1]
    height = max(2.5, 0.45 * len(scored) + 1.2)
    columns = 2 if classes else 1
    fig, axes = plt.subplots(1, columns, figsize=(6.5 * columns, height), squeeze=False)
    ax = axes[0][0]
    values = [r.score or 0.0 for r in scored][::-1]
    bars = ax.barh(labels, values, color="#4C72B0")
    for bar, value in zip(bars, values, strict=False):
        ax.text(bar.get_width() + 0.01, bar.get_y() + bar.get_height() / 2, f"{value:.3f}", va="center", fontsize=8)
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("macro-F1")
    ax.set_title(title)
    if classes:
        ax2 = axes[0][1]
        width = 0.8 / len(classes)
        positions = range(len(labels))
        for i, name in enumerate(classes):
            ax2.barh([p + i * width - 0.4 + width / 2 for p in positions],
                     [r.per_class.get(name, 0.0) for r in scored][::-1], height=width, label=name)
        ax2.set_yticks(list(positions))
        ax2.set_yticklabels(labels)
        ax2.set_xlim(0, 1.0)
        ax2.set_xlabel("F1 per class")
        ax2.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(state: SweepState, rows: list[LeaderRow], out_dir: Path) -> list[Path]:
    """`<out_dir>/<name>.md` and `<out_dir>/<name>_scores.png` (no PNG when nothing has finished yet)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = state.name or "sweep"
    top = best(rows)
    split = (top.split if top else None) or "test"
    chart = write_chart(rows, out_dir / f"{name}_scores.png", f"{name}: {split} macro-F1")
    md = out_dir / f"{name}.md"
    md.write_text(markdown(state, rows, chart.name if chart else None), encoding="utf-8")
    return [md] + ([chart] if chart else [])
