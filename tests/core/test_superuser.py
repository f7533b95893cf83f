"""is_superuser is no pass to PHI: every staff page and rule asks for a role."""

import pytest

from portal_social.core import roles
from tests.factories import sign_in

STAFF_PHI_PAGES = [
    "/px/",
    "/cms/portal-social/audit/",
    "/cms/portal-social/moderation/",
    "/cms/portal-social/reviews/respond/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", STAFF_PHI_PAGES)
def test_superuser_without_a_role_gets_404_on_staff_phi_pages(client, make_user, path):
    sign_in(client, make_user(is_superuser=True, is_staff=True, mfa=True))
    assert client.get(path).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/px/", roles.PATIENT_EXPERIENCE),
        ("/cms/portal-social/audit/", roles.RISK_MANAGER),
        ("/cms/portal-social/moderation/", roles.COMMUNITY_MODERATOR),
        ("/cms/portal-social/reviews/respond/", roles.PATIENT_EXPERIENCE),
    ],
)
def test_the_same_superuser_with_the_role_opens_the_page(client, make_user, path, role):
    """The control: the page exists and the role is what opens it."""
    sign_in(client, make_user(role, is_superuser=True, is_staff=True, mfa=True))
    assert client.get(path).status_code == 200
