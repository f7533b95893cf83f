"""Care relationships in bulk from a CSV file: the EHR's attribution list of who may write to which pool.

Used by ``manage.py portal_social_messaging import-care-relationships`` and
the "Import care relationships" screen of the Wagtail admin. Columns:
``pool`` (the care-team pool's slug) and ``patient`` (the portal account's
username) are required; ``since`` (YYYY-MM-DD, not in the future; default
today) and ``status`` (``active``, the default, or ``ended``; any case) are
optional. An ``active`` row links the patient to the pool; an ``ended`` row
ends the link. A row that would change nothing (the link is there already,
or was never there) is a duplicate, and so is a later row for the same pool
and patient in the same file. Each row is checked and written on its own,
through ``messaging.actions.care`` (one transaction and one audit event per
change). Reports name the line and the column, never a value.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from django.core.exceptions import ValidationError
from django.utils import timezone

from portal_social.core.accounts import by_username
from portal_social.core.csv_import import Report, import_rows
from portal_social.messaging.actions.care import (
    add_care_relationship,
    care_relationship_problems,
    end_care_relationship,
)
from portal_social.messaging.models import CarePool, PoolPatient

if TYPE_CHECKING:
    from django.http import HttpRequest

COLUMNS = {"pool": True, "patient": True, "since": False, "status": False}
ACTIVE, ENDED = "active", "ended"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass
class CareReport(Report):
    """``Report`` with what the imported rows did: links added and links ended."""

    added: int = 0
    ended: int = 0

    @property
    def refused_rows(self) -> int:
        """Rows refused (a row may have a problem in several columns)."""
        return len({error.line for error in self.errors})

    def lines(self) -> list[str]:
        out = super().lines()
        verbs = ("would add", "would end") if self.dry_run else ("added", "ended")
        # After "imported N": how many of those rows added a link and how many ended one.
        out[1:1] = [f"{verbs[0]} {self.added}", f"{verbs[1]} {self.ended}"]
        return out


def _text(row: dict[str, str], column: str, limit: int) -> str:
    """The cell, stripped; "" for one too long to be real or holding a NUL (looked up, it finds nothing)."""
    value = (row.get(column) or "").strip()
    return value if len(value) <= limit and "\x00" not in value else ""


class _Pools:
    """Pools by slug, for one import (few, asked for on every row)."""

    def __init__(self):
        self.found: dict[str, CarePool | None] = {}

    def __call__(self, slug: str) -> CarePool | None:
        if not slug:
            return None
        if slug not in self.found:
            self.found[slug] = CarePool.objects.filter(slug=slug).first()
        return self.found[slug]


def clean_row(row: dict[str, str], *, today: datetime.date, pools: _Pools) -> dict:
    errors: dict[str, list[str]] = {}
    pool = pools(_text(row, "pool", CarePool._meta.get_field("slug").max_length))
    if pool is None:
        errors["pool"] = ["no care-team pool has this slug"]
    patient = by_username(row.get("patient") or "")
    if patient is None:
        errors["patient"] = ["no portal account has this username"]
    for column, messages in care_relationship_problems(pool, patient).items():
        errors.setdefault(column, messages)  # an inactive pool or account (unknown ones are reported above)
    since = today
    raw_since = (row.get("since") or "").strip()
    if raw_since:
        try:
            if not _DATE.fullmatch(raw_since):
                raise ValueError(raw_since)
            since = datetime.date.fromisoformat(raw_since)
        except ValueError:
            errors["since"] = ["not a date (YYYY-MM-DD)"]
        else:
            if since > today:
                errors["since"] = ["a care relationship cannot start in the future"]
    status = (row.get("status") or "").strip().lower() or ACTIVE
    if status not in (ACTIVE, ENDED):
        errors["status"] = ["must be active or ended"]
    if errors:
        raise ValidationError(errors)
    return {"pool": pool, "patient": patient, "since": since, "status": status}


def import_care_relationships(
    stream: TextIO, *, actor=None, request: HttpRequest | None = None, dry_run: bool = False
) -> CareReport:
    """Add and end care relationships from the CSV ``stream``; returns what happened, row by row.

    ``actor`` is who imports (None for a management command); each change is
    audited as theirs. A dry run checks every row and writes nothing.
    """
    today = timezone.localdate()
    pools = _Pools()
    seen: set[tuple] = set()
    done = {ACTIVE: 0, ENDED: 0}

    def record(row: dict[str, str]) -> bool:
        cleaned = clean_row(row, today=today, pools=pools)
        pool, patient, status = cleaned["pool"], cleaned["patient"], cleaned["status"]
        key = (pool.pk, patient.pk)
        if key in seen:  # the same pool and patient earlier in this file
            return False
        if dry_run:
            linked = PoolPatient.objects.filter(pool=pool, patient=patient).exists()
            changed = linked if status == ENDED else not linked
        elif status == ACTIVE:
            changed = (
                add_care_relationship(actor=actor, pool=pool, patient=patient, since=cleaned["since"], request=request)
                is not None
            )
        else:
            changed = end_care_relationship(actor=actor, pool=pool, patient=patient, request=request)
        seen.add(key)
        if changed:
            done[status] += 1
        return changed

    report = import_rows(stream, COLUMNS, record, dry_run=dry_run)
    return CareReport(
        dry_run=report.dry_run,
        imported=report.imported,
        duplicates=report.duplicates,
        errors=report.errors,
        stopped=report.stopped,
        added=done[ACTIVE],
        ended=done[ENDED],
    )
