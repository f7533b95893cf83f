import pytest

from tests.factories import UserFactory, enrol_totp


@pytest.fixture
def make_user(db):
    """Create a user holding ``role`` (a slug, a list of slugs, or None)."""

    def make(role=None, *, mfa=False, **kwargs):
        user = UserFactory(role=role, **kwargs)
        if mfa:
            enrol_totp(user)
        return user

    return make
