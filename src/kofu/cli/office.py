"""Office commands: ``kofu staff add``, ``kofu audit [verify]`` and ``kofu serve office``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kofu.cli.common import clock, emit, guarded, parse_date, settings
from kofu.core.errors import InvalidInput, KofuError

if TYPE_CHECKING:
    from kofu.city.adapters.office import OfficeUnitOfWork
    from kofu.core.settings import Settings

__all__ = ["audit_anchor", "ensure_demo_staff", "register", "serve_office"]

City = Annotated[str, typer.Option("--city", help="local government code, e.g. 112186")]
Json = Annotated[bool, typer.Option("--json", help="print JSON")]

DEMO_ROLES = ("clerk", "desk", "supervisor", "auditor", "planning")


def office_uow(code: str) -> OfficeUnitOfWork:
    from kofu.city.adapters.office import OfficeUnitOfWork
    from kofu.city.store import city_engine
    from kofu.core.identifiers import LocalGovernmentCode

    code = str(LocalGovernmentCode(code))
    return OfficeUnitOfWork(city_engine(settings(), code), code, today=clock().today())


def audit_anchor(conf: Settings, code: str) -> Path:
    """Where the newest audit row's (seq, hash) is kept, outside the city's database."""
    return conf.home / "audit" / f"city-{code}.head.json"


staff_app = typer.Typer(help="Staff accounts of a city's office.", no_args_is_help=True)


@staff_app.command("add")
def staff_add(
    city: City,
    user: Annotated[str, typer.Option("--user", help="user name (3–32 of a-z 0-9 . - _)")],
    role: Annotated[str, typer.Option("--role", help="clerk|desk|supervisor|auditor|planning")],
    password_file: Annotated[
        Path, typer.Option("--password-file", help="a file holding the password (first line)")
    ],
    as_json: Json = False,
) -> None:
    """Add a staff account (or give an existing one a new role and password; its sessions end)."""
    from kofu.city.services.office import add_staff

    with guarded(as_json):
        try:
            lines = password_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read {password_file}", field="password_file") from exc
        out = add_staff(
            uow=office_uow(city),
            user=user,
            role=role,
            password=lines[0] if lines else "",
            clock=clock(),
        )
        if as_json:
            emit(out)
        else:
            verb = "added" if out["created"] else "updated"
            typer.echo(f"{verb} {out['user']} ({out['role']}) at {out['city']}")


audit_app = typer.Typer(
    help="The office's audit trail (who looked at which record, when and why).",
    invoke_without_command=True,
    no_args_is_help=False,
)


@audit_app.callback()
def audit(
    ctx: typer.Context,
    city: Annotated[str | None, typer.Option("--city", help="local government code")] = None,
    since: Annotated[str | None, typer.Option("--since", help="rows from this date on")] = None,
    as_json: Json = False,
) -> None:
    """The audit trail, oldest first; one JSON object a line with --json."""
    from kofu.city.services.office import list_audit

    if ctx.invoked_subcommand is not None:
        return
    with guarded(as_json):
        if city is None:
            raise InvalidInput("kofu audit needs --city", field="city")
        for row in list_audit(uow=office_uow(city), since=parse_date(since, "since")):
            if as_json:
                emit(row)
            else:
                typer.echo(
                    f"{row['seq']:>6} {row['at']} {row['staff']:<12} {row['action']:<20} "
                    f"{row['resident']:<11} {row['purpose']}"
                )


@audit_app.command("verify")
def audit_verify(city: City, as_json: Json = False) -> None:
    """Check the hash chain end to end and against its anchor; exit 1 when a row was changed."""
    from kofu.city.services.office import verify_audit

    with guarded(as_json):
        out = verify_audit(uow=office_uow(city), anchor=audit_anchor(settings(), city))
    if as_json:
        emit(out)
    elif out["ok"]:
        typer.echo(f"{city}: {out['rows']} rows, chain intact")
    else:
        for b in out["breaks"]:
            typer.echo(f"{city}: row {b['seq']}: {b['problem']}", err=True)
    if not out["ok"]:
        raise typer.Exit(1)


def ensure_demo_staff(code: str, conf: Settings) -> dict[str, str] | None:
    """On a city's first start, one account per role with a random password; None afterwards.

    The passwords are returned for the 0600 file ``kofu up`` writes; none is in the code.
    """
    from kofu.city.services.office import add_staff

    with office_uow(code) as uow:
        if uow.office.count_staff() > 0:
            return None
    made = {}
    for role in DEMO_ROLES:
        password = secrets.token_urlsafe(12)
        add_staff(uow=office_uow(code), user=role, role=role, password=password, clock=clock())
        made[role] = password
    return made


def write_secret_json(path: Path, data: object) -> None:
    """A file only its owner reads (0600), written whole."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
    os.chmod(path, 0o600)


def serve_office(city: str, port: int, jpki: str | None) -> None:
    """One city's office on HTTPS (the network CA's certificate), staff signing in by password."""
    from kofu.city.adapters.office import OfficeUnitOfWork
    from kofu.city.services.office import Auditor, SessionPolicy
    from kofu.city.store import city_engine
    from kofu.city.web.app import Office, create_office_app
    from kofu.cli.wiring import authority, card_master_key
    from kofu.core.clock import clock_from_env
    from kofu.core.identifiers import LocalGovernmentCode
    from kofu.core.network import network_identity
    from kofu.core.serve import free_port, serve_forever
    from kofu.documents.fonts import register_fonts

    with guarded():
        code = str(LocalGovernmentCode(city))
        conf = settings()
        engine = city_engine(conf, code)
        with OfficeUnitOfWork(engine, code) as uow:
            profile = uow.city()
        if jpki:
            if not jpki.startswith("https://"):
                raise InvalidInput(f"--jpki takes the authority's private https URL, not {jpki!r}")
            os.environ["KOFU_JPKI_URL"] = jpki
        running = clock_from_env(running=True)
        try:
            desk_authority = authority(conf, code) if jpki else None
        except KofuError:
            desk_authority = None
        office = Office(
            engine=engine,
            city=code,
            city_name=f"{profile.prefecture}{profile.name}",
            clock=running,
            policy=SessionPolicy(),
            auditor=Auditor(
                lambda: OfficeUnitOfWork(engine, code, today=running.today()),
                running,
                audit_anchor(conf, code),
            ),
            authority=desk_authority,
            master_key=card_master_key(conf),
            cards=conf.home / "cards",
        )
        register_fonts()
        identity = network_identity(conf.home, f"office-{code}", "lgwan")
        port = port or free_port()
        url = f"https://127.0.0.1:{port}/"
        ready = {
            "service": "office",
            "city": code,
            "name": office.city_name,
            "url": url,
            "tls": {"ca": str(identity.ca)},
        }
        serve_forever(
            lambda: create_office_app(office), port, ready, identity, client_certificates=False
        )


def register(app: typer.Typer) -> None:
    app.add_typer(staff_app, name="staff")
    app.add_typer(audit_app, name="audit")
