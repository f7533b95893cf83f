import pytest
from django.core.cache import cache

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


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and lockouts must not leak from one test to the next."""
    cache.clear()
    yield
    cache.clear()
