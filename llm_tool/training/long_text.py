"""Texts longer than max_length: the strategy (truncate, head_tail, chunks; auto picks and says why), the token
windows of each text, and the mean of a text's window probabilities (every metric and prediction is per text)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from llm_tool.errors import ConfigError

STRATEGIES = ("truncate", "head_tail", "chunks")
HEAD_SHARE = 0.25  # head_tail keeps the first quarter and the last three quarters of the room (Sun et al. 2019:
# 128 + 382 of 510 tokens was best on IMDb and Sogou); the end of a review or speech holds its conclusion
LONG_SHARE = 0.05  # auto: texts are "long" when more than this share exceed max_length (the p95 is beyond it)
AUTO_LONG_CHOICE = "head_tail"  # auto's pick for long texts: see README "Long documents" for the measured evidence
EPSILON = 1e-7  # probabilities are clipped away from 0 and 1 before they go back to logits


@dataclass(frozen=True)
class LongText:
    """How a run encodes texts: the strategy, and for chunks the tokens consecutive windows share and the cap on
    windows per training text."""

    strategy: str = "truncate"
    stride: int = 0
    max_windows: int | None = None

    def record(self) -> dict[str, Any]:
        """What label_mapping.json keeps so that infer and evaluate encode texts the way training did."""
        out: dict[str, Any] = {"strategy": self.strategy}
        if self.strategy == "chunks":
            out["chunk_stride"] = self.stride
        if self.strategy == "head_tail":
            out["head_share"] = HEAD_SHARE
        return out


def default_stride(max_length: int) -> int:
    return max_length // 4


def check_stride(stride: int, max_length: int, room: int) -> None:
    """Consecutive windows must advance: the shared tokens stay below the room for text in a window."""
    if stride >= room:
        raise ConfigError(f"model_config.chunk_stride ({stride}) must be below max_length minus the special tokens "
                          f"({room} of {max_length}): lower chunk_stride (default max_length // 4) or raise max_length")


def choose(requested: str, share_long: float, max_length: int) -> tuple[str, str]:
    """The strategy a run uses and why: the requested one, or under auto ``truncate`` when the texts fit."""
    if requested != "auto":
        return requested, f"set in the config (long_text: {requested})"
    percent = round(100 * share_long, 1)
    if share_long <= LONG_SHARE:
        return "truncate", f"auto: {percent}% of texts exceed max_length {max_length} (at most {LONG_SHARE:.0%}): " \
                           "truncate"
    return AUTO_LONG_CHOICE, (f"auto: {percent}% of texts exceed max_length {max_length}: head_tail keeps the "
                              "start and the end at truncate's cost; at equal steps it matched chunks and beat "
                              "truncate on IMDb (benchmarks/bench_long_text.py; Sun et al. 2019), and chunks "
                              "costs a forward pass per window")


def share_longer(lengths: list[int], max_length: int) -> float:
    return sum(1 for n in lengths if n > max_length) / len(lengths) if lengths else 0.0


def edges(special_mask: list[int]) -> tuple[int, int]:
    """How many special tokens open and close an encoded single text ([CLS] … [SEP]: 1 and 1)."""
    lead = 0
    while lead < len(special_mask) and special_mask[lead]:
        lead += 1
    trail = 0
    while trail < len(special_mask) - lead and special_mask[-1 - trail]:
        trail += 1
    return lead, trail


def head_tail(ids: list[int], lead: int, trail: int, max_length: int) -> list[int]:
    """The opening special tokens, the first HEAD_SHARE of the room, the last tokens, the closing special tokens."""
    if len(ids) <= max_length:
        return ids
    room = max_length - lead - trail
    head = int(room * HEAD_SHARE)
    tail = room - head
    body = ids[lead:len(ids) - trail]
    return ids[:lead] + body[:head] + body[len(body) - tail:] + ids[len(ids) - trail:]


def window_starts(body_length: int, room: int, stride: int) -> list[int]:
    """Where each window's text starts: every ``room - stride`` tokens; the last window ends at the last token."""
    if body_length <= room:
        return [0]
    step = room - stride
    starts = list(range(0, body_length - room, step))
    starts.append(body_length - room)
    return starts


def evenly_spaced(count: int, cap: int | None) -> list[int]:
    """Which of ``count`` windows a training text keeps under the cap: evenly spaced, the first and last always."""
    if cap is None or count <= cap:
        return list(range(count))
    if cap == 1:
        return [0]
    return sorted({round(i * (count - 1) / (cap - 1)) for i in range(cap)})


def windows(ids: list[int], lead: int, trail: int, max_length: int, stride: int,
            cap: int | None = None) -> list[list[int]]:
    """The text's windows of at most max_length tokens, each with the special tokens, sharing ``stride`` tokens."""
    if len(ids) <= max_length:
        return [ids]
    room = max_length - lead - trail
    body = ids[lead:len(ids) - trail]
    starts = window_starts(len(body), room, stride)
    opening, closing = ids[:lead], ids[len(ids) - trail:]
    return [opening + body[starts[i]:starts[i] + room] + closing for i in evenly_spaced(len(starts), cap)]


@dataclass
class Encoded:
    """The rows a model sees: token ids per row, and the text (its position in the input) each row belongs to."""

    ids: list[list[int]]
    owner: list[int]
    windows_before_cap: int = 0


def encode(full: list[list[int]], masks: list[list[int]], max_length: int, plan: LongText) -> Encoded:
    """Each text (its full token ids with special tokens, and their special-token masks) as model rows."""
    ids: list[list[int]] = []
    owner: list[int] = []
    before = 0
    for position, (tokens, mask) in enumerate(zip(full, masks, strict=True)):
        lead, trail = edges(mask)
        if plan.strategy == "chunks":
            room = max_length - lead - trail
            check_stride(plan.stride, max_length, room)
            before += window_count(len(tokens), lead, trail, max_length, plan.stride)
            rows = windows(tokens, lead, trail, max_length, plan.stride, plan.max_windows)
        elif plan.strategy == "head_tail":
            rows = [head_tail(tokens, lead, trail, max_length)]
        else:  # the tokenizer's own truncation: the head, then the closing special tokens
            rows = [tokens[:max_length - trail] + tokens[len(tokens) - trail:] if len(tokens) > max_length
                    else tokens]
        before += 0 if plan.strategy == "chunks" else 1
        ids.extend(rows)
        owner.extend([position] * len(rows))
    return Encoded(ids, owner, before)


def window_count(length: int, lead: int, trail: int, max_length: int, stride: int) -> int:
    """How many windows a text of ``length`` tokens (special tokens included) has before any cap."""
    return len(window_starts(length - lead - trail, max_length - lead - trail, stride))  # one when it fits


def mean_probabilities(logits: np.ndarray, owner: list[int] | np.ndarray, texts: int, multi_label: bool) -> np.ndarray:
    """Each text's probabilities: the mean over its windows (softmax per window; multi-label: sigmoid per label)."""
    from llm_tool.results.metrics import probabilities

    probs = probabilities(np.asarray(logits), multi_label)
    index = np.asarray(owner, dtype=np.int64)
    sums = np.zeros((texts, probs.shape[1]), dtype=np.float64)
    np.add.at(sums, index, probs)
    counts = np.bincount(index, minlength=texts).astype(np.float64)
    return sums / np.maximum(counts, 1.0)[:, None]


def as_logits(probs: np.ndarray, multi_label: bool) -> np.ndarray:
    """Logits whose softmax (sigmoid) gives back ``probs``: so every report, threshold and prediction downstream
    reads a text's mean probabilities as it reads a model's output."""
    clipped = np.clip(probs, EPSILON, 1.0 - EPSILON)
    if multi_label:
        return np.log(clipped / (1.0 - clipped)).astype(np.float32)
    return np.log(clipped).astype(np.float32)


def per_text(logits: np.ndarray, labels: np.ndarray | None, owner: list[int] | np.ndarray, texts: int,
             multi_label: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Window outputs (and their labels, the text's own) folded into one row per text, in text order."""
    folded = as_logits(mean_probabilities(logits, owner, texts, multi_label), multi_label)
    if labels is None:
        return folded, None
    _, first = np.unique(np.asarray(owner, dtype=np.int64), return_index=True)  # each text's first window
    return folded, np.asarray(labels)[first]


def planned(requested: str, lengths: list[int], max_length: int, specials: int, stride: int | None,
            cap: int) -> tuple[LongText, str]:
    """The strategy for texts of ``lengths`` tokens (special tokens included) and why; chunks' stride checked."""
    strategy, why = choose(requested, share_longer(lengths, max_length), max_length)
    if strategy != "chunks":
        return LongText(strategy), why
    used = default_stride(max_length) if stride is None else stride
    check_stride(used, max_length, max_length - specials)
    return LongText("chunks", used, cap), why


def from_record(model_section: dict[str, Any], cap: int) -> LongText | None:
    """The strategy a run recorded (resume: the same rows again), or None before the analysis recorded one."""
    strategy = model_section.get("long_text_used")
    if strategy not in STRATEGIES:
        return None
    stride = model_section.get("chunk_stride_used")
    return LongText(strategy, int(stride) if isinstance(stride, int) else 0, cap if strategy == "chunks" else None)


def train_windows(lengths: list[int], max_length: int, specials: int, plan: LongText) -> dict[str, int]:
    """Rows of a training split under ``plan``: windows kept, windows before the cap, texts the cap thinned."""
    if plan.strategy != "chunks":
        return {"texts": len(lengths), "windows": len(lengths), "windows_before_cap": len(lengths), "texts_capped": 0}
    counts = [window_count(n, specials, 0, max_length, plan.stride) for n in lengths]
    cap = plan.max_windows
    kept = [min(c, cap) if cap else c for c in counts]
    return {"texts": len(lengths), "windows": sum(kept), "windows_before_cap": sum(counts),
            "texts_capped": sum(1 for c, k in zip(counts, kept, strict=True) if c > k)}


def from_mapping(value: Any, max_length: int) -> LongText:
    """The strategy a model folder's label_mapping.json records (absent: truncate); a ValueError names what is odd
    (the folder may come from someone else)."""
    if value is None:
        return LongText()
    strategy = value.get("strategy") if isinstance(value, dict) else None
    if strategy not in STRATEGIES:
        raise ValueError("long_text.strategy must be one of " + ", ".join(STRATEGIES))
    if strategy != "chunks":
        return LongText(strategy)
    stride = value.get("chunk_stride")
    if type(stride) is not int or not 0 <= stride < max_length - 2:
        raise ValueError(f"long_text.chunk_stride must be a whole number from 0 to {max_length - 3}")
    return LongText("chunks", stride)
