"""``kofu domicile``: the domicile city reviews 本籍地利用登録 applications made at kiosks."""

from __future__ import annotations

from typing import Annotated

import typer

from kofu.cli.common import city_uow, clock, emit, guarded

app = typer.Typer(help="本籍地利用登録: list, approve, reject.", no_args_is_help=True)

City = Annotated[str, typer.Option("--city", help="the domicile city's code, e.g. 032051")]
Json = Annotated[bool, typer.Option("--json", help="one JSON object a line")]


@app.command("list")
def list_(
    city: City,
    state: Annotated[str | None, typer.Option(help="pending, approved or rejected")] = None,
    as_json: Json = False,
) -> None:
    """Applications, oldest first."""
    with guarded(as_json), city_uow(city) as uow:
        for r in uow.registers.domicile_registrations(state):
            if as_json:
                emit(r.model_dump(mode="json"))
            else:
                typer.echo(
                    f"{r.registration_id} {r.state:<8} {r.member_name} ({r.member_birth_date}) "
                    f"register {r.register_id}, applied {r.applied_at:%Y-%m-%d %H:%M}"
                )


def _decide(city: str, registration: str, approve: bool, reason: str | None, as_json: bool) -> None:
    from kofu.city.services.domicile import decide_registration

    with guarded(as_json):
        done = decide_registration(
            uow=city_uow(city),
            registration_id=registration,
            approve=approve,
            reason=reason,
            clock=clock(),
        )
        if as_json:
            emit(done.model_dump(mode="json"))
        else:
            typer.echo(f"{done.registration_id}: {done.state}")


@app.command("approve")
def approve(
    city: City,
    registration: Annotated[str, typer.Option("--id", help="the registration id, e.g. D000000001")],
    as_json: Json = False,
) -> None:
    """Approve: the card may now get this city's 戸籍 and 附票 at stores."""
    _decide(city, registration, True, None, as_json)


@app.command("reject")
def reject(
    city: City,
    registration: Annotated[str, typer.Option("--id", help="the registration id")],
    reason: Annotated[str, typer.Option(help="why, in words the resident will be told")],
    as_json: Json = False,
) -> None:
    """Reject with a reason."""
    _decide(city, registration, False, reason, as_json)
