"""Importing rows from a CSV file, each row on its own, bad rows reported by line.

Features give the columns they know (name -> required) and a function that
records one row (returning whether it was new, raising ``ValidationError``
for a bad one); :func:`import_rows` does the rest: it checks the header,
reads the file row by row, skips blank lines and rows whose ``key_column``
appeared earlier in the same file, and reports each bad row by its line and
column. Reports name the line, the column and what is wrong, never a row's
values.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

#: The longest value a cell may hold.
FIELD_SIZE_LIMIT = 64 * 1024


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"{self.column}: " if self.column else ""
        return f"line {self.line}: {where}{self.message}"


@dataclass
class Report:
    dry_run: bool = False
    imported: int = 0
    duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: The file could not be read past this point (a header problem, broken CSV): nothing after it was looked at.
    stopped: str = ""

    def lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        out = [f"{verb} {self.imported}", f"duplicates skipped {self.duplicates}", f"errors {len(self.errors)}"]
        out += [str(error) for error in self.errors]
        if self.stopped:
            out.append(f"stopped: {self.stopped}")
        return out


def row_errors(line: int, error: ValidationError) -> list[RowError]:
    if hasattr(error, "error_dict"):
        return [
            RowError(line, "" if column == NON_FIELD_ERRORS else column, str(message))
            for column, messages in error.message_dict.items()
            for message in messages
        ]
    return [RowError(line, "", str(message)) for message in error.messages]


def header_problem(names: Iterable[str] | None, columns: Mapping[str, bool]) -> str:
    """Why the header row will not do, or ""."""
    if not names:
        return "the file is empty: the first line must name the columns"
    names = [name.strip() for name in names]
    unknown = sorted({name for name in names if name not in columns})
    if unknown:
        return f"unknown columns: {', '.join(unknown)} (known: {', '.join(columns)})"
    if len(set(names)) != len(names):
        return "a column is named twice"
    missing = [name for name, required in columns.items() if required and name not in names]
    if missing:
        return f"missing required columns: {', '.join(missing)}"
    return ""


def reading_error(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "the file is not UTF-8 text"
    return f"the CSV cannot be read ({error})"


def import_rows(
    stream: TextIO,
    columns: Mapping[str, bool],
    record: Callable[[dict[str, str]], bool],
    *,
    key_column: str = "",
    dry_run: bool = False,
) -> Report:
    """Call ``record(row)`` for every row of the CSV ``stream``; returns what happened, row by row.

    ``record`` returns True for a new row and False for one recorded before
    (a duplicate), and raises ``ValidationError`` for a bad one.
    """
    report = Report(dry_run=dry_run)
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as error:
        report.stopped = f"line 1: {reading_error(error)}"
        return report
    problem = header_problem(header, columns)
    if problem:
        report.stopped = f"line 1: {problem}"
        return report
    names = [name.strip() for name in header]
    seen: set[str] = set()
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except (csv.Error, UnicodeDecodeError) as error:
            report.stopped = f"line {start}: {reading_error(error)}"
            break
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(names):
            report.errors.append(RowError(line, "", f"{len(cells)} values for {len(names)} columns"))
            continue
        row = dict(zip(names, cells, strict=True))
        key = row.get(key_column, "").strip() if key_column else ""
        if key and key in seen:
            report.duplicates += 1
            continue
        try:
            created = record(row)
        except ValidationError as error:
            report.errors.extend(row_errors(line, error))
            continue
        if key:
            seen.add(key)
        if created:
            report.imported += 1
        else:
            report.duplicates += 1
    return report


def import_file(command, path: str, importer: Callable[[TextIO], Report], *, fail_on_row_errors: bool = True) -> Report:
    """For a management ``command``: open ``path`` as UTF-8 text (a byte-order mark dropped), hand it to
    ``importer``, write the report's lines, and fail (``CommandError``) when the file cannot be opened or
    read to the end, or (``fail_on_row_errors``) when any row was refused."""
    from django.core.management.base import CommandError

    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            report = importer(stream)
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror or error}") from None
    for line in report.lines():
        command.stdout.write(line)
    if report.stopped and not fail_on_row_errors:
        raise CommandError("the file could not be read to the end (see above)")
    if fail_on_row_errors and (report.errors or report.stopped):
        raise CommandError("some rows were not imported (see above)")
    return report
