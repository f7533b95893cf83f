"""The growth check itself: it passes linear code and fails quadratic code."""

import re

import pytest

from tests.timing import assert_linear

QUADRATIC = re.compile(r"a*b")  # on "aaa…" every start scans to the end and fails


def test_linear_code_passes():
    assert_linear(lambda text: re.findall(r"a", text), "a" * 2_000, "a" * 100_000, label="findall")


def test_quadratic_code_fails():
    # Small enough to stay quick: 200 and 10,000 characters (~50 ms).
    with pytest.raises(AssertionError, match="backtracking: "):
        assert_linear(QUADRATIC.search, "a" * 200, "a" * 10_000, label="backtracking", attempts=2, slack=0.002)
