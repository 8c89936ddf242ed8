"""Read a data file into rows of columns: CSV/TSV (quote-safe), JSONL, JSON, Parquet, Excel."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llm_tool.errors import DatasetError, LlmToolError
from llm_tool.untrusted import parse_json, quoted, shown

EXTENSIONS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".json": "json", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
}
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))  # longest first: a UTF-32-LE mark starts like a UTF-16-LE one
SNIFF_CHARS = 4096  # csv.Sniffer's quote guess is quadratic: 64 KB of hostile quotes took over a minute
MAX_FIELD = 64 * 2**20  # one CSV field (a long text) of up to 64 MiB
MAX_DATA_DEPTH = 32  # a JSON data file is a list of flat records


@dataclass
class Table:
    """Rows as dicts, plus the 1-based line (or record) number of each row in its file."""

    columns: list[str]
    rows: list[dict[str, Any]]
    row_numbers: list[int]
    format: str
    details: dict[str, Any] = field(default_factory=dict)


def detect_format(path: Path, declared: str = "auto") -> str:
    if declared not in ("auto", "llm-json"):
        return declared
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise DatasetError(
            f"cannot tell the format of {shown(path.name)}: use .csv/.tsv/.jsonl/.json/.parquet/.xlsx "
            "or set dataset_config.format"
        )
    return fmt


def read_table(path: Path, *, fmt: str = "auto", encoding: str | None = None, delimiter: str | None = None,
               has_header: bool = True, sheet: str | int | None = None) -> Table:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DatasetError(f"data file not found: {shown(str(path))}") from None
    except OSError as exc:  # e.g. a name too long, a loop of links
        raise DatasetError(f"cannot open data file {shown(str(path))}: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise DatasetError(f"{shown(str(path))} is a folder: give a data file")
    if not stat.S_ISREG(info.st_mode):
        raise DatasetError(f"{shown(str(path))} is not a regular file (a pipe or device?): give a data file")
    fmt = detect_format(path, fmt)
    with reading(path, fmt):
        if fmt in ("csv", "tsv"):
            return _read_delimited(path, fmt, encoding, delimiter, has_header)
        if fmt == "jsonl":
            return _read_jsonl(path, encoding)
        if fmt == "json":
            return _read_json(path, encoding)
        if fmt == "parquet":
            return _from_frame(_pandas().read_parquet(path), "parquet")
        if fmt == "excel":
            return _from_frame(_pandas().read_excel(path, sheet_name=0 if sheet is None else sheet), "excel")
    raise DatasetError(f"unsupported format {quoted(fmt)}: use csv, tsv, jsonl, json, parquet or excel")


@contextlib.contextmanager
def reading(path: Path, fmt: str) -> Iterator[None]:
    """Whatever a reader (csv, json, pandas, pyarrow, openpyxl...) raises becomes one DatasetError naming the file
    and the format; our own errors pass unchanged. KeyboardInterrupt and SystemExit are not errors of the file."""
    name = shown(path.name)
    try:
        yield
    except LlmToolError:
        raise
    except PermissionError:
        raise DatasetError(f"cannot read {shown(str(path))}: permission denied") from None
    except MemoryError:
        raise DatasetError(f"{name} is too large to read as {fmt} in memory: split it or save it as CSV/JSONL") \
            from None
    except RecursionError:
        raise DatasetError(f"{name} nests too deeply to read as {fmt}: check the file") from None
    except Exception as exc:  # noqa: BLE001 - every other reader failure is a fault of the file, told in one line
        first = (str(exc).splitlines() or [""])[0].strip() or type(exc).__name__
        raise DatasetError(f"cannot read {name} as {fmt}: {shown(first, 120)}; check the file (or save it as "
                           "CSV/JSONL)") from None


def _check_unique(columns: list[str], source: str) -> None:
    """Two columns of one name: which one is the text or the label is ambiguous, so refuse (never pick one)."""
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise DatasetError(f"{shown(source)} has two columns named '{shown(name, 80)}': rename one of them")
        seen.add(name)


def _pandas() -> Any:
    import pandas

    return pandas


def _from_frame(frame: Any, fmt: str) -> Table:
    frame.columns = [str(c) for c in frame.columns]
    _check_unique(list(frame.columns), fmt)
    records = frame.to_dict(orient="records")
    return Table(list(frame.columns), records, list(range(2, len(records) + 2)), fmt)


def _candidates(raw: bytes, encoding: str | None) -> list[str]:
    """The encodings to try: the one asked for, else the one a byte-order mark names, else ENCODINGS."""
    if encoding:
        return [encoding]
    for bom, name in BOMS:
        if raw.startswith(bom):
            return [name]
    return list(ENCODINGS)


def _wide(name: str) -> bool:
    """UTF-16/32 text has NUL bytes in it; any other text with NULs is binary."""
    try:
        return codecs.lookup(name).name.startswith(("utf-16", "utf-32"))
    except LookupError:
        return False


def _decode(path: Path, encoding: str | None) -> tuple[str, str]:
    raw = path.read_bytes()
    candidates = _candidates(raw, encoding)
    if b"\x00" in raw[:4096] and not any(map(_wide, candidates)):
        raise DatasetError(f"{shown(path.name)} looks binary, not text: check the file or its format")
    for enc in candidates:
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise DatasetError(f"unknown encoding {quoted(encoding)}: use e.g. utf-8 or cp1252") from None
    raise DatasetError(f"{shown(path.name)} is not valid {shown(' or '.join(candidates))} text: "
                       "set dataset_config.encoding")


def _sniff_delimiter(text: str, fmt: str) -> str:
    if fmt == "tsv":
        return "\t"
    sample = text[:SNIFF_CHARS]
    if "\n" in sample.rstrip("\n"):
        sample = sample[:sample.rstrip("\n").rindex("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _parse(text: str, delimiter: str, quoting: Literal[0, 1, 2, 3], name: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    out = []
    start = 1
    limit = csv.field_size_limit(MAX_FIELD)
    try:
        for record in reader:
            out.append((start, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DatasetError(f"{shown(name)} line {start} cannot be read as CSV ({shown(str(exc), 120)}); "
                           "fix that line") from None
    finally:
        csv.field_size_limit(limit)
    return out


def _drop_blank(text: str, records: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """Records without a visible value, unless a quote on their line says the empty value is meant ('""' in a
    one-column file is an empty text, a row; an empty or spaces-only line is not)."""
    lines: list[str] | None = None
    kept = []
    for line, record in records:
        if not any(v.strip() for v in record):
            if not record:
                continue
            lines = lines if lines is not None else io.StringIO(text, newline="").readlines()
            if line > len(lines) or '"' not in lines[line - 1]:
                continue
        kept.append((line, record))
    return kept


def _merged_line(records: list[tuple[int, list[str]]], delimiter: str) -> int | None:
    """Line of the first quoted field that swallowed a line break plus a delimiter: an unbalanced quote."""
    for line, record in records:
        if any("\n" in value and delimiter in value for value in record):
            return line
    return None


def _read_delimited(path: Path, fmt: str, encoding: str | None, delimiter: str | None, has_header: bool) -> Table:
    text, used = _decode(path, encoding)
    delimiter = delimiter or _sniff_delimiter(text, fmt)
    records = _parse(text, delimiter, csv.QUOTE_MINIMAL, path.name)
    quoting = "minimal"
    merged = _merged_line(records, delimiter)
    if merged is not None:
        # An unbalanced quote merged lines. Without quote handling every line is one row: use that if
        # all lines then have the same number of fields; otherwise fail, naming the line.
        plain = _parse(text, delimiter, csv.QUOTE_NONE, path.name)
        widths = {len(r) for _, r in plain if r}
        if len(widths) != 1:
            raise DatasetError(
                f"{shown(path.name)} line {merged}: a quote (\") opens a field that runs over several lines; "
                "fix the quoting in the file (or save it as TSV/JSONL)"
            )
        records, quoting = plain, "none"
    records = _drop_blank(text, records)
    if not records:
        raise DatasetError(f"{shown(path.name)} is empty")
    if has_header:
        (_, header), body = records[0], records[1:]
        header = [h.strip() for h in header]
        _check_unique(header, path.name)
        if not body:
            raise DatasetError(f"{shown(path.name)} has a header line but no rows: add data rows below it")
    else:
        header = [f"column_{i + 1}" for i in range(len(records[0][1]))]
        body = records
    rows, numbers = [], []
    for line, record in body:
        if len(record) != len(header):
            raise DatasetError(
                f"{shown(path.name)} line {line}: expected {len(header)} fields, found {len(record)} "
                f"(delimiter {quoted(delimiter)}); fix that line or set dataset_config.delimiter"
            )
        rows.append(dict(zip(header, record, strict=False)))
        numbers.append(line)
    details = {"encoding_used": used, "delimiter_used": delimiter, "quoting_used": quoting}
    return Table(header, rows, numbers, fmt, details)


def _read_jsonl(path: Path, encoding: str | None) -> Table:
    text, used = _decode(path, encoding)
    rows, numbers, columns = [], [], {}
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{shown(path.name)} line {number} is not valid JSON ({exc.msg}); fix that line") \
                from None
        except (ValueError, RecursionError):
            raise DatasetError(f"{shown(path.name)} line {number} holds a value too large or too deeply nested to "
                               "read; fix that line") from None
        if not isinstance(record, dict):
            raise DatasetError(f"{path.name} line {number} is not a JSON object")
        rows.append(record)
        numbers.append(number)
        columns.update(dict.fromkeys(record))
    if not rows:
        raise DatasetError(f"{path.name} is empty")
    return Table(list(columns), rows, numbers, "jsonl", {"encoding_used": used})


def _read_json(path: Path, encoding: str | None) -> Table:
    text, used = _decode(path, encoding)
    data = parse_json(text, shown(path.name), DatasetError, what="data file", max_depth=MAX_DATA_DEPTH)
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) == 1:
            data = lists[0]
        elif all(isinstance(v, list) for v in data.values()) and data:  # column-oriented
            keys = list(data)
            data = [dict(zip(keys, values, strict=False)) for values in zip(*data.values(), strict=False)]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DatasetError(f"{path.name}: expected a list of objects (one per text)")
    if not data:
        raise DatasetError(f"{path.name} is empty")
    columns: dict[str, None] = {}
    for record in data:
        columns.update(dict.fromkeys(record))
    return Table(list(columns), data, list(range(1, len(data) + 1)), "json", {"encoding_used": used})
