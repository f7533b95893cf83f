"""Staff find their tools: the portal's navigation lists what each person's roles open, and nothing else.

Role x link matrix over rendered pages: every link shown answers 200 for that
person (after their second factor), and nobody sees a link their roles do not
open - not even a superuser without a role.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser

from portal_social.core import navigation, roles
from tests.factories import PASSWORD, sign_in
from tests.totp import current_code

ALL_KEYS = {entry.key for entry in navigation.STAFF_TOOLS} | {navigation.OWN_PROFILE.key}

#: What each role's navigation shows (the portal administrator is seed_demo's "admin").
EXPECTED = {
    roles.PATIENT: set(),
    roles.CAREGIVER: set(),
    roles.CLINICIAN: {"own_profile"},
    roles.COMMUNITY_MODERATOR: {"moderation_queue", "staff_admin"},
    roles.PATIENT_EXPERIENCE: {"review_responses", "px_workspace", "px_reports", "staff_admin"},
    roles.RISK_MANAGER: {"px_workspace", "px_reports", "audit_log", "staff_admin"},
    roles.PORTAL_ADMINISTRATOR: {"caregiver_links", "audit_log", "staff_admin"},
}

#: A link in the "Your tools" navigation: <a href="..." data-tool="key">.
TOOL_LINK = re.compile(r'<a [^>]*href="(?P<url>[^"]+)"[^>]*data-tool="(?P<key>[a-z_]+)"')


def _tools_on(client, path: str) -> dict[str, str]:
    response = client.get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    return {m["key"]: m["url"] for m in TOOL_LINK.finditer(response.content.decode())}


@pytest.fixture
def person(make_user, make_clinician):
    """A signed-in-able user for a role; a clinician comes with their live profile page."""

    def make(role):
        if role == "superuser_without_role":
            return make_user(None, mfa=True, is_superuser=True, is_staff=True)
        staff = role not in (roles.PATIENT, roles.CAREGIVER)
        user = make_user(role, mfa=staff)
        if role == roles.CLINICIAN:
            make_clinician("Ana", "Lopez", user=user)
        return user

    return make


@pytest.mark.django_db
@pytest.mark.parametrize("role", [*EXPECTED, "superuser_without_role"])
@pytest.mark.parametrize("path", ["/", "/community/"])
def test_navigation_lists_exactly_the_tools_each_role_opens_and_each_answers_200(client, person, role, path):
    user = person(role)
    sign_in(client, user)

    shown = _tools_on(client, path)

    assert set(shown) == EXPECTED.get(role, set())
    for key, url in shown.items():
        response = client.get(url)
        assert response.status_code == 200, f"{role}: {key} at {url} answered {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.PATIENT, roles.CLINICIAN, "superuser_without_role"])
def test_staff_screens_a_person_is_not_shown_do_not_open_for_them(client, person, role):
    # The other half of the matrix: what the menu leaves out, the screens refuse.
    # (Wagtail's own dashboard admits superusers - it holds pages, not PHI - but
    # the menu still offers it only through a role.)
    sign_in(client, person(role))
    for entry in navigation.STAFF_TOOLS:
        if entry.key in EXPECTED.get(role, set()) or entry.key == "staff_admin":
            continue
        url = navigation._reverse(entry.url_name)
        assert client.get(url).status_code != 200, f"{role} opened {entry.key}"


@pytest.mark.django_db
def test_signed_out_visitors_see_no_tools(client):
    assert _tools_on(client, "/") == {}
    assert navigation.tools_for(AnonymousUser()) == []


@pytest.mark.django_db
def test_a_clinician_without_a_live_profile_gets_no_edit_link(make_user, make_clinician):
    unlinked = make_user(roles.CLINICIAN)
    unpublished = make_user(roles.CLINICIAN)
    make_clinician("Taken", "Down", user=unpublished).unpublish()
    assert navigation.tools_for(unlinked) == []
    assert navigation.tools_for(unpublished) == []


@pytest.mark.django_db
def test_the_edit_link_follows_the_role_not_the_page_link(make_user, make_clinician):
    # A page linked to someone who is no longer a clinician gives them no edit link.
    former = make_user(roles.PATIENT)
    make_clinician("Former", "Clinician", user=former)
    assert navigation.own_profile_link(former) is None


def _permissions_that_open(entry) -> set[str]:
    """The moderation queue opens for a reviewer of any registered kind; every other entry names its permission."""
    if entry.permission == navigation.MODERATION:
        from portal_social.core import moderation

        return {kind.permission for kind in moderation.kinds()}
    return {entry.permission}


def test_every_entry_is_opened_by_some_role():
    granted = {perm for role in roles.ROLES.values() for perm in role.permissions}
    for entry in (*navigation.STAFF_TOOLS, navigation.OWN_PROFILE):
        assert _permissions_that_open(entry) & granted, f"no role opens {entry.key}"


@pytest.mark.django_db
def test_tools_are_worked_out_once_per_request(make_user, django_assert_num_queries):
    user = make_user(roles.RISK_MANAGER)
    first = navigation.tools_for(user)
    with django_assert_num_queries(0):
        assert navigation.tools_for(user) == first


# --------------------------------------------------------------------------- the staff-area page


@pytest.mark.django_db
def test_staff_area_page_lists_a_clinicians_tools(client, person):
    sign_in(client, person(roles.CLINICIAN))
    response = client.get("/cms/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "This area is for staff" in body
    links = {m["key"]: m["url"] for m in TOOL_LINK.finditer(body.split("<main", 1)[1])}
    assert set(links) == {"own_profile"}
    assert client.get(links["own_profile"]).status_code == 200


@pytest.mark.django_db
def test_staff_area_page_offers_a_patient_no_tools(client, person):
    sign_in(client, person(roles.PATIENT))
    body = client.get("/cms/").content.decode()
    assert "This area is for staff" in body
    assert "Your tools" not in body


# --------------------------------------------------------------------------- after enrolling an authenticator


def _after_reauthentication(client, path: str):
    """GET ``path``, confirming the password first if allauth asks for it (as a person would)."""
    response = client.get(path)
    if response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/"):
        client.post("/accounts/reauthenticate/", {"password": PASSWORD})
        response = client.get(path)
    return response


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "continue_to"),
    [
        (roles.COMMUNITY_MODERATOR, {"moderation_queue", "staff_admin"}),
        (roles.PATIENT_EXPERIENCE, {"review_responses", "px_workspace", "px_reports", "staff_admin"}),
        (roles.RISK_MANAGER, {"px_workspace", "px_reports", "audit_log", "staff_admin"}),
    ],
)
def test_after_activating_an_authenticator_staff_land_on_a_page_that_continues_to_their_tools(
    client, make_user, role, continue_to
):
    user = make_user(role)
    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    enrol = "/accounts/2fa/totp/activate/"
    assert _after_reauthentication(client, enrol).status_code == 200

    response = client.post(enrol, {"code": current_code(client.session["mfa.totp.secret"])})
    assert response.status_code == 302
    landing = response["Location"]
    assert landing == "/accounts/2fa/recovery-codes/"

    # In production the portal counts the enrolment as this session's second
    # factor once the transaction commits, which never happens inside a test's
    # transaction; the browser journey walks the real thing. Here the session
    # records the factor as sign-in would.
    sign_in(client, user)
    response = _after_reauthentication(client, landing)
    assert response.status_code == 200
    body = response.content.decode()
    offered = {m["key"]: m["url"] for m in TOOL_LINK.finditer(body.split('id="continue-title"', 1)[1])}
    assert set(offered) == continue_to
    assert "Continue to the home page" in body
    for key, url in offered.items():
        assert client.get(url).status_code == 200, f"{role}: continuing to {key} failed"
