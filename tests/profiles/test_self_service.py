"""A clinician edits their own profile; an approver publishes it; nobody else may."""

import pytest

from portal_social.core import roles
from portal_social.core.models import AuditEvent
from portal_social.profiles.models import ClinicianPage
from portal_social.profiles.workflow import ensure_profile_workflow
from tests.factories import sign_in

FORM = {
    "pronouns": "she/her",
    "bio": "I care for hearts.\n\nI speak Spanish with my patients.",
    "accepting_new_patients": "on",
}


@pytest.fixture
def own_page(make_clinician, make_user, directory_page):
    ensure_profile_workflow(directory_page)
    clinician = make_user(roles.CLINICIAN, mfa=True)
    page = make_clinician("Ana", "Ruiz", user=clinician, bio="<p>Old bio</p>")
    return clinician, page


def _edit_url(page):
    return page.url + page.reverse_subpage("edit_profile")


@pytest.mark.django_db
def test_clinician_submits_changes_as_draft_for_approval(client, own_page):
    clinician, page = own_page
    sign_in(client, clinician)
    assert client.get(_edit_url(page)).status_code == 200
    response = client.post(_edit_url(page), FORM)
    assert response.status_code == 302
    page = ClinicianPage.objects.get(pk=page.pk)
    assert page.bio == "<p>Old bio</p>"  # the public page is unchanged
    assert page.has_unpublished_changes
    assert page.workflow_in_progress
    assert "I care for hearts." in page.get_latest_revision_as_object().bio
    assert AuditEvent.objects.filter(action="profile.submit_changes", actor_id=clinician.pk).exists()
    assert "I care for hearts" not in client.get(page.url).content.decode()


@pytest.mark.django_db
def test_approver_approval_publishes_the_changes(client, own_page, make_user):
    clinician, page = own_page
    sign_in(client, clinician)
    client.post(_edit_url(page), FORM)
    approver = make_user(roles.PORTAL_ADMINISTRATOR, mfa=True)
    page = ClinicianPage.objects.get(pk=page.pk)
    task_state = page.current_workflow_state.current_task_state
    task_state.task.specific.on_action(task_state, approver, "approve")
    page = ClinicianPage.objects.get(pk=page.pk)
    assert "I care for hearts." in page.bio
    assert page.pronouns == "she/her"
    assert not page.workflow_in_progress


@pytest.mark.django_db
def test_resubmitting_replaces_the_waiting_submission(client, own_page):
    clinician, page = own_page
    sign_in(client, clinician)
    client.post(_edit_url(page), FORM)
    client.post(_edit_url(page), {**FORM, "bio": "Second version"})
    page = ClinicianPage.objects.get(pk=page.pk)
    from wagtail.models import WorkflowState

    assert WorkflowState.objects.filter(object_id=str(page.pk), status="in_progress").count() == 1
    assert "Second version" in page.get_latest_revision_as_object().bio


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_clinician", "patient", "px", "admin"])
def test_only_the_linked_clinician_may_edit_the_page(client, own_page, make_user, who):
    _, page = own_page
    role = {
        "other_clinician": roles.CLINICIAN,
        "patient": roles.PATIENT,
        "px": roles.PATIENT_EXPERIENCE,
        "admin": roles.PORTAL_ADMINISTRATOR,
    }[who]
    sign_in(client, make_user(role, mfa=True))
    assert client.get(_edit_url(page)).status_code == 404
    assert client.post(_edit_url(page), FORM).status_code == 404
    assert not ClinicianPage.objects.get(pk=page.pk).has_unpublished_changes


@pytest.mark.django_db
def test_oversized_bio_is_refused_with_the_input_kept(client, own_page):
    clinician, page = own_page
    sign_in(client, clinician)
    response = client.post(_edit_url(page), {**FORM, "bio": "x" * 5001})
    assert response.status_code == 200
    body = response.content.decode()
    assert "at most 5000 characters" in body or "at most 5,000 characters" in body
    assert 'aria-invalid="true"' in body
    assert not ClinicianPage.objects.get(pk=page.pk).has_unpublished_changes


@pytest.mark.django_db
def test_bio_html_is_not_trusted(client, own_page):
    clinician, page = own_page
    sign_in(client, clinician)
    client.post(_edit_url(page), {**FORM, "bio": 'Hearts.\n\n<script>alert(1)</script> <a href="javascript:x">y</a>'})
    draft = ClinicianPage.objects.get(pk=page.pk).get_latest_revision_as_object()
    assert "Hearts." in draft.bio
    assert "<script" not in draft.bio and "javascript:" not in draft.bio


@pytest.mark.django_db
def test_clinicians_get_no_wagtail_page_permissions(own_page):
    clinician, page = own_page
    from wagtail.permission_policies.pages import PagePermissionPolicy

    assert not PagePermissionPolicy().user_has_permission_for_instance(clinician, "change", page)


@pytest.mark.django_db
def test_bio_with_personal_details_is_refused_without_saving(client, own_page):
    clinician, page = own_page
    sign_in(client, clinician)
    response = client.post(_edit_url(page), {**FORM, "bio": "My patient Maria called me at 413-555-0142 yesterday."})
    assert response.status_code == 200
    body = response.content.decode()
    assert "cannot include personal details" in body and "phone" in body
    assert "413-555-0142" in body  # kept in the form for the clinician to fix, never saved
    assert not ClinicianPage.objects.get(pk=page.pk).has_unpublished_changes
