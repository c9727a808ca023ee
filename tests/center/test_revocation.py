"""A card reported lost stops store issuance at once: no "good" is kept for more than seconds."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from center_world import NOON, InProcessCity, make_world, sign_in
from cryptography import x509

from kofu.card.reader import JpkiCard
from kofu.center.adapters.links import HttpDirectory
from kofu.center.adapters.signing import center_signer
from kofu.center.adapters.uow import sql_units
from kofu.center.services.issuance import CenterService
from kofu.core.certkinds import CertKind
from kofu.core.clock import FixedClock
from kofu.core.errors import Refused
from kofu.core.network import network_identity
from kofu.jpki.api.app import create_app as jpki_app
from kofu.jpki.domain.revocation import RevocationCause
from services import in_thread


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    world = make_world(tmp_path)
    jpki = network_identity(tmp_path, "jpki", "lgwan")  # the authority's private listener
    with in_thread(jpki_app(world["directory"].service), jpki) as url:
        yield world | {"jpki": url}


def _certificate(world: dict[str, Any]) -> x509.Certificate:
    element = world["card"]
    element.reset()
    card = JpkiCard(element)
    card.select_jpki()
    return x509.load_der_x509_certificate(card.read_certificate(CertKind.AUTH))


@contextmanager
def directory_at(world: dict[str, Any], **keep: timedelta) -> Iterator[HttpDirectory]:
    center = network_identity(world["home"], "center", "lgwan")
    directory = HttpDirectory(world["jpki"], world["issuer"], NOON, center, **keep)
    with directory.client:
        yield directory


def test_a_good_answer_is_kept_seconds_not_half_an_hour(world: dict[str, Any]) -> None:
    cert = _certificate(world)
    with directory_at(world) as directory, directory_at(world, keep_good=timedelta(0)) as never:
        assert directory.status_of(cert) == "good" and never.status_of(cert) == "good"
        world["directory"].service.revoke_card("032051-1", RevocationCause.LOSS)
        assert directory.status_of(cert, fresh=True) == "revoked"
        assert never.status_of(cert) == "revoked"
        directory.clock = FixedClock(NOON.now() + timedelta(seconds=6))  # the old window: 30 min
        assert directory.status_of(cert) == "revoked"


def test_a_loss_between_sign_in_and_issuance_over_ocsp_is_refused(world: dict[str, Any]) -> None:
    with directory_at(world) as directory:
        center = CenterService(
            sql_units(world["center"]),
            NOON,
            center_signer(world["home"]),
            world["issuer"],
            directory,
            InProcessCity(world["city"]),
        )
        session = sign_in(center, world)  # OCSP said good a moment ago
        world["directory"].service.revoke_card("032051-1", RevocationCause.LOSS)
        with pytest.raises(Refused) as info:
            center.request(
                session=session,
                request_id="store-lost-http-1",
                certificate="juminhyo",
                options={},
                copies=1,
                store="7-1",
                chain="seven",
            )
    assert info.value.reason == "certificate_revoked"
    assert center.status()["issuances"] == {}


def test_an_authority_that_cannot_answer_refuses_the_sign_in_by_name(
    world: dict[str, Any],
) -> None:
    """No answer, a failure, or bytes that are no OCSP answer: never "good", never a 500."""
    from kofu.core.serve import free_port

    cert = _certificate(world)
    nobody = {**world, "jpki": f"https://127.0.0.1:{free_port()}"}  # nothing listens there
    with directory_at(nobody) as directory, pytest.raises(Refused) as refused:
        directory.status_of(cert, fresh=True)
    assert refused.value.reason == "authority_unavailable"
    with directory_at(world) as directory:
        directory.base = world["jpki"] + "/no-such-path"  # answered, but 404: not OCSP
        with pytest.raises(Refused) as refused:
            directory.status_of(cert, fresh=True)
        assert refused.value.reason == "authority_unavailable"
    from kofu.center.domain.auth import ocsp_answer

    garbage = ocsp_answer(cert, world["issuer"], lambda _: b"<html>not OCSP</html>", NOON.now())
    assert garbage == ("unknown", None)
