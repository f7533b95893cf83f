"""Security headers on a sample of public and signed-in pages."""

import pytest

from portal_social.core import roles
from tests.factories import sign_in

PUBLIC = ["/", "/clinicians/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
SIGNED_IN = ["/", "/messages/", "/community/", "/feedback/", "/clinicians/", "/accounts/email/"]


def _assert_common(response):
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_send_csp_nosniff_and_referrer_policy(client, directory_page, path):
    response = client.get(path)
    assert response.status_code == 200
    _assert_common(response)


@pytest.mark.django_db
@pytest.mark.parametrize("path", SIGNED_IN)
def test_signed_in_pages_are_never_cached(client, make_user, directory_page, path):
    sign_in(client, make_user(roles.PATIENT))
    response = client.get(path)
    assert response.status_code == 200
    _assert_common(response)
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_staff_pages_are_never_cached(client, make_user):
    sign_in(client, make_user(roles.PATIENT_EXPERIENCE, mfa=True))
    response = client.get("/px/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_redirects_for_signed_in_users_are_not_cached_either(client, make_user):
    sign_in(client, make_user(roles.CLINICIAN))
    response = client.get("/messages/")
    assert response.status_code == 302
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_pages_contain_no_inline_script(client, make_user, directory_page):
    import re

    sign_in(client, make_user(roles.PATIENT))
    for path in SIGNED_IN:
        html = client.get(path).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son[a-z]+=", html), path
