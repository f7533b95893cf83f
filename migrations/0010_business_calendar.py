"""Business calendars (weekly hours, time zone, public-holiday region) and their local closures."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

import portal_social.core.calendar.hours
import portal_social.core.calendar.schedule


class Migration(migrations.Migration):
    dependencies = [
        ("portal_social", "0009_hold_reason_codes"),
    ]

    operations = [
        migrations.CreateModel(
            name="BusinessCalendar",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                (
                    "slug",
                    models.SlugField(
                        help_text="How features refer to it.", max_length=100, unique=True, verbose_name="slug"
                    ),
                ),
                (
                    "time_zone",
                    models.CharField(
                        help_text="IANA name, such as America/New_York. Opening hours are local times in this zone.",
                        max_length=64,
                        validators=[portal_social.core.calendar.schedule.validate_time_zone],
                        verbose_name="time zone",
                    ),
                ),
                (
                    "country",
                    models.CharField(
                        blank=True,
                        help_text="Public holidays of this country are closed. Leave empty for no public holidays.",
                        max_length=3,
                        verbose_name="country",
                    ),
                ),
                (
                    "subdivision",
                    models.CharField(
                        blank=True,
                        help_text="State, province or region code, such as NY or ENG, for its public holidays too.",
                        max_length=10,
                        verbose_name="subdivision",
                    ),
                ),
                (
                    "monday",
                    models.CharField(
                        blank=True,
                        help_text="For example 08:00-12:00, 13:00-17:00. Leave empty when closed all day.",
                        max_length=100,
                        validators=[portal_social.core.calendar.hours.validate_day_hours],
                        verbose_name="Monday",
                    ),
                ),
                (
                    "tuesday",
                    models.CharField(
                        blank=True,
                        help_text="For example 08:00-12:00, 13:00-17:00. Leave empty when closed all day.",
                        max_length=100,
                        validators=[portal_social.core.calendar.hours.validate_day_hours],
                        verbose_name="Tuesday",
                    ),
                ),
                (
                    "wednesday",
                    models.CharField(
                        blank=True,
                        help_text="For example 08:00-12:00, 13:00-17:00. Leave empty when closed all day.",
                        max_length=100,
                        validators=[portal_social.core.calendar.hours.validate_day_hours],
                        verbose_name="Wednesday",
                    ),
                ),
                (
                    "thursday",
                    models.CharField(
                        blank=True,
                        help_text="For example 08:00-12:00, 13:00-17:00. Leave empty when closed all day.",
                        max_length=100,
                        validators=[portal_social.core.calendar.hours.validate_day_hours],
                        verbose_name="Thursday",
                    ),
                ),
                (
                    "friday",
                    models.CharField(
                        blank=True,
                        help_text="For example 08:00-12:00, 13:00-17:00. Leave empty when closed all day.",
                        max_length=100,
                        validators=[portal_social.core.calendar.hours.validate_day_hours],
                        verbose_name="Friday",
                    ),
                ),
                (
                    "saturday",
                    models.CharField(
                        blank=True,
                        help_text="For example 08:00-12:00, 13:00-17:00. Leave empty when closed all day.",
                        max_length=100,
                        validators=[portal_social.core.calendar.hours.validate_day_hours],
                        verbose_name="Saturday",
                    ),
                ),
                (
                    "sunday",
                    models.CharField(
                        blank=True,
                        help_text="For example 08:00-12:00, 13:00-17:00. Leave empty when closed all day.",
                        max_length=100,
                        validators=[portal_social.core.calendar.hours.validate_day_hours],
                        verbose_name="Sunday",
                    ),
                ),
            ],
            options={
                "verbose_name": "business calendar",
                "verbose_name_plural": "business calendars",
                "ordering": ("name",),
            },
        ),
        migrations.CreateModel(
            name="CalendarClosure",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("starts_on", models.DateField(verbose_name="first day")),
                (
                    "start_time",
                    models.TimeField(
                        blank=True,
                        help_text="Local time. Leave empty to close from the start of the day.",
                        null=True,
                        verbose_name="from",
                    ),
                ),
                ("ends_on", models.DateField(verbose_name="last day")),
                (
                    "end_time",
                    models.TimeField(
                        blank=True,
                        help_text="Local time. Leave empty to close to the end of the day.",
                        null=True,
                        verbose_name="until",
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        help_text="Shown to staff, for example 'Snowstorm'. No patient information.",
                        max_length=200,
                        verbose_name="reason",
                    ),
                ),
                (
                    "calendar",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="closures",
                        to="portal_social.businesscalendar",
                        verbose_name="calendar",
                    ),
                ),
            ],
            options={
                "verbose_name": "calendar closure",
                "verbose_name_plural": "calendar closures",
                "ordering": ("starts_on", "start_time"),
                "indexes": [models.Index(fields=["calendar", "ends_on"], name="portal_soc_closure_ends")],
            },
        ),
    ]
