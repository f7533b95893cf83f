"""Move clinician star aggregates out of the page, into ``ClinicianRating``.

``rating_count`` and ``rating_average`` were fields of ``ClinicianPage``, so
every page revision carried them and publishing an older revision (as the
self-service approval workflow does) wrote the old values back. They now
live in a table of their own, one row per clinician page, which revisions
never touch.

The existing values are copied into the new table (one row for each page
that has ratings) before the page columns are removed; unapplying copies
them back. Old revisions still hold the two keys in their JSON: loading a
revision ignores keys that are no longer fields.
"""

import django.db.models.deletion
from django.db import migrations, models


def copy_to_summary(apps, schema_editor):
    ClinicianPage = apps.get_model("portal_social", "ClinicianPage")
    ClinicianRating = apps.get_model("portal_social", "ClinicianRating")
    db = schema_editor.connection.alias
    rows = (
        ClinicianPage.objects.using(db)
        .filter(models.Q(rating_count__gt=0) | models.Q(rating_average__isnull=False))
        .values_list("pk", "rating_count", "rating_average")
        .order_by("pk")
    )
    ClinicianRating.objects.using(db).bulk_create(
        [ClinicianRating(clinician_id=pk, count=count, average=average) for pk, count, average in rows],
        batch_size=500,
    )


def copy_to_page(apps, schema_editor):
    ClinicianPage = apps.get_model("portal_social", "ClinicianPage")
    ClinicianRating = apps.get_model("portal_social", "ClinicianRating")
    db = schema_editor.connection.alias
    for summary in ClinicianRating.objects.using(db).order_by("pk").iterator():
        ClinicianPage.objects.using(db).filter(pk=summary.clinician_id).update(
            rating_count=summary.count, rating_average=summary.average
        )


class Migration(migrations.Migration):
    dependencies = [
        ("portal_social", "0007_audit_keyed_chain"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClinicianRating",
            fields=[
                (
                    "clinician",
                    models.OneToOneField(
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="rating",
                        serialize=False,
                        to="portal_social.clinicianpage",
                    ),
                ),
                ("count", models.PositiveIntegerField(default=0, editable=False)),
                (
                    "average",
                    models.DecimalField(blank=True, decimal_places=2, editable=False, max_digits=3, null=True),
                ),
            ],
            options={
                "verbose_name": "clinician rating",
                "indexes": [models.Index(fields=["average"], name="portal_soc_rating_avg_idx")],
            },
        ),
        migrations.RunPython(copy_to_summary, copy_to_page),
        migrations.RemoveIndex(
            model_name="clinicianpage",
            name="portal_soci_rating__1c164d_idx",
        ),
        migrations.RemoveField(
            model_name="clinicianpage",
            name="rating_average",
        ),
        migrations.RemoveField(
            model_name="clinicianpage",
            name="rating_count",
        ),
    ]
