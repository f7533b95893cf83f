"""One front door: no URL the portal serves signs staff in past the second factor.

Rather than list the login views we know of, these tests POST a staff
member's correct username and password to every URL in the URLconf and then
try the pages that hold PHI with whatever session came back.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from portal_social.core import roles
from tests.factories import PASSWORD

#: Staff pages that show PHI or change who can see it.
PHI_PAGES = ["/px/", "/cms/portal-social/audit/", "/cms/", "/django-admin/", "/messages/"]
#: Placeholders for URL parameters, so parameterised routes are probed too.
_SAMPLE = {"int": "1", "str": "x", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000", "path": "x"}


def _walk(resolver, prefix: str = ""):
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, prefix + pattern)
        elif isinstance(entry, URLPattern):
            yield prefix + pattern


def _concrete(pattern: str) -> str | None:
    """A path for a route pattern, or None for regex routes we cannot fill."""
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: _SAMPLE.get(m.group(1) or "str", "x"), pattern)
    path = path.lstrip("^").rstrip("$").replace("\\Z", "").replace("\\.", ".")
    if any(ch in path for ch in "()[]*+?|\\"):
        return None
    return "/" + path


def every_url() -> list[str]:
    paths = {_concrete(pattern) for pattern in _walk(get_resolver())}
    paths.discard(None)
    # Wagtail's catch-all page route and routable sub-pages are covered by the
    # clinician tests; the login routes are what matter here.
    return sorted(paths)


def test_the_urlconf_walk_finds_every_known_login_route():
    urls = every_url()
    for known in ("/accounts/login/", "/cms/login/", "/django-admin/login/", "/_util/login/"):
        assert known in urls, known
    assert len(urls) > 50


@pytest.fixture
def risk_manager(make_user):
    from tests.factories import enrol_totp

    user = make_user(roles.RISK_MANAGER, is_staff=True)
    enrol_totp(user)
    return user


def _credentials(user) -> dict[str, str]:
    return {
        "username": user.username,
        "login": user.username,
        "email": user.email,
        "password": PASSWORD,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }


@pytest.mark.django_db
def test_posting_a_staff_password_to_every_url_never_opens_a_phi_page(risk_manager):
    reached = []
    for url in every_url():
        client = Client(raise_request_exception=False)
        client.post(url, _credentials(risk_manager))
        if "_auth_user_id" not in client.session:
            continue
        # A session came back signed in. It must not open anything with PHI.
        for page in PHI_PAGES:
            if client.get(page).status_code == 200:
                reached.append((url, page))
    assert reached == []


@pytest.mark.django_db
def test_only_allauths_sign_in_checks_passwords(risk_manager):
    """Every other login view answers as if the password were wrong: no oracle."""
    signed_in_through = []
    for url in every_url():
        client = Client(raise_request_exception=False)
        client.post(url, _credentials(risk_manager))
        if "_auth_user_id" in client.session:
            signed_in_through.append(url)
    assert signed_in_through == []


@pytest.mark.django_db
def test_allauths_sign_in_stops_at_the_second_factor(client, risk_manager):
    response = client.post("/accounts/login/", {"login": risk_manager.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    assert client.get("/px/").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/_util/login/", "/cms/login/", "/django-admin/login/"])
def test_other_login_routes_send_people_to_the_front_door(client, path):
    response = client.get(path + "?next=/px/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_djangos_login_view_refuses_the_right_password(risk_manager, settings):
    """A host that mounts django.contrib.auth's LoginView gets no side door."""
    from django.contrib.auth import authenticate
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    request = RequestFactory().post("/")
    request.user = AnonymousUser()
    assert authenticate(request, username=risk_manager.username, password=PASSWORD) is None


@pytest.mark.django_db
def test_wagtails_login_form_refuses_the_right_password(client, risk_manager, settings):
    """Wagtail's own sign-in form (Django's LoginView), served directly."""
    from django.contrib.auth.views import LoginView
    from django.urls import clear_url_caches, path

    from example_site import urls as site_urls

    side_door = type(
        "SideDoorURLConf",
        (),
        {
            "urlpatterns": [path("side/", LoginView.as_view(template_name="wagtailcore/login.html"))]
            + site_urls.urlpatterns
        },
    )
    settings.ROOT_URLCONF = side_door
    clear_url_caches()
    try:
        response = client.post("/side/", {"username": risk_manager.username, "password": PASSWORD})
    finally:
        clear_url_caches()
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
