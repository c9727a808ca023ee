"""Every contract refuses an unknown field and a wrong type naming the field, and round-trips."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from contract_examples import EXAMPLES, Example
from pydantic import ValidationError

import kofu.contracts
from kofu.contracts import Contract


@pytest.fixture(params=EXAMPLES, ids=lambda e: f"{e.name}.{e.field}")
def example(request: pytest.FixtureRequest) -> Example:
    return request.param  # type: ignore[no-any-return]


def test_a_message_round_trips_through_json(example: Example) -> None:
    message = example.message
    wire = message.model_dump_json()
    assert type(message).model_validate_json(wire) == message
    assert type(message).model_validate(message.model_dump(mode="json")) == message
    assert message.model_dump(mode="json")["v"] == 1  # the version travels with every message


def test_an_unknown_field_is_refused_by_name(example: Example) -> None:
    wire = example.message.model_dump(mode="json") | {"colour": "blue"}
    with pytest.raises(ValidationError) as info:
        type(example.message).model_validate(wire)
    [error] = info.value.errors()
    assert error["type"] == "extra_forbidden" and error["loc"] == ("colour",)


def test_a_wrong_type_is_refused_by_name(example: Example) -> None:
    wire = example.message.model_dump(mode="json") | {example.field: example.wrong}
    with pytest.raises(ValidationError) as info:
        type(example.message).model_validate(wire)
    assert {error["loc"][0] for error in info.value.errors()} == {example.field}


def test_another_version_is_refused(example: Example) -> None:
    wire = example.message.model_dump(mode="json") | {"v": 2}
    with pytest.raises(ValidationError) as info:
        type(example.message).model_validate(wire)
    assert [error["loc"] for error in info.value.errors()] == [("v",)]


def test_a_message_without_a_version_is_version_one(example: Example) -> None:
    wire = example.message.model_dump(mode="json")
    del wire["v"]
    assert type(example.message).model_validate(wire) == example.message


def test_a_message_cannot_be_changed(example: Example) -> None:
    with pytest.raises(ValidationError):
        example.message.v = 1  # type: ignore[misc]


def test_every_contract_has_an_example() -> None:
    """A new contract without an example here would escape these tests."""
    for link in pkgutil.iter_modules(kofu.contracts.__path__):
        importlib.import_module(f"kofu.contracts.{link.name}")  # each defines its subclasses

    def all_subclasses(cls: type) -> set[type]:
        found = set(cls.__subclasses__())
        return found.union(*(all_subclasses(c) for c in found)) if found else found

    assert {c.__name__ for c in all_subclasses(Contract)} <= {e.name for e in EXAMPLES}


def test_a_number_is_a_json_number_and_keeps_its_bounds() -> None:
    """3.0 is an integer as JSON Schema says; "3" and true are not; the schema keeps the bounds."""
    from kofu.contracts.juki import ReportCounts
    from kofu.contracts.store import IssueOptions

    assert ReportCounts.model_validate({"stored": 3.0, "replaced": 0, "unchanged": 0}).stored == 3
    for wrong in ("3", True, 3.5):
        with pytest.raises(ValidationError):
            ReportCounts.model_validate({"stored": wrong, "replaced": 0, "unchanged": 0})
    year = IssueOptions.model_json_schema()["properties"]["fiscal_year"]["anyOf"][0]
    assert (year["minimum"], year["maximum"]) == (1989, 2200)


def test_an_answer_that_is_not_the_contract_is_the_party_unavailable(example: Example) -> None:
    """A receiver reads another party's answer as the contract or as that party being down."""
    from kofu.core.errors import Refused

    down = Refused("city_unavailable", "the city could not answer just now")
    wire = example.message.model_dump(mode="json") | {example.field: example.wrong}
    with pytest.raises(Refused) as info:
        type(example.message).read(wire, down)
    assert info.value is down
    assert type(example.message).read(example.message.model_dump(mode="json"), down) == (
        example.message
    )


def test_a_message_of_ours_that_is_wrong_is_a_422_naming_the_field(example: Example) -> None:
    from kofu.core.errors import InvalidInput

    wire = example.message.model_dump(mode="json") | {example.field: example.wrong}
    with pytest.raises(InvalidInput) as info:
        type(example.message).checked(wire, within="outer")
    assert info.value.field is not None
    assert info.value.field.startswith(f"outer.{example.field}")
