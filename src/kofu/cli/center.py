"""``kofu center``: what an operator does at the running center over mutual TLS.

``kofu center resume --city CODE --reason TEXT`` resumes a city's issuance
that an alarm stopped (交付再開).  It is asked on a supervisor's certificate
of KOFU_HOME's stores' network (``operator-supervisor`` unless ``--as``
names another ``operator-supervisor-…``; made on first use, as
``kofu network cert`` makes it): the center refuses any other caller.
"""

from __future__ import annotations

import os
import secrets
from typing import Annotated

import typer

from kofu.cli.common import emit, guarded, settings

app = typer.Typer(help="The issuance center, as its operators use it.", no_args_is_help=True)


@app.command("resume")
def resume(
    city: Annotated[str, typer.Option(help="the stopped city's six-digit code")],
    reason: Annotated[str, typer.Option(help="why it may issue again (kept on record)")],
    center: Annotated[
        str | None, typer.Option(help="the running center's https URL (or KOFU_CENTER_URL)")
    ] = None,
    name: Annotated[
        str, typer.Option("--as", help="the supervisor's network certificate name")
    ] = "operator-supervisor",
    request_id: Annotated[
        str | None, typer.Option(help="the request's key: the same one again resumes once")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Resume a city an alarm stopped: who, when, which city and why are kept at the center."""
    from kofu.contracts.operator import Resumed, ResumeRequest
    from kofu.core.errors import InvalidInput, Refused
    from kofu.core.http import ask
    from kofu.core.link import Link
    from kofu.core.network import client_context, network_identity

    with guarded(as_json):
        url = (center or os.environ.get("KOFU_CENTER_URL") or "").rstrip("/")
        if not url:
            raise InvalidInput("give --center or set KOFU_CENTER_URL", field="center")
        if not reason.strip():
            raise InvalidInput("--reason says why the city may issue again", field="reason")
        try:
            body = ResumeRequest(
                request_id=request_id or f"resume-{secrets.token_hex(12)}", reason=reason
            )
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise InvalidInput(
                "--request-id is 8 to 64 letters, digits, '_.:-'; --reason at most 2000",
                field="request_id",
            ) from exc
        unavailable = Refused("center_unavailable", f"the center at {url} could not answer")
        supervisor = network_identity(settings().home, name)
        with Link(client_context(supervisor), timeout=60) as link:
            answer = ask(
                link,
                "POST",
                f"{url}/alarms/{city}/resume",
                unavailable,
                json=body.model_dump(mode="json"),
            )
        done = Resumed.read(answer, unavailable).model_dump(mode="json", exclude={"v"})
        if as_json:
            emit(done)
            return
        typer.echo(
            f"{done['city']} resumed at {done['at']} by {done['operator']}: {done['reason']}"
        )
