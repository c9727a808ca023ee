"""The center's issuance: one request, one issuance, one charge; never another person's document."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from center_world import (
    CITY,
    NOON,
    InProcessCity,
    WrongPersonCity,
    center_for,
    count_rows,
    make_world,
    sign_in,
)

from kofu.card.reader import JpkiCard
from kofu.center.adapters import tables as ct
from kofu.center.adapters.signing import center_signer, published_certificates, published_folder
from kofu.center.adapters.uow import sql_units
from kofu.center.services.issuance import CenterService
from kofu.city.adapters import tables as cityt
from kofu.contracts.store import IssueOptions
from kofu.core.certkinds import CertKind
from kofu.core.clock import JST, FixedClock
from kofu.core.errors import Conflict, Refused
from kofu.documents.verify import verify_file
from stores import BACKENDS, fresh_store


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The in-process world with the center's store on SQLite and on PostgreSQL."""
    with fresh_store(request.param, tmp_path, "center") as center:
        yield make_world(tmp_path, center)


def test_issue_print_and_settle_once(world: dict[str, Any], tmp_path: Path) -> None:
    center = center_for(world)
    session = sign_in(center, world)
    args = {
        "session": session,
        "request_id": "store-7-000001",
        "certificate": "juminhyo",
        "options": IssueOptions(),
        "copies": 2,
        "store": "7-0001",
        "chain": "seven",
    }
    job = center.request(**args)
    assert job.fee == 400 and job.state == "rendered"
    again = center.request(**args)  # a retry: the same print job, no second issuance
    assert again.pdf == job.pdf
    assert count_rows(world["city"], cityt.issuance_log) == 1
    pdf = tmp_path / "job.pdf"
    pdf.write_bytes(job.pdf)
    verified = verify_file(pdf, published_certificates(published_folder(world["home"])))
    assert verified.content_checked and verified.claims.holder_name == world["holder"].name
    center.printed("store-7-000001")
    center.printed("store-7-000001")  # confirming twice charges once
    with pytest.raises(Conflict):
        center.request(**args)
    month = center.settlement(datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST))
    assert month == [{"city": CITY, "chain": "seven", "issuances": 1, "copies": 2, "fees": 400}]
    assert (
        "複写"
        in subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    )


def test_a_voided_print_is_not_charged(world: dict[str, Any]) -> None:
    center = center_for(world)
    session = sign_in(center, world)
    center.request(
        session=session,
        request_id="req-void-01",
        certificate="juminhyo",
        options=IssueOptions(),
        copies=1,
        store="L-1",
        chain="lawson",
    )
    center.voided("req-void-01", "print timeout")
    with pytest.raises(Conflict):
        center.printed("req-void-01")
    month = center.settlement(datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST))
    assert month == []


def test_a_city_refusal_passes_through_and_voids(world: dict[str, Any]) -> None:
    center = center_for(world)
    session = sign_in(center, world)
    with pytest.raises(Refused) as info:
        center.request(
            session=session,
            request_id="req-refuse-1",
            certificate="juminhyo",
            options=IssueOptions(items=("resident_code",)),
            copies=1,
            store="F-1",
            chain="family",
        )
    assert info.value.reason == "item_not_at_store"
    assert count_rows(world["center"], ct.issuances, ct.issuances.c.state == "voided") == 1


def test_another_persons_document_stops_the_city(world: dict[str, Any]) -> None:
    center = center_for(world, WrongPersonCity)
    session = sign_in(center, world)
    with pytest.raises(Refused) as info:
        center.request(
            session=session,
            request_id="req-wrong-01",
            certificate="juminhyo",
            options=IssueOptions(),
            copies=1,
            store="7-1",
            chain="seven",
        )
    assert info.value.reason == "service_stopped"
    assert count_rows(world["center"], ct.alarms) == 1
    honest = center_for(world)
    session = sign_in(honest, world)
    with pytest.raises(Refused) as stopped:
        honest.request(
            session=session,
            request_id="req-after-01",
            certificate="juminhyo",
            options=IssueOptions(),
            copies=1,
            store="7-1",
            chain="seven",
        )
    assert stopped.value.reason == "service_stopped"


def test_an_unauthenticated_session_gets_nothing(world: dict[str, Any]) -> None:
    center = center_for(world)
    session, _ = center.open_session()
    with pytest.raises(Refused) as info:
        center.request(
            session=session,
            request_id="req-anon-001",
            certificate="juminhyo",
            options=IssueOptions(),
            copies=1,
            store="7-1",
            chain="seven",
        )
    assert info.value.reason == "session_unknown"


def test_an_unconfirmed_print_times_out_whole_and_uncharged(world: dict[str, Any]) -> None:
    center = center_for(world)
    session = sign_in(center, world)
    center.request(
        session=session,
        request_id="req-late-001",
        certificate="juminhyo",
        options=IssueOptions(),
        copies=1,
        store="7-2",
        chain="seven",
    )
    later = CenterService(
        sql_units(world["center"]),
        FixedClock(NOON.now() + timedelta(minutes=6)),
        center_signer(world["home"]),
        world["issuer"],
        world["directory"],
        InProcessCity(world["city"]),
    )
    with pytest.raises(Conflict, match="print timeout"):
        later.printed("req-late-001")  # the late confirmation finds the issuance voided
    assert count_rows(world["center"], ct.issuances, ct.issuances.c.state == "voided") == 1
    assert (
        later.settlement(datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST)) == []
    )


def test_workers_share_sessions_and_a_challenge_is_answered_once(world: dict[str, Any]) -> None:
    first, second = center_for(world), center_for(world)  # two workers over one store
    session, challenge = first.open_session()
    element = world["card"]
    element.reset()
    card = JpkiCard(element)
    card.select_jpki()
    card.verify_pin(CertKind.AUTH, "1234")
    answer = (card.read_certificate(CertKind.AUTH), card.sign(CertKind.AUTH, challenge))
    second.authenticate(session, *answer)
    with pytest.raises(Refused) as replay:
        first.authenticate(session, *answer)  # the same answer on another worker
    assert replay.value.reason == "challenge_unknown"
    job = first.request(
        session=session,
        request_id="req-workers-1",
        certificate="juminhyo",
        options=IssueOptions(),
        copies=1,
        store="7-3",
        chain="seven",
    )
    second.printed(job.request_id)
    month = first.settlement(datetime(2026, 11, 1, tzinfo=JST), datetime(2026, 12, 1, tzinfo=JST))
    assert month[0]["issuances"] == 1
