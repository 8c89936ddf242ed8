from llm_tool.cli import main

raise SystemExit(main())
