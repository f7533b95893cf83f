"""The self-service write is an action: it asks the policy, screens, renders, audits and
notifies approvers only after commit, whoever calls it."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404

from portal_social.core import roles
from portal_social.core.models import AuditEvent
from portal_social.profiles import actions
from portal_social.profiles.models import ClinicianPage
from portal_social.profiles.workflow import ensure_profile_workflow
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

DATA = {
    "pronouns": "she/her",
    "bio": "I care for **hearts**.\n\nI speak Spanish with my patients.",
    "accepting_new_patients": True,
    "telehealth": False,
    "languages": [],
    "conditions": [],
}


@pytest.fixture
def own_page(make_clinician, make_user, directory_page):
    ensure_profile_workflow(directory_page)
    clinician = make_user(roles.CLINICIAN, mfa=True)
    page = make_clinician("Ana", "Ruiz", user=clinician, bio="<p>Old bio</p>")
    return clinician, page


@pytest.fixture
def approver(make_user):
    return make_user(roles.PORTAL_ADMINISTRATOR, mfa=True, email="approver@example.org")


def _unchanged(page) -> bool:
    return not ClinicianPage.objects.get(pk=page.pk).has_unpublished_changes


def test_action_refuses_phi_in_the_bio_without_any_form(own_page):
    clinician, page = own_page
    with pytest.raises(ValidationError) as caught:
        actions.submit_profile_changes(
            clinician_user=clinician, page=page, data={**DATA, "bio": "Call me at 413-555-0142 about your results."}
        )
    assert set(caught.value.message_dict) == {"bio"}
    assert "413-555-0142" not in str(caught.value)
    assert _unchanged(page)
    assert not AuditEvent.objects.filter(action="profile.submit_changes").exists()


def test_action_refuses_a_bio_describing_a_patient(own_page):
    """The strict public-profile screen (a particular patient), not only the PHI scanner."""
    clinician, page = own_page
    with pytest.raises(ValidationError) as caught:
        actions.submit_profile_changes(
            clinician_user=clinician, page=page, data={**DATA, "bio": "My patient Jane Doe taught me patience."}
        )
    assert set(caught.value.message_dict) == {"bio"}
    assert _unchanged(page)


def test_action_refuses_oversized_pronouns(own_page):
    clinician, page = own_page
    with pytest.raises(ValidationError) as caught:
        actions.submit_profile_changes(clinician_user=clinician, page=page, data={**DATA, "pronouns": "x" * 41})
    assert set(caught.value.message_dict) == {"pronouns"}
    assert _unchanged(page)


@pytest.mark.parametrize("who", ["other_clinician", "patient", "admin", "superuser"])
def test_anyone_but_the_linked_clinician_is_refused_with_permission_denied(own_page, make_user, who):
    _, page = own_page
    actor = {
        "other_clinician": lambda: make_user(roles.CLINICIAN),
        "patient": lambda: make_user(roles.PATIENT),
        "admin": lambda: make_user(roles.PORTAL_ADMINISTRATOR),
        "superuser": lambda: make_user(is_superuser=True, is_staff=True),
    }[who]()
    with pytest.raises(actions.ProfileChangesDenied) as caught:
        actions.submit_profile_changes(clinician_user=actor, page=page, data=DATA)
    assert not isinstance(caught.value, Http404)
    assert _unchanged(page)


def test_the_view_answers_a_refusal_like_a_missing_page(client, own_page, make_user):
    _, page = own_page
    sign_in(client, make_user(roles.CLINICIAN, mfa=True))
    edit = page.url + page.reverse_subpage("edit_profile")
    missing = page.url + "no-such-page/"
    refused = client.post(edit, {"pronouns": "x", "bio": "y"})
    assert refused.status_code == client.get(missing).status_code == 404


def test_bio_is_rendered_through_core_text_and_audited(own_page):
    clinician, page = own_page
    revision = actions.submit_profile_changes(clinician_user=clinician, page=page, data=DATA)
    draft = ClinicianPage.objects.get(pk=page.pk).get_latest_revision_as_object()
    assert "<strong>hearts</strong>" in draft.bio
    assert draft.pronouns == "she/her"
    event = AuditEvent.objects.get(action="profile.submit_changes")
    assert event.actor_id == clinician.pk and event.details["revision"] == revision.pk


def test_approvers_are_emailed_after_commit(own_page, approver, django_capture_on_commit_callbacks):
    clinician, page = own_page
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.submit_profile_changes(clinician_user=clinician, page=page, data=DATA)
        assert not [m for m in mail.outbox if approver.email in m.to]  # nothing sent before commit
    assert callbacks
    for callback in callbacks:
        callback()
    assert [m for m in mail.outbox if approver.email in m.to]


def test_no_notification_when_the_transaction_rolls_back(own_page, approver, django_capture_on_commit_callbacks):
    clinician, page = own_page

    class Abandon(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Abandon), transaction.atomic():
        actions.submit_profile_changes(clinician_user=clinician, page=page, data=DATA)
        raise Abandon
    assert not [m for m in mail.outbox if approver.email in m.to]
    assert _unchanged(page)
    assert not AuditEvent.objects.filter(action="profile.submit_changes").exists()
