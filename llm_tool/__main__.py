from llm_tool.cli import entry

raise SystemExit(entry())
