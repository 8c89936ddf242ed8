"""Special, endless and hostile files planted where a model folder, registry or cache expects a plain file."""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path

# safetensors headers llm-tool must refuse in one line (the file is an 8-byte length, this JSON, then 64 bytes)
HEADERS = {"shape-not-int": {"w": {"dtype": "F32", "shape": ["7", 2], "data_offsets": [0, 56]}},
           "shape-deep": {"w": {"dtype": "F32", "shape": [1] * 40, "data_offsets": [0, 4]}},
           "shape-nested": {"w": {"dtype": "F32", "shape": [[[[[[1]]]]]], "data_offsets": [0, 4]}},
           "offsets-outside": {"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 10**12]}}}
SPECIAL = ["fifo", "dev-zero", "folder", "sparse"]  # not a plain file of a sane size
CORRUPT_JSON = '{"test": {"macro_f1": 0.9'


def plant(path: Path, kind: str) -> Path:
    """Put at ``path`` (replacing what is there) a FIFO, a link to /dev/zero, a folder, a 3 GB sparse file,
    truncated JSON ("corrupt") or a safetensors file with one of ``HEADERS``."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "folder":
        path.mkdir()
    elif kind == "sparse":
        with path.open("wb") as handle:
            handle.truncate(3 * 2**30)
    elif kind == "corrupt":
        path.write_text(CORRUPT_JSON, encoding="utf-8")
    elif kind in HEADERS:
        header = json.dumps(HEADERS[kind]).encode()
        path.write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 64)
    else:
        raise AssertionError(f"unknown kind {kind!r}")
    return path
