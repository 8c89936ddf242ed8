"""Training sessions: the metadata JSON schema, its locked store, status transitions and liveness (Slurm queue too)."""

from llm_tool.sessions.schema import SCHEMA_VERSION, ExecutionStatus, SessionMetadata
from llm_tool.sessions.store import SessionRef, SessionStore

__all__ = ["SCHEMA_VERSION", "ExecutionStatus", "SessionMetadata", "SessionRef", "SessionStore"]
