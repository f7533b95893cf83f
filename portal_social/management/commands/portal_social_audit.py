"""Audit trail tools.

manage.py portal_social_audit verify
manage.py portal_social_audit anchor
manage.py portal_social_audit reseal [--accept-derived-keys]
manage.py portal_social_audit export --since 2026-01-01 --until 2026-02-01 --format csv > audit.csv
"""

from __future__ import annotations

import csv
import datetime
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from portal_social.core import audit, audit_events
from portal_social.core.models import AuditEvent

EXPORT_FIELDS = [*audit.HASHED_FIELDS, "prev_hash", "hash", "key_id"]


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
    help = "Verify the audit chain, anchor its head outside the database, or export audit events."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        verify = sub.add_parser("verify", help="Walk the chain from the first event; exit 1 naming the first break.")
        verify.add_argument(
            "--no-anchor",
            action="store_true",
            help="Do not compare with the adapter's latest external anchor (latest_audit_anchor).",
        )
        sub.add_parser(
            "anchor",
            help="Hand the sealed chain head to the adapter's anchor_audit_head; exit 1 if the head does not verify.",
        )
        reseal = sub.add_parser(
            "reseal",
            help="Verify the chain, then re-sign every event under the first key (to retire an old key).",
        )
        reseal.add_argument(
            "--accept-derived-keys",
            action="store_true",
            help="Also accept keys derived from PORTAL_SOCIAL_ENCRYPTION_KEYS (moving to PORTAL_SOCIAL_AUDIT_KEYS).",
        )
        export = sub.add_parser("export", help="Write events to standard output.")
        export.add_argument("--since", help="From this date or date-time (inclusive).")
        export.add_argument("--until", help="Up to this date (inclusive) or date-time (exclusive).")
        export.add_argument("--format", choices=["csv", "jsonl"], default="csv")

    def handle(self, *args, command: str, **options):
        if command == "verify":
            return self._verify(check_anchor=not options.get("no_anchor"))
        if command == "anchor":
            return self._anchor()
        if command == "reseal":
            return self._reseal(accept_derived_keys=options.get("accept_derived_keys", False))
        return self._export(options.get("since"), options.get("until"), options["format"])

    def _verify(self, *, check_anchor: bool):
        # A missing trigger does not break the chain, but the database no
        # longer refuses edits (SQLite drops triggers when a table is rebuilt).
        if audit.database_guard_installed(connections[DEFAULT_DB_ALIAS]) is False:
            self.stderr.write(
                "warning: the database triggers that keep audit events append-only are missing or disabled; "
                "run portal_social.core.audit.install_database_guard (see the security documentation)."
            )
        checked, problem = audit.verify_chain(check_anchor=check_anchor)
        if problem is not None:
            self.stderr.write(str(problem))
            sys.exit(1)
        self.stdout.write(f"audit chain intact: {checked} events verified")

    def _anchor(self):
        try:
            sequence, head_hash = audit.anchor_head()
        except audit.ChainBroken as exc:
            self.stderr.write(f"not anchored: {exc}")
            sys.exit(1)
        self.stdout.write(f"audit chain head anchored: event {sequence}, hash {head_hash}")

    def _reseal(self, *, accept_derived_keys: bool):
        try:
            event = audit.reseal_chain(accept_derived_keys=accept_derived_keys)
        except audit.ChainBroken as exc:
            self.stderr.write(f"not re-sealed, nothing changed: {exc}")
            sys.exit(1)
        self.stdout.write(
            f"audit chain re-sealed: {event.details['events']} events now signed with key {event.key_id}; "
            "the new head was anchored"
        )

    def _export(self, since, until, fmt):
        # Taking a copy of the trail is itself recorded.
        audit_events.audit_log_exported(since=since or "", until=until or "", export_format=fmt)
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
