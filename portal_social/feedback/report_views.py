"""Feedback reports at ``/px/reports/``: brand health in one view, exports, and the tip sheet.

For staff holding ``view_feedback_reports`` (PX staff and risk managers),
behind the staff MFA gate. The page and the exports show counts only. The
tip sheet quotes anonymised example wording: every quote is screened under
the staff public-reply rules and what they find is removed, medical-risk
cases are never quoted, and opening the sheet is recorded as a PHI read.
"""

from __future__ import annotations

import csv
import io

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal_social.core import screening
from portal_social.feedback import charts, events, reports
from portal_social.feedback.models import Case, Category
from portal_social.feedback.view_access import reports_only
from portal_social.profiles import invitation_metrics

_T = "portal_social/feedback/px/"
EXAMPLES_PER_THEME = 3
EXAMPLE_MAX_CHARS = 300


@reports_only
def reports_page(request):
    """Volumes, SLA compliance, median times, recovery rates and themes for a period, with charts."""
    period = reports.period_from(request.GET)
    report = reports.build(period)
    channels = dict(Case.Channel.choices)
    keys = [key for key, _label in Case.Channel.choices if any(key in values for _day, values in report.series)]
    context = {
        "report": report,
        "period": period,
        "query": f"from={period.start.isoformat()}&to={period.end.isoformat()}&by={period.grouping}",
        "volume_chart": charts.stacked_columns(
            report.series,
            keys,
            {key: str(channels[key]) for key in keys},
            title=_("Cases received per %(unit)s, by channel") % {"unit": _(period.grouping)},
            ident="chart-volume",
        ),
        "category_chart": charts.bars(report.by_category, title=_("Cases by category"), ident="chart-categories"),
        "compliance": [
            (clock, reports.percent(pair), pair[1], report.medians.get(clock))
            for clock, pair in report.compliance.items()
        ],
        "rates": [
            (_("Offline take-up"), reports.percent(report.offline), report.offline[1]),
            (_("Review changed"), reports.percent(report.review_changed), report.review_changed[1]),
            (_("Recovery rate"), reports.percent(report.recovery), report.recovery[1]),
        ],
        "channel_labels": channels,
        "invitations": invitation_metrics.build(*period.bounds()),
    }
    return render(request, _T + "reports.html", context)


def _cell(value) -> object:
    """A spreadsheet cell that cannot start a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


@reports_only
def export(request, fmt: str):
    """The report's figures as CSV or XLSX (counts only)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404()
    period = reports.period_from(request.GET)
    rows = reports.rows_for_export(reports.build(period))
    rows += invitation_metrics.rows_for_export(invitation_metrics.build(*period.bounds()))
    name = f"feedback-report-{period.start.isoformat()}-{period.end.isoformat()}"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["section", "item", "value"])
        writer.writerows([[_cell(a), _cell(b), _cell(c)] for a, b, c in rows])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Report")
        sheet.append(["section", "item", "value"])
        for a, b, c in rows:
            sheet.append([_cell(a), _cell(b), _cell(c)])
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def anonymised(text: str) -> str | None:
    """``text`` with whatever the staff public-reply rules find removed, shortened; None when it cannot be shown."""
    result = screening.screen(text, destination="staff_public_reply")
    if any(getattr(f, "rendered", False) for f in result.findings):
        return None  # found only in the rendered text: no offsets to remove safely
    spans = [f for f in result.findings if f.end > f.start and f.kind in ("phi", "disclosure")]
    cleaned = screening.apply_redactions(text, spans, replace=lambda span: "[…]") if spans else text
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > EXAMPLE_MAX_CHARS:
        cleaned = cleaned[: EXAMPLE_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return cleaned or None


@reports_only
def tips(request):
    """A printable tip sheet for staff training: the top complaint themes, with anonymised example wording."""
    period = reports.period_from(request.GET)
    themes = reports.themes(period, limit=5)
    names = [name for name, _n, _before in themes]
    categories = {c.name: c.pk for c in Category.objects.filter(name__in=names)}
    start, end = period.bounds()
    sheet = []
    quoted = 0
    for name, count, before in themes:
        cases = (
            Case.objects.filter(
                categories=categories.get(name),
                received_at__gte=start,
                received_at__lt=end,
                medical_risk=False,
                past_experience=False,
                type__in=[Case.Type.COMPLAINT, Case.Type.GRIEVANCE],
            )
            .exclude(description_source="")
            .order_by("-received_at")
            .only("id", "description_source")[: EXAMPLES_PER_THEME * 3]
        )
        examples = []
        for case in cases:
            text = anonymised(case.description_source)
            if text:
                examples.append(text)
            if len(examples) == EXAMPLES_PER_THEME:
                break
        quoted += len(examples)
        sheet.append({"name": name, "count": count, "before": before, "examples": examples})
    if quoted:
        events.TIPS_READ.record(actor=request.user, request=request, details={"quotes": quoted, "themes": len(sheet)})
    return render(request, _T + "tips.html", {"period": period, "sheet": sheet})
