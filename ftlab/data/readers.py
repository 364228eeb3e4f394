"""Rows out of files, folders and in-memory objects, with errors that point at the line.

Every reader returns plain dicts plus, for each row, where it came from
(``file.jsonl, line 7``; ``sheet.xlsx, Sheet1 row 4``), so later steps can
say which row they dropped or could not read.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftlab.errors import FtlabError

FILE_TYPES = (".json", ".jsonl", ".csv", ".tsv", ".xlsx", ".parquet", ".txt", ".md")
TEXT_FOLDER_SUFFIXES = (".txt", ".md")


@dataclass
class Rows:
    rows: list[dict]
    where: list[str]
    files: list[Path] = field(default_factory=list)
    label: str = "rows"


def read_rows(source: Any, encoding: str = "utf-8", sheet: str | None = None) -> Rows:
    """Rows from a path (file or folder of text files), a ``datasets.Dataset``, a DataFrame or a list of dicts."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            return _read_text_folder(path, encoding)
        if not path.is_file():
            raise FtlabError(f"{path}: file not found (looked in {Path.cwd()}).")
        return _read_file(path, encoding, sheet)
    if isinstance(source, list):
        bad = next((i for i, r in enumerate(source) if not isinstance(r, dict)), None)
        if bad is not None:
            raise FtlabError(f"row {bad + 1} of the list is a {type(source[bad]).__name__}, not a dict; "
                             "pass a list of dicts such as [{'question': ..., 'answer': ...}].")
        return Rows(list(source), [f"row {i + 1}" for i in range(len(source))])
    if type(source).__name__ == "DataFrame":
        return read_rows(source.to_dict("records"))
    if hasattr(source, "to_list") and hasattr(source, "column_names"):  # datasets.Dataset
        return read_rows(source.to_list())
    raise FtlabError(f"cannot read data from a {type(source).__name__}; pass a file path, a folder of .txt "
                     "files, a datasets.Dataset, a pandas DataFrame or a list of dicts.")


def _read_file(path: Path, encoding: str, sheet: str | None) -> Rows:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        rows, where = _read_excel(path, sheet)
    elif suffix == ".parquet":
        rows, where = _read_parquet(path)
    elif suffix in (".json", ".jsonl"):
        rows, where = _read_json(path, decode(path, encoding))
    elif suffix in (".csv", ".tsv"):
        rows, where = _read_delimited(path, decode(path, encoding), "\t" if suffix == ".tsv" else ",")
    elif suffix in TEXT_FOLDER_SUFFIXES:
        rows, where = [{"text": decode(path, encoding)}], [path.name]
    else:
        raise FtlabError(f"{path}: unsupported file type {path.suffix!r}; use one of {', '.join(FILE_TYPES)} "
                         "or a folder of .txt files.")
    return Rows(rows, where, [path], str(path))


def decode(path: Path, encoding: str = "utf-8") -> str:
    """The file's text; a wrong encoding is named with the byte and a likely right one."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as exc:
        guess = _guess_encoding(data)
        raise FtlabError(f"{path}: not {exc.encoding.upper().replace('-SIG', '')} (byte {exc.start}); re-save it "
                         f"as UTF-8, e.g. `iconv -f {guess} -t utf-8 {path.name} > fixed{path.suffix}`, or read "
                         f"it with encoding={guess!r} (`--encoding {guess}` on the command line).") from None
    except LookupError:
        raise FtlabError(f"{path}: unknown encoding {encoding!r}; try 'utf-8', 'cp1252' or 'latin-1'.") from None


def _guess_encoding(data: bytes) -> str:
    """UTF-16 when the file starts with its byte-order mark; else Windows-1252 if it decodes; else Latin-1."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"


def _read_json(path: Path, text: str) -> tuple[list[dict], list[str]]:
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")) and path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":  # "Extra data": a JSONL file named .json
                raise FtlabError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}, "
                                 f"column {exc.colno}).") from None
        else:
            if isinstance(data, dict):
                lists = [k for k, v in data.items() if isinstance(v, list)]
                if len(lists) != 1:
                    raise FtlabError(f"{path}: a JSON object with {len(lists)} lists in it; expected a list of "
                                     "rows, or an object holding exactly one list of rows (e.g. {\"data\": [...]}).")
                data = data[lists[0]]
            return _dict_rows(path, data, [f"{path.name}, item {i + 1}" for i in range(len(data))])
    rows, where = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise FtlabError(f"{path}, line {number}: not valid JSON ({exc.msg}, column {exc.colno}).") from None
        where.append(f"{path.name}, line {number}")
    return _dict_rows(path, rows, where)


def _dict_rows(path: Path, rows: list, where: list[str]) -> tuple[list[dict], list[str]]:
    for row, place in zip(rows, where):
        if not isinstance(row, dict):
            raise FtlabError(f"{place}: expected an object with named fields, got {type(row).__name__} "
                             f"{json.dumps(row)[:60]}.")
    return rows, where


def _read_delimited(path: Path, text: str, delimiter: str) -> tuple[list[dict], list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise FtlabError(f"{path}: empty file; expected a header row naming the columns.") from None
    header = [h.strip() for h in header]
    rows, where = [], []
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise FtlabError(f"{path}, line {line}: {len(cells)} cells but the header has {len(header)} "
                             f"({', '.join(header)}); quote cells that contain '{delimiter}'.")
        rows.append({name: (cells[i] if i < len(cells) else None) for i, name in enumerate(header) if name})
        where.append(f"{path.name}, line {line}")
    return rows, where


def _read_excel(path: Path, sheet: str | None) -> tuple[list[dict], list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise FtlabError(f"{path}: could not be opened as an Excel workbook ({exc}).") from None
    if sheet is not None and sheet not in book.sheetnames:
        raise FtlabError(f"{path}: no sheet {sheet!r}; the sheets are {', '.join(book.sheetnames)}.")
    ws = book[sheet] if sheet else book.worksheets[0]
    values = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(values, ())]
    rows, where = [], []
    for number, cells in enumerate(values, start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        rows.append({name: cells[i] for i, name in enumerate(header) if name and i < len(cells)})
        where.append(f"{path.name}, {ws.title} row {number}")
    book.close()
    return rows, where


def _read_parquet(path: Path) -> tuple[list[dict], list[str]]:
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as exc:
        raise FtlabError(f"{path}: could not be read as Parquet ({exc}).") from None
    return rows, [f"{path.name}, row {i + 1}" for i in range(len(rows))]


def _read_text_folder(path: Path, encoding: str) -> Rows:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_FOLDER_SUFFIXES)
    if not files:
        raise FtlabError(f"{path}: a folder with no .txt or .md files; put one document per text file in it.")
    rows = [{"text": decode(f, encoding), "id": str(f.relative_to(path))} for f in files]
    return Rows(rows, [str(f.relative_to(path)) for f in files], files, str(path))
