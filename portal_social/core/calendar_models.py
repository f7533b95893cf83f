"""Business calendars kept in the database, and their local closures.

The arithmetic lives in ``portal_social.core.calendar``; these models only
hold what an administrator sets up in the Wagtail admin (under "Business
calendars"). A feature that needs no particular calendar uses the default
from ``PORTAL_SOCIAL_BUSINESS_CALENDAR`` and needs no row here.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal_social.core.calendar.hours import WEEKDAYS, parse_day, validate_day_hours
from portal_social.core.calendar.schedule import (
    Interval,
    Schedule,
    merge,
    validate_holiday_region,
    validate_time_zone,
    wall_time_instant,
)

_HOURS_HELP = _("For example 08:00-12:00, 13:00-17:00. Leave empty when closed all day.")


def _hours_field(label: str) -> models.CharField:
    return models.CharField(label, max_length=100, blank=True, validators=[validate_day_hours], help_text=_HOURS_HELP)


class BusinessCalendar(models.Model):
    """Opening hours, time zone and public holidays of one service (a "site").

    Features pick one by slug (an SLA policy, a messaging pool); each calendar
    also has its own local closures.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True, help_text=_("How features refer to it."))
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        validators=[validate_time_zone],
        help_text=_("IANA name, such as America/New_York. Opening hours are local times in this zone."),
    )
    country = models.CharField(
        _("country"),
        max_length=3,
        blank=True,
        help_text=_("Public holidays of this country are closed. Leave empty for no public holidays."),
    )
    subdivision = models.CharField(
        _("subdivision"),
        max_length=10,
        blank=True,
        help_text=_("State, province or region code, such as NY or ENG, for its public holidays too."),
    )
    monday = _hours_field(_("Monday"))
    tuesday = _hours_field(_("Tuesday"))
    wednesday = _hours_field(_("Wednesday"))
    thursday = _hours_field(_("Thursday"))
    friday = _hours_field(_("Friday"))
    saturday = _hours_field(_("Saturday"))
    sunday = _hours_field(_("Sunday"))

    DAY_FIELDS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

    class Meta:
        ordering = ("name",)
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        validate_holiday_region(self.country, self.subdivision)

    @property
    def weekly_hours(self) -> dict[str, str]:
        """Hours text keyed ``"mon"`` … ``"sun"``."""
        return {key: getattr(self, field) for key, field in zip(WEEKDAYS, self.DAY_FIELDS, strict=True)}

    def schedule(self, *, since: dt.datetime | None = None) -> Schedule:
        """This calendar ready for arithmetic, with its closures: one query.

        ``since`` leaves out closures that ended before it (a day of margin
        is kept for time zones). Prefetched ``closures`` are used as they are.
        """
        zone = zoneinfo.ZoneInfo(self.time_zone)
        if "closures" in getattr(self, "_prefetched_objects_cache", {}):
            closures = list(self.closures.all())
        else:
            rows = self.closures.all()
            if since is not None:
                rows = rows.filter(ends_on__gte=since.astimezone(zone).date() - dt.timedelta(days=1))
            closures = list(rows)
        return Schedule(
            name=self.name,
            slug=self.slug,
            time_zone=zone,
            hours=tuple(parse_day(getattr(self, field)) for field in self.DAY_FIELDS),
            country=self.country,
            subdivision=self.subdivision,
            closures=merge(closure.interval(zone) for closure in closures),
        )


class CalendarClosure(models.Model):
    """A local closure of one calendar: a snowstorm, a system cut-over, a staff day.

    Dates and times are local to the calendar's time zone. Without times a
    closure covers whole days, from the start of its first day to the end of
    its last. The reason is shown to staff; it must hold no patient
    information.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures", verbose_name=_("calendar")
    )
    starts_on = models.DateField(_("first day"))
    start_time = models.TimeField(
        _("from"), null=True, blank=True, help_text=_("Local time. Leave empty to close from the start of the day.")
    )
    ends_on = models.DateField(_("last day"))
    end_time = models.TimeField(
        _("until"), null=True, blank=True, help_text=_("Local time. Leave empty to close to the end of the day.")
    )
    reason = models.CharField(
        _("reason"), max_length=200, help_text=_("Shown to staff, for example 'Snowstorm'. No patient information.")
    )

    class Meta:
        ordering = ("starts_on", "start_time")
        verbose_name = _("calendar closure")
        verbose_name_plural = _("calendar closures")
        indexes = [models.Index(fields=["calendar", "ends_on"], name="portal_soc_closure_ends")]

    def __str__(self) -> str:
        if self.starts_on == self.ends_on:
            return f"{self.reason} ({self.starts_on:%Y-%m-%d})"
        return f"{self.reason} ({self.starts_on:%Y-%m-%d} to {self.ends_on:%Y-%m-%d})"

    def clean(self) -> None:
        super().clean()
        if self.starts_on and self.ends_on and self._local_bounds()[1] <= self._local_bounds()[0]:
            raise ValidationError({"ends_on": _("The closure must end after it starts.")})
        if self.reason:
            from portal_social.core import phi

            if phi.scan(self.reason):
                raise ValidationError(
                    {"reason": _("The reason looks like it holds patient information; describe the closure only.")}
                )

    def _local_bounds(self) -> tuple[tuple[dt.date, int], tuple[dt.date, int]]:
        start = (self.starts_on, self.start_time.hour * 60 + self.start_time.minute if self.start_time else 0)
        if self.end_time is None:
            end = (self.ends_on + dt.timedelta(days=1), 0)
        else:
            end = (self.ends_on, self.end_time.hour * 60 + self.end_time.minute)
        return start, end

    def interval(self, zone: zoneinfo.ZoneInfo) -> Interval:
        """The real-time interval (UTC) this closure covers in ``zone``."""
        (start_day, start_minutes), (end_day, end_minutes) = self._local_bounds()
        return wall_time_instant(start_day, start_minutes, zone), wall_time_instant(end_day, end_minutes, zone)


def _declare_text_fields() -> None:
    """Place both models' text fields in the register of user-written text (``core.user_text``)."""
    from portal_social.core import user_text

    configuration = "configuration written by portal administrators in the admin, validated; never patient text"
    for name in ("name", "slug", "time_zone", "country", "subdivision", *BusinessCalendar.DAY_FIELDS):
        user_text.not_user_written(BusinessCalendar, name, reason=configuration)
    user_text.not_user_written(
        CalendarClosure, "reason", reason=configuration + "; refused by CalendarClosure.clean when phi.scan finds PHI"
    )


_declare_text_fields()
