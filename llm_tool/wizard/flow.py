"""What every menu shares: the context (prompter, store), step sequencing with Back, and the error guard."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from llm_tool.errors import InteractiveSessionError, LlmToolError
from llm_tool.sessions.store import SessionStore
from llm_tool.ui.console import console, error
from llm_tool.wizard.prompts import Prompter
from llm_tool.wizard.questions import GoBack, Question

SKIPPED = object()  # a step returns this when it asked nothing, so that Back passes over it


@dataclass
class Context:
    prompter: Prompter = field(default_factory=Prompter)
    store: SessionStore = field(default_factory=SessionStore)
    debug: bool = False

    def ask(self, question: Question) -> Any:
        return self.prompter.ask(question)

    def show(self, *renderables: Any) -> None:
        console.print(*renderables)


Step = Callable[[Context, Any], Any]


def run_steps(ctx: Context, steps: Sequence[Step], state: Any) -> bool:
    """Run ``steps`` in order. Back (← or Ctrl+C) or a user error returns to the last step that asked something;
    Back from the first step leaves with False. True once every step is done."""
    asked: list[int] = []
    index = 0
    while index < len(steps):
        try:
            result = steps[index](ctx, state)
        except (GoBack, KeyboardInterrupt):
            if not asked:
                return False
            index = asked.pop()
            continue
        except InteractiveSessionError:
            raise
        except LlmToolError as exc:
            error(str(exc))
            if not asked:
                return False
            index = asked.pop()
            continue
        if result is not SKIPPED:
            asked.append(index)
        index += 1
    return True


def guarded(ctx: Context, action: Callable[[Context], Any]) -> None:
    """Run a menu action: Back, Ctrl+C and errors return to the menu; no traceback unless debugging."""
    try:
        action(ctx)
    except (GoBack, KeyboardInterrupt):
        console.print()
    except InteractiveSessionError:
        raise
    except LlmToolError as exc:
        error(str(exc))
    except Exception as exc:  # the studio must survive a bug in one action
        if ctx.debug:
            raise
        error(f"unexpected {type(exc).__name__}: {exc} (run `llm-tool --debug studio` for the traceback)")
