"""Training sessions: the metadata JSON schema, its atomic locked store, and the status lifecycle (Slurm queue too)."""

from llm_tool.sessions.schema import SCHEMA_VERSION, ExecutionStatus, SessionMetadata
from llm_tool.sessions.store import SessionRef, SessionStore

__all__ = ["SCHEMA_VERSION", "ExecutionStatus", "SessionMetadata", "SessionRef", "SessionStore"]
