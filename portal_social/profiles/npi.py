"""National Provider Identifier checks (CMS: Luhn over the 80840 prefix)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def npi_is_valid(value: str) -> bool:
    """Whether ``value`` is a 10-digit NPI with a correct check digit.

    The check digit is the Luhn check digit of the first nine digits prefixed
    with the health-industry number 80840.
    """
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    digits = [int(d) for d in "80840" + value]
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def validate_npi(value: str) -> None:
    value = (value or "").strip()
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        raise ValidationError(_("An NPI is exactly 10 digits."), code="npi_format")
    if not npi_is_valid(value):
        raise ValidationError(_("This NPI's check digit is wrong; please check it for a typo."), code="npi_check")
