"""Untrusted text and files: visible control characters, short values in messages, bounded JSON reads."""

from __future__ import annotations

import json
import os
import reprlib
import stat
from pathlib import Path
from typing import Any

from llm_tool.errors import UserError

MAX_JSON_BYTES = 5 * 2**20  # a session or config file is a few KB; 5 MiB leaves room for long notes
MAX_JSON_DEPTH = 64  # ours nest 4 levels; deeper is a broken or hostile file
VALUE_LIMIT = 200  # characters of one embedded value in a message
LINE_LIMIT = 1000  # characters of one message line

# Characters that move the cursor, retitle the window, write the clipboard, ring the bell or reorder text:
# C0 and C1 controls (ESC starts every ANSI/OSC sequence), DEL, bidi overrides, line/paragraph separators.
_FORMAT = {0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20 or 0x7F <= code <= 0x9F or code in _FORMAT:
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
    return char


def clean(text: Any, *, keep_newlines: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), so it cannot act on the terminal."""
    text = text if isinstance(text, str) else str(text)
    if text.isprintable() and not any(ord(c) in _FORMAT for c in text):
        return text
    if keep_newlines:
        return "\n".join("".join(map(_visible, line)) for line in text.split("\n"))
    return "".join(map(_visible, text))


def shorten(text: str, limit: int = VALUE_LIMIT) -> str:
    """``text`` cut in the middle to at most ``limit`` characters (the start and the end stay readable)."""
    if len(text) <= limit:
        return text
    keep = max(limit - 5, 2)
    return f"{text[:keep * 2 // 3]} ... {text[-(keep - keep * 2 // 3):]}"


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict = 3, VALUE_LIMIT, VALUE_LIMIT, 8, 8


def shown(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A value for a message: short, control characters visible (text as-is, other values as their repr)."""
    text = value if isinstance(value, str) else _REPR.repr(value)
    return shorten(clean(text), limit)


def quoted(value: Any, limit: int = VALUE_LIMIT) -> str:
    """Like ``shown`` but quoted the way ``{value!r}`` would be, without its size or depth."""
    return shorten(clean(_REPR.repr(value)), limit)


def open_regular(path: Path, error: type[UserError], *, max_bytes: int, what: str = "file") -> tuple[int, int]:
    """An open descriptor of ``path`` and its size, when it is a regular file (never a FIFO, device or folder:
    opened without blocking, checked after opening) of at most ``max_bytes``; the caller closes it."""
    name = shown(str(path))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise error(f"{what} not found: {name}") from None
    except OSError as exc:
        raise error(f"cannot read {what} {name}: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise error(f"{name} is not a regular file: a {what} must be a plain file")
    if info.st_size > max_bytes:
        os.close(fd)
        raise error(f"{name} is {_size(info.st_size)}: a {what} is at most {_size(max_bytes)}; this one is not a "
                    f"usable {what}")
    return fd, info.st_size


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.1f} MiB"


def check_regular(path: Path, error: type[UserError], *, max_bytes: int, what: str = "file") -> int:
    """The size of ``path`` when a library may open it: a regular file of at most ``max_bytes`` (``open_regular``).
    For files too large to read here (weights, an ONNX graph) before their path goes to the library."""
    fd, size = open_regular(path, error, max_bytes=max_bytes, what=what)
    os.close(fd)
    return size


def read_head(path: Path, error: type[UserError], *, limit: int, max_bytes: int, what: str = "file") -> bytes:
    """The first ``limit`` bytes of a regular file of at most ``max_bytes`` (e.g. a model card's front matter)."""
    fd, _ = open_regular(path, error, max_bytes=max_bytes, what=what)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit)


def read_bounded(path: Path, error: type[UserError], *, max_bytes: int = MAX_JSON_BYTES, what: str = "file") -> str:
    """The UTF-8 text of ``path``: a regular file (never a FIFO or device: no hang) of at most ``max_bytes``."""
    name = shown(str(path))
    fd, _ = open_regular(path, error, max_bytes=max_bytes, what=what)
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise error(f"{name} is over {max_bytes / 2**20:g} MiB: not a usable {what}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{name} is not UTF-8 text (byte {exc.start}): save the {what} as UTF-8") from None


def json_depth_exceeds(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``data`` nests deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: list[Any] = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(text: str, name: str, error: type[UserError], *, what: str = "file",
               max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON from an untrusted file: syntax errors, absurd nesting and huge numbers are one clear error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                    f"fix or replace the {what}") from None
    except RecursionError:
        data = None
        too_deep = True
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise error(f"{name} holds a value JSON cannot read ({shown(str(exc), 80)}): fix the {what}") from None
    else:
        too_deep = json_depth_exceeds(data, max_depth)
    if too_deep:
        raise error(f"{name} nests deeper than {max_depth} levels: not a usable {what}")
    return data


def read_json_file(path: Path, error: type[UserError], *, what: str = "file", max_bytes: int = MAX_JSON_BYTES) -> Any:
    """``read_bounded`` then ``parse_json``: the one way a JSON file written by someone else is read."""
    text = read_bounded(path, error, max_bytes=max_bytes, what=what)
    return parse_json(text, shown(path.name), error, what=what)
