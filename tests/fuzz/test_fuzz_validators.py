"""Fuzz the postcode and phone validators: any text → None or the canonical form."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.membership.validators import normalise_phone
from engage.membership.validators import normalise_postcode
from tests.fuzz.conftest import FUZZ

#: Files and text only: the SQLite run alone runs these.
pytestmark = pytest.mark.pure

POSTCODE_SHAPED = st.from_regex(
    r"\A\s*[A-Za-z]{1,2}[0-9][0-9A-Za-z]?\s*[0-9][A-Za-z]{2}\s*\Z", fullmatch=True
)
PHONE_SHAPED = st.from_regex(r"\A\+?[0-9 ()\-.]{0,20}\Z", fullmatch=True)


@FUZZ
@given(st.one_of(st.text(), POSTCODE_SHAPED))
def test_postcode_is_none_or_canonical_and_stable(text: str) -> None:
    result = normalise_postcode(text)
    if result is None:
        return
    assert re.fullmatch(r"[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}|GIR 0AA", result)
    assert normalise_postcode(result) == result
    assert normalise_postcode(result.lower().replace(" ", "")) == result


@FUZZ
@given(st.one_of(st.text(), PHONE_SHAPED))
def test_phone_is_none_or_digits_and_stable(text: str) -> None:
    result = normalise_phone(text)
    if result is None:
        return
    if result.startswith("+"):
        assert result[1:].isdigit()
        assert 5 <= len(result) - 1 <= 15
    else:
        assert re.fullmatch(r"0[0-9]{9,10}", result)
    assert normalise_phone(result) == result
