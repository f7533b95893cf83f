"""Reviews waiting for a moderator become items of the shared moderation queue.

Every review keeps its own status. What the review queue used to work out
when it was opened becomes a pending queue item:

* a held review: its hold reasons (codes and PHI kinds);
* a review under appeal: the open appeal, and any reports no moderator has
  decided since;
* a published review reported since its last moderation: those reports.

The weights are the queue's at the time of this migration, copied here so
that later changes to the table do not change what this migration writes.
"""

from decimal import Decimal

from django.db import migrations

WEIGHTS = {"phi": 5, "language": 3, "crisis": 10, "new_account": 1, "flag": 2, "appeal": 3}
REPORT_CATEGORIES = {"phi", "abusive", "not_about_care", "not_a_patient", "other"}
PERMISSION = "portal_social.moderate_reviews"


def _weight(code):
    return Decimal(WEIGHTS.get(code, 1))


def _undecided_reports(review):
    reports = list(review.reports.order_by("created_at", "pk"))
    if review.moderated_at is None:
        return reports
    return [report for report in reports if report.created_at > review.moderated_at]


def _report_reason(report):
    code = str(report.reason or "").partition(": ")[0]
    category = code if code in REPORT_CATEGORIES else "other"
    return ("flag", report.reporter_id, {"category": category, "report": str(report.pk)}, report.created_at)


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Review = apps.get_model("portal_social", "Review")
    ModerationItem = apps.get_model("portal_social", "ModerationItem")
    ModerationReason = apps.get_model("portal_social", "ModerationReason")
    review_type, _created = ContentType.objects.get_or_create(app_label="portal_social", model="review")

    for review in Review.objects.filter(status__in=["held", "appealed", "published"]).iterator():
        reasons = []  # (code, added_by_id, details, created_at)
        if review.status == "held":
            for held in review.hold_reasons or []:
                details = {"kinds": list(held["kinds"])} if held.get("kinds") else {}
                reasons.append((str(held.get("code") or "held"), None, details, review.created_at))
            if not reasons:
                reasons.append(("held", None, {}, review.created_at))
        elif review.status == "appealed":
            appeal = review.appeals.filter(resolved_at__isnull=True).order_by("created_at").first()
            if appeal is not None:
                reasons.append(("appeal", appeal.clinician_user_id, {"appeal": str(appeal.pk)}, appeal.created_at))
            reasons += [_report_reason(report) for report in _undecided_reports(review)]
        else:
            reasons += [_report_reason(report) for report in _undecided_reports(review)]
        if not reasons:
            continue
        if ModerationItem.objects.filter(target_type=review_type, target_id=str(review.pk), status="pending").exists():
            continue
        first = min(created for _code, _by, _details, created in reasons)
        item = ModerationItem.objects.create(
            kind="review",
            target_type=review_type,
            target_id=str(review.pk),
            status="pending",
            score=sum((_weight(code) for code, _by, _details, _created in reasons), Decimal(0)),
            reviewer_permission=PERMISSION,
            author_id=review.author_id,
            created_at=first,
            updated_at=first,
        )
        ModerationReason.objects.bulk_create(
            [
                ModerationReason(
                    item=item, code=code, weight=_weight(code), added_by_id=by, details=details, created_at=created
                )
                for code, by, details, created in reasons
            ]
        )


def backwards(apps, schema_editor):
    apps.get_model("portal_social", "ModerationItem").objects.filter(kind="review").delete()


class Migration(migrations.Migration):
    dependencies = [("portal_social", "0016_moderation_queue")]

    operations = [migrations.RunPython(forwards, backwards)]
