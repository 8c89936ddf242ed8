"""A sweep or benchmark report: Markdown (leaderboard, jobs, settings) plus a PNG chart of the scores (± sd)."""

from __future__ import annotations

import json
from pathlib import Path

from llm_tool.sessions.lifecycle import now_iso
from llm_tool.sweeps.ranking import ConfigRow, best_config, grouping_note, score_text, table_cells
from llm_tool.sweeps.state import SweepState
from llm_tool.sweeps.summaries import counts, tally_text


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(header: list[str], cells: list[list[str]]) -> str:
    lines = ["| " + " | ".join(_md_escape(h) for h in header) + " |",
             "|" + "|".join("---:" if h in ("rank", "seeds", "McNemar p", "train time (s)", "samples/s")
                            or h.startswith(("F1 ", "macro-F1", "Δ"))
                            else "---" for h in header) + "|"]
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in cells]
    return "\n".join(lines)


METHOD = ("Each configuration's macro-F1 is the mean ± sample sd over its seeds (from each job's metrics.json). "
          "Δ to best is its mean macro-F1 minus the best's on the same test rows, with a 95% paired bootstrap "
          "interval (scipy.stats.bootstrap, 1000 resamples of the test rows; each resample scores every seed of "
          "both configurations and compares the seed means). A configuration whose interval contains 0 is **tied** "
          "with the best and shares rank 1. McNemar p compares the seed-averaged predictions with the best's "
          "(single-label only).")


def markdown(state: SweepState, configs: list[ConfigRow], chart_name: str | None) -> str:
    name = state.name or "?"
    kind = "Benchmark" if state.kind == "benchmark" else "Sweep"
    top = best_config(configs)
    parts = [f"# {kind} `{name}`", "",
             f"- created {state.created_at or '-'}, report written {now_iso()}",
             f"- {len(state.jobs)} jobs in {len(configs)} configurations: "
             + tally_text(counts(state.jobs)),
             f"- ranked by {'test' if not top or top.split == 'test' else 'validation'} macro-F1"]
    if top is not None:
        tied = [c.title for c in configs if c.tied]
        parts.append(f"- **best: {top.title}** ({top.model}) macro-F1 {score_text(top)}, session "
                     f"`{top.best_session_id}`" + (f"; tied with it: {', '.join(tied)}" if tied else ""))
    if state.parent_session is not None and state.parent_session.session_id:
        parts.append(f"- benchmark session `{state.parent_session.session_id}`")
    note = grouping_note(configs)
    parts += ["", "## Leaderboard", "", *([f"Note: {note}.", ""] if note else []),
              markdown_table(*table_cells(configs)), "", METHOD, ""]
    notes = [f"- {c.title}: {c.note}" for c in configs if c.note]
    if notes:
        parts += ["No interval for:", "", *notes, ""]
    if chart_name:
        parts += [f"![scores]({chart_name})", ""]
    parts += ["## Jobs", "", "| job | window | status | settings | session |", "|---|---|---|---|---|"]
    for job in sorted(state.jobs, key=lambda j: j.number):
        settings = ", ".join(f"{k}={json.dumps(v)}" for k, v in job.overrides.items()) or "-"
        parts.append(f"| {_md_escape(job.title or '?')} | {_md_escape(job.window or '-')} | "
                     f"{job.status} | {_md_escape(settings)} | {job.session_id or '-'} |")
    return "\n".join(parts) + "\n"


def write_chart(configs: list[ConfigRow], path: Path, title: str) -> Path | None:
    """Horizontal bars of mean macro-F1 with ± sd error bars (tied configurations hatched), and per-class F1 beside
    them; None when no job has scores."""
    scored = [c for c in configs if c.mean is not None]
    if not scored:
        return None
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    classes = list(dict.fromkeys(n for c in scored for n in c.per_class))
    labels = [c.title + (" (tied)" if c.tied else "") for c in scored][::-1]
    height = max(2.5, 0.45 * len(scored) + 1.2)
    columns = 2 if classes else 1
    fig, axes = plt.subplots(1, columns, figsize=(6.5 * columns, height), squeeze=False)
    ax = axes[0][0]
    values = [c.mean or 0.0 for c in scored][::-1]
    errors = [c.sd if c.sd and len(c.scores) > 1 else 0.0 for c in scored][::-1]
    colors = ["#55A868" if c.best or c.tied else "#4C72B0" for c in scored][::-1]
    bars = ax.barh(labels, values, xerr=errors, color=colors, capsize=3, ecolor="#333333")
    for bar, value, err in zip(bars, values, errors, strict=False):
        text = f"{value:.3f}" + (f" ± {err:.3f}" if err else "")
        ax.text(bar.get_width() + err + 0.01, bar.get_y() + bar.get_height() / 2, text, va="center", fontsize=8)
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("macro-F1 (mean ± sd over seeds; green: best and tied)")
    ax.set_title(title)
    if classes:
        ax2 = axes[0][1]
        width = 0.8 / len(classes)
        positions = range(len(labels))
        for i, name in enumerate(classes):
            ax2.barh([p + i * width - 0.4 + width / 2 for p in positions],
                     [c.per_class.get(name, 0.0) for c in scored][::-1], height=width, label=name)
        ax2.set_yticks(list(positions))
        ax2.set_yticklabels(labels)
        ax2.set_xlim(0, 1.0)
        ax2.set_xlabel("F1 per class (mean over seeds)")
        ax2.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    from llm_tool.results.plots import save_png

    save_png(fig, path, dpi=110)
    plt.close(fig)
    return path


def write_report(state: SweepState, configs: list[ConfigRow], out_dir: Path, *, force: bool = False) -> list[Path]:
    """`<out_dir>/<name>.md` and `<out_dir>/<name>_scores.png` (no PNG when nothing has finished yet), through
    llm_tool.outputs: never through a link or into logs/ or models/; existing files replaced only with ``force``."""
    import tempfile

    from llm_tool import outputs

    name = state.name or "sweep"
    top = best_config(configs)
    split = (top.split if top else None) or "test"
    with tempfile.TemporaryDirectory(prefix="llm-tool-sweep-report-") as scratch:
        chart = write_chart(configs, Path(scratch) / f"{name}_scores.png", f"{name}: {split} macro-F1")
        files = {f"{name}.md": markdown(state, configs, chart.name if chart else None).encode("utf-8")}
        if chart is not None:
            files[chart.name] = chart.read_bytes()
        return outputs.write_files(out_dir, files, outputs.Rules(force=force))
