"""The messages that cross a process boundary, defined once and imported by both sides.

One module per link: ``store`` (center ↔ city certificate server),
``identity`` (本人確認情報 and 本籍地利用登録, center ↔ city), ``jpki``
(center and cities ↔ the authority), ``juki`` (cities and center ↔ Juki-net),
``kiosk`` (kiosk ↔ center), ``operator`` (the operator ↔ center).  A
field has one name, the domain's, on both sides of a link.

Every message is a frozen pydantic model that refuses unknown fields, so a
misspelt or renamed field is a 422 naming it rather than a value silently
dropped; scalar fields are strict (``"5"`` is not a number), so a wrong type
is a 422 naming the field too.

Versions: every message carries ``v``, its version, on the wire; this is
version 1 of all of them, and a message without ``v`` is read as version 1.
A change a receiver could misread (a field renamed, removed, or meaning
something else) makes a new model with ``v: Literal[2]`` beside the old one;
a receiver refuses a version it does not know (422 naming ``v``).  Adding an
optional field keeps the version.

This package imports no party and nothing but pydantic, the standard
library and kofu.core's identifiers and errors (import-linter checks it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError

from kofu.core.errors import InvalidInput

__all__ = [
    "REQUEST_ID",
    "AuthSerial",
    "CityCode",
    "Contract",
    "Digest",
    "Integer",
    "NotText",
    "RequestId",
    "ResidentCodeText",
]


class Contract(BaseModel):
    """A message between two parties: version 1, no unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1

    @classmethod
    def checked(cls, data: Any, within: str = "") -> Self:
        """This message made of values of ours, or a 422 (InvalidInput) naming the wrong field.

        ``within`` prefixes the field's name where the message sits inside
        another (``options`` of a kiosk's request).
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join([*([within] if within else []), *map(str, error["loc"])])
            raise InvalidInput(f"{field}: {error['msg']}", field=field) from exc

    @classmethod
    def read(cls, data: Any, unavailable: Exception) -> Self:
        """Another party's answer as this contract, or ``unavailable`` when it is not one.

        A party that answers something else (an older or broken version)
        cannot be relied on, as if it had not answered: the caller raises
        its own words for that, never a validation traceback.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise unavailable from exc


# The identifiers every link carries, as the wire spells them.
REQUEST_ID = {"min_length": 8, "max_length": 64, "pattern": r"^[A-Za-z0-9_.:-]+$"}
"""A request id's shape, for a path parameter too (``Path(**REQUEST_ID)``)."""

RequestId = Annotated[str, StringConstraints(strict=True, **REQUEST_ID)]
"""The kiosk's request id, the key of every step of one issuance."""

AuthSerial = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=40, pattern=r"^[0-9A-Fa-f]+$")
]
"""The serial number (hex) of the card's user-authentication certificate."""

CityCode = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]{6}$")]
"""A local government code (地方公共団体コード), six digits."""

ResidentCodeText = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]{11}$")]
"""A resident code (住民票コード), eleven digits."""

Digest = Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest in lower-case hex."""


def _number_not_text(value: Any) -> Any:
    if isinstance(value, str | bytes | bool):  # "5" or true is not a number on the wire
        raise ValueError("Input should be a valid integer")
    return value


NotText = BeforeValidator(_number_not_text)
"""After any bounds: ``Annotated[int, Field(ge=1), NotText]`` (the schema drops bounds after it)."""

Integer = Annotated[int, NotText]
"""A JSON integer: a number without a fraction (``3.0`` is one, as JSON Schema says), not text."""
