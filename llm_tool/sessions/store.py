"""The folder of session metadata files: create, read, locked update, newest-first listing, lookup."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from llm_tool import paths
from llm_tool.atomic import create_json_exclusive, file_lock, write_json_atomic
from llm_tool.errors import SessionError
from llm_tool.sessions.schema import SessionMetadata
from llm_tool.untrusted import read_json_file, shown

FILE_RE = re.compile(r"^training_metadata_(\d{8}_\d{6})(?:_(\d+))?\.json$")
ID_RE = re.compile(r"^train_(\d{8}_\d{6})(?:_(\d+))?$")


def session_id_for(path: Path) -> str:
    match = FILE_RE.match(path.name)
    if not match:
        raise SessionError(f"{path.name} is not a session file name (training_metadata_YYYYMMDD_HHMMSS.json)")
    suffix = f"_{match.group(2)}" if match.group(2) else ""
    return f"train_{match.group(1)}{suffix}"


@dataclass(frozen=True)
class SessionRef:
    """One entry of the history: its row number (1 = newest), file, and metadata or the reason it is unreadable."""

    number: int
    path: Path
    metadata: SessionMetadata | None
    error: str | None = None

    @property
    def session_id(self) -> str:
        return session_id_for(self.path)


class SessionStore:
    def __init__(self, root: Path | None = None) -> None:
        self.home = (root or paths.home()).resolve()
        self.dir = paths.sessions_dir(self.home)
        self.locks_dir = self.dir / ".locks"

    # ----- files and names -------------------------------------------------------------------
    def path_for_id(self, session_id: str) -> Path:
        match = ID_RE.match(session_id)
        if not match:
            raise SessionError(f"'{session_id}' is not a session id (train_YYYYMMDD_HHMMSS)")
        suffix = f"_{match.group(2)}" if match.group(2) else ""
        return self.dir / f"training_metadata_{match.group(1)}{suffix}.json"

    def log_path(self, session_id: str) -> Path:
        return self.dir / f"{session_id}.log"

    def lock_path(self, path: Path) -> Path:
        return self.locks_dir / f"{path.name}.lock"

    def run_lock_path(self, session_id: str) -> Path:
        """Held by the process training this session; free means nobody is training it."""
        return self.locks_dir / f"{session_id}.run.lock"

    def output_dirs(self, metadata: SessionMetadata) -> tuple[Path, Path]:
        """The session's model folder and checkpoints folder: models/<session_id>[/checkpoints], from its id alone.
        ``output_paths`` in the file are informative only: a session file never decides where the tool writes
        or deletes (the id itself comes from the file name, see ``read``)."""
        sid = metadata.session_id
        return paths.session_model_dir(sid, self.home), paths.session_checkpoints_dir(sid, self.home)

    def names_newest_first(self) -> list[str]:
        """Session file names sorted by the time in the name (then the _N suffix); no file is opened."""
        keyed = []
        try:
            with os.scandir(self.dir) as entries:
                for entry in entries:
                    match = FILE_RE.match(entry.name)
                    if match:
                        keyed.append(((match.group(1), int(match.group(2) or 1)), entry.name))
        except FileNotFoundError:
            return []
        except OSError as exc:  # e.g. a file where the folder should be
            raise SessionError(f"cannot list the sessions folder {shown(str(self.dir))}: {exc.strerror}; "
                               "move that file away") from None
        keyed.sort(reverse=True)
        return [name for _, name in keyed]

    def files_newest_first(self) -> list[Path]:
        """Session files sorted by the time in their name; no file is opened."""
        return [self.dir / name for name in self.names_newest_first()]

    # ----- create / read / update ------------------------------------------------------------
    def create(self, metadata: SessionMetadata, now: datetime | None = None,
               complete: Callable[[SessionMetadata], None] | None = None) -> Path:
        """Claim a new file name for this second (suffix _2, _3... when taken) and write ``metadata``; ``complete``
        fills in what depends on the new session id first (one write, and ``metadata`` is then what the file
        holds: the caller passes it down instead of reading the file again)."""
        now = now or datetime.now()
        stamp = now.strftime("%Y%m%d_%H%M%S")
        self.dir.mkdir(parents=True, exist_ok=True)
        for n in range(1, 10_000):
            suffix = "" if n == 1 else f"_{n}"
            path = self.dir / f"training_metadata_{stamp}{suffix}.json"
            if path.exists():
                continue
            info = metadata.training_session
            info.timestamp = stamp
            info.session_id = f"train_{stamp}{suffix}"
            if complete is not None:
                complete(metadata)
            if create_json_exclusive(path, metadata.to_dict()):
                return path
        raise SessionError(f"cannot create a session file in {self.dir}")

    def read_raw(self, path: Path) -> dict:
        """The JSON object of a session file: a regular file (a FIFO never hangs the listing), bounded in size
        and nesting depth; anything else is a SessionError, shown as an unreadable row."""
        if path.is_symlink() and not path.exists():
            raise SessionError(f"{shown(path.name)} is a link to a missing file: `llm-tool sessions delete` removes it")
        data = read_json_file(path, SessionError, what="session file")
        if not isinstance(data, dict):
            raise SessionError(f"{shown(path.name)} does not hold a JSON object")
        return data

    def read(self, path: Path) -> SessionMetadata:
        """The metadata of ``path``; its session id is the one its file name gives (the only trusted one:
        lock, log and model paths are built from it, so an id such as '../x' written inside cannot escape)."""
        data = self.read_raw(path)
        try:
            metadata = SessionMetadata.from_dict(data)
        except Exception as exc:  # noqa: BLE001 - a file of another tool or version: unreadable, never a crash
            reason = f"{type(exc).__name__}: {shown(str(exc))}"
            raise SessionError(f"{path.name} has unexpected content ({reason})") from None
        info = metadata.training_session
        if FILE_RE.match(path.name):
            sid = session_id_for(path)
            if info.session_id != sid:
                if info.session_id:
                    info.extra.setdefault("recorded_session_id", str(info.session_id)[:200])
                info.session_id = sid
        elif not (isinstance(info.session_id, str) and ID_RE.match(info.session_id)):
            raise SessionError(f"{path.name} is not a session file name and holds no valid session id")
        return metadata

    def write(self, path: Path, metadata: SessionMetadata) -> None:
        with file_lock(self.lock_path(path)):
            write_json_atomic(path, metadata.to_dict())

    def update(self, path: Path, change: Callable[[SessionMetadata], None]) -> SessionMetadata:
        """Read, change and write back under the file's lock, so two writers never lose an update."""
        with file_lock(self.lock_path(path)):
            metadata = self.read(path)
            change(metadata)
            write_json_atomic(path, metadata.to_dict())
        return metadata

    def delete(self, path: Path) -> None:
        with file_lock(self.lock_path(path)):
            path.unlink(missing_ok=True)
        self.lock_path(path).unlink(missing_ok=True)

    # ----- listing and lookup ----------------------------------------------------------------
    def iter_refs(self) -> Iterator[SessionRef]:
        """Every session newest first, each file parsed only when the caller gets to it."""
        for number, name in enumerate(self.names_newest_first(), start=1):
            path = self.dir / name  # a Path only for the files actually read
            try:
                yield SessionRef(number, path, self.read(path))
            except SessionError as exc:
                yield SessionRef(number, path, None, str(exc))

    def resolve(self, ref: str) -> Path:
        """A row number (1 = newest), a session id, a session name, or a metadata file path."""
        ref = ref.strip()
        if ref.isdigit():
            names = self.names_newest_first()
            index = int(ref)
            if not 1 <= index <= len(names):
                raise SessionError(f"no session #{ref}: there are {len(names)}; see `llm-tool sessions list`")
            return self.dir / names[index - 1]
        if ID_RE.match(ref):
            path = self.path_for_id(ref)
            if os.path.lexists(path):  # a dangling link too: it is listed, so it can be shown and deleted
                return path
            raise SessionError(f"no session '{ref}' in {self.dir}; see `llm-tool sessions list`")
        if FILE_RE.match(Path(ref).name) and os.path.lexists(self.dir / Path(ref).name):
            return self.dir / Path(ref).name
        matches = [r.path for r in self.iter_refs()
                   if r.metadata and r.metadata.training_session.session_name == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise SessionError(f"{len(matches)} sessions are named '{ref}': use the number or id instead")
        raise SessionError(f"no session '{ref}': give a number, an id (train_...) or a name from `sessions list`")
