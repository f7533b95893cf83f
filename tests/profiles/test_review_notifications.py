"""Review notifications go through core.notify: a keyed row written with the
change, delivered after commit, with generic text and no PHI."""

from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction

from portal_social.conf import app_settings
from portal_social.core import notify, roles
from portal_social.core.notify import catalogue
from portal_social.core.notify.models import Notification
from portal_social.profiles import actions, notifications

pytestmark = pytest.mark.django_db

PHONE = "413-555-0142"
COMMENT = f"Dr Lopez was kind. Call me at {PHONE}."


def _stars(value=4):
    return {key: value for key, _label in app_settings.REVIEW_QUESTIONS}


def _keys_for(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("key", flat=True))


def test_review_templates_belong_to_profiles_and_core_keeps_its_own():
    review_keys = {key for key in notify.templates() if key.startswith("review.")}
    assert review_keys == {
        "review.appeal_decided",
        "review.comment_rejected",
        "review.invitation",
        "review.needs_attention",
        "review.needs_moderation",
        "review.published",
        "review.published_redacted",
        "review.responded",
    }
    assert notifications.__name__ == "portal_social.profiles.notifications"
    assert "review." not in Path(catalogue.__file__).read_text(encoding="utf-8")
    assert notify.get_template("break_glass.used").mandatory


def test_each_decision_writes_the_authors_notification_in_its_transaction(
    patient, make_patient, clinician, clinician_user, moderator, px, django_capture_on_commit_callbacks
):
    held = actions.submit_review(author=patient, clinician=clinician, ratings=_stars(), comment=COMMENT)
    assert _keys_for(moderator) == ["review.needs_moderation"]
    actions.approve_review(moderator=moderator, review=held)
    actions.respond_to_review(staff=px, review=held, body="Thank you for telling us.")
    assert _keys_for(patient) == ["review.published", "review.responded"]

    other = make_patient()
    review = actions.submit_review(author=other, clinician=clinician, ratings=_stars(), comment="Kind and clear.")
    actions.appeal_review(clinician_user=clinician_user, review=review, reason="Not about my care.")
    with django_capture_on_commit_callbacks(execute=True):
        actions.resolve_appeal(moderator=moderator, appeal=review.appeals.get(), upheld=True)
    assert _keys_for(clinician_user) == ["review.appeal_decided"]
    assert _keys_for(moderator) == ["review.needs_moderation"] * 2
    # Delivered once its transaction committed, naming neither the clinician nor the comment.
    [message] = [m for m in mail.outbox if clinician_user.email in m.to]
    assert message.subject == "Your appeal has been decided"
    assert "Lopez" not in message.body and "Not about my care" not in message.body


def test_a_rolled_back_decision_leaves_no_notification(patient, clinician, moderator):
    review = actions.submit_review(author=patient, clinician=clinician, ratings=_stars(), comment=COMMENT)
    Notification.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.reject_review(moderator=moderator, review=review, reason="Shares a phone number.")
        raise RuntimeError("the request failed after the action")
    assert not Notification.objects.exists()


def test_redaction_and_rejection_tell_the_author_in_generic_words(
    patient, make_patient, clinician, moderator, django_capture_on_commit_callbacks
):
    first = actions.submit_review(author=patient, clinician=clinician, ratings=_stars(), comment=COMMENT)
    second = actions.submit_review(author=make_patient(), clinician=clinician, ratings=_stars(), comment=COMMENT)
    with django_capture_on_commit_callbacks(execute=True):
        actions.redact_review(moderator=moderator, review=first)
        actions.reject_review(moderator=moderator, review=second, reason=f"It shares {PHONE}.")
    assert _keys_for(patient) == ["review.published_redacted"]
    assert _keys_for(second.author) == ["review.comment_rejected"]
    for message in mail.outbox:
        assert PHONE not in message.body and "Lopez" not in message.body and PHONE not in message.subject


def test_moderators_who_turned_notifications_off_still_get_a_row_but_no_email(
    patient, clinician, make_user, django_capture_on_commit_callbacks
):
    from portal_social.core.notify.models import NotificationPreference

    quiet = make_user(roles.COMMUNITY_MODERATOR)
    NotificationPreference.objects.create(user=quiet, frequency=NotificationPreference.Frequency.OFF)
    with django_capture_on_commit_callbacks(execute=True):
        actions.submit_review(author=patient, clinician=clinician, ratings=_stars(), comment=COMMENT)
    assert Notification.objects.get(recipient=quiet).status == Notification.Status.SKIPPED
    assert not [m for m in mail.outbox if quiet.email in m.to]
