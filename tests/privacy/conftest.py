import pytest

from portal_social.core import audit

# The clinician, patients and staff of the review tests are the people of the privacy journey.
from tests.profiles.conftest import (  # noqa: F401
    clinician,
    clinician_user,
    make_clinician,
    make_patient,
    make_taxonomy,
    moderator,
    px,
)


@pytest.fixture(autouse=True, scope="package")
def _flush_lifts_the_audit_guard():
    """The journey commits (``transaction=True``) and ends with Django's flush, which the audit guard refuses."""
    with audit.flush_lifts_database_guard():
        yield
