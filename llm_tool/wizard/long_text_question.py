"""Step 3's long-text question: how texts past the model's limit are read (auto, truncate, head_tail, chunks)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llm_tool.wizard.questions import Choice, Question, select

if TYPE_CHECKING:
    from llm_tool.wizard.draft import Draft
    from llm_tool.wizard.flow import Context

LONG_TEXT_CHOICES = (
    ("auto", "auto (recommended): truncate when the texts fit, else head_tail; the run records why"),
    ("truncate", "truncate: keep the first tokens (fastest; the end of a long text is never seen)"),
    ("head_tail", "head_tail: keep the first quarter and the last three quarters (as fast; keeps the conclusion)"),
    ("chunks", "chunks: overlapping windows, each trained with the text's label; a text's prediction is the mean "
               "of its windows' probabilities (every token seen; a forward pass per window)"),
)


def long_text_question(over: int, rows: int, limit: int, default: str) -> Question:
    choices = [Choice(title, value) for value, title in LONG_TEXT_CHOICES]
    return select("long_text", f"Step 3/8 · {over} of {rows} texts are longer than {limit} tokens: how should "
                               "long texts be read?", choices, default,
                  help="model_config.long_text (README: Long documents)")


def ask_long_text(ctx: Context, d: Draft) -> None:
    """Asked only when some texts exceed the model's limit; the answer goes to model_config.long_text."""
    assert d.analysis is not None
    over = int(d.analysis.get("texts_over_limit") or 0)
    if not over:
        d.long_text = None
        return
    d.long_text = ctx.ask(long_text_question(over, d.analysis["rows"], d.analysis["limit"], d.long_text or "auto"))
