"""Validated identifiers of the resident-record world.

Each type is a ``str`` subclass that can only be built from a valid value, so a
function that takes an ``IndividualNumber`` never has to check it again.

- Individual number (個人番号): 11 digits + 1 check digit, MIC Ordinance No. 85
  (平成26年総務省令第85号) Art. 5.
- Resident code (住民票コード): 10 digits + 1 check digit.  The official
  formula (平成14年総務省告示第436号) is not public; kofu uses the Luhn scheme
  (ISO/IEC 7812-1 Annex B), which catches every single mistyped digit and most
  swaps of neighbours.  See docs/identifiers.md.
- Local government code (全国地方公共団体コード): 5 digits + check digit,
  modulus 11 with weights 6,5,4,3,2 (JIS X 0401/0402 and the MIC notice).
- Postal code (郵便番号): 7 digits, printed as ``NNN-NNNN``.
"""

from __future__ import annotations

import operator
import re
from typing import ClassVar, Self

from kofu.core.errors import InvalidInput

__all__ = [
    "IndividualNumber",
    "LocalGovernmentCode",
    "PostalCode",
    "ResidentCode",
    "individual_number_check_digit",
    "local_government_check_digit",
    "resident_code_check_digit",
]

_DIGITS = re.compile(r"\d+")


def _weighted_mod11(base: str, weights: tuple[int, ...]) -> int:
    total: int = sum(map(operator.mul, map(int, base), weights))
    return total % 11


# Q_n = n+1 for n=1..6, n-5 for n=7..11, n counted from the rightmost digit.
_INDIVIDUAL_WEIGHTS = tuple(n + 1 if n <= 6 else n - 5 for n in range(11, 0, -1))
_LOCAL_GOVERNMENT_WEIGHTS = (6, 5, 4, 3, 2)


def individual_number_check_digit(base: str) -> int:
    """Check digit of an individual number from its 11 base digits (Ordinance No. 85 Art. 5)."""
    if len(base) != 11 or not base.isdigit():
        raise InvalidInput("individual number base must be 11 digits", field="individual_number")
    r = _weighted_mod11(base, _INDIVIDUAL_WEIGHTS)
    return 0 if r <= 1 else 11 - r


def resident_code_check_digit(base: str) -> int:
    """Check digit of a resident code from its 10 base digits (kofu's documented scheme)."""
    if len(base) != 10 or not base.isdigit():
        raise InvalidInput("resident code base must be 10 digits", field="resident_code")
    total = 0
    for position, digit in enumerate(reversed(base)):
        value = int(digit) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def local_government_check_digit(base: str) -> int:
    """Check digit of a local government code from its 5 digits (総務省 地方公共団体コード)."""
    if len(base) != 5 or not base.isdigit():
        raise InvalidInput("local government code base must be 5 digits", field="city")
    r = _weighted_mod11(base, _LOCAL_GOVERNMENT_WEIGHTS)
    return (11 - r) % 10


class _CheckedDigits(str):
    """A string of a fixed number of digits whose last digit is a check digit."""

    length: ClassVar[int]
    label: ClassVar[str]
    field: ClassVar[str]

    def __new__(cls, value: object) -> Self:
        text = str(value).strip().replace("-", "").replace(" ", "")
        if len(text) != cls.length or not _DIGITS.fullmatch(text):
            raise InvalidInput(
                f"{cls.label} must be {cls.length} digits, got {value!r}", field=cls.field
            )
        expected = cls._check_digit(text[:-1])
        if int(text[-1]) != expected:
            raise InvalidInput(
                f"{cls.label} {text} has a wrong check digit (expected {expected})",
                field=cls.field,
            )
        return super().__new__(cls, text)

    @classmethod
    def _check_digit(cls, base: str) -> int:
        raise NotImplementedError

    @classmethod
    def from_base(cls, base: str) -> Self:
        """Complete ``base`` with its check digit (validated by ``_check_digit``)."""
        return str.__new__(cls, base + str(cls._check_digit(base)))


class IndividualNumber(_CheckedDigits):
    """個人番号 (My Number): 12 digits, the last a check digit."""

    length = 12
    label = "individual number"
    field = "individual_number"

    @classmethod
    def _check_digit(cls, base: str) -> int:
        return individual_number_check_digit(base)

    def formatted(self) -> str:
        """Printed in groups of four, as on the card's back."""
        return f"{self[0:4]} {self[4:8]} {self[8:12]}"


class ResidentCode(_CheckedDigits):
    """住民票コード: 11 digits, the last a check digit."""

    length = 11
    label = "resident code"
    field = "resident_code"

    @classmethod
    def _check_digit(cls, base: str) -> int:
        return resident_code_check_digit(base)


class LocalGovernmentCode(_CheckedDigits):
    """全国地方公共団体コード: 6 digits; the first five are the JIS X 0402 code."""

    length = 6
    label = "local government code"
    field = "city"

    @classmethod
    def _check_digit(cls, base: str) -> int:
        return local_government_check_digit(base)

    @property
    def jis(self) -> str:
        """The five-digit JIS X 0402 code used by Japan Post's data."""
        return self[:5]


class PostalCode(str):
    """郵便番号: seven digits."""

    def __new__(cls, value: object) -> Self:
        text = str(value).strip().lstrip("〒").replace("-", "")
        if len(text) != 7 or not text.isdigit():
            raise InvalidInput(f"postal code must be 7 digits, got {value!r}", field="postal_code")
        return super().__new__(cls, text)

    def formatted(self) -> str:
        """Printed as 〒NNN-NNNN."""
        return f"〒{self[:3]}-{self[3:]}"
