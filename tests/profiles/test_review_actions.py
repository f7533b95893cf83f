"""Review actions: permissions, eligibility, the 12-month rule, screening, moderation, appeals, responses, reports."""

import datetime
import logging
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils import timezone

from portal_social import signals
from portal_social.conf import app_settings
from portal_social.core import audit, moderation, roles
from portal_social.core.models import AuditEvent, CareTeamLink
from portal_social.core.ratelimit import RateLimited
from portal_social.profiles import actions, reviews
from portal_social.profiles.models import Review, ReviewAppeal, ReviewRating, ReviewReport, ReviewResponse

PHONE = "555-867-5309"
EMAIL = "sam.patient@example.com"
OLD = datetime.timedelta(days=90)


def stars(value=4, **overrides):
    ratings = {key: value for key, _label in app_settings.REVIEW_QUESTIONS}
    ratings.update(overrides)
    return ratings


@pytest.fixture
def signals_received():
    received = []

    def receiver(sender, target, cause, author_id, **kwargs):
        assert sender is Review and target.author_id == author_id
        received.append((target.pk, cause))

    signals.content_needs_attention.connect(receiver, dispatch_uid="test-content-needs-attention")
    yield received
    signals.content_needs_attention.disconnect(dispatch_uid="test-content-needs-attention")


def submit(author, clinician, value=4, comment="", **kwargs):
    return actions.submit_review(author=author, clinician=clinician, ratings=stars(value), comment=comment, **kwargs)


def published_review(author, clinician, comment="Clear explanations and kind staff.", value=4):
    review = submit(author, clinician, value, comment)
    assert review.status == Review.Status.PUBLISHED
    return review


def audit_actions(review):
    return list(AuditEvent.objects.filter(target_id=str(review.pk)).values_list("action", flat=True))


# --------------------------------------------------------------------------- permission matrix

ROLE_SLUGS = {
    "patient": roles.PATIENT,
    "caregiver": roles.CAREGIVER,
    "clinician": roles.CLINICIAN,
    "moderator": roles.COMMUNITY_MODERATOR,
    "px": roles.PATIENT_EXPERIENCE,
    "risk": roles.RISK_MANAGER,
    # A superuser without a role: is_superuser opens nothing.
    "superuser": None,
}
ALLOWED = {
    "submit": {"patient"},
    "approve": {"moderator"},
    "redact": {"moderator"},
    "respond": {"px"},
    "appeal": {"clinician"},
    "report": set(ROLE_SLUGS),
}


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(ALLOWED))
@pytest.mark.parametrize("role", list(ROLE_SLUGS))
def test_permission_matrix(role, action, make_user, make_patient, clinician, clinician_user):
    author = make_patient()
    if action in ("approve", "redact"):
        review = submit(author, clinician, comment=f"Call me at {PHONE}.")
        assert review.status == Review.Status.HELD
    elif action != "submit":
        review = published_review(author, clinician)
    if role == "clinician" and action == "appeal":
        actor = clinician_user  # the reviewed clinician's own account
    else:
        extra = {"is_superuser": True, "is_staff": True} if role == "superuser" else {}
        actor = make_user(ROLE_SLUGS[role], date_joined=timezone.now() - OLD, **extra)
        CareTeamLink.objects.create(patient=actor, clinician_user=clinician_user)

    def run():
        if action == "submit":
            return submit(actor, clinician)
        if action == "approve":
            return actions.approve_review(moderator=actor, review=review)
        if action == "redact":
            return actions.redact_review(moderator=actor, review=review)
        if action == "respond":
            return actions.respond_to_review(staff=actor, review=review, body="Thank you for your feedback.")
        if action == "appeal":
            return actions.appeal_review(clinician_user=actor, review=review, reason="Not about my care.")
        return actions.report_review(reporter=actor, review=review, reason="abusive")

    before = (Review.objects.count(), ReviewResponse.objects.count(), ReviewAppeal.objects.count())
    if role in ALLOWED[action]:
        assert run() is not None
    else:
        with pytest.raises(PermissionDenied):
            run()
        assert (Review.objects.count(), ReviewResponse.objects.count(), ReviewAppeal.objects.count()) == before
        assert ReviewReport.objects.count() == 0
        if action in ("approve", "redact"):
            review.refresh_from_db()
            assert review.status == Review.Status.HELD


# --------------------------------------------------------------------------- eligibility


@pytest.mark.django_db
def test_patient_without_care_team_link_is_refused(make_patient, clinician):
    stranger = make_patient(linked=False)
    with pytest.raises(actions.ReviewNotAllowed) as refused:
        submit(stranger, clinician)
    assert str(refused.value) == "You can review clinicians who have cared for you."
    assert Review.objects.count() == 0


@pytest.mark.django_db
def test_caregiver_is_refused_even_with_a_link(make_patient, clinician):
    caregiver = make_patient(role=roles.CAREGIVER)
    with pytest.raises(actions.ReviewNotAllowed):
        submit(caregiver, clinician)
    assert Review.objects.count() == 0


@pytest.mark.django_db
def test_clinician_cannot_review_themselves(make_user, make_clinician):
    doctor = make_user([roles.PATIENT, roles.CLINICIAN], mfa=True, date_joined=timezone.now() - OLD)
    page = make_clinician("Self", "Reviewer", user=doctor)
    CareTeamLink.objects.create(patient=doctor, clinician_user=doctor)
    with pytest.raises(actions.ReviewNotAllowed):
        submit(doctor, page)
    assert Review.objects.count() == 0


@pytest.mark.django_db
def test_anonymous_cannot_review(clinician):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(actions.ReviewNotAllowed):
        submit(AnonymousUser(), clinician)


# --------------------------------------------------------------------------- the 12-month rule


@pytest.mark.django_db
def test_second_review_within_twelve_months_is_refused(patient, clinician):
    submit(patient, clinician, 5)
    with pytest.raises(ValidationError) as refused:
        submit(patient, clinician, 1, comment="Changed my mind")
    message = refused.value.message_dict[NON_FIELD_ERRORS][0]
    assert "already reviewed this clinician" in message and "again from" in message
    assert Review.objects.count() == 1
    assert ReviewRating.objects.count() == len(app_settings.REVIEW_QUESTIONS)
    clinician.refresh_from_db()
    assert (clinician.rating_summary.count, clinician.rating_summary.average) == (1, Decimal("5.00"))


@pytest.mark.django_db
def test_review_older_than_twelve_months_is_superseded(patient, make_patient, clinician):
    old = submit(patient, clinician, 1)
    Review.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    submit(make_patient(), clinician, 3)
    new = submit(patient, clinician, 5)
    old.refresh_from_db()
    assert old.superseded_by_id == new.pk
    clinician.refresh_from_db()
    assert clinician.rating_summary.count == 2
    assert clinician.rating_summary.average == Decimal("4.00")  # (3 + 5) / 2: the old 1-star no longer counts
    assert list(Review.objects.counted().filter(author=patient)) == [new]
    assert AuditEvent.objects.get(action="review.submit", target_id=str(new.pk)).details["superseded"] == 1
    # The replaced review leaves the public list too, comment and all.
    assert old not in Review.objects.published()


# --------------------------------------------------------------------------- validation


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [0, 6, "abc", None, True, 3.5])
def test_invalid_stars_give_a_per_question_error_and_save_nothing(patient, clinician, bad):
    key, label = app_settings.REVIEW_QUESTIONS[1]
    ratings = stars(4)
    if bad is None:
        del ratings[key]
    else:
        ratings[key] = bad
    with pytest.raises(ValidationError) as invalid:
        actions.submit_review(author=patient, clinician=clinician, ratings=ratings, comment="Fine")
    errors = invalid.value.message_dict
    assert list(errors) == [key]
    assert label in errors[key][0]
    assert Review.objects.count() == 0 and ReviewRating.objects.count() == 0
    assert not AuditEvent.objects.filter(action="review.submit").exists()


@pytest.mark.django_db
def test_every_missing_question_is_named(patient, clinician):
    with pytest.raises(ValidationError) as invalid:
        actions.submit_review(author=patient, clinician=clinician, ratings={})
    assert set(invalid.value.message_dict) == {key for key, _label in app_settings.REVIEW_QUESTIONS}


@pytest.mark.django_db
def test_unknown_question_is_refused(patient, clinician):
    with pytest.raises(ValidationError) as invalid:
        actions.submit_review(author=patient, clinician=clinician, ratings=stars(4, bogus=3))
    assert NON_FIELD_ERRORS in invalid.value.message_dict
    assert Review.objects.count() == 0


@pytest.mark.django_db
def test_too_long_comment_is_an_error_on_comment(patient, clinician, settings):
    settings.PORTAL_SOCIAL_TEXT_MAX_LENGTH = 40
    with pytest.raises(ValidationError) as invalid:
        submit(patient, clinician, comment="x" * 41)
    assert list(invalid.value.message_dict) == ["comment"]
    assert "41" in invalid.value.message_dict["comment"][0]
    assert Review.objects.count() == 0


@pytest.mark.django_db
def test_rate_limited(patient, clinician, make_clinician, make_user, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"review": "1/d"}
    doctor = make_user(roles.CLINICIAN)
    CareTeamLink.objects.create(patient=patient, clinician_user=doctor)
    other = make_clinician("Ben", "Okafor", user=doctor)
    submit(patient, clinician)
    with pytest.raises(RateLimited):
        submit(patient, other)
    assert Review.objects.count() == 1


# --------------------------------------------------------------------------- screening


@pytest.mark.django_db
def test_clean_comment_from_established_account_is_published(patient, clinician):
    review = submit(patient, clinician, 5, comment="**Kind** and thorough.")
    assert review.status == Review.Status.PUBLISHED
    assert review.hold_reasons == []
    assert "<strong>Kind</strong>" in review.comment_html
    assert review.overall == Decimal("5.00")
    clinician.refresh_from_db()
    assert (clinician.rating_summary.count, clinician.rating_summary.average) == (1, Decimal("5.00"))
    event = AuditEvent.objects.get(action="review.submit")
    assert event.patient_id == patient.pk and event.details["status"] == "published"


@pytest.mark.django_db
def test_phi_comment_is_held_with_a_reason_that_never_repeats_it(patient, clinician, caplog):
    caplog.set_level(logging.DEBUG)
    review = submit(patient, clinician, comment=f"Great visit. Call me at {PHONE} or {EMAIL} to compare notes.")
    assert review.status == Review.Status.HELD
    [reason] = review.hold_reasons
    assert reason["code"] == "phi"
    assert set(reason["kinds"]) == {"phone", "email"}
    assert reason == {"code": "phi", "kinds": ["phone", "email"]}  # codes only: worded when shown
    described = reviews.describe_hold_reason(reason)
    assert "phone number" in described and "email address" in described
    assert PHONE not in str(review.hold_reasons) and EMAIL not in str(review.hold_reasons)
    event = AuditEvent.objects.get(action="review.submit")
    assert event.details["reasons"] == ["phi"]
    assert PHONE not in str(event.details) and PHONE not in event.reason
    assert PHONE not in caplog.text and EMAIL not in caplog.text
    # Stars count while the comment waits.
    clinician.refresh_from_db()
    assert clinician.rating_summary.count == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("comment", "held"),
    [
        ("The wait was bullshit.", True),
        ("The wait was BULLSHIT!", True),
        ("We talked about shiitake mushrooms.", False),
        ("Such a quack.", True),  # from PORTAL_SOCIAL_WATCHED_WORDS
        ("Quackery is not what I got.", False),
    ],
)
def test_watched_words_hold_whole_words_in_any_case(patient, clinician, settings, comment, held):
    settings.PORTAL_SOCIAL_WATCHED_WORDS = ["quack"]
    review = submit(patient, clinician, comment=comment)
    assert (review.status == Review.Status.HELD) is held
    if held:
        assert [r["code"] for r in review.hold_reasons] == ["language"]


@pytest.mark.django_db
def test_new_account_comment_is_held_but_stars_alone_publish(make_user, make_clinician):
    newcomer = make_user(roles.PATIENT)  # joined just now
    pages = []
    for last in ("Ng", "Park"):
        doctor = make_user(roles.CLINICIAN)
        CareTeamLink.objects.create(patient=newcomer, clinician_user=doctor)
        pages.append(make_clinician("Cy", last, user=doctor))
    review = submit(newcomer, pages[0], comment="Very helpful.")
    assert review.status == Review.Status.HELD
    assert [r["code"] for r in review.hold_reasons] == ["new_account"]
    stars_only = submit(newcomer, pages[1], 3)
    assert stars_only.status == Review.Status.PUBLISHED and stars_only.comment_html == ""


@pytest.mark.django_db
def test_low_rating_sends_content_needs_attention_after_commit(
    patient, make_patient, clinician, signals_received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        low = submit(patient, clinician, 2)
        submit(make_patient(), clinician, 3)
    assert signals_received == [(low.pk, "low_rating")]


# --------------------------------------------------------------------------- moderation


@pytest.mark.django_db
def test_approve_publishes_and_notifies_without_the_comment(
    patient, clinician, moderator, django_capture_on_commit_callbacks
):
    review = submit(patient, clinician, comment=f"Call me at {PHONE}.")
    with django_capture_on_commit_callbacks(execute=True):
        actions.approve_review(moderator=moderator, review=review)
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert review.moderated_by == moderator and review.moderated_at is not None
    assert "review.approve" in audit_actions(review)
    [message] = mail.outbox
    assert message.to == [patient.email]
    assert PHONE not in message.body and "Lopez" not in message.body


@pytest.mark.django_db
def test_reject_needs_a_reason_and_keeps_the_stars(patient, clinician, moderator):
    review = submit(patient, clinician, 2, comment="Nonsense about billing.")
    with pytest.raises(ValidationError) as invalid:
        actions.reject_review(moderator=moderator, review=review, reason="  ")
    assert list(invalid.value.message_dict) == ["reason"]
    actions.reject_review(moderator=moderator, review=review, reason="Not about care")
    review.refresh_from_db()
    assert review.status == Review.Status.REJECTED and review.rejection_reason == "Not about care"
    clinician.refresh_from_db()
    assert clinician.rating_summary.count == 1
    assert "review.reject" in audit_actions(review)


@pytest.mark.django_db
def test_redaction_hides_only_the_offending_span(patient, clinician, moderator):
    comment = f"Dr Lopez listened. Call me at {PHONE} if you want details."
    review = submit(patient, clinician, comment=comment)
    actions.redact_review(moderator=moderator, review=review)
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert review.comment_source == comment  # moderators keep the original
    assert PHONE not in review.comment_html
    assert "Dr Lopez listened. Call me at [phone removed] if you want details." in review.comment_html
    assert review.redactions == [
        {"start": comment.index(PHONE), "end": comment.index(PHONE) + len(PHONE), "kind": "phone"}
    ]
    event = AuditEvent.objects.get(action="review.redact")
    assert event.details["kinds"] == ["phone"] and PHONE not in str(event.details)


@pytest.mark.django_db
def test_redaction_of_chosen_spans_only(patient, clinician, moderator):
    comment = f"Phone {PHONE}, mail {EMAIL}."
    review = submit(patient, clinician, comment=comment)
    start = comment.index(PHONE)
    actions.redact_review(moderator=moderator, review=review, spans=[(start, start + len(PHONE))], use_findings=False)
    review.refresh_from_db()
    assert PHONE not in review.comment_html and EMAIL in review.comment_html
    # A later redaction keeps the earlier one.
    e_start = comment.index(EMAIL)
    actions.redact_review(
        moderator=moderator, review=review, spans=[(e_start, e_start + len(EMAIL))], use_findings=False
    )
    review.refresh_from_db()
    assert PHONE not in review.comment_html and EMAIL not in review.comment_html
    assert [span["kind"] for span in review.redactions] == ["phone", "email"]


@pytest.mark.django_db
@pytest.mark.parametrize("spans", [[(5, 500)], [(3, 3)], [("a", "b")]])
def test_redaction_rejects_bad_spans(patient, clinician, moderator, spans):
    review = submit(patient, clinician, comment=f"Call {PHONE}")
    with pytest.raises(ValidationError):
        actions.redact_review(moderator=moderator, review=review, spans=spans, use_findings=False)
    review.refresh_from_db()
    assert review.status == Review.Status.HELD and review.redactions == []


@pytest.mark.django_db
def test_redaction_with_nothing_to_hide_is_an_error(patient, clinician, moderator):
    review = published_review(patient, clinician)
    with pytest.raises(ValidationError):
        actions.redact_review(moderator=moderator, review=review)


# --------------------------------------------------------------------------- appeals


@pytest.mark.django_db
def test_appeal_hides_then_dismissal_restores(patient, clinician, clinician_user, moderator):
    review = published_review(patient, clinician)
    appeal = actions.appeal_review(clinician_user=clinician_user, review=review, reason="This is not my patient.")
    review.refresh_from_db()
    assert review.status == Review.Status.APPEALED
    assert not Review.objects.published().filter(pk=review.pk).exists()
    clinician.refresh_from_db()
    assert clinician.rating_summary.count == 1  # stars still count
    with pytest.raises(ValidationError):
        actions.appeal_review(clinician_user=clinician_user, review=review, reason="Again")
    with pytest.raises(ValidationError):
        actions.approve_review(moderator=moderator, review=review)
    actions.resolve_appeal(moderator=moderator, appeal=appeal, upheld=False)
    review.refresh_from_db()
    appeal.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    assert appeal.upheld is False and appeal.resolved_at is not None
    with pytest.raises(ValidationError):
        actions.resolve_appeal(moderator=moderator, appeal=appeal, upheld=True)
    assert {"review.appeal", "review.appeal_resolve"} <= set(audit_actions(review))


@pytest.mark.django_db
def test_upheld_appeal_rejects_the_comment_but_stars_count(patient, clinician, clinician_user, moderator):
    review = published_review(patient, clinician, value=1)
    appeal = actions.appeal_review(clinician_user=clinician_user, review=review, reason="Abusive")
    actions.resolve_appeal(moderator=moderator, appeal=appeal, upheld=True)
    review.refresh_from_db()
    assert review.status == Review.Status.REJECTED
    clinician.refresh_from_db()
    assert (clinician.rating_summary.count, clinician.rating_summary.average) == (1, Decimal("1.00"))


@pytest.mark.django_db
def test_another_clinician_cannot_appeal(patient, clinician, make_user):
    review = published_review(patient, clinician)
    other = make_user(roles.CLINICIAN)
    with pytest.raises(actions.AppealDenied):
        actions.appeal_review(clinician_user=other, review=review, reason="No")
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED


@pytest.mark.django_db
def test_stars_only_review_cannot_be_appealed(patient, clinician, clinician_user):
    review = submit(patient, clinician, 1)
    with pytest.raises(ValidationError):
        actions.appeal_review(clinician_user=clinician_user, review=review, reason="Unfair")
    assert ReviewAppeal.objects.count() == 0


# --------------------------------------------------------------------------- responses


@pytest.mark.django_db
def test_one_response_per_review(patient, clinician, px):
    review = published_review(patient, clinician)
    response = actions.respond_to_review(staff=px, review=review, body="Thank you for *your* feedback.")
    assert "<em>your</em>" in response.body_html
    with pytest.raises(ValidationError) as second:
        actions.respond_to_review(staff=px, review=review, body="Another")
    assert "already has a response" in second.value.messages[0]
    assert ReviewResponse.objects.count() == 1
    assert "review.respond" in audit_actions(review)


@pytest.mark.django_db
def test_response_with_phi_is_refused(patient, clinician, px):
    review = published_review(patient, clinician)
    with pytest.raises(ValidationError) as refused:
        actions.respond_to_review(staff=px, review=review, body=f"Please call the patient at {PHONE}.")
    [message] = refused.value.message_dict["body"]
    assert "phone number" in message and PHONE not in message
    assert ReviewResponse.objects.count() == 0
    assert not AuditEvent.objects.filter(action="review.respond").exists()


@pytest.mark.django_db
def test_response_to_held_review_is_refused(patient, clinician, px):
    review = submit(patient, clinician, comment=f"Call {PHONE}")
    with pytest.raises(ValidationError):
        actions.respond_to_review(staff=px, review=review, body="Thanks")
    assert ReviewResponse.objects.count() == 0


# --------------------------------------------------------------------------- reports


@pytest.mark.django_db
def test_report_once_and_signal(patient, make_patient, clinician, signals_received, django_capture_on_commit_callbacks):
    review = published_review(patient, clinician)
    reader = make_patient(linked=False)
    with django_capture_on_commit_callbacks(execute=True):
        actions.report_review(reporter=reader, review=review, reason="abusive")
    assert signals_received == [(review.pk, "reported")]
    with pytest.raises(ValidationError) as second:
        actions.report_review(reporter=reader, review=review, reason="abusive")
    assert "already reported" in second.value.messages[0]
    assert ReviewReport.objects.count() == 1
    assert "review.report" in audit_actions(review)


@pytest.mark.django_db
def test_report_needs_a_reason_and_a_published_review(patient, make_patient, clinician):
    reader = make_patient(linked=False)
    review = published_review(patient, clinician)
    with pytest.raises(ValidationError):
        actions.report_review(reporter=reader, review=review, reason="")
    held = submit(make_patient(), clinician, comment=f"Call {PHONE}")
    with pytest.raises(actions.ReportDenied):
        actions.report_review(reporter=reader, review=held, reason="abusive")
    assert ReviewReport.objects.count() == 0


@pytest.mark.django_db
def test_report_is_rate_limited(patient, make_patient, clinician, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"flag": "1/h"}
    first, second = published_review(patient, clinician), published_review(make_patient(), clinician)
    reader = make_patient(linked=False)
    actions.report_review(reporter=reader, review=first, reason="abusive")
    with pytest.raises(RateLimited):
        actions.report_review(reporter=reader, review=second, reason="abusive")


# --------------------------------------------------------------------------- audit


@pytest.mark.django_db
def test_every_action_is_audited_and_the_chain_verifies(
    patient, make_patient, clinician, clinician_user, moderator, px
):
    held = submit(patient, clinician, comment=f"Call {PHONE}")
    actions.redact_review(moderator=moderator, review=held)
    other = published_review(make_patient(), clinician)
    actions.respond_to_review(staff=px, review=other, body="Thank you.")
    actions.report_review(reporter=px, review=other, reason="other")
    actions.approve_review(moderator=moderator, review=other)
    appeal = actions.appeal_review(clinician_user=clinician_user, review=other, reason="Unfair")
    actions.resolve_appeal(moderator=moderator, appeal=appeal, upheld=True)
    recorded = set(AuditEvent.objects.filter(action__startswith="review.").values_list("action", flat=True))
    assert recorded == {
        "review.submit",
        "review.redact",
        "review.respond",
        "review.report",
        "review.approve",
        "review.appeal",
        "review.appeal_resolve",
    }
    checked, problem = audit.verify_chain()
    assert problem is None and checked >= len(recorded)
    assert not any(PHONE in str(e.details) for e in AuditEvent.objects.all())


@pytest.mark.django_db
def test_comment_as_written_is_encrypted_at_rest(patient, clinician):
    from django.db import connection

    review = submit(patient, clinician, 4, comment="Reach me at 413-555-0142 about my heart.")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT comment_source FROM portal_social_review WHERE id = %s",
            [review.pk.hex if connection.vendor == "sqlite" else review.pk],
        )
        [(raw,)] = cursor.fetchall()
    assert raw.startswith("fernet:") and "413-555-0142" not in raw
    assert Review.objects.get(pk=review.pk).comment_source.startswith("Reach me at")


@pytest.mark.django_db
def test_moderators_are_told_of_held_reported_and_appealed_reviews_without_content(
    patient, make_patient, clinician, clinician_user, moderator, django_capture_on_commit_callbacks
):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True):
        held = submit(patient, clinician, 4, comment="Call me at 413-555-0142 please.")
    with django_capture_on_commit_callbacks(execute=True):
        clean = submit(make_patient(), clinician, 5, comment="Very kind and clear.")
    with django_capture_on_commit_callbacks(execute=True):
        appealed = submit(make_patient(), clinician, 5, comment="Quick visit, no questions answered.")
    with django_capture_on_commit_callbacks(execute=True):
        actions.report_review(reporter=make_patient(), review=clean, reason="Not about care")
    with django_capture_on_commit_callbacks(execute=True):
        actions.appeal_review(clinician_user=clinician_user, review=appealed, reason="Not my patient that day.")
    to_moderator = [m for m in mail.outbox if moderator.email in m.to]
    assert [m.subject for m in to_moderator] == ["A clinician review needs moderation"] * 3
    for message in to_moderator:
        assert "413-555-0142" not in message.body and "Lopez" not in message.body
        assert "/cms/portal-social/moderation/" in message.body
    # A second report on a review already waiting adds a reason to its item: nobody is told twice.
    with django_capture_on_commit_callbacks(execute=True):
        actions.report_review(reporter=make_patient(), review=clean, reason="Not about care")
    assert len([m for m in mail.outbox if moderator.email in m.to]) == 3
    item = moderation.pending_item(clean)
    assert [reason.code for reason in item.reasons.all()] == ["flag", "flag"]
    assert held.status == Review.Status.HELD
