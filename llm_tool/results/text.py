"""Names from data files made safe for Markdown, YAML and HTML: no control characters, no markup, bounded."""

from __future__ import annotations

import html
import json
import unicodedata
from typing import Any

MARKDOWN_SPECIAL = "\\`*_[]|#!{}~"


def clean(value: Any, limit: int = 200) -> str:
    """``value`` as one line: control and format characters (newlines, escapes, bidi overrides) become spaces."""
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in str(value))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def md(value: Any, limit: int = 200) -> str:
    """Text for Markdown (table cells included): markup characters backslash-escaped, & < > as entities."""
    text = clean(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join("\\" + ch if ch in MARKDOWN_SPECIAL else ch for ch in text)


def yaml_str(value: Any, limit: int = 200) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(clean(value, limit), ensure_ascii=True)


def htm(value: Any, limit: int = 200) -> str:
    return html.escape(clean(value, limit), quote=True)


def number(value: Any, spec: str = ".4f") -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    return format(value, spec)


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else an empty one (sections of files written by others may be anything)."""
    return value if isinstance(value, dict) else {}
