"""Trust in the ONNX cache: a cache folder is used only when it is this user's own (owned by them, writable by
nobody else, made 0700), and a copy only when its files match the sha256 manifest its builder wrote.

The copy's key can be computed by anyone who has the same model files, so a copy found in the cache proves nothing
by itself: a planted 4-node graph once made `infer` answer 'positive 1.000' for 'awful, terrible'. The ownership
check keeps other users from planting; the manifest catches a copy damaged or swapped after it was built.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from llm_tool.errors import ModelError
from llm_tool.model_folder import LOADED_FILES, ONNX_MANIFEST_FILE
from llm_tool.untrusted import open_regular, read_json_file, shown

MAX_COPY_FILES = 64  # a copy is model.onnx and its external data file


class CacheRefused(ModelError):
    """The ONNX cache or a copy in it cannot be trusted: the message says why and what to do."""


def _problem(path: Path, info: os.stat_result, *, own: bool) -> str | None:
    """Why others could change ``path``: the cache's own folders and files (``own``) must be this user's and
    writable by no group or other; a folder above them only must not let anyone replace them (world-writable
    without the sticky bit: a group-writable home under a user-private group is fine)."""
    if own and info.st_uid != os.getuid():
        return f"{shown(str(path))} belongs to another user (uid {info.st_uid})"
    shared = stat.S_IWGRP | stat.S_IWOTH if own else stat.S_IWOTH
    if info.st_mode & shared and (own or not info.st_mode & stat.S_ISVTX):
        return f"{shown(str(path))} is writable by other users (mode {stat.filemode(info.st_mode)})"
    return None


def check_private(folder: Path) -> None:
    """Refuse ``folder`` (the cache root or a folder in it) unless it is a real folder owned by this user and
    writable by no one else, and no folder above it lets others replace it (writable by others, not sticky)."""
    try:
        info = os.lstat(folder)
    except OSError as exc:
        raise CacheRefused(f"cannot use the ONNX cache {shown(str(folder))}: {exc.strerror}") from None
    problem = None if stat.S_ISDIR(info.st_mode) else f"{shown(str(folder))} is not a folder"
    problem = problem or _problem(folder, info, own=True)
    for parent in folder.absolute().parents:
        if problem:
            break
        try:
            problem = _problem(parent, os.stat(parent), own=False)
        except OSError:
            continue
    if problem:
        raise CacheRefused(f"ONNX is off: the cache is not private ({problem}); `chmod 700` it, or set "
                           "LLM_TOOL_CACHE to a folder of your own")


def make_private(folder: Path, root: Path) -> None:
    """Create ``folder`` (inside ``root``) and the folders between, each 0700; then check each of them."""
    chain = [folder, *[p for p in folder.parents if p == root or root in p.parents]]
    try:
        root.parent.mkdir(parents=True, exist_ok=True)  # ~/.cache and above: the usual permissions
    except OSError as exc:
        raise CacheRefused(f"cannot write the ONNX cache {shown(str(root))} ({exc.strerror}); set LLM_TOOL_CACHE to "
                           "a writable folder") from None
    for part in reversed(chain):
        if not part.exists():
            try:
                part.mkdir(mode=0o700)
            except FileExistsError:
                pass
            except OSError as exc:
                raise CacheRefused(f"cannot write the ONNX cache {shown(str(part))} ({exc.strerror}); set "
                                   "LLM_TOOL_CACHE to a writable folder") from None
        check_private(part)


def file_sha256(path: Path) -> str:
    """The sha256 of a copy's file, read as a regular file only (no FIFO, device or link to one)."""
    fd, _ = open_regular(path, CacheRefused, max_bytes=LOADED_FILES[".data"], what="ONNX copy file")
    digest = hashlib.sha256()
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, recipe: str) -> None:
    """Record the sha256 of every file of a freshly built copy (in its staging folder, before it is published)."""
    import json

    files = {p.name: {"size": p.stat().st_size, "sha256": file_sha256(p)}
             for p in sorted(folder.iterdir()) if p.name != ONNX_MANIFEST_FILE}
    (folder / ONNX_MANIFEST_FILE).write_text(json.dumps({"recipe": recipe, "files": files}, indent=2))


def verify_copy(folder: Path, recipe: str) -> None:
    """Refuse a copy that is not exactly what its builder made: its folder private, every file regular, listed in
    the manifest and matching its sha256, none missing."""
    check_private(folder)
    manifest = folder / ONNX_MANIFEST_FILE
    where = shown(str(folder))
    fix = f"delete {where} (it is rebuilt), or use --backend torch"
    if not manifest.exists() and not manifest.is_symlink():
        raise CacheRefused(f"ONNX copy {where} has no {ONNX_MANIFEST_FILE} (its builder records every file's "
                           f"sha256): {fix}")
    data = read_json_file(manifest, CacheRefused, what="ONNX copy manifest", max_bytes=1 << 20)
    recorded = data.get("files") if isinstance(data, dict) else None
    if not isinstance(recorded, dict) or data.get("recipe") != recipe or len(recorded) > MAX_COPY_FILES:
        raise CacheRefused(f"ONNX copy {where}: its manifest is not one this llm-tool writes: {fix}")
    present = sorted(p.name for p in folder.iterdir() if p.name != ONNX_MANIFEST_FILE)
    if present != sorted(recorded):
        raise CacheRefused(f"ONNX copy {where} holds other files than its manifest lists: {fix}")
    for name, expected in recorded.items():
        info = os.lstat(folder / name)
        problem = _problem(folder / name, info, own=True)
        if problem:
            raise CacheRefused(f"ONNX copy {where} is not private ({problem}): {fix}")
        if not isinstance(expected, dict) or expected.get("size") != info.st_size or \
                file_sha256(folder / name) != expected.get("sha256"):
            raise CacheRefused(f"ONNX copy {where}: {shown(name)} does not match the sha256 recorded when it was "
                               f"built (changed or planted since): {fix}")
