"""Signed-in people without admin access get one "this area is for staff" page at /cms/.

Wagtail sends them to its login URL, allauth's sign-in, which sends anyone
already signed in back to ``next``: without ``staff_area()`` the browser loops
between the two and every bounce queues another message.
"""

import pytest
from django.contrib.messages import get_messages

from portal_social.core import roles
from portal_social.core.staff_area import may_open_staff_area, staff_area, staff_only
from tests.factories import sign_in

MAX_HOPS = 5


def _follow(client, path):
    """Follow redirects by hand, at most MAX_HOPS of them; return (final response, the chain)."""
    chain = [path]
    response = client.get(path)
    while response.status_code in (301, 302, 303, 307, 308):
        location = response["Location"]
        assert len(chain) <= MAX_HOPS, f"redirect loop: {chain}"
        chain.append(location)
        response = client.get(location)
    return response, chain


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.PATIENT, roles.CAREGIVER, None])
@pytest.mark.parametrize("path", ["/cms/", "/cms/pages/", "/cms/portal-social/audit/", "/cms/no-such-screen/"])
def test_signed_in_user_without_admin_access_gets_one_staff_page(client, make_user, role, path):
    sign_in(client, make_user(role))
    response, chain = _follow(client, path)
    assert chain == [path], f"{path} redirected: {chain}"
    assert response.status_code == 403
    assert "This area is for staff" in response.content.decode()
    assert [t.name for t in response.templates][0] == "portal_social/core/staff_area.html"


@pytest.mark.django_db
def test_repeated_visits_pile_up_no_messages(client, make_user):
    sign_in(client, make_user(roles.PATIENT))
    for _ in range(3):
        _follow(client, "/cms/")
    home = client.get("/feedback/")
    assert home.status_code == 200
    assert len(list(get_messages(home.wsgi_request))) <= 1
    assert "permission" not in home.content.decode()


@pytest.mark.django_db
def test_signed_out_visitors_are_still_sent_to_sign_in(client):
    response = client.get("/cms/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/cms/")


@pytest.mark.django_db
def test_staff_with_admin_access_and_a_second_factor_reach_the_admin(client, make_user):
    sign_in(client, make_user(roles.PORTAL_ADMINISTRATOR, mfa=True))
    assert client.get("/cms/").status_code == 200


@pytest.mark.django_db
def test_staff_without_mfa_still_meet_enrolment_first(client, make_user):
    client.force_login(make_user(roles.PORTAL_ADMINISTRATOR))
    response = client.get("/cms/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


@pytest.mark.django_db
def test_may_open_staff_area(make_user):
    from django.contrib.auth.models import AnonymousUser

    assert may_open_staff_area(AnonymousUser())
    assert not may_open_staff_area(make_user(roles.PATIENT))
    assert may_open_staff_area(make_user(roles.PORTAL_ADMINISTRATOR))


def test_wrapping_twice_wraps_once():
    def view(request):
        return None

    once = staff_only(view)
    assert staff_only(once) is once
    assert once.__wrapped__ is view
    patterns = []
    assert staff_area(patterns) is patterns
