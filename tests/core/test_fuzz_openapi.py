"""Every service against its own OpenAPI document: generated requests, no 5xx, answers as said.

Schemathesis reads each party's ``/openapi.json`` and sends requests made
from it, valid ones and invalid ones, to the app in-process (ASGI).  Every
check runs: no server error, the status codes, content types, headers and
bodies the document promises, valid data accepted and invalid data refused.
The example budget is small and the generation derandomized, so a run is
the same every time and takes seconds.
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from apps import PARTIES, party_apps

EXAMPLES = 12  # per operation and mode: enough to reach each field's edges, and quick
# kofu refuses NUL in any text (422 unstorable_text, documented), so none is generated as valid
CONFIG = SchemathesisConfig.from_dict({"generation": {"allow-x00": False}})
BUDGET = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same requests every run
    database=None,  # nothing remembered between runs either
    deadline=None,  # a first certificate render parses the font: slow once, not a failure
    phases=[Phase.explicit, Phase.generate],  # a failure is reported as found, not shrunk
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    return party_apps(tmp_path_factory.mktemp("parties"))


def _operations(app: FastAPI) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    return [result.ok() for result in schema.get_all_operations()]


def schema_valid_data_passes_request_validation(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A request its document says is well formed is never refused as malformed.

    This takes the place of schemathesis's ``positive_data_acceptance``, which
    counts every 422 as a refused well-formed request.  A kofu 422 is either
    request validation (FastAPI's, with ``detail``, or the guard's
    ``unstorable_text``), which a schema-valid request must never get, or a
    rule of the domain no JSON schema can say (a resident code's check
    digit, a certificate that does not parse, a slot in the past), which it
    may: those name the field without ``detail``.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code != 422:
        return True
    answer = response.json()
    malformed = answer.get("detail") is not None or answer.get("reason") == "unstorable_text"
    assert not malformed, f"a schema-valid request was refused as malformed: {answer}"
    return True


def _failures(operation: schemathesis.APIOperation, mode: GenerationMode) -> str | None:
    """What the checks found for ``EXAMPLES`` generated requests to one operation, or None."""

    @BUDGET
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(
            excluded_checks=[positive_data_acceptance],
            additional_checks=[schema_valid_data_passes_request_validation],
        )

    try:
        run()
    except Unsatisfiable:
        return None  # nothing invalid to send: an operation that takes no input
    except (Exception, BaseExceptionGroup) as exc:  # a check's report, shown whole below
        return f"{mode.value} {operation.method.upper()} {operation.path}: {exc}"
    return None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("party", PARTIES)
def test_the_service_answers_as_its_document_says(
    apps: dict[str, FastAPI], party: str, mode: GenerationMode
) -> None:
    failures = [f for op in _operations(apps[party]) if (f := _failures(op, mode))]
    assert not failures, "\n\n".join(failures)
