"""Review hold reasons are stored as codes and PHI kinds; the sentences are worded when shown.

Earlier rows carried the sentence written in the author's language at the
time (``"message"``). This strips it, keeping ``code`` and ``kinds``, so
every reader sees the reason in their own language. Reversing is a no-op:
the sentences are derived from the codes and are never needed again.
"""

from django.db import migrations


def _codes_only(reason):
    if not isinstance(reason, dict):
        return reason
    stored = {"code": str(reason.get("code") or "")}
    if "kinds" in reason:
        stored["kinds"] = [str(kind) for kind in reason.get("kinds") or ()]
    return stored


def strip_hold_reason_sentences(apps, schema_editor):
    Review = apps.get_model("portal_social", "Review")
    changed = []
    for review in Review.objects.exclude(hold_reasons=[]).only("pk", "hold_reasons").iterator(chunk_size=500):
        reasons = review.hold_reasons if isinstance(review.hold_reasons, list) else []
        stripped = [_codes_only(reason) for reason in reasons]
        if stripped != review.hold_reasons:
            review.hold_reasons = stripped
            changed.append(review)
        if len(changed) >= 500:
            Review.objects.bulk_update(changed, ["hold_reasons"])
            changed = []
    if changed:
        Review.objects.bulk_update(changed, ["hold_reasons"])


class Migration(migrations.Migration):
    dependencies = [
        ("portal_social", "0008_rating_summary"),
    ]

    operations = [
        migrations.RunPython(strip_hold_reason_sentences, migrations.RunPython.noop, elidable=True),
    ]
