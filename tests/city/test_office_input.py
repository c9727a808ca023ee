"""Whatever a signed-in browser sends the office gets a 4xx naming the problem, never a 5xx,
and changes nothing; a request without a session is sent to sign in."""

from __future__ import annotations

import re
import ssl
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine

from kofu.city.adapters.office import OfficeUnitOfWork
from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services.office import Auditor, SessionPolicy, add_staff
from kofu.city.web.app import Office, create_office_app
from kofu.core.clock import JST, FixedClock
from kofu.core.network import network_identity
from services import in_thread

CODE = "112186"
PASSWORD = "a long supervisor password"
BAD = [  # (method, path, form or query), each must answer 4xx
    ("GET", "/residents/123", {}),
    ("GET", "/residents", {"birth": "1980-13-45"}),
    ("GET", "/residents/00000000000", {}),
    ("GET", "/issued/99999.pdf", {}),
    ("POST", "/residents/{rc}/reveal", {"purpose": "curiosity"}),
    ("POST", "/residents/{rc}/issue", {"type": "passport", "paid": "yes"}),
    ("POST", "/residents/{rc}/issue", {"type": "juminhyo"}),  # the fee not taken
    ("POST", "/residents/{rc}/issue", {"type": "juminhyo", "paid": "yes", "copies": "999"}),
    ("POST", "/residents/{rc}/issue", {"type": "kazei", "paid": "yes", "year": "99999999999"}),
    ("POST", "/residents/{rc}/issue", {"type": "juminhyo", "paid": "yes", "items": "salary"}),
    ("POST", "/residents/{rc}/issue", {"type": "tenshutsu", "paid": "yes"}),  # no 転出届
    ("POST", "/events/preview", {"batch": "not json"}),
    ("POST", "/events/preview", {"kind": "move_within", "f_resident": "{rc}", "f_address": "{x"}),
    ("POST", "/events/apply", {"batch": '{"kind": "death", "resident": "00000000000"}'}),
    ("POST", "/cards/launch", {}),
    ("POST", "/cards/slots", {"starts_at": "tomorrow", "minutes": "60", "capacity": "1"}),
    ("POST", "/cards/slots", {"starts_at": "2027-01-04T10:00", "minutes": "9" * 30}),
    ("POST", "/cards/renew", {"card": "../../card/master.key", "pin": "1234"}),
    ("POST", "/cards/handover", {"application": "A1", "pin": "1234", "documents": "passport"}),
    ("POST", "/supervisor/domicile", {"registration": "D999", "decision": "approve"}),
]


def test_bad_input_is_a_4xx_and_changes_nothing(seeded_engine: Engine, tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 11, 24, 10, 0, tzinfo=JST))
    add_staff(
        uow=OfficeUnitOfWork(seeded_engine, CODE),
        user="boss",
        role="supervisor",
        password=PASSWORD,
        clock=clock,
    )
    office = Office(
        engine=seeded_engine,
        city=CODE,
        city_name="埼玉県深谷市",
        clock=clock,
        policy=SessionPolicy(),
        auditor=Auditor(lambda: OfficeUnitOfWork(seeded_engine, CODE), clock, tmp_path / "head"),
        authority=None,
        master_key=None,
        cards=tmp_path / "cards",
    )
    with CityUnitOfWork(seeded_engine) as uow:
        resident = uow.registers.residents(limit=1)[0].resident_code
    identity = network_identity(tmp_path, f"office-{CODE}", "lgwan")
    app = create_office_app(office)
    with (
        in_thread(app, identity, client_certificates=False) as url,
        httpx.Client(
            base_url=url, verify=ssl.create_default_context(cafile=str(identity.ca))
        ) as client,
    ):
        _try_everything(client, seeded_engine, resident)


def _try_everything(client: httpx.Client, seeded_engine: Engine, resident: str) -> None:
    assert client.get("/residents").headers["location"].startswith("/login")
    form = client.get("/login").text
    login = re.search(r'name="csrf" value="([^"]+)"', form)
    assert login is not None
    client.post("/login", data={"csrf": login[1], "user": "boss", "password": PASSWORD})
    page = client.get("/")
    assert page.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    with seeded_engine.connect() as conn:
        before = conn.exec_driver_sql("SELECT count(*) FROM event_log").scalar_one()
    for method, path, values in BAD:
        path = path.replace("{rc}", resident)
        filled = {k: v.replace("{rc}", resident) for k, v in values.items()}
        if method == "GET":
            answer = client.get(path, params=filled)
        else:
            answer = client.post(path, data={"csrf": token[1], **filled})
        assert 400 <= answer.status_code < 500, (path, values, answer.status_code)
        assert "何も変更されていません" in answer.text or answer.status_code == 404, path
    with seeded_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM event_log").scalar_one() == before
        assert conn.exec_driver_sql("SELECT count(*) FROM issuance_log").scalar_one() == 0
