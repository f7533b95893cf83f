"""Audit trail tools.

manage.py portal_social_audit verify
manage.py portal_social_audit export --since 2026-01-01 --until 2026-02-01 --format csv > audit.csv
"""

from __future__ import annotations

import csv
import datetime
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from portal_social.core import audit
from portal_social.core.models import AuditEvent

EXPORT_FIELDS = [*audit.HASHED_FIELDS, "prev_hash", "hash"]


def _moment(value: str, *, end: bool) -> datetime.datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"{value!r} is not a date (YYYY-MM-DD) or date-time (ISO 8601).")
        moment = datetime.datetime.combine(day, datetime.time.min)
        if end:
            moment += datetime.timedelta(days=1)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Verify the audit chain, or export audit events."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        sub.add_parser("verify", help="Recompute every hash; exit 1 naming the first broken event.")
        export = sub.add_parser("export", help="Write events to standard output.")
        export.add_argument("--since", help="From this date or date-time (inclusive).")
        export.add_argument("--until", help="Up to this date (inclusive) or date-time (exclusive).")
        export.add_argument("--format", choices=["csv", "jsonl"], default="csv")

    def handle(self, *args, command: str, **options):
        if command == "verify":
            return self._verify()
        return self._export(options.get("since"), options.get("until"), options["format"])

    def _verify(self):
        checked, problem = audit.verify_chain()
        if problem is not None:
            self.stderr.write(str(problem))
            sys.exit(1)
        self.stdout.write(f"audit chain intact: {checked} events verified")

    def _export(self, since, until, fmt):
        # Taking a copy of the trail is itself recorded.
        audit.record("audit.export", details={"since": since or "", "until": until or "", "format": fmt})
        events = AuditEvent.objects.order_by("sequence")
        if since:
            events = events.filter(occurred_at__gte=_moment(since, end=False))
        if until:
            events = events.filter(occurred_at__lt=_moment(until, end=True))
        rows = ({name: self._value(event, name) for name in EXPORT_FIELDS} for event in events.iterator(2000))
        if fmt == "jsonl":
            for row in rows:
                self.stdout.write(json.dumps(row, sort_keys=True))
            return
        writer = csv.DictWriter(self.stdout, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)

    @staticmethod
    def _value(event, name):
        value = getattr(event, name)
        if isinstance(value, datetime.datetime):
            return value.astimezone(datetime.UTC).isoformat()
        if isinstance(value, dict):
            return json.dumps(value, sort_keys=True)
        return "" if value is None else str(value)
