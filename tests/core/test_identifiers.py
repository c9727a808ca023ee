"""Identifiers against their official rules, cross-checked with python-stdnum."""

from __future__ import annotations

import random

import pytest
from stdnum.jp import in_ as stdnum_in

from kofu.core.errors import InvalidInput
from kofu.core.identifiers import (
    IndividualNumber,
    LocalGovernmentCode,
    PostalCode,
    ResidentCode,
    individual_number_check_digit,
)


def test_individual_number_published_vector() -> None:
    # The vector quoted with the ordinance's formula: weights 6,5,4,3,2,7,6,5,4,3,2 → sum 238.
    assert individual_number_check_digit("98320567321") == 4
    assert IndividualNumber("983205673214") == "983205673214"
    assert IndividualNumber("9832 0567 3214").formatted() == "9832 0567 3214"


def test_individual_number_agrees_with_stdnum_on_many_bases() -> None:
    rng = random.Random(20261123)
    for _ in range(5000):
        base = f"{rng.randrange(10**11):011d}"
        number = IndividualNumber.from_base(base)
        assert stdnum_in.is_valid(number), number
        wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
        assert not stdnum_in.is_valid(wrong)
        with pytest.raises(InvalidInput, match="check digit"):
            IndividualNumber(wrong)


@pytest.mark.parametrize("bad", ["", "12345678901", "1234567890123", "12345678901a"])
def test_individual_number_rejects_malformed(bad: str) -> None:
    with pytest.raises(InvalidInput, match="12 digits") as info:
        IndividualNumber(bad)
    assert info.value.field == "individual_number"


@pytest.mark.parametrize(
    ("code", "name"),
    [("112186", "深谷市"), ("032051", "花巻市"), ("131016", "千代田区"), ("011002", "札幌市")],
)
def test_local_government_codes_of_real_cities(code: str, name: str) -> None:
    assert LocalGovernmentCode(code).jis == code[:5], name


def test_local_government_code_wrong_check_digit() -> None:
    with pytest.raises(InvalidInput, match=r"wrong check digit \(expected 6\)"):
        LocalGovernmentCode("112187")


def test_resident_code_catches_every_single_digit_error() -> None:
    code = ResidentCode.from_base("4817265093")
    for pos in range(11):
        for digit in "0123456789":
            if digit == code[pos]:
                continue
            mistyped = code[:pos] + digit + code[pos + 1 :]
            with pytest.raises(InvalidInput):
                ResidentCode(mistyped)


def test_postal_code_forms() -> None:
    assert PostalCode("〒366-0053") == "3660053"
    assert PostalCode("3660053").formatted() == "〒366-0053"
    with pytest.raises(InvalidInput, match="7 digits"):
        PostalCode("36600")


def test_resident_code_matches_luhn_from_stdnum() -> None:
    from stdnum import luhn

    rng = random.Random(7)
    for _ in range(2000):
        code = ResidentCode.from_base(f"{rng.randrange(10**10):010d}")
        assert luhn.is_valid(code)
