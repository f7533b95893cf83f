"""Denied and missing pages in the demo are the portal's own, not Django's debug pages.

The demo runs the development settings, with DEBUG on.
"""

import pytest
from django.test import override_settings

from portal_social.core import roles
from tests.factories import sign_in


def _template_names(response):
    return [t.name for t in response.templates]


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_a_missing_page_is_the_portal_404_with_debug_on(client, directory_page):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "404.html" in _template_names(response)
    body = response.content.decode()
    assert "Page not found" in body and 'class="site-header"' in body
    assert "URLconf" not in body and "DEBUG = True" not in body


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_a_page_a_patient_may_not_see_is_the_portal_404_with_debug_on(client, make_user):
    sign_in(client, make_user(roles.PATIENT))
    response = client.get("/px/")
    assert response.status_code == 404
    assert "404.html" in _template_names(response)
    assert "URLconf" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
def test_a_refused_page_is_the_portal_403(client, make_user, debug):
    sign_in(client, make_user(roles.PATIENT))
    with override_settings(DEBUG=debug):
        response = client.get("/django-admin/login/")
    assert response.status_code == 403
    assert "403.html" in _template_names(response)
    body = response.content.decode()
    assert "Not allowed" in body and 'class="site-header"' in body
