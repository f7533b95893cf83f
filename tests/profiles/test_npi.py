"""National Provider Identifier: format, CMS check digit, one clinician per NPI."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from portal_social.profiles.npi import npi_is_valid, validate_npi
from tests.clinicians import valid_npi

#: The worked example in CMS's "NPI check digit" guidance.
CMS_EXAMPLE = "1234567893"


def error_code(value) -> str | None:
    try:
        validate_npi(value)
    except ValidationError as error:
        return error.code
    return None


def test_cms_example_is_valid():
    assert npi_is_valid(CMS_EXAMPLE)
    assert error_code(CMS_EXAMPLE) is None


@pytest.mark.parametrize("wrong", ["1234567890", "1234567891", "1234567894", "2234567893"])
def test_wrong_check_digit_is_rejected_with_a_typo_hint(wrong):
    assert not npi_is_valid(wrong)
    assert error_code(wrong) == "npi_check"
    with pytest.raises(ValidationError, match="check digit is wrong"):
        validate_npi(wrong)


@pytest.mark.parametrize("value", ["123456789", "12345678930", "", "1", "0" * 20])
def test_anything_but_ten_digits_is_a_format_error(value):
    assert not npi_is_valid(value)
    assert error_code(value) == "npi_format"
    with pytest.raises(ValidationError, match="exactly 10 digits"):
        validate_npi(value)


@pytest.mark.parametrize("value", ["12345678AB", "ABCDEFGHIJ", "1234-56789", "123456789O", "1234567893\x00"])
def test_letters_and_punctuation_are_rejected(value):
    assert not npi_is_valid(value)
    assert error_code(value) == "npi_format"


def test_surrounding_whitespace_is_ignored_by_the_validator():
    assert error_code(f"  {CMS_EXAMPLE}\n") is None
    # npi_is_valid itself takes the bare value only.
    assert not npi_is_valid(f" {CMS_EXAMPLE}")


@pytest.mark.parametrize("value", ["12345 67893", "1234567\t893", "123456789 3"])
def test_whitespace_inside_the_number_is_rejected(value):
    assert error_code(value) == "npi_format"


def test_non_ascii_digits_are_rejected():
    fullwidth = "".join(chr(ord("０") + int(d)) for d in CMS_EXAMPLE)
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in CMS_EXAMPLE)

    for value in (fullwidth, arabic_indic):
        assert not npi_is_valid(value)
        assert error_code(value) is not None


@given(st.integers(min_value=0, max_value=999_999_999))
def test_every_nine_digit_base_has_exactly_one_check_digit(base):
    valid = [d for d in "0123456789" if npi_is_valid(f"{base:09d}{d}")]

    assert len(valid) == 1


def test_fixture_npis_are_valid_and_distinct():
    npis = {valid_npi(n) for n in range(200)}

    assert len(npis) == 200
    assert all(npi_is_valid(npi) for npi in npis)


# The model: ClinicianPage.full_clean() ------------------------------------------------------


@pytest.mark.django_db
def test_duplicate_npi_is_rejected_with_a_clear_message(make_clinician):
    first = make_clinician("Ana", "Lopez", npi=CMS_EXAMPLE)
    second = make_clinician("Bob", "Smith")

    second.npi = first.npi
    with pytest.raises(ValidationError) as caught:
        second.full_clean()

    assert caught.value.message_dict["npi"] == ["Another clinician already has this NPI."]


@pytest.mark.django_db
def test_duplicate_npi_with_surrounding_spaces_is_still_a_duplicate(make_clinician):
    make_clinician("Ana", "Lopez", npi=CMS_EXAMPLE)
    second = make_clinician("Bob", "Smith")

    second.npi = f" {CMS_EXAMPLE} "
    with pytest.raises(ValidationError) as caught:
        second.full_clean()

    assert "Another clinician already has this NPI." in caught.value.message_dict["npi"]


@pytest.mark.django_db
def test_a_clinician_does_not_clash_with_their_own_npi(make_clinician):
    page = make_clinician("Ana", "Lopez", npi=CMS_EXAMPLE)

    page.full_clean()  # no error


@pytest.mark.django_db
def test_full_clean_reports_a_wrong_check_digit_on_the_npi_field(make_clinician):
    page = make_clinician("Ana", "Lopez")

    page.npi = "1234567890"
    with pytest.raises(ValidationError) as caught:
        page.full_clean()

    assert caught.value.message_dict["npi"] == ["This NPI's check digit is wrong; please check it for a typo."]
