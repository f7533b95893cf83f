"""The PHI scanner on text nobody tuned it to: every kind in English and
Spanish, identifiers by window, names by gazetteer and context, what is
public (organisations' lines, inboxes, sites and addresses, clinicians in
their role, the clinician directory), the reason each finding carries, and
linear time on adversarial input for the detectors these rely on."""

import pytest

from portal_social.core import phi
from portal_social.core.phi import Finding, config, scan
from tests.core.test_phi import kinds_and_texts
from tests.timing import assert_linear

# ---------------------------------------------------------------------------
# Every kind, in English and in Spanish
# ---------------------------------------------------------------------------

FOUND = [
    # names: no cue, many cultures, cues, lower case, everyday words after a strong cue
    ("name", "Hey Marisol Quintanilla Ruiz, thanks for the ride to dialysis", "Marisol Quintanilla Ruiz"),
    ("name", "The appeal is under my wife's name, Ifeoma Chukwu", "Ifeoma Chukwu"),
    ("name", "Dmitri Volkov and I both had the same surgeon", "Dmitri Volkov"),
    ("name", "my brother Jorge has the same rash", "Jorge"),
    ("name", "our neighbour Priyanka drove us", "Priyanka"),
    ("name", "my boyfriend tyrone keeps forgetting his meds", "tyrone"),
    ("name", "my daughter Faith starts chemo Monday", "Faith"),
    ("name", "Mi hija Guadalupe tiene fiebre desde ayer", "Guadalupe"),
    ("name", "soy Ximena Castañeda y necesito una cita", "Ximena Castañeda"),
    ("name", "Mi abuela, doña Remedios, no puede caminar", "Remedios"),
    # phones and faxes, national formats through libphonenumber
    ("phone", "my cell is (415) 555-0148", "(415) 555-0148"),
    ("phone", "ring my mum on 020 7946 0715 after six", "020 7946 0715"),
    ("phone", "Mi celular es 602-555-0133", "602-555-0133"),
    # e-mail, URL, IP
    ("email", "write to me at kwame.asante@example.net", "kwame.asante@example.net"),
    ("url", "our story is at lupusandme.blogspot.com/2024/first-flare", "lupusandme.blogspot.com/2024/first-flare"),
    ("ip_address", "someone logged in from 203.0.113.44 last night", "203.0.113.44"),
    # addresses and ZIP or postcodes
    ("address", "please mail it to 3310 Calle Olivo, Apt 2", "3310 Calle Olivo, Apt 2"),
    ("address", "we moved to 88 Juniper Court last week", "88 Juniper Court"),
    ("zip", "anyone near 80205 doing the walking group?", "80205"),
    ("zip", "I'm in the T2N 1N4 area, any good GP?", "T2N 1N4"),
    ("zip", "new flat in M14 5RB, registering with a GP", "M14 5RB"),
    # dates of birth
    ("date", "fecha de nacimiento: 14/03/1977", "14/03/1977"),
    ("date", "mi hijo nació el 9 de octubre de 2019", "9 de octubre de 2019"),
    ("date", "DOB 07/22/1958", "07/22/1958"),
    # identifiers by window, any format
    ("ssn", "my SSN is 219-09-9999 and nobody should see it", "219-09-9999"),
    ("ssn", "Número de seguro social 219 09 9999", "219 09 9999"),
    ("mrn", "chart # HX-448210 please", "HX-448210"),
    ("mrn", "Número de expediente: 0093-11827", "0093-11827"),
    ("member_id", "my subscriber ID is QRT 7721 0094 3", "QRT 7721 0094 3"),
    ("member_id", "Medicaid ID: NY 44812076", "NY 44812076"),
    ("member_id", "Mi póliza es BLU-553018-02", "BLU-553018-02"),
    ("account_number", "claim number CLM 88-204417 was denied", "CLM 88-204417"),
    ("account_number", "Número de cuenta: 77-120934", "77-120934"),
    ("license", "my nursing license is RN 5529107", "RN 5529107"),
    ("license", "CDL B7730214 renewal needs a physical", "B7730214"),
    ("license", "licencia de conducir: M220-118-44-301", "M220-118-44-301"),
    ("vehicle", "the plate was 7HKT492, grey sedan", "7HKT492"),
    ("vehicle", "placas XTR-4418 de Sonora", "XTR-4418"),
    ("device", "pump serial NX4471920K keeps alarming", "NX4471920K"),
    ("device", "transmitter ID 7QK29P will not pair", "7QK29P"),
    ("device", "El número de serie del marcapasos es RZB118204S", "RZB118204S"),
]


@pytest.mark.parametrize(("kind", "text", "expected"), FOUND)
def test_finds_every_kind_in_english_and_spanish(kind, text, expected):
    assert (kind, expected) in kinds_and_texts(text)


def test_every_kind_is_exercised():
    assert {kind for kind, _, _ in FOUND} >= set(phi.KINDS) - {"age", "handle"}


def test_same_shape_values_after_an_identifier_follow_its_kind():
    text = "my account is 4471-20931, not 4471-20913 as printed"
    assert kinds_and_texts(text) == [("account_number", "4471-20931"), ("account_number", "4471-20913")]


def test_every_mention_of_a_found_name_is_found():
    text = "My son Ezekiel has asthma. Ezekiel uses a spacer."
    assert kinds_and_texts(text) == [("name", "Ezekiel"), ("name", "Ezekiel")]


# ---------------------------------------------------------------------------
# What is public
# ---------------------------------------------------------------------------

LEFT_ALONE = [
    # organisations' numbers
    "Call member services at 1-888-555-0142 before noon",
    "the clinic's main line is (503) 555-0100, press 2",
    "Línea de ayuda: 1-800-555-0199",
    # role inboxes and public sites
    "send the form to records@valleyhealth.example",
    "Escriban a quejas@clinicanorte.example",
    "the CDC page https://www.cdc.gov/asthma/ is good",
    "see www.nih.gov for trials",
    # LAN addresses and resolvers
    "my router is 192.168.0.1 and the page times out",
    "DNS set to 1.1.1.1 fixed it",
    # organisations' addresses
    "The pharmacy is at 4400 Grand Ave, open till 9",
    "La clínica está en 900 W Main St, Suite 2",
    # plan numbers, codes, models, versions
    "Group number 0044127 is the same for my whole company",
    "Rx BIN 610014 and PCN ADV are on the card",
    "the pump is a 780G, firmware 4.2.1",
    "they billed CPT 99214 twice",
    # clinicians and staff in their role, public figures' eponyms, pets
    "Dr. Rosa Delgado explained everything",
    "nurse Hope on 5 West was wonderful",
    "PT with Will was hard but worth it",
    "la enfermera Luz fue muy amable",
    "we passed your note to Marguerite Oyelaran on our night team",
    "please contact Patient Relations or the Quality Review Board",
    "my Crohn's disease is flaring again",
    "our dog named Pepper sleeps on my feet",
    # everyday words that are also names
    "keep the faith, it gets better",
    "Will this rash spread?",
    "the bill was $240 after insurance",
]


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_leaves_public_and_everyday_text_alone(text):
    assert scan(text) == []


def test_organisation_numbers_can_be_flagged_again(settings):
    settings.PORTAL_SOCIAL_PHI_ORGANISATION_NUMBERS_PUBLIC = False
    assert kinds_and_texts("Call member services at 1-888-555-0142") == [("phone", "1-888-555-0142")]


def test_role_inboxes_from_settings(settings):
    assert kinds_and_texts("write to wellness@valleyhealth.example") == [("email", "wellness@valleyhealth.example")]
    settings.PORTAL_SOCIAL_PHI_PUBLIC_INBOXES = ["wellness"]
    assert scan("write to wellness@valleyhealth.example") == []


def test_phone_regions_from_settings(settings):
    text = "ring my mum on 020 7946 0715 after six"
    settings.PORTAL_SOCIAL_PHI_PHONE_REGIONS = []
    assert scan(text) == []
    settings.PORTAL_SOCIAL_PHI_PHONE_REGIONS = ["GB"]
    assert kinds_and_texts(text) == [("phone", "020 7946 0715")]


# ---------------------------------------------------------------------------
# The clinician directory and other public names
# ---------------------------------------------------------------------------


def test_allowed_names_from_settings(settings):
    text = "Thanks to Anneliese Marchetti for the callback"
    assert kinds_and_texts(text) == [("name", "Anneliese Marchetti")]
    settings.PORTAL_SOCIAL_PHI_ALLOWED_NAMES = ["Anneliese Marchetti"]
    assert scan(text) == []


def test_a_name_directory_from_a_callable(settings):
    settings.PORTAL_SOCIAL_PHI_NAME_DIRECTORY = lambda: ["Bartholomew Q. Okafor"]
    assert scan("Bartholomew Okafor listened to me") == []


def test_scan_works_without_a_database(settings):
    # The default directory reads ClinicianPage; without database access it
    # answers nothing and the scan goes on.
    config.forget_allowed_names()
    assert kinds_and_texts("Dmitri Volkov and I met at rehab") == [("name", "Dmitri Volkov")]


@pytest.mark.django_db
def test_names_of_live_clinician_pages_are_public(make_clinician):
    make_clinician("Oluwadamilare", "Fagbemi")
    config.forget_allowed_names()
    assert scan("Oluwadamilare Fagbemi spent an hour with us") == []
    # a patient who shares only the first name is still found
    assert kinds_and_texts("my son Oluwadamilare has a fever") == [("name", "Oluwadamilare")]
    config.forget_allowed_names()


def test_the_directory_can_be_turned_off(settings):
    settings.PORTAL_SOCIAL_PHI_NAME_DIRECTORY = None
    assert config.allowed_names() == frozenset()


# ---------------------------------------------------------------------------
# Findings explain themselves
# ---------------------------------------------------------------------------


def test_each_finding_carries_a_reason():
    findings = scan("Medicaid ID: NY 44812076, call 020 7946 0715, my son Ezekiel")
    reasons = {f.kind: f.reason for f in findings}
    assert reasons["member_id"] == "cue:member_id:medicaid id"
    assert reasons["phone"] == "phonenumbers:GB"
    assert reasons["name"].startswith("name:")
    assert all(f.reason for f in findings)


def test_finding_keeps_its_positional_form():
    finding = Finding("phone", 0, 3, "911")
    assert finding.reason == ""
    assert finding == Finding("phone", 0, 3, "911", "phone")  # the reason takes no part in equality


# ---------------------------------------------------------------------------
# Linear time on adversarial input
# ---------------------------------------------------------------------------

UNITS = [
    "Abc ",
    "Abc Abc ",
    "my son Abc ",
    "my son abc ",
    "Abc de la ",
    "A. ",
    "Dr. Abc ",
    "Hi Abc, ",
    "member 1 ",
    "member A1 ",
    "policy 12345 or ",
    "RN 1 ",
    "MEM 1234 ",
    "serial 1A ",
    "01 ",
    "(02) 1 ",
    "0 0 ",
    "0555 555 5555 ",
    "020 7946 0715 ",
    "near 12345 ",
    "A1A 1A1 ",
    "1 Calle Abc ",
    "born 1 de mayo de ",
    "DOB 1/1/1990 ",
]


@pytest.mark.parametrize("unit", UNITS)
def test_scan_runs_in_linear_time_on_names_and_cues(unit):
    small_text = (unit * (2_000 // len(unit) + 1))[:2_000]
    large_text = (unit * (100_000 // len(unit) + 1))[:100_000]
    scan(small_text)  # the gazetteer loads once
    assert_linear(scan, small_text, large_text, label=repr(unit), ceiling=5.0, attempts=8, slack=0.05)


def test_dates_of_birth_only_unless_settings_ask_for_tied_dates(settings):
    text = "admitted 03/02/2024, DOB 07/22/1958"
    assert [(f.text, f.reason) for f in scan(text)] == [("07/22/1958", "date:birth")]
    settings.PORTAL_SOCIAL_PHI_DATES = "tied"
    assert [f.text for f in scan(text)] == ["03/02/2024", "07/22/1958"]
