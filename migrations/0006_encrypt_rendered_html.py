"""Encrypt every remaining column that holds user-written text: rendered review
comments, moderators' rejection notes, appeal and report reasons, PX responses
(source and HTML) and caregiver relationships.

The columns change type first (a ``varchar(300)`` cannot hold a token), then
the rows written before this migration are encrypted in place with raw SQL,
because the model field would try to decrypt them. Rows already encrypted are
skipped, so an interrupted run can be repeated. Unapplying decrypts them
again, so the code before this migration can read them.
"""

from django.db import migrations

import portal_social.core.crypto

#: (model, columns) encrypted by this migration.
ENCRYPTED = [
    ("review", ["comment_html", "rejection_reason"]),
    ("reviewresponse", ["body_source", "body_html"]),
    ("reviewappeal", ["reason"]),
    ("reviewreport", ["reason"]),
    ("caregiverrelation", ["relationship"]),
]

BATCH_SIZE = 500


def _rewrite(apps, schema_editor, convert, wanted) -> None:
    """Apply ``convert`` to each non-empty value for which ``wanted`` is true, in keyset batches."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for model_name, columns in ENCRYPTED:
        meta = apps.get_model("portal_social", model_name)._meta
        table, pk = quote(meta.db_table), quote(meta.pk.column)
        for column in map(quote, columns):
            last = None
            while True:
                after = f" AND {pk} > %s" if last is not None else ""
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''{after} ORDER BY {pk} LIMIT %s",  # noqa: S608
                        [last, BATCH_SIZE] if last is not None else [BATCH_SIZE],
                    )
                    rows = cursor.fetchall()
                    for key, value in rows:
                        if value and wanted(value):
                            cursor.execute(
                                f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                                [convert(value), key],
                            )
                if len(rows) < BATCH_SIZE:
                    break
                last = rows[-1][0]


def encrypt_existing_text(apps, schema_editor):
    from portal_social.core.crypto import TOKEN_PREFIX, encrypt_text

    _rewrite(apps, schema_editor, encrypt_text, lambda value: not value.startswith(TOKEN_PREFIX))


def decrypt_for_unapply(apps, schema_editor):
    from portal_social.core.crypto import TOKEN_PREFIX, decrypt_text

    _rewrite(apps, schema_editor, decrypt_text, lambda value: value.startswith(TOKEN_PREFIX))


class Migration(migrations.Migration):
    dependencies = [
        ("portal_social", "0005_encrypt_review_comments"),
    ]

    operations = [
        migrations.AlterField(
            model_name="caregiverrelation",
            name="relationship",
            field=portal_social.core.crypto.EncryptedTextField(
                blank=True,
                help_text="For example: daughter, spouse, legal guardian.",
                max_length=60,
                verbose_name="relationship",
            ),
        ),
        migrations.AlterField(
            model_name="review",
            name="comment_html",
            field=portal_social.core.crypto.EncryptedTextField(blank=True, editable=False),
        ),
        migrations.AlterField(
            model_name="review",
            name="rejection_reason",
            field=portal_social.core.crypto.EncryptedTextField(blank=True, max_length=300),
        ),
        migrations.AlterField(
            model_name="reviewappeal",
            name="reason",
            field=portal_social.core.crypto.EncryptedTextField(max_length=2000),
        ),
        migrations.AlterField(
            model_name="reviewreport",
            name="reason",
            field=portal_social.core.crypto.EncryptedTextField(max_length=300),
        ),
        migrations.AlterField(
            model_name="reviewresponse",
            name="body_html",
            field=portal_social.core.crypto.EncryptedTextField(editable=False),
        ),
        migrations.AlterField(
            model_name="reviewresponse",
            name="body_source",
            field=portal_social.core.crypto.EncryptedTextField(),
        ),
        migrations.RunPython(encrypt_existing_text, decrypt_for_unapply),
    ]
