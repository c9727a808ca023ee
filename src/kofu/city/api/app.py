"""The city's HTTP face.  Thin: parse, call a service, answer; errors map to status codes once.

- ``/residents``: the register (list, one record with history, as of a date)
- ``/events``: register events, all or none
- ``/certificates/counter``: 窓口交付, answers the PDF
- ``/certificates/store``: the certificate issuance server (証明発行サーバ) the issuance
  center calls for an authenticated card; answers the PDF with its digests, or a
  refusal whose reason a kiosk can show; once per request id (a retry gets the
  same answer, another request under the id 409 ``request_id_reused``)
- ``/certificates/store/{request_id}``: what the city did under that id (issued with
  the answer, refused, unknown), and ``…/abandon`` to close an id it never answered
- ``/card/...``: the card desk's applications, slots, notices and bookings
- ``/citylink/...``: other cities over Juki-net (wide-area certificates, special moves;
  see ``kofu.city.api.citylink``)

Over mutual TLS the register, counter, card desk and domicile decisions
answer only the city's own network names (``city-CODE`` and its staff,
``city-CODE-…``); the store path, identity and domicile registrations only
the center; ``/health`` and ``/store/rules`` anyone on LGWAN.

Most endpoints are plain functions, which FastAPI runs in its thread pool.
The store endpoint is ``async`` and runs on the event loop instead: it asks
no other party, only the city's own store and renderer, and under load the
trip to the thread pool and back cost a tenth of its CPU.  Each worker then
answers one store request at a time, which on two cores loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.api.citylink import add_citylink_routes
from kofu.city.api.dashboard import dashboard_page
from kofu.city.domain.certificates import IssueRequest
from kofu.city.domain.store_rules import StoreRules
from kofu.city.services import card_desk as desk
from kofu.city.services.dashboard import dashboard
from kofu.city.services.domicile import (
    apply_for_domicile_use,
    decide_registration,
    identity_of_card,
)
from kofu.city.services.events import apply_events
from kofu.city.services.issuance import issue_certificate
from kofu.city.services.queries import list_residents, show_resident
from kofu.city.services.store import (
    abandon_store_request,
    answer_store_request,
    record_store_print,
    record_store_prints,
    store_request_outcome,
)
from kofu.contracts import REQUEST_ID
from kofu.contracts.identity import DomicileAnswer, DomicileApplication, Identity, IdentityRequest
from kofu.contracts.store import (
    CityHealth,
    PrintRecorded,
    PrintsRecorded,
    StoreAnswer,
    StoreOutcome,
    StorePrinted,
    StorePrints,
    StoreRequest,
)
from kofu.core.clock import Clock
from kofu.core.errors import InvalidInput
from kofu.core.http import binary, every, only, party_app

__all__ = ["create_app"]

MAX_OFFSET = 10**9  # past any register's size, and within every store's integers


class CounterIn(BaseModel):
    resident: str
    type: str
    household: str | None = None
    members: list[str] = Field(default_factory=list)
    items: list[str] = Field(default_factory=list, alias="with")
    history: bool = False
    year: int | None = None


class DecisionIn(BaseModel):
    approve: bool
    reason: str | None = Field(default=None, max_length=200)


class ApplicationIn(BaseModel):
    resident: str
    channel: str = "counter"
    facility: str | None = None
    reason: str = "new"


class SlotIn(BaseModel):
    starts_at: datetime
    minutes: int = 30
    capacity: int = 4
    kind: str = "regular"


class CapacityIn(BaseModel):
    capacity: int


class BookingIn(BaseModel):
    application: str
    slot: str


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            f"as_of must be a date like 2026-11-23, got {text!r}", field="as_of"
        ) from exc


# a request id in a path, shaped as in the store request (a 422 names it otherwise)
PathRequestId = Annotated[str, Path(**REQUEST_ID)]


def create_app(
    engine: Engine,
    code: str,
    clock: Clock,
    rules: StoreRules,
    background: tuple[float, Callable[[], object]] | None = None,
) -> FastAPI:
    """The city ``code``'s app over its store; ``background`` (seconds, job) runs every so often.

    The job is the report to juki: a failure (juki down) is logged and the
    same records go at the next turn.
    """
    app = party_app(
        f"kofu city {code}", __doc__, lifespan=every(*background) if background else None
    )

    def uow() -> CityUnitOfWork:
        return CityUnitOfWork(engine, today=clock.today())

    # the registers and desks answer the city's own people and machines only
    desks = APIRouter(
        dependencies=[only(f"city-{code}", "use the city's registers and desks", staff=True)]
    )

    @app.get("/health")
    def health() -> CityHealth:
        with uow() as u:
            profile = u.city()
        name = f"{profile.prefecture}{profile.name}"
        return CityHealth(city=code, name=name, status="ok", now=clock.now())

    @desks.get("/dashboard", **binary("text/html", "the month-by-month dashboard page"))
    def dashboard_html(
        fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    ) -> HTMLResponse:
        """This fiscal year's indicators by month, live from the activity log (the city's staff)."""
        view = dashboard(uow=uow(), clock=clock, fiscal_year=fiscal_year)
        return HTMLResponse(dashboard_page(view))

    @desks.get("/dashboard.json")
    def dashboard_json(
        fiscal_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    ) -> dict[str, Any]:
        return dashboard(uow=uow(), clock=clock, fiscal_year=fiscal_year)

    @desks.get("/residents")
    def residents(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> list[dict[str, Any]]:
        return list_residents(uow=uow(), limit=limit, offset=offset)

    @desks.get("/residents/{resident}")
    def resident(resident: str, as_of: str | None = None) -> dict[str, Any]:
        return show_resident(uow=uow(), resident_code=resident, as_of=_date(as_of))

    @desks.post("/events")
    def events(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not body:
            raise InvalidInput("no events", field="events")
        return [
            c.model_dump(mode="json") for c in apply_events(uow=uow(), events=body, clock=clock)
        ]

    @desks.post("/certificates/counter", **binary("application/pdf", "the certificate, PDF"))
    def counter(body: CounterIn) -> Response:
        request = IssueRequest.parse(
            type=body.type,
            resident_code=body.resident,
            household=body.household,
            members=body.members,
            items=body.items,
            history=body.history,
            fiscal_year=body.year,
        )
        fee = rules.fees.get(request.type, 0)  # the city's fee per copy, as the store charges it
        issued = issue_certificate(uow=uow(), request=request, clock=clock, fee_yen=fee)
        headers = {
            "X-Issue-Number": str(issued.issue_number),
            "X-Content-Digest": issued.content_digest,
        }
        return Response(issued.pdf, media_type="application/pdf", headers=headers)

    @app.post("/certificates/store", dependencies=[only("center", "ask for store certificates")])
    async def store(body: StoreRequest) -> StoreAnswer:
        return answer_store_request(uow=uow(), code=code, rules=rules, clock=clock, request=body)

    @app.get(
        "/certificates/store/{request_id}",
        dependencies=[only("center", "ask what was done under a store request id")],
    )
    async def store_outcome(request_id: PathRequestId) -> StoreOutcome:
        """issued (with the same answer), refused, abandoned or unknown: the center's recovery."""
        return store_request_outcome(uow=uow(), request_id=request_id)

    @app.post(
        "/certificates/store/{request_id}/abandon",
        dependencies=[only("center", "give up a store request id")],
    )
    async def store_abandon(request_id: PathRequestId) -> StoreOutcome:
        """Close an id never answered, so nothing is issued under it; its outcome either way."""
        return abandon_store_request(uow=uow(), request_id=request_id, clock=clock)

    @app.post("/certificates/store/prints", dependencies=[only("center", "confirm store prints")])
    def store_prints(body: StorePrints) -> PrintsRecorded:
        """Kiosks printed these documents: the activity log counts each once, in one transaction."""
        return record_store_prints(uow=uow(), code=code, notices=body, clock=clock)

    @app.post(
        "/certificates/store/{request_id}/printed",
        dependencies=[only("center", "confirm a store print")],
    )
    async def store_printed(request_id: PathRequestId, body: StorePrinted) -> PrintRecorded:
        """A kiosk printed the document: the activity log counts it once."""
        if body.request_id != request_id:
            raise InvalidInput("the path and the body name different requests", field="request_id")
        return record_store_print(uow=uow(), code=code, notice=body, clock=clock)

    @app.post("/identity", dependencies=[only("center", "ask for a card holder's identity")])
    def identity(body: IdentityRequest) -> Identity:
        """本人確認情報 of a valid card's holder, for the center (Juki-net's answer)."""
        return identity_of_card(uow=uow(), auth_serial=body.auth_serial, clock=clock)

    @app.post(
        "/domicile-registrations", dependencies=[only("center", "pass on a domicile registration")]
    )
    def register_domicile(body: DomicileApplication) -> DomicileAnswer:
        made = apply_for_domicile_use(
            uow=uow(),
            auth_serial=body.auth_serial,
            domicile=body.domicile,
            head_name=body.head_name,
            name=body.name,
            birth_date=body.birth_date,
            sex=body.sex,
            rules=rules,
            clock=clock,
        )
        return DomicileAnswer.model_validate(made.model_dump())

    @desks.get("/domicile-registrations")
    def domicile_registrations(state: str | None = None) -> list[dict[str, Any]]:
        with uow() as u:
            return [r.model_dump(mode="json") for r in u.registers.domicile_registrations(state)]

    @desks.post("/domicile-registrations/{registration_id}/decision")
    def decide_domicile(registration_id: str, body: DecisionIn) -> dict[str, Any]:
        decided = decide_registration(
            uow=uow(),
            registration_id=registration_id,
            approve=body.approve,
            reason=body.reason,
            clock=clock,
        )
        return decided.model_dump(mode="json")

    @app.get("/store/rules")
    def store_rules() -> dict[str, Any]:
        return rules.model_dump(mode="json")

    _card_routes(desks, uow, clock)
    app.include_router(desks)
    add_citylink_routes(app, uow, code, clock)  # other cities over Juki-net
    return app


def _card_routes(desks: APIRouter, uow: Callable[[], CityUnitOfWork], clock: Clock) -> None:
    @desks.post("/card/applications")
    def apply(body: ApplicationIn) -> dict[str, Any]:
        made = desk.apply_for_card(
            uow=uow(),
            resident_code=body.resident,
            channel=body.channel,
            clock=clock,
            facility=body.facility,
            reason=body.reason,
        )
        return made.model_dump(mode="json")

    @desks.post("/card/slots")
    def add_slot(body: SlotIn) -> dict[str, Any]:
        slot = desk.add_slot(
            uow=uow(),
            starts_at=body.starts_at,
            minutes=body.minutes,
            capacity=body.capacity,
            kind=body.kind,
            clock=clock,
        )
        return slot.model_dump(mode="json")

    @desks.put("/card/slots/{slot_id}/capacity")
    def capacity(slot_id: str, body: CapacityIn) -> dict[str, Any]:
        return desk.set_capacity(uow=uow(), slot_id=slot_id, capacity=body.capacity).model_dump(
            mode="json"
        )

    @desks.post("/card/notices")
    def notices() -> list[dict[str, Any]]:
        return [a.model_dump(mode="json") for a in desk.send_notices(uow=uow(), clock=clock)]

    @desks.post("/card/bookings")
    def book(body: BookingIn) -> dict[str, Any]:
        booked = desk.book_slot(
            uow=uow(), application_id=body.application, slot_id=body.slot, clock=clock
        )
        return booked.model_dump(mode="json")

    @desks.post("/card/{card_id}/lost")
    def lost(card_id: str) -> dict[str, Any]:
        record = desk.report_lost(uow=uow(), card_id=card_id, clock=clock)
        return record.model_dump(mode="json", exclude={"issuer_secret"})
