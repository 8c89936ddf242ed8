"""Every file llm-tool writes for a user goes through here: never through a symbolic link, never onto an input
or into the home's logs/ and models/ (except a folder the tool owns), an existing file only with ``--force``,
written atomically (a temporary file in the same folder, fsync, then a rename)."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from llm_tool import paths
from llm_tool.errors import OutputError
from llm_tool.untrusted import shown

SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: a cell starting so runs as a formula
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True)
class Rules:
    """What a write may do: ``force`` replaces an existing file; ``inputs`` (files or folders the command reads)
    are never written over or into; ``owned`` is a folder inside logs/ or models/ this output may go to."""

    force: bool = False
    inputs: tuple[Path, ...] = ()
    owned: Path | None = None

    @classmethod
    def of(cls, force: bool = False, inputs: Iterable[Path | None] = (), owned: Path | None = None) -> Rules:
        return cls(force, tuple(Path(p) for p in inputs if p is not None), owned)


def spreadsheet_safe(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text a spreadsheet would run as a formula (=, +, -, @, tab, CR)."""
    if isinstance(value, str) and value.startswith(SPREADSHEET_TRIGGERS):
        return "'" + value
    return value


def check(path: Path, rules: Rules = Rules(), *, create: bool = False) -> None:
    """Refuse ``path`` now (before any slow work) for the reasons a write would; creates no folder."""
    with _folder(path.parent, rules, create=create) as (fd, _):
        _check_name(fd, path, rules)


def write_bytes(path: Path, data: bytes, rules: Rules = Rules()) -> Path:
    with _folder(path.parent, rules, create=True) as (fd, _):
        _check_name(fd, path, rules)
        _publish(fd, path, data, rules.force)
    return path


def write_text(path: Path, text: str, rules: Rules = Rules()) -> Path:
    return write_bytes(path, text.encode("utf-8"), rules)


def write_files(folder: Path, files: dict[str, bytes], rules: Rules = Rules()) -> list[Path]:
    """Write each ``name: content`` into ``folder``; every name is checked before the first one is written."""
    with _folder(folder, rules, create=True) as (fd, _):
        targets = [folder / name for name in files]
        for target in targets:
            _check_name(fd, target, rules)
        for target in targets:
            _publish(fd, target, files[target.name], rules.force)
    return targets


@contextlib.contextmanager
def open_text(path: Path, rules: Rules = Rules(), *, newline: str | None = None) -> Iterator[IO[str]]:
    """A text handle on a temporary file that becomes ``path`` when the block ends without an error."""
    with _folder(path.parent, rules, create=True) as (fd, _):
        _check_name(fd, path, rules)
        tmp = _temp_name(path)
        handle = os.fdopen(_create(fd, tmp, path), "w", encoding="utf-8", newline=newline)
        try:
            with handle:
                yield handle
                try:
                    handle.flush()
                    os.fsync(handle.fileno())
                except OSError as exc:  # e.g. the disk is full: the old file (if any) is untouched
                    raise OutputError(f"cannot write {shown(str(path))}: {exc.strerror}") from None
            _rename(fd, tmp, path, rules.force)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=fd)
            raise


# ----- the folder: opened once, its real place checked, missing parts created without following links ---------
@contextlib.contextmanager
def _folder(folder: Path, rules: Rules, *, create: bool) -> Iterator[tuple[int, Path]]:
    lexical = Path(os.path.abspath(folder))
    base, missing = lexical, list[str]()
    while not os.path.lexists(base) and base != base.parent:
        missing.insert(0, base.name)
        base = base.parent
    if missing and not create:
        real = Path(os.path.realpath(base)).joinpath(*missing)
        _check_place(real, folder, rules)
        fd = os.open(base, _DIR_FLAGS)  # nothing to write yet: the check of the place is enough
    else:
        fd = _open_dir(base, folder)
        try:
            for name in missing:
                fd = _make_child(fd, name, folder)
            real = _real_path(fd, lexical)
            _check_place(real, folder, rules)
        except BaseException:
            os.close(fd)
            raise
    try:
        yield fd, real
    finally:
        os.close(fd)


def _open_dir(base: Path, shown_as: Path) -> int:
    try:
        return os.open(base, _DIR_FLAGS)
    except NotADirectoryError:
        raise OutputError(f"cannot write into {shown(str(shown_as))}: {shown(str(base))} is a file, not a folder; "
                          "choose another place") from None
    except OSError as exc:
        raise OutputError(f"cannot write into {shown(str(shown_as))}: {exc.strerror}; choose another place") from None


def _make_child(parent: int, name: str, shown_as: Path) -> int:
    """Create the folder ``name`` in ``parent`` and open it without following a link put there meanwhile."""
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o777, dir_fd=parent)
        child = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=parent)
    except OSError as exc:
        raise OutputError(f"cannot create the folder {shown(str(shown_as))}: {exc.strerror}; choose another place") \
            from None
    finally:
        os.close(parent)
    return child


def _real_path(fd: int, fallback: Path) -> Path:
    with contextlib.suppress(OSError):
        return Path(os.readlink(f"/proc/self/fd/{fd}"))
    return Path(os.path.realpath(fallback))


def _check_place(real: Path, asked: Path, rules: Rules) -> None:
    """No output lands in the home's logs/ or models/ (but in ``rules.owned``), nor inside an input folder."""
    owned = Path(os.path.realpath(rules.owned)) if rules.owned is not None else None
    if owned is None or not real.is_relative_to(owned):
        for kept in (paths.sessions_dir().parent, paths.models_dir()):
            if real.is_relative_to(Path(os.path.realpath(kept))):
                raise OutputError(f"refusing to write into {shown(str(asked))}: it is inside {shown(str(kept))}, "
                                  "which llm-tool keeps for its sessions and models; choose another place")
    for item in rules.inputs:
        if os.path.isdir(item) and real.is_relative_to(Path(os.path.realpath(item))):
            raise OutputError(f"refusing to write into {shown(str(asked))}: it is inside {shown(str(item))}, "
                              "which this command reads; choose another place")


def _check_name(fd: int, path: Path, rules: Rules) -> None:
    name = shown(str(path))
    try:
        info = os.lstat(path.name, dir_fd=fd)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"cannot write {name}: {exc.strerror}; choose another file") from None
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise OutputError(f"refusing to write {name}: it is a symbolic link (llm-tool never writes through one); "
                          "remove it or choose another file")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise OutputError(f"refusing to write {name}: it exists and is not a regular file; choose another file")
    for item in rules.inputs:
        try:
            seen = os.stat(item)
        except OSError:
            continue
        if info is not None and (seen.st_dev, seen.st_ino) == (info.st_dev, info.st_ino):
            raise OutputError(f"refusing to write {name}: it is the input {shown(str(item))}; "
                              "choose another output file")
    if info is not None and not rules.force:
        raise OutputError(f"{name} already exists: pass --force to replace it, or choose another file")


# ----- the write itself ----------------------------------------------------------------------------------------
def _temp_name(path: Path) -> str:
    return f".{path.name[:100]}.{secrets.token_hex(4)}.tmp"


def _create(fd: int, tmp: str, path: Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(tmp, flags, 0o666, dir_fd=fd)  # the umask applies, as for any new file
    except OSError as exc:
        raise OutputError(f"cannot write {shown(str(path))}: {exc.strerror}; choose another place") from None


def _publish(fd: int, path: Path, data: bytes, force: bool) -> None:
    tmp = _temp_name(path)
    out = _create(fd, tmp, path)
    try:
        try:
            with os.fdopen(out, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:  # e.g. the disk is full: the old file (if any) is untouched
            raise OutputError(f"cannot write {shown(str(path))}: {exc.strerror}") from None
        _rename(fd, tmp, path, force)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=fd)
        raise


def _rename(fd: int, tmp: str, path: Path, force: bool) -> None:
    """Put ``tmp`` at ``path``: a hard link when nothing may be replaced (fails if the name was taken since the
    check), else a rename (which replaces a link put there meanwhile, never what it points to)."""
    try:
        if force:
            with contextlib.suppress(FileNotFoundError):
                old = os.stat(path.name, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISREG(old.st_mode):  # a replaced file keeps its permissions
                    os.chmod(tmp, stat.S_IMODE(old.st_mode), dir_fd=fd)
            os.replace(tmp, path.name, src_dir_fd=fd, dst_dir_fd=fd)
        else:
            try:
                os.link(tmp, path.name, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
            except FileExistsError:
                raise OutputError(f"{shown(str(path))} already exists: pass --force to replace it, or choose "
                                  "another file") from None
            except OSError:  # a file system without hard links: a rename (the name was free a moment ago)
                os.replace(tmp, path.name, src_dir_fd=fd, dst_dir_fd=fd)
            else:
                os.unlink(tmp, dir_fd=fd)
        with contextlib.suppress(OSError):
            os.fsync(fd)
    except OSError as exc:
        raise OutputError(f"cannot write {shown(str(path))}: {exc.strerror}") from None
