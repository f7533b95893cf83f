"""Re-encrypt everything under the first key of PORTAL_SOCIAL_ENCRYPTION_KEYS.

Put the new key first, keep the old keys after it, run this command, then
remove the old keys. It works in batches, each in its own transaction, and
skips values already under the current key, so an interrupted run is resumed
by running it again.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from portal_social.core.crypto import EncryptedTextField, get_fernet, is_current, rotate_token


def encrypted_fields():
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            yield model, fields


class Command(BaseCommand):
    help = "Re-encrypt encrypted fields under the current key, in resumable batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        get_fernet()  # fails early, clearly, on missing or malformed keys
        total = 0
        for model, fields in encrypted_fields():
            columns = [f.column for f in fields]
            table = model._meta.db_table
            pk = model._meta.pk.column
            rotated = 0
            last = None
            while True:
                # Raw column values: the tokens, not the decrypted text.
                rows = self._batch(model, table, pk, columns, last, batch_size)
                if not rows:
                    break
                with transaction.atomic(using="default"):
                    for row in rows:
                        updates = {
                            field.attname: rotate_token(token)
                            for field, token in zip(fields, row[1:], strict=True)
                            if token and not is_current(token)
                        }
                        if updates:
                            self._write(table, pk, row[0], updates, fields)
                            rotated += 1
                last = rows[-1][0]
            total += rotated
            self.stdout.write(f"{model._meta.label}: {rotated} rows re-encrypted")
        mfa = self._rotate_mfa_secrets(batch_size)
        self.stdout.write(f"mfa.Authenticator: {mfa} rows re-encrypted")
        total += mfa
        self.stdout.write(self.style.SUCCESS(f"done: {total} rows re-encrypted"))

    @staticmethod
    def _rotate_mfa_secrets(batch_size: int) -> int:
        """TOTP and recovery-code seeds stored by PortalMFAAdapter ("fernet:" values)."""
        from allauth.mfa.models import Authenticator

        rotated = 0
        last = 0
        while True:
            batch = list(Authenticator.objects.filter(pk__gt=last).order_by("pk")[:batch_size])
            if not batch:
                return rotated
            with transaction.atomic():
                for authenticator in batch:
                    data = dict(authenticator.data or {})
                    changed = False
                    for key, value in data.items():
                        if isinstance(value, str) and value.startswith("fernet:") and not is_current(value):
                            data[key] = rotate_token(value)
                            changed = True
                    if changed:
                        Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
                        rotated += 1
            last = batch[-1].pk

    @staticmethod
    def _batch(model, table, pk, columns, last, size):
        from django.db import connection

        quote = connection.ops.quote_name
        select = ", ".join(quote(c) for c in [pk, *columns])
        where = f" WHERE {quote(pk)} > %s" if last is not None else ""
        sql = f"SELECT {select} FROM {quote(table)}{where} ORDER BY {quote(pk)} LIMIT %s"  # noqa: S608
        params = [last, size] if last is not None else [size]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    @staticmethod
    def _write(table, pk, pk_value, updates, fields):
        from django.db import connection

        quote = connection.ops.quote_name
        columns = {f.attname: f.column for f in fields}
        assignments = ", ".join(f"{quote(columns[name])} = %s" for name in updates)
        sql = f"UPDATE {quote(table)} SET {assignments} WHERE {quote(pk)} = %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [*updates.values(), pk_value])
