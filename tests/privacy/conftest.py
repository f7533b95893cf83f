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
