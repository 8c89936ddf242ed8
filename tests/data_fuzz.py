"""A generated corpus of broken data files (every format and encoding the readers support): truncated, binary,
wrong magic, odd delimiters and quoting, huge fields, NUL bytes. Deterministic (seeded); used by
tests/test_data_fuzz.py and benchmarks/attack_r3_data.py."""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROWS = [("Great phone, works well", "positive"), ('He said "fine"; ok', "negative"), ("café naïve ß €", "positive"),
        ("multi\nline", "negative"), ("tab\tinside", "positive")]
TEXT_FORMATS = {"csv": ",", "tsv": "\t", "txt": ","}
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1252", "latin-1")
BIG = 10 * 2**20  # one 10 MiB field


def _delimited(sep: str) -> str:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in f'"\n{sep}') else value
    return "text" + sep + "label\n" + "".join(cell(t) + sep + cell(label) + "\n" for t, label in ROWS)


def _jsonl() -> str:
    return "".join(json.dumps({"text": t, "label": label}, ensure_ascii=False) + "\n" for t, label in ROWS)


def _json() -> str:
    return json.dumps([{"text": t, "label": label} for t, label in ROWS], ensure_ascii=False)


def _text_bases() -> dict[str, str]:
    return {**{fmt: _delimited(sep) for fmt, sep in TEXT_FORMATS.items()}, "jsonl": _jsonl(), "json": _json()}


def _encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, errors="replace")


def _mutations(raw: bytes, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    yield "whole", raw
    for label, cut in (("1", 1), ("2", 2), ("3", 3), ("_third", len(raw) // 3), ("_half", len(raw) // 2),
                       ("_last", len(raw) - 1)):  # named by place, not size (a workbook's size varies by run)
        yield f"truncated{label}", raw[:cut]
    spot = rng.randrange(len(raw))
    yield "nul", raw[:spot] + b"\x00" * 3 + raw[spot:]
    yield "flipped", bytes(b ^ 0xFF if rng.random() < 0.05 else b for b in raw)
    yield "garbage_tail", raw + bytes(rng.randrange(256) for _ in range(64))


def _odd_text(fmt: str) -> dict[str, str]:
    sep = TEXT_FORMATS.get(fmt, ",")
    big = "x" * BIG
    cases = {
        "empty": "", "newline_only": "\n\n\n", "header_only": f"text{sep}label\n", "bom_only": "\ufeff",
        "unbalanced_quote": f'text{sep}label\n"never closed{sep}a\nb{sep}c\n',
        "quote_in_field": f'text{sep}label\nab"c"d{sep}x\n"a""b{sep}y\n',
        "cr_only": f"text{sep}label\ra{sep}b\rc{sep}d\r", "mixed_newlines": f"text{sep}label\r\na{sep}b\nc{sep}d\r",
        "ragged": f"text{sep}label\na\nb{sep}c{sep}d{sep}e\n", "dup_header": f"text{sep}text\na{sep}b\n",
        "many_columns": sep.join(f"c{i}" for i in range(5000)) + "\n" + sep.join("v" * 5000) + "\n",
        "sniffer_bait": ',"' * 32000, "quote_storm": ("a,'b" * 16000) + "\n",
        "delims_mix": "text;label|x\tz\na;b|c\td\n", "only_quotes": '"' * 10001,
        "nul_late": "text,label\n" + "a,b\n" * 2000 + "c\x00d,e\n",
        "big_field": f"text{sep}label\n{big}{sep}a\n", "big_quoted_field": f'text{sep}label\n"{big}"{sep}a\n',
        "one_col_quoted_empty": 'text\n""\nabc\n', "controls": "text,label\n\x1b]0;x\x07,\u202e\n",
        "lone_surrogate_escape": 'text,label\n"\\ud800",a\n',
    }
    if fmt == "jsonl":
        cases.update({"array_line": "[1, 2]\n", "deep": '{"text": ' + "[" * 50000 + "]" * 50000 + "}\n",
                      "huge_int": '{"text": ' + "9" * 5000 + "}\n", "nan": '{"text": NaN}\n',
                      "big_string": json.dumps({"text": big, "label": "a"}) + "\n", "trailing": '{"a": 1} x\n'})
    if fmt == "json":
        cases.update({"scalar": "3", "list_of_lists": "[[1, 2]]", "deep": "[" * 100000 + "]" * 100000,
                      "uneven_columns": '{"text": ["a", "b"], "label": ["x"]}', "object_of_scalars": '{"a": 1}',
                      "huge_int": "[" + "9" * 5000 + "]", "big_string": json.dumps([{"text": big}]),
                      "empty_object": "{}", "nested_records": '[{"text": {"a": [1, {"b": 2}]}}]'})
    return cases


def _xlsx_bytes() -> bytes:
    import pandas

    buffer = io.BytesIO()
    pandas.DataFrame(ROWS, columns=["text", "label"]).to_excel(buffer, index=False)
    return buffer.getvalue()


def _parquet_bytes() -> bytes:
    import pandas

    buffer = io.BytesIO()
    pandas.DataFrame(ROWS, columns=["text", "label"]).to_parquet(buffer)
    return buffer.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _binary_cases(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    junk = bytes(rng.randrange(256) for _ in range(4096))
    xlsx, parquet = _xlsx_bytes(), _parquet_bytes()
    for ext in ("xlsx", "xlsm"):
        for name, raw in _mutations(xlsx, rng):
            yield f"{ext}_{name}.{ext}", raw
        yield f"{ext}_zip_of_junk.{ext}", _zip({"junk.bin": junk})
        yield f"{ext}_fake_parts.{ext}", _zip({"[Content_Types].xml": b"<x", "xl/workbook.xml": junk})
        yield f"{ext}_empty_zip.{ext}", _zip({})
        yield f"{ext}_pk_magic.{ext}", b"PK\x03\x04" + junk
        yield f"{ext}_random.{ext}", junk
        yield f"{ext}_csv_inside.{ext}", _delimited(",").encode()
    for name, raw in _mutations(parquet, rng):
        yield f"parquet_{name}.parquet", raw
    yield "parquet_magic_garbage.parquet", b"PAR1" + junk + b"PAR1"
    yield "parquet_footer_lies.parquet", b"PAR1" + junk + (2**31 - 1).to_bytes(4, "little") + b"PAR1"
    yield "parquet_random.pq", junk
    yield "parquet_empty.parquet", b""
    yield "xls_random.xls", junk
    yield "xls_xlsx_inside.xls", xlsx


def corpus(seed: int = 21) -> Iterator[tuple[str, bytes]]:
    """``(file name, content)`` pairs: the extension picks the reader."""
    rng = random.Random(seed)
    for fmt, base in _text_bases().items():
        for encoding in ENCODINGS:
            for name, raw in _mutations(_encode(base, encoding), rng):
                yield f"{fmt}_{encoding}_{name}.{fmt}", raw
        for name, text in _odd_text(fmt).items():
            yield f"{fmt}_{name}.{fmt}", text.encode("utf-8", errors="surrogatepass")
        for n in range(3):
            yield f"{fmt}_random{n}.{fmt}", bytes(rng.randrange(256) for _ in range(rng.choice((1, 64, 4096))))
    yield from _binary_cases(rng)


def run_corpus(folder: Path, read: Callable[[Path], object], expected: type[Exception]) -> list[dict[str, object]]:
    """Read every corpus file with ``read``; one row per file: name, outcome (ok/expected/escape), error, seconds."""
    import time

    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, content in corpus():
        path = folder / name
        path.write_bytes(content)
        started = time.monotonic()
        try:
            read(path)
            outcome, message = "ok", ""
        except expected as exc:
            outcome, message = "expected", str(exc)
        except Exception as exc:  # noqa: BLE001 - an escape is what the corpus looks for
            outcome, message = "escape", f"{type(exc).__name__}: {str(exc)[:200]}"
        rows.append({"name": name, "outcome": outcome, "error": message,
                     "seconds": round(time.monotonic() - started, 3)})
        path.unlink()
    return rows
