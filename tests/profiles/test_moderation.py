"""Clinician reviews in the shared moderation queue, and PX responses, in the Wagtail admin."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal_social.conf import app_settings
from portal_social.core import moderation, roles
from portal_social.core.models import AuditEvent
from portal_social.core.staff_area import TEMPLATE as STAFF_AREA_TEMPLATE
from portal_social.profiles import actions
from portal_social.profiles.models import Review, ReviewResponse
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

QUEUE = "/cms/portal-social/moderation/"
OLD_QUEUE = "/cms/portal-social/reviews/"
RESPOND_LIST = "/cms/portal-social/reviews/respond/"
PHONE = "555-867-5309"
EMAIL = "sam.patient@example.com"


def item_url(item):
    return f"/cms/portal-social/moderation/{item.pk}/"


def decide(client, review, action, **data):
    """POST ``action`` on the item pending for ``review``, with the version a moderator's screen shows."""
    item = moderation.pending_item(review)
    assert item is not None, "the review has no pending moderation item"
    follow = data.pop("follow", False)
    return client.post(item_url(item), {"action": action, "version": item.version, **data}, follow=follow)


def respond_url(review):
    return f"/cms/portal-social/reviews/{review.pk}/respond/"


def submit(author, page, value=4, comment=""):
    ratings = {key: value for key, _label in app_settings.REVIEW_QUESTIONS}
    return actions.submit_review(author=author, clinician=page, ratings=ratings, comment=comment)


@pytest.fixture
def held(make_patient, clinician):
    return submit(make_patient(), clinician, comment=f"Dr Lopez was great. Call me at {PHONE} or {EMAIL}.")


# --------------------------------------------------------------------------- who may open what


@pytest.mark.parametrize(
    ("role", "queue_status", "respond_status"),
    [
        (roles.COMMUNITY_MODERATOR, 200, 404),
        (roles.PATIENT_EXPERIENCE, 404, 200),
        (roles.RISK_MANAGER, 404, 404),
        (roles.PORTAL_ADMINISTRATOR, 404, 404),
        ("superuser", 404, 404),
    ],
)
def test_only_moderators_open_the_queue_and_px_the_responses(
    client, make_user, held, role, queue_status, respond_status
):
    if role == "superuser":
        # A superuser without a role: no pass to held PHI.
        sign_in(client, make_user(is_superuser=True, is_staff=True, mfa=True))
    else:
        sign_in(client, make_user(role, mfa=True))
    queue = client.get(QUEUE)
    assert queue.status_code == queue_status
    assert client.get(RESPOND_LIST).status_code == respond_status
    if queue_status != 200:
        assert PHONE not in queue.content.decode()
        before = held.status
        item = moderation.pending_item(held)
        assert decide(client, held, "approve").status_code == 404
        held.refresh_from_db()
        assert held.status == before
        assert moderation.pending_item(held).version == item.version
        assert not AuditEvent.objects.filter(action="moderation.view").exists()


@pytest.mark.parametrize("role", [roles.PATIENT, roles.CAREGIVER, roles.CLINICIAN])
def test_non_staff_never_see_the_queue(client, make_user, held, role):
    """Without admin access they get the staff-area page (403), before any review is read."""
    sign_in(client, make_user(role, mfa=True))
    response = client.get(QUEUE)
    decided = decide(client, held, "approve")
    for answer in (response, decided):
        assert answer.status_code == 403
        assert [template.name for template in answer.templates][0] == STAFF_AREA_TEMPLATE
        assert PHONE not in answer.content.decode() and EMAIL not in answer.content.decode()
    held.refresh_from_db()
    assert held.status == Review.Status.HELD
    assert not AuditEvent.objects.filter(action__in=["moderation.view", "review.approve"]).exists()


def test_moderator_without_mfa_is_sent_to_enrolment(client, make_user, held):
    sign_in(client, make_user(roles.COMMUNITY_MODERATOR))
    assert client.get(QUEUE)["Location"] == "/accounts/2fa/totp/activate/"


def test_menu_items_follow_permissions(client, moderator, px):
    sign_in(client, moderator)
    home = client.get("/cms/").content.decode()
    assert "Moderation queue" in home and "Respond to reviews" not in home
    sign_in(client, px)
    home = client.get("/cms/").content.decode()
    assert "Respond to reviews" in home and "Moderation queue" not in home


def test_the_old_review_queue_address_leads_to_the_reviews_in_the_moderation_queue(client, moderator):
    sign_in(client, moderator)
    response = client.get(OLD_QUEUE)
    assert response.status_code == 302 and response["Location"] == QUEUE + "?type=review"


# --------------------------------------------------------------------------- the queue


def test_queue_shows_reasons_and_highlights_findings_and_is_audited(client, moderator, held):
    sign_in(client, moderator)
    html = client.get(QUEUE).content.decode()
    assert "It may contain personal details such as a phone number or an email address." in html
    assert (
        f'<mark title="Looks like a phone number">{PHONE}<span class="w-sr-only"> (Looks like a phone number)</span>'
        in html
    )
    assert f'<mark title="Looks like an email address">{EMAIL}' in html
    assert "Dr Lopez was great." in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert html.count('name="span"') == 2
    item = moderation.pending_item(held)
    event = AuditEvent.objects.get(action="moderation.view")
    assert event.actor_id == moderator.pk
    assert event.patient_id == held.author_id
    assert event.details == {"items": [str(item.pk)], "targets": {"review": [str(held.pk)]}}
    assert PHONE not in str(event.details) and EMAIL not in str(event.details)


def test_queue_lists_appealed_and_reported_reviews(client, moderator, make_patient, clinician, clinician_user):
    appealed = submit(make_patient(), clinician, comment="Appeal me.")
    actions.appeal_review(clinician_user=clinician_user, review=appealed, reason="Not my patient at all.")
    reported = submit(make_patient(), clinician, comment="Report me.")
    actions.report_review(reporter=make_patient(), review=reported, reason="not_about_care: about parking")
    quiet = submit(make_patient(), clinician, comment="Nobody minds me.")
    sign_in(client, moderator)
    response = client.get(QUEUE)
    html = response.content.decode()
    assert "Appeal me." in html and "Not my patient at all." in html
    assert "Report me." in html and "about parking" in html
    assert "Nobody minds me." not in html
    rows = response.context["rows"]
    assert [row["target"] for row in rows] == [appealed, reported]
    assert [[reason["code"] for reason in row["reasons"]] for row in rows] == [["appeal"], ["flag"]]
    shown = [
        review_id
        for details in AuditEvent.objects.filter(action="moderation.view").values_list("details", flat=True)
        for review_id in details["targets"]["review"]
    ]
    assert sorted(shown) == sorted([str(appealed.pk), str(reported.pk)])
    assert str(quiet.pk) not in shown


def _is_audit_write(sql: str) -> bool:
    return "audit" in sql.lower() or sql.upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))


def test_queue_queries_are_bounded(client, moderator, make_patient, clinician):
    """Reading the queue is a fixed number of queries; the audit adds one row per patient shown.

    Measured at two sizes (2 and 14 patients): the queries that read the queue
    are the same number, and the audit's are the same number per patient, so the
    page is bounded by its page size.
    """
    from portal_social.core.moderation.views import PAGE_SIZE

    sign_in(client, moderator)
    reads, writes, patients = [], [], []
    for extra in (2, 12):
        for i in range(extra):
            submit(make_patient(), clinician, comment=f"Number {i}: call {PHONE}")
        client.get(QUEUE)
        before = AuditEvent.objects.filter(action="moderation.view").count()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(QUEUE).status_code == 200
        rows = AuditEvent.objects.filter(action="moderation.view").count() - before
        sql = [query["sql"] for query in queries.captured_queries]
        reads.append(sum(not _is_audit_write(statement) for statement in sql))
        writes.append(sum(_is_audit_write(statement) for statement in sql))
        patients.append(rows)
    assert patients == [2, 14]
    assert reads[0] == reads[1], reads
    per_row = writes[0] // patients[0]
    assert writes == [per_row * patients[0], per_row * patients[1]], writes
    ceiling = reads[0] + per_row * PAGE_SIZE
    assert reads[1] + writes[1] <= ceiling


# --------------------------------------------------------------------------- decisions


def test_approve(client, moderator, held, django_capture_on_commit_callbacks):
    sign_in(client, moderator)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(client, held, "approve")
    assert response.status_code == 302 and response["Location"] == QUEUE
    held.refresh_from_db()
    assert held.status == Review.Status.PUBLISHED and held.moderated_by == moderator
    assert AuditEvent.objects.filter(action="review.approve", target_id=str(held.pk)).exists()
    assert moderation.pending_item(held) is None


def test_reject_needs_a_reason(client, moderator, held):
    sign_in(client, moderator)
    response = decide(client, held, "reject", reason="", follow=True)
    assert "Give a reason for rejecting this comment." in response.content.decode()
    held.refresh_from_db()
    assert held.status == Review.Status.HELD
    decide(client, held, "reject", reason="Billing dispute")
    held.refresh_from_db()
    assert held.status == Review.Status.REJECTED and held.rejection_reason == "Billing dispute"


def test_redact_chosen_finding_only(client, moderator, held):
    source = held.comment_source
    start = source.index(PHONE)
    sign_in(client, moderator)
    decide(client, held, "redact", span=[f"{start}:{start + len(PHONE)}"])
    held.refresh_from_db()
    assert held.status == Review.Status.PUBLISHED
    assert PHONE not in held.comment_html and "[phone removed]" in held.comment_html
    assert EMAIL in held.comment_html
    assert "Dr Lopez was great." in held.comment_html


def test_redact_all_findings(client, moderator, held):
    sign_in(client, moderator)
    decide(client, held, "redact", all_findings="on")
    held.refresh_from_db()
    assert PHONE not in held.comment_html and EMAIL not in held.comment_html
    assert "[phone removed]" in held.comment_html and "[email removed]" in held.comment_html


def test_redact_with_nothing_chosen_is_an_error(client, moderator, held):
    sign_in(client, moderator)
    response = decide(client, held, "redact", follow=True)
    assert "Choose at least one part of the comment to hide." in response.content.decode()
    held.refresh_from_db()
    assert held.status == Review.Status.HELD


def test_redact_with_forged_span_is_an_error(client, moderator, held):
    sign_in(client, moderator)
    decide(client, held, "redact", span=["0:99999"])
    decide(client, held, "redact", span=["x:y"])
    held.refresh_from_db()
    assert held.status == Review.Status.HELD and held.redactions == []


@pytest.mark.parametrize(
    ("decision", "status"),
    [("uphold", Review.Status.REJECTED), ("dismiss", Review.Status.PUBLISHED)],
)
def test_resolve_appeal(client, moderator, make_patient, clinician, clinician_user, decision, status):
    """For an appealed review, reject upholds the appeal (comment removed), approve dismisses it."""
    review = submit(make_patient(), clinician, comment="Appealed comment.")
    actions.appeal_review(clinician_user=clinician_user, review=review, reason="Unfair")
    sign_in(client, moderator)
    response = decide(client, review, "reject" if decision == "uphold" else "approve")
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == status
    assert review.appeals.get().upheld is (decision == "uphold")
    assert moderation.pending_item(review) is None


def test_keep_published_clears_a_report_from_the_queue(client, moderator, make_patient, clinician):
    review = submit(make_patient(), clinician, comment="Reported once.")
    actions.report_review(reporter=make_patient(), review=review, reason="abusive")
    sign_in(client, moderator)
    decide(client, review, "approve")
    response = client.get(QUEUE)
    assert response.context["rows"] == []
    assert moderation.pending_item(review) is None
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED


def test_decisions_need_post(client, moderator, held):
    sign_in(client, moderator)
    assert client.get(item_url(moderation.pending_item(held))).status_code == 405


def test_unknown_decision(client, moderator, held):
    sign_in(client, moderator)
    response = decide(client, held, "explode", follow=True)
    assert "Choose a decision." in response.content.decode()
    held.refresh_from_db()
    assert held.status == Review.Status.HELD


# --------------------------------------------------------------------------- responses


def test_px_responds_once(client, px, make_patient, clinician):
    review = submit(make_patient(), clinician, comment="Lovely team.")
    sign_in(client, px)
    listing = client.get(RESPOND_LIST).content.decode()
    assert "Lovely team." in listing and respond_url(review) in listing
    assert client.get(respond_url(review)).status_code == 200
    response = client.post(respond_url(review), {"body": "Thank you for your kind words."})
    assert response.status_code == 302
    assert ReviewResponse.objects.get().body_source == "Thank you for your kind words."
    assert respond_url(review) not in client.get(RESPOND_LIST).content.decode()
    again = client.get(respond_url(review)).content.decode()
    assert "This review already has a response" in again
    client.post(respond_url(review), {"body": "Second"})
    assert ReviewResponse.objects.count() == 1


def test_px_response_with_phi_is_refused(client, px, make_patient, clinician):
    review = submit(make_patient(), clinician, comment="Lovely team.")
    sign_in(client, px)
    response = client.post(respond_url(review), {"body": f"We called you at {PHONE} already."})
    html = response.content.decode()
    assert response.status_code == 200
    assert "must not contain personal or health details" in html
    assert ReviewResponse.objects.count() == 0


def test_redacted_review_shows_redacted_text_to_px(client, px, moderator, held):
    actions.redact_review(moderator=moderator, review=held)
    sign_in(client, px)
    html = client.get(respond_url(held)).content.decode()
    assert PHONE not in html and "[phone removed]" in html


def test_respond_to_held_review_is_404(client, px, held):
    sign_in(client, px)
    assert client.get(respond_url(held)).status_code == 404
