"""Issue 21 §5 attack cases: data files that used to end as `unexpected ...` exit 1 (or hang) inside the csv
module, pandas or openpyxl, read by `train --dry-run`, `infer --input` and `evaluate --data`. The files come from
the fuzz corpus of tests/data_fuzz.py (every one of its 533 files is read in tests/test_data_fuzz.py).

    python benchmarks/attack_round3.py --only 5-data
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from attack_r3_outputs import texts, with_model
from attack_round3 import CASES
from attack_run import ROOT, Case, Ctx

sys.path.insert(0, str(ROOT))
from tests.data_fuzz import corpus

SECTION = "5-data"
# corpus file -> exit codes allowed: 2 (a data error), or 0/2 for files that are readable (a dry run may still
# refuse them for too few rows)
PICKED = {
    "csv_big_field.csv": (0, 2), "tsv_big_quoted_field.tsv": (0, 2), "txt_big_field.txt": (0, 2),
    "csv_sniffer_bait.csv": (2,), "txt_quote_storm.txt": (2,), "csv_unbalanced_quote.csv": (2,),
    "csv_utf-8_nul.csv": (2,), "csv_nul_late.csv": (2,), "csv_utf-16_whole.csv": (0, 2),
    "jsonl_utf-32_whole.jsonl": (0, 2), "csv_utf-16_truncated3.csv": (2,), "csv_utf-16_truncated_half.csv": (0, 2),
    "json_deep.json": (2,), "jsonl_deep.jsonl": (2,), "json_huge_int.json": (2,),
    "xlsx_truncated_third.xlsx": (2,), "xlsx_nul.xlsx": (2,), "xlsx_zip_of_junk.xlsx": (2,),
    "xlsx_fake_parts.xlsx": (2,), "xlsx_pk_magic.xlsx": (2,), "xlsm_flipped.xlsm": (2,),
    "xlsx_csv_inside.xlsx": (2,), "parquet_magic_garbage.parquet": (2,), "parquet_footer_lies.parquet": (2,),
    "parquet_truncated3.parquet": (2,), "xls_random.xls": (2,), "json_random0.json": (2,),
}
FILES = {name: content for name, content in corpus() if name in PICKED}
assert len(FILES) == len(PICKED), sorted(set(PICKED) - set(FILES))


def _dry_run(name: str) -> Callable[[Ctx], list[str]]:
    def build(ctx: Ctx) -> list[str]:
        return ["train", str(ctx.config(ctx.text(name, FILES[name]))), "--dry-run"]
    return build


for _name, _expect in PICKED.items():  # a readable file is checked to the end (model too): slower than a refusal
    CASES.append(Case(f"dry_run_{_name}", SECTION, _dry_run(_name), _expect, timeout=20.0 if 0 not in _expect else 60))


def _infer(name: str) -> Callable[[Ctx], list[str]]:
    def build(ctx: Ctx) -> list[str]:
        _, model = with_model(ctx)
        return ["infer", "--model-dir", str(model), "--input", str(ctx.text(name, FILES[name])), "--output",
                str(ctx.root / "p.csv")]
    return build


def _evaluate(name: str) -> Callable[[Ctx], list[str]]:
    def build(ctx: Ctx) -> list[str]:
        with_model(ctx)
        texts(ctx)
        return ["evaluate", "1", "--data", str(ctx.text(name, FILES[name]))]
    return build


for _name in ("xlsx_zip_of_junk.xlsx", "xlsx_fake_parts.xlsx", "xlsx_pk_magic.xlsx", "csv_sniffer_bait.csv",
              "parquet_magic_garbage.parquet"):
    CASES.append(Case(f"infer_{_name}", SECTION, _infer(_name), (2,), timeout=20.0))
    CASES.append(Case(f"evaluate_{_name}", SECTION, _evaluate(_name), (2,), timeout=20.0))
