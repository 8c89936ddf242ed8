"""Cut a column of names so that what tells the rows apart stays visible: the part the rows share at the start
or end is what gives way first (``sweep_dims-lr2e-5_bs16`` / ``sweep_dims-lr3e-5_bs16`` -> ``…lr2e-5_bs16`` /
``…lr3e-5_bs16``), shown with '…' where something was removed."""

from __future__ import annotations

import os

PREFIX_BREAKS = "-_/. "  # a removed shared start ends after one of these, so words are not split
SUFFIX_BREAKS = "_/. "  # a removed shared end starts at one of these (`lr2e-5_bs16` keeps `lr2e-5`)
MARK = "…"


def shared_parts(values: list[str]) -> tuple[int, int]:
    """Lengths of the start and end every value shares, on word boundaries; (0, 0) when the values are all
    the same (nothing to tell apart) or fewer than two."""
    if len(set(values)) < 2:
        return 0, 0
    # character by character on purpose (these are names, not paths): word boundaries are found below
    prefix = len(os.path.commonprefix(values))  # noqa: RUF071
    suffix = len(os.path.commonprefix([v[::-1] for v in values]))  # noqa: RUF071
    suffix = min(suffix, min(len(v) for v in values) - prefix)
    sample = values[0]
    while prefix and sample[prefix - 1] not in PREFIX_BREAKS:
        prefix -= 1
    while suffix and sample[len(sample) - suffix] not in SUFFIX_BREAKS:
        suffix -= 1
    return prefix, suffix


def _core(value: str, prefix: int, suffix: int, keep_tail: bool) -> tuple[int, int]:
    """Where the distinguishing part of ``value`` starts and ends; ``keep_tail``: a path's last part stays
    whole (`sentence-transformers/all-MiniLM-L6-v2` -> `all-MiniLM-L6-v2`)."""
    start, end = prefix, len(value) - suffix
    if keep_tail:
        start, end = max(start, value.rfind("/") + 1), len(value)
    return (start, end) if start < end else (0, len(value))


def _shown(value: str, start: int, end: int) -> str:
    return (MARK if start > 0 else "") + value[start:end] + (MARK if end < len(value) else "")


def need(values: list[str], *, keep_tail: bool = False) -> int:
    """The width at which every value shows its distinguishing part whole."""
    prefix, suffix = shared_parts(values)
    widths = [len(v) if len(v) <= 6 else len(_shown(v, *_core(v, prefix, suffix, keep_tail))) for v in values]
    return max(widths, default=1)


def cut_all(values: list[str], width: int, *, keep_tail: bool = False) -> list[str]:
    """Each value at most ``width`` characters: whole when it fits; else its distinguishing part and as much
    around it as fits."""
    prefix, suffix = shared_parts(values)
    return [cut(v, width, *_core(v, prefix, suffix, keep_tail)) for v in values]


def cut(value: str, width: int, start: int = 0, end: int | None = None) -> str:
    """``value`` in ``width`` characters keeping ``value[start:end]`` (its start, when that alone is too long);
    room left goes to the rest of the value up to its end when all of it fits, then to what comes before."""
    n, width = len(value), max(1, width)
    if n <= width:
        return value
    end = n if end is None else end
    if not 0 <= start < end <= n:
        start, end = 0, n

    def size(a: int, b: int) -> int:
        return (a > 0) + (b - a) + (b < n)

    if size(start, end) > width:
        lead = 1 if start > 0 else 0
        if width <= lead + 1:
            return value[start:start + width]
        return (MARK if lead else "") + value[start:start + width - lead - 1] + MARK
    if size(start, n) <= width:
        end = n
    while start > 0 and size(start - 1, end) <= width:
        start -= 1
    while end < n and size(start, end + 1) <= width:
        end += 1
    return _shown(value, start, end)
