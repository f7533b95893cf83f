"""Import historical feedback cases from a CSV file (``manage.py portal_social_feedback_import``).

The file has a header row naming its columns (``actions.integrations.IMPORT_COLUMNS``);
``received_at``, ``type`` and ``description`` are required. Each row is
checked and recorded on its own (``actions.integrations.import_row``): a bad
row is reported with its line number and the reason, and the other rows are
still imported. A row whose ``reference_external`` was imported before (or
appears earlier in the same file) is skipped as a duplicate. A dry run checks
every row and writes nothing.

Reports name the line, the column and what is wrong, never the row's words.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from portal_social.feedback.actions.integrations import IMPORT_COLUMNS, import_row

#: The longest value a cell may hold (a description is at most 5,000 characters).
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


def _errors(line: int, error: ValidationError) -> list[RowError]:
    if hasattr(error, "error_dict"):
        return [
            RowError(line, "" if column == NON_FIELD_ERRORS else column, str(message))
            for column, messages in error.message_dict.items()
            for message in messages
        ]
    return [RowError(line, "", str(message)) for message in error.messages]


def _header(names: Iterable[str] | None) -> str:
    """Why the header row will not do, or ""."""
    if not names:
        return "the file is empty: the first line must name the columns"
    names = [name.strip() for name in names]
    unknown = sorted({name for name in names if name not in IMPORT_COLUMNS})
    if unknown:
        return f"unknown columns: {', '.join(unknown)} (known: {', '.join(IMPORT_COLUMNS)})"
    if len(set(names)) != len(names):
        return "a column is named twice"
    missing = [name for name, required in IMPORT_COLUMNS.items() if required and name not in names]
    if missing:
        return f"missing required columns: {', '.join(missing)}"
    return ""


def import_cases(stream: TextIO, *, actor=None, dry_run: bool = False) -> Report:
    """Import every row of the CSV ``stream``; returns what happened, row by row."""
    report = Report(dry_run=dry_run)
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as error:
        report.stopped = f"line 1: {_reading_error(error)}"
        return report
    problem = _header(header)
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
            report.stopped = f"line {start}: {_reading_error(error)}"
            break
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if len(cells) != len(names):
            report.errors.append(RowError(line, "", f"{len(cells)} values for {len(names)} columns"))
            continue
        row = dict(zip(names, cells, strict=True))
        external_id = row.get("reference_external", "").strip()
        if external_id and external_id in seen:
            report.duplicates += 1
            continue
        try:
            case, created = import_row(row, actor=actor, dry_run=dry_run)
        except ValidationError as error:
            report.errors.extend(_errors(line, error))
            continue
        if external_id:
            seen.add(external_id)
        if created:
            report.imported += 1
        else:
            report.duplicates += 1
    return report


def _reading_error(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "the file is not UTF-8 text"
    return f"the CSV cannot be read ({error})"


__all__ = ["Report", "RowError", "import_cases"]
