"""`llm-tool models [list]` and `llm-tool models add PATH|ID`: the pretrained models usable offline."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from llm_tool.ui.options import Commands


def register(commands: Commands) -> None:
    models = commands.add_parser(
        "models", help="pretrained models usable offline: list them, add a folder or download one",
        description="List the pretrained models that load without a connection (bundled, added, Hugging Face "
                    "cache), with their languages and sizes; add a local folder or download a hub model once.")
    models.add_argument("--json", action="store_true", help="print the list as JSON")
    sub = models.add_subparsers(dest="models_command", metavar="ACTION")
    p = sub.add_parser("list", help="models usable offline (the default)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("add", help="register a local model folder, or download a Hugging Face model (once)")
    p.add_argument("ref", help="a folder saved with save_pretrained (safetensors), or a hub id, e.g. xlm-roberta-base")
    p.add_argument("--name", help="the name to use in configs and the studio (default: folder name or the id)")
    p.add_argument("--language", action="append", default=[], metavar="CODE",
                   help="a language it was trained on (ISO code like en, fr; 'multilingual'); repeatable")
    p.set_defaults(func=cmd_add)
    models.set_defaults(func=cmd_list)


def cmd_list(args: argparse.Namespace) -> int:
    from llm_tool.catalog.registry import list_models

    entries = list_models()
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return 0
    from llm_tool.ui.console import console, info
    from llm_tool.ui.tables import models_table

    console.print(models_table(entries))
    info("add one: `llm-tool models add FOLDER` (a saved model) or `llm-tool models add HUB_ID` (downloads once)")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from llm_tool.catalog.known import describe_languages
    from llm_tool.catalog.registry import add_model
    from llm_tool.ui.console import console, safe, success

    with console.status(f"adding {safe(args.ref)}…"):
        entry = add_model(str(Path(args.ref)) if Path(args.ref).expanduser().is_dir() else args.ref,
                          name=args.name, languages=args.language)
    size = f"{entry.parameters / 1e6:.1f} M parameters" if entry.parameters else "size unknown"
    success(f"added {entry.name} ({describe_languages(entry.languages)}; {size}): use it as "
            f"model_config.selected_model = {entry.name!r} or pick it in the studio")
    return 0
