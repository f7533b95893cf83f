"""Clinician-profile fixtures shared by every test package: published pages,
patients on a care team, moderators and PX staff (loaded by tests/conftest.py)."""

import datetime
import itertools

import pytest
from django.utils import timezone

from portal_social.core import roles
from portal_social.core.models import CareTeamLink
from portal_social.profiles.models import ClinicianPage, Language, Location, Specialty

_npis = itertools.count(1)


def valid_npi(n: int) -> str:
    """The n-th valid NPI (9 digits from n, plus the Luhn check digit over 80840)."""
    from portal_social.profiles.npi import npi_is_valid

    base = f"{100000000 + n:09d}"
    for check in "0123456789":
        if npi_is_valid(base + check):
            return base + check
    raise AssertionError("unreachable")


@pytest.fixture
def make_taxonomy(db):
    def make(model, name):
        from django.utils.text import slugify

        return model.objects.get_or_create(name=name, defaults={"slug": slugify(name)})[0]

    return make


@pytest.fixture
def make_clinician(directory_page, make_taxonomy):
    """Publish a ClinicianPage under the directory. Taxonomies are given by name."""

    def make(
        first_name="Jane",
        last_name="Doe",
        *,
        specialties=(),
        languages=(),
        locations=(),
        user=None,
        publish=True,
        **fields,
    ):
        n = next(_npis)
        page = ClinicianPage(
            title=f"{first_name} {last_name}",
            slug=f"{first_name}-{last_name}-{n}".lower(),
            first_name=first_name,
            last_name=last_name,
            npi=fields.pop("npi", valid_npi(n)),
            user=user,
            **fields,
        )
        page.specialties = [make_taxonomy(Specialty, name) for name in specialties]
        page.languages = [make_taxonomy(Language, name) for name in languages]
        page.locations = [
            Location.objects.get_or_create(
                name=name, defaults={"slug": name.lower().replace(" ", "-"), "address": "1 Main St"}
            )[0]
            for name in locations
        ]
        directory_page.add_child(instance=page)
        revision = page.save_revision()
        if publish:
            revision.publish()
        page.refresh_from_db()
        return page

    return make


#: How long ago review fixtures' patients joined: past the new-account hold.
ESTABLISHED = datetime.timedelta(days=90)


@pytest.fixture
def clinician_user(make_user):
    return make_user(roles.CLINICIAN, mfa=True, username="dr-lopez")


@pytest.fixture
def clinician(make_clinician, clinician_user):
    return make_clinician("Ana", "Lopez", user=clinician_user)


@pytest.fixture
def make_patient(make_user, clinician_user):
    """A patient with an established account, on ``clinician_user``'s care team unless ``linked=False``."""

    def make(*, linked=True, role=roles.PATIENT, **kwargs):
        kwargs.setdefault("date_joined", timezone.now() - ESTABLISHED)
        user = make_user(role, **kwargs)
        if linked:
            CareTeamLink.objects.create(patient=user, clinician_user=clinician_user)
        return user

    return make


@pytest.fixture
def patient(make_patient):
    return make_patient()


@pytest.fixture
def moderator(make_user):
    return make_user(roles.COMMUNITY_MODERATOR, mfa=True)


@pytest.fixture
def px(make_user):
    return make_user(roles.PATIENT_EXPERIENCE, mfa=True)
