"""The Python API for notebooks and scripts: train, load and use sessions, launch sweeps; the CLI's core underneath.

Every call goes through the same core as the command line (config parsing, session creation, the launch and sweep
seams); errors are the CLI's exception classes (llm_tool.errors), never SystemExit, and nothing prints unless a
call is given ``verbose=True``.
"""

from llm_tool.api.session import Session, sessions, train
from llm_tool.api.sweep import Job, Sweep, launch_sweep

list_sessions = sessions  # the name `llm_tool` re-exports (llm_tool.sessions is the session store package)

__all__ = ["Job", "Session", "Sweep", "launch_sweep", "list_sessions", "sessions", "train"]
