"""A refusal at the office's counter is logged with its reason code for the dashboard.

The protected-person refusal happens in the office app before any issuance is
attempted; a rule of the certificate refuses inside the issuance.  Both are
``certificate.refused`` on channel ``counter``, and nothing else is written.
"""

from __future__ import annotations

import re
import ssl
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, select

from kofu.city.adapters import tables as t
from kofu.city.adapters.office import OfficeUnitOfWork
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.dashboard import dashboard
from kofu.city.services.events import apply_events
from kofu.city.services.office import Auditor, SessionPolicy, add_staff
from kofu.city.web.app import Office, create_office_app
from kofu.core.clock import JST, FixedClock
from kofu.core.network import network_identity
from services import in_thread

CODE = "112186"
PASSWORD = "a long supervisor password"
CLOCK = FixedClock(datetime(2026, 11, 24, 10, 0, tzinfo=JST))


def _office(engine: Engine, tmp_path: Path) -> Office:
    add_staff(
        uow=OfficeUnitOfWork(engine, CODE),
        user="boss",
        role="supervisor",
        password=PASSWORD,
        clock=CLOCK,
    )
    return Office(
        engine=engine,
        city=CODE,
        city_name="埼玉県深谷市",
        clock=CLOCK,
        policy=SessionPolicy(),
        auditor=Auditor(lambda: OfficeUnitOfWork(engine, CODE), CLOCK, tmp_path / "head"),
        authority=None,
        master_key=None,
        cards=tmp_path / "cards",
    )


def _refusals(engine: Engine) -> list[tuple[str, str]]:
    log = t.activity_log
    with engine.connect() as conn:
        rows = conn.execute(
            select(log.c.channel, log.c.cause)
            .where(log.c.kind == "certificate.refused")
            .order_by(log.c.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_office_refusals_are_logged_by_reason(seeded_engine: Engine, tmp_path: Path) -> None:
    with CityUnitOfWork(seeded_engine, today=CLOCK.today()) as uow:
        protected, other = (p.resident_code for p in uow.registers.residents(limit=2))
    apply_events(
        uow=CityUnitOfWork(seeded_engine),
        events=[
            {
                "kind": "support_measure",
                "resident": protected,
                "effective": CLOCK.today().isoformat(),
                "measure": "DV",
            }
        ],
        clock=CLOCK,
    )
    identity = network_identity(tmp_path, f"office-{CODE}", "lgwan")
    app = create_office_app(_office(seeded_engine, tmp_path))
    with (
        in_thread(app, identity, client_certificates=False) as url,
        httpx.Client(
            base_url=url, verify=ssl.create_default_context(cafile=str(identity.ca))
        ) as client,
    ):
        login = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert login is not None
        client.post("/login", data={"csrf": login[1], "user": "boss", "password": PASSWORD})
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
        assert token is not None
        for resident, kind in ((protected, "juminhyo"), (other, "johyo")):
            answer = client.post(
                f"/residents/{resident}/issue",
                data={"csrf": token[1], "type": kind, "paid": "yes"},
            )
            assert 400 <= answer.status_code < 500, answer.status_code

    assert _refusals(seeded_engine) == [("counter", "support_measure"), ("counter", "not_removed")]
    with seeded_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM issuance_log").scalar_one() == 0
    view = dashboard(uow=CityUnitOfWork(seeded_engine), clock=CLOCK)
    assert view["counter_refusals"] == {
        "support_measure": {"2026-11": 1},
        "not_removed": {"2026-11": 1},
    }
