"""Fill the ``Visit`` table from a CSV file (``manage.py portal_social_review_invitations import``).

Columns: ``encounter_id``, ``patient`` (the portal account's username),
``clinician_npi``, ``visit_date`` (YYYY-MM-DD) are required; ``site`` and
``service_line`` are optional. Each row is checked and recorded on its own; a
row whose encounter was imported before (or appears earlier in the file) is
a duplicate, skipped. Reports name the line and the column, never a value.
"""

from __future__ import annotations

import datetime
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal_social.core.accounts import by_username
from portal_social.core.csv_import import Report, import_rows
from portal_social.profiles.actions.invitations import clean_encounter_id, encounter_digests
from portal_social.profiles.invitation_models import Visit
from portal_social.profiles.npi import validate_npi

COLUMNS = {
    "encounter_id": True,
    "patient": True,
    "clinician_npi": True,
    "visit_date": True,
    "site": False,
    "service_line": False,
}


def clean_row(row: dict[str, str], *, today: datetime.date) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    try:
        cleaned["encounter_id"] = clean_encounter_id(row.get("encounter_id"))
    except ValidationError as error:
        errors["encounter_id"] = error.messages
    patient = by_username(row.get("patient", ""))
    if patient is None:
        errors["patient"] = ["no portal account has this username"]
    cleaned["patient"] = patient
    npi = row.get("clinician_npi", "").strip()
    try:
        validate_npi(npi)
    except ValidationError:
        errors["clinician_npi"] = ["not a valid 10-digit NPI"]
    cleaned["clinician_npi"] = npi
    try:
        visit_date = datetime.date.fromisoformat(row.get("visit_date", "").strip())
    except ValueError:
        errors["visit_date"] = ["not a date (YYYY-MM-DD)"]
    else:
        if visit_date > today:
            errors["visit_date"] = ["a completed visit cannot be in the future"]
        cleaned["visit_date"] = visit_date
    site, service_line = row.get("site", "").strip(), row.get("service_line", "").strip()
    if len(site) > 150:
        errors["site"] = ["at most 150 characters"]
    if len(service_line) > 150:
        errors["service_line"] = ["at most 150 characters"]
    cleaned.update(site=site, service_line=service_line)
    if errors:
        raise ValidationError(errors)
    return cleaned


def record_visit(cleaned: dict, *, dry_run: bool = False) -> bool:
    """Store one visit; False when its encounter is already in the table."""
    digests = encounter_digests(cleaned["encounter_id"])
    if Visit.objects.filter(encounter_digest__in=digests).exists():
        return False
    if dry_run:
        return True
    try:
        with transaction.atomic():
            Visit.objects.create(encounter_digest=digests[0], recorded_at=timezone.now(), **cleaned)
    except IntegrityError:
        return False
    return True


def import_visits(stream: TextIO, *, dry_run: bool = False) -> Report:
    today = timezone.localdate()

    def record(row: dict[str, str]) -> bool:
        return record_visit(clean_row(row, today=today), dry_run=dry_run)

    return import_rows(stream, COLUMNS, record, key_column="encounter_id", dry_run=dry_run)
