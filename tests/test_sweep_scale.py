"""At scale the control window re-parses only the session files that changed since its last refresh."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from llm_tool.sessions import SessionStore
from tests.helpers import fake_session


def test_the_session_cache_reads_a_file_again_only_when_it_changed(isolated_home: Path) -> None:
    from llm_tool.sweeps.summaries import SessionCache, session_outcome

    store = SessionStore(isolated_home)
    path = fake_session(store, datetime(2030, 1, 1, 9, 0), status="completed")
    cache = SessionCache()
    first = cache.read(store, path)
    assert cache.read(store, path) is first  # unchanged: not parsed again
    store.update(path, lambda meta: meta.execution_status.extra.update(note="changed"))  # atomic replace
    again = cache.read(store, path)
    assert again is not first and again.execution_status.extra["note"] == "changed"
    assert session_outcome(store, str(path), cache)[0] == "completed"
    path.unlink()
    assert session_outcome(store, str(path), cache) == (None, None)  # gone: unreadable, as without a cache
