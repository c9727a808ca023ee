"""Copying a card file back does not give its PIN fresh tries.

The attack: keep a copy of the card file, spend the PIN's tries until the card
locks it, put the copy back and guess again.  Each test plays it through one
way of reaching the card: the kiosk command line, the device process, the
reader of this process.
"""

from __future__ import annotations

import json
import socket
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kofu.card.device import CardServer, SocketReader, insert_card, open_card
from kofu.card.element import SecureElement
from kofu.card.ledger import CardLedger
from kofu.card.reader import JpkiCard, PinError
from kofu.card.storage import load_card
from kofu.cli.main import app
from kofu.core.certkinds import CertKind
from kofu.core.errors import Conflict, Refused
from services import running

WRONG = "0000"
NOW = "2026-12-07T10:00:00+09:00"
CENTER = "https://127.0.0.1:9"  # never reached: the card refuses first


@pytest.fixture
def home(tmp_path: Path, kit) -> Path:
    """A KOFU_HOME whose card master key is the one the test card is sealed with."""
    home = tmp_path / "home"
    (home / "card").mkdir(parents=True)
    key = home / "card" / "master.key"
    key.write_bytes(kit.master_key)
    key.chmod(0o600)
    return home


def _kofu(home: Path, *args: str) -> dict[str, object]:
    """Run ``kofu ARGS --json`` in this process with KOFU_HOME; its one JSON answer."""
    env = {"KOFU_HOME": str(home), "KOFU_NOW": NOW}
    result = CliRunner().invoke(app, [*args, "--json"], env=env)
    answer: dict[str, object] = json.loads(result.stdout.splitlines()[0])
    return answer


def _kiosk(home: Path, card: Path, pin: str) -> dict[str, object]:
    """The store's machine with a card file; the PIN is checked before the center is asked."""
    out = str(card.with_suffix(".pdf"))
    return _kofu(home, "kiosk", "--card", str(card), "--pin", pin, "--center", CENTER,
                 "--type", "juminhyo", "--out", out)  # fmt: skip


def test_restoring_the_file_after_the_kiosk_locked_the_pin_gets_no_fresh_tries(
    card_path: Path, home: Path, kit
) -> None:
    copy = card_path.read_bytes()
    answers = [_kiosk(home, card_path, WRONG) for _ in range(3)]
    assert [a.get("reason") for a in answers] == ["wrong_pin", "wrong_pin", "pin_locked"]

    card_path.write_bytes(copy)  # the old copy back, byte for byte
    again = _kiosk(home, card_path, WRONG)
    assert again.get("reason") == "card_rolled_back", again
    status = _kofu(home, "card", "status", "--card", str(card_path))
    assert status.get("reason") == "card_rolled_back", status


def test_card_status_keeps_its_keys_and_counts_the_kiosk_tries(
    card_path: Path, home: Path, kit
) -> None:
    _kiosk(home, card_path, WRONG)
    status = _kofu(home, "card", "status", "--card", str(card_path))
    assert {"card_id", "state", "expires_on", "auth_tries_left", "sign_tries_left"} <= set(status)
    assert {"auth_certificate_pem", "sign_certificate_pem"} <= set(status)
    assert (status["card_id"], status["auth_tries_left"]) == (kit.card_id, 2)


def test_a_try_is_on_file_before_the_pin_is_compared(card_path: Path, tmp_path: Path, kit) -> None:
    ledger = CardLedger(tmp_path / "ledger")
    with open_card(card_path, kit.master_key, ledger) as element:
        written: list[int] = []
        element._bind(lambda: written.append(element._image().tries_left[CertKind.AUTH]))
        JpkiCard(element).verify_pin(CertKind.AUTH, kit.auth_pin)
        assert written == [2, 3]  # counted first, given back only after the PIN matched

    with open_card(card_path, kit.master_key, ledger) as element:
        with pytest.raises(PinError):
            JpkiCard(element).verify_pin(CertKind.AUTH, WRONG)
        # the reader's process could be killed here: the try is already in the file
        assert load_card(card_path, kit.master_key)._image().tries_left[CertKind.AUTH] == 2


def test_a_card_that_cannot_write_its_try_does_not_check_the_pin(
    card_path: Path, tmp_path: Path, kit
) -> None:
    element = load_card(card_path, kit.master_key)

    def full_disk() -> None:
        raise OSError(28, "No space left on device")

    element._bind(full_disk)
    card = JpkiCard(element)
    with pytest.raises(Conflict, match="could not record"):
        card.verify_pin(CertKind.AUTH, kit.auth_pin)
    element._bind(None)
    assert card.tries_left(CertKind.AUTH) == 3
    with pytest.raises(Refused, match="must be verified"):
        card.sign(CertKind.AUTH, b"not signed")


def test_in_this_process_a_restored_copy_is_refused(card_path: Path, tmp_path: Path, kit) -> None:
    ledger = CardLedger(tmp_path / "ledger")
    copy = card_path.read_bytes()
    with open_card(card_path, kit.master_key, ledger) as element:
        card = JpkiCard(element)
        for _ in range(3):
            with pytest.raises(PinError):
                card.verify_pin(CertKind.AUTH, WRONG)
    card_path.write_bytes(copy)
    with pytest.raises(Refused) as refused, open_card(card_path, kit.master_key, ledger):
        pass
    assert refused.value.reason == "card_rolled_back"


def test_a_card_is_in_one_reader_at_a_time(card_path: Path, tmp_path: Path, kit) -> None:
    ledger = CardLedger(tmp_path / "ledger")
    with (
        open_card(card_path, kit.master_key, ledger),
        pytest.raises(Conflict, match="in use"),
        open_card(card_path, kit.master_key, ledger),
    ):
        pass
    with open_card(card_path, kit.master_key, ledger):  # let go: free again
        pass


def test_the_ledger_only_moves_forward(tmp_path: Path) -> None:
    ledger = CardLedger(tmp_path / "ledger")
    assert ledger.newest("C-1") is None
    ledger.check("C-1", 4)
    ledger.advance("C-1", 5)
    ledger.check("C-1", 5)
    with pytest.raises(Refused) as old:
        ledger.check("C-1", 4)
    assert old.value.reason == "card_rolled_back"
    with pytest.raises(Refused):
        ledger.advance("C-1", 5)  # a second writer of the same state
    assert ledger.newest("C-1") == 5
    with pytest.raises(Conflict):
        ledger.newest("../escape")


def test_the_device_process_keeps_the_lock_through_a_restored_copy(
    card_path: Path, home: Path, kit
) -> None:
    copy = card_path.read_bytes()
    with running(["card", "serve", "--card", str(card_path)], home, NOW) as ready:
        sock = Path(str(ready["socket"]))
        assert (ready["service"], ready["card_id"]) == ("card", kit.card_id)
        assert sock == home / "card" / "readers" / f"{kit.card_id}.sock"
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
        with SocketReader(sock) as reader:
            card = JpkiCard(reader)
            for left in (2, 1):
                with pytest.raises(PinError) as wrong:
                    card.verify_pin(CertKind.AUTH, WRONG)
                assert wrong.value.tries_left == left
        with insert_card(card_path, kit.master_key, CardLedger.under(home)) as reader:
            assert isinstance(reader, SocketReader)  # a served card is reached through its device
        locked = _kiosk(home, card_path, WRONG)  # the command line too
        assert locked.get("reason") == "pin_locked", locked
        with (  # nobody else opens the card while the device holds it
            pytest.raises(Conflict, match="in use"),
            open_card(card_path, kit.master_key, CardLedger.under(home)),
        ):
            pass
        card_path.write_bytes(copy)  # restored under the running device: it keeps its state
        with SocketReader(sock) as reader:
            assert JpkiCard(reader).tries_left(CertKind.AUTH) == 0

    assert not sock.exists()
    card_path.write_bytes(copy)  # and again while no device runs: it will not start on it
    env = {"KOFU_HOME": str(home)}
    refused = CliRunner().invoke(app, ["card", "serve", "--card", str(card_path)], env=env)
    assert refused.exit_code == 1
    assert "older copy" in refused.output
    assert not sock.exists()
    status = _kofu(home, "card", "status", "--card", str(card_path))
    assert status.get("reason") == "card_rolled_back", status


@contextmanager
def _serving(element: SecureElement, sock: Path) -> Iterator[CardServer]:
    """A card device on a thread of this process (the protocol, without a process start)."""
    server = CardServer(element, sock)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_each_connection_is_a_new_insertion(
    personalised: SecureElement, tmp_path: Path, kit
) -> None:
    with _serving(personalised, tmp_path / "c.sock"):
        with SocketReader(tmp_path / "c.sock") as reader:
            JpkiCard(reader).verify_pin(CertKind.AUTH, kit.auth_pin)
            assert personalised._session.verified == {CertKind.AUTH}
        with SocketReader(tmp_path / "c.sock") as reader:
            JpkiCard(reader).select_jpki()
            assert personalised._session.verified == set()  # the next client starts unverified


def test_a_live_device_keeps_its_socket_and_a_dead_ones_is_replaced(
    personalised: SecureElement, tmp_path: Path
) -> None:
    sock = tmp_path / "c.sock"
    with _serving(personalised, sock), pytest.raises(Conflict, match="another card device"):
        CardServer(personalised, sock)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock))  # bound, never listening: what a killed device leaves
    dead.close()
    with _serving(personalised, sock), SocketReader(sock) as reader:
        assert JpkiCard(reader).tries_left(CertKind.AUTH) == 3
    assert not sock.exists()
    sock.write_text("not a socket")
    with pytest.raises(Conflict, match="not a socket"):
        CardServer(personalised, sock)


def test_the_kiosk_command_line_takes_a_reader_socket(
    card_path: Path, home: Path, tmp_path: Path, kit
) -> None:
    sock = tmp_path / "r.sock"
    with open_card(card_path, kit.master_key, CardLedger.under(home)) as element:
        with _serving(element, sock):
            answer = _kofu(home, "kiosk", "--reader", str(sock), "--pin", WRONG, "--center",
                           CENTER, "--type", "juminhyo", "--out", "x.pdf")  # fmt: skip
        assert answer.get("reason") == "wrong_pin", answer
    assert load_card(card_path, kit.master_key)._image().tries_left[CertKind.AUTH] == 2
    both = _kofu(home, "kiosk", "--reader", str(sock), "--card", str(card_path), "--pin", WRONG,
                 "--center", CENTER)  # fmt: skip
    assert both.get("field") == "card"


def test_a_device_under_a_deep_home_serves_past_the_unix_socket_length(
    personalised: SecureElement, tmp_path: Path
) -> None:
    """A KOFU_HOME deep enough that its socket path passes 108 bytes still gets a device."""
    sock = tmp_path / ("d" * 60) / ("e" * 60) / "card" / "readers" / "C.sock"
    assert len(str(sock)) > 108
    with _serving(personalised, sock), SocketReader(sock) as reader:
        assert JpkiCard(reader).tries_left(CertKind.AUTH) == 3
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert not sock.exists()
