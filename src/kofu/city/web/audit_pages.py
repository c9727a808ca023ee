"""The auditor's trail, the supervisor's desk and planning's placeholder."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from kofu.city.services.domicile import decide_registration
from kofu.city.services.office import list_audit, verify_audit
from kofu.city.web.app import current, office_of, page, posted

__all__ = ["routes"]


def routes(app: FastAPI) -> None:
    @app.get("/audit", response_class=HTMLResponse)
    def audit(request: Request) -> Response:
        session = current(request, "audit.read")
        office = office_of(request)
        rows = list_audit(uow=office.uow(), since=None)[-200:]
        check = verify_audit(uow=office.uow(), anchor=office.auditor.anchor)
        office.auditor.record(session.user, session.role.value, "read_audit", "", "", {})
        return page(request, "audit.html", session, rows=list(reversed(rows)), check=check)

    @app.get("/supervisor", response_class=HTMLResponse)
    def supervisor(request: Request) -> Response:
        session = current(request, "events.restricted")
        return _supervisor_page(request, session)

    @app.post("/supervisor/domicile", response_class=HTMLResponse)
    async def decide(request: Request) -> Response:
        session, form = await posted(request, "domicile.approve")
        office = office_of(request)
        approve = form.get("decision") == "approve"
        decided = decide_registration(
            uow=office.uow(),
            registration_id=str(form.get("registration", "")),
            approve=approve,
            reason=None
            if approve
            else (str(form.get("reason", "")) or "審査の結果 rejected")[:200],
            clock=office.clock,
        )
        office.auditor.record(
            session.user,
            session.role.value,
            "domicile_decision",
            "",
            "",
            {"registration": decided.registration_id, "state": decided.state.value},
        )
        return _supervisor_page(
            request, session, f"{decided.registration_id}: {decided.state.value}"
        )

    @app.get("/planning", response_class=HTMLResponse)
    def planning(request: Request) -> Response:
        session = current(request, "planning.sheets")
        return page(request, "planning.html", session)


def _supervisor_page(request: Request, session: object, done: str | None = None) -> Response:
    office = office_of(request)
    with office.uow() as uow:
        pending = uow.registers.domicile_registrations("pending")
    return page(request, "supervisor.html", session, pending=pending, done=done)  # type: ignore[arg-type]
