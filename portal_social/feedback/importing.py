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

from typing import TextIO

from portal_social.core.csv_import import FIELD_SIZE_LIMIT, Report, RowError, import_rows
from portal_social.feedback.actions.integrations import IMPORT_COLUMNS, import_row


def import_cases(stream: TextIO, *, actor=None, dry_run: bool = False) -> Report:
    """Import every row of the CSV ``stream``; returns what happened, row by row."""

    def record(row: dict[str, str]) -> bool:
        _case, created = import_row(row, actor=actor, dry_run=dry_run)
        return created

    return import_rows(stream, IMPORT_COLUMNS, record, key_column="reference_external", dry_run=dry_run)


__all__ = ["FIELD_SIZE_LIMIT", "Report", "RowError", "import_cases"]
