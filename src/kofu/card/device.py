"""The card as a device of its own: one holder of its state, APDUs in, responses out.

``open_card`` puts a card file into a virtual reader: it takes the card's lock
in the installation's ``CardLedger`` (one reader at a time), refuses a copy
older than the newest state seen (``card_rolled_back``) and writes every change
of the card's lasting state — a counted PIN try first of all — to the file and
the ledger before the card answers.

``CardServer`` serves such a card on a Unix socket (``kofu card serve``): the
socket is created owner-only (0600, in a 0700 folder) and a peer of another
user is turned away by its kernel-reported credentials, so nothing reaches the
card unauthenticated.  ``SocketReader`` is the host's side: a ``CardReader``
like a PC/SC reader, so ``JpkiCard`` drives it unchanged.  Each connection is
a card insertion: it starts with a reset, so no PIN verified by an earlier
client carries over.

The wire format, one request and one answer at a time::

    request:  op (1 byte: "T" transmit, "R" reset) ‖ length (4 bytes, big-endian) ‖ APDU
    answer:   length (4 bytes, big-endian) ‖ response APDU (empty for a reset)
"""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kofu.card.element import SecureElement
from kofu.card.ledger import CardLedger
from kofu.card.reader import CardReader
from kofu.card.storage import card_id_of, load_card, save_card
from kofu.core.errors import Conflict, InvalidInput, KofuError, NotFound

__all__ = [
    "CardServer",
    "SocketReader",
    "addressable",
    "device_socket",
    "insert_card",
    "open_card",
]

UNIX_PATH_MAX = 108  # bytes of sun_path on Linux, the terminating NUL included

OP_TRANSMIT, OP_RESET = b"T", b"R"
MAX_FRAME = 4096  # a short APDU is at most 261 bytes, a response 258
_LENGTH = struct.Struct(">I")
_PEERCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


@contextlib.contextmanager
def open_card(
    path: str | os.PathLike[str], master_key: bytes, ledger: CardLedger
) -> Iterator[SecureElement]:
    """The card in a reader of this process, its lock held, every change written through."""
    card_id = card_id_of(path)
    with ledger.hold(card_id):
        element = load_card(path, master_key, ledger)
        if element.card_id != card_id:
            raise InvalidInput("the card file names another card than it holds")
        element._bind(lambda: save_card(element, path, master_key, ledger))
        try:
            yield element
        finally:
            element._bind(None)


def device_socket(ledger: CardLedger, card_id: str) -> Path:
    """Where ``kofu card serve`` listens for ``card_id`` by default, beside the ledger."""
    return ledger.folder.parent / "readers" / f"{card_id}.sock"


@contextlib.contextmanager
def insert_card(
    path: str | os.PathLike[str], master_key: bytes, ledger: CardLedger
) -> Iterator[CardReader]:
    """The card in whichever reader holds it: its device when one serves it, else this process."""
    reader = _device_of(path, ledger)
    if reader is not None:
        with reader:
            yield reader
        return
    with open_card(path, master_key, ledger) as element:
        yield element


def _device_of(path: str | os.PathLike[str], ledger: CardLedger) -> SocketReader | None:
    socket_path = device_socket(ledger, card_id_of(path))
    if not socket_path.exists():
        return None
    try:
        return SocketReader(socket_path)
    except NotFound:  # a socket left by a device that was killed
        return None


class _Slot(socketserver.StreamRequestHandler):
    """One connection: the card put into the reader until the client lets go."""

    server: CardServer

    def handle(self) -> None:
        if not _same_user(self.request):
            return
        card = self.server.card
        card.reset()
        while True:
            head = self.rfile.read(1 + _LENGTH.size)
            if len(head) < 1 + _LENGTH.size:
                return
            op, (size,) = head[:1], _LENGTH.unpack(head[1:])
            if op not in (OP_TRANSMIT, OP_RESET) or size > MAX_FRAME:
                return
            body = self.rfile.read(size)
            if len(body) < size:
                return
            if op == OP_RESET:
                card.reset()
                answer = b""
            else:
                answer = card.transmit(body)
            self.wfile.write(_LENGTH.pack(len(answer)) + answer)
            self.wfile.flush()


class CardServer(socketserver.UnixStreamServer):
    """Serves one card on an owner-only Unix socket, one connection (insertion) at a time."""

    def __init__(self, card: SecureElement, socket_path: Path) -> None:
        self.card = card
        self.socket_path = Path(socket_path)
        _prepare(self.socket_path)
        old = os.umask(0o177)  # the socket is born 0600: no moment when others may connect
        try:
            with addressable(self.socket_path) as address:
                super().__init__(address, _Slot)
        finally:
            os.umask(old)
        os.chmod(self.socket_path, 0o600)

    def server_close(self) -> None:
        """Stop listening and take the socket file away."""
        super().server_close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)


@contextlib.contextmanager
def addressable(path: Path) -> Iterator[str]:
    """An address for ``path`` that fits a Unix socket's 108 bytes, however deep KOFU_HOME is.

    A longer path is reached through its folder's descriptor (Linux's
    ``/proc/self/fd/N/NAME``), which binds and connects the same socket file.
    """
    if len(os.fsencode(path)) < UNIX_PATH_MAX:
        yield str(path)
        return
    if len(os.fsencode(path.name)) >= UNIX_PATH_MAX - 32 or not Path("/proc/self/fd").is_dir():
        raise InvalidInput(f"the socket path is too long for a Unix socket: {path}", field="socket")
    folder = os.open(path.parent, os.O_PATH | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


def _prepare(path: Path) -> None:
    """A folder only the owner can enter; a stale socket removed, a live one left alone."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise Conflict(f"{path} exists and is not a socket", field="socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with addressable(path) as address:
            probe.connect(address)
    except OSError:
        path.unlink()  # nobody listens: left over from a device that was killed
        return
    finally:
        probe.close()
    raise Conflict(f"another card device is listening at {path}", field="socket")


def _same_user(sock: Any) -> bool:
    """Whether the peer runs as this user (SO_PEERCRED, as the kernel reports it)."""
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None:  # no kernel credentials here: the socket's mode is the only guard
        return True
    raw = sock.getsockopt(socket.SOL_SOCKET, peercred, _PEERCRED.size)
    _pid, uid, _gid = _PEERCRED.unpack(raw)
    return bool(uid == os.getuid())


class SocketReader:
    """A ``CardReader`` whose card is a ``kofu card serve`` device behind a Unix socket."""

    def __init__(self, socket_path: str | os.PathLike[str], timeout: float = 30.0) -> None:
        self.socket_path = Path(socket_path)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            with addressable(self.socket_path) as address:
                self._sock.connect(address)
        except OSError as exc:
            self._sock.close()
            raise NotFound(
                f"no card device answers at {self.socket_path} ({exc.strerror or exc})",
                field="reader",
            ) from None

    def transmit(self, command: bytes) -> bytes:
        """One command APDU to the device, its response APDU back."""
        return self._exchange(OP_TRANSMIT, bytes(command))

    def reset(self) -> None:
        """Pull the card out and put it back: the device forgets the session."""
        self._exchange(OP_RESET, b"")

    def close(self) -> None:
        """Let go of the card (the next connection starts a new session)."""
        self._sock.close()

    def __enter__(self) -> SocketReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exchange(self, op: bytes, body: bytes) -> bytes:
        if len(body) > MAX_FRAME:
            raise InvalidInput("the command is too long for the card", field="command")
        try:
            self._sock.sendall(op + _LENGTH.pack(len(body)) + body)
            (size,) = _LENGTH.unpack(self._read(_LENGTH.size))
            if size > MAX_FRAME:
                raise _lost(self.socket_path)
            return self._read(size)
        except OSError:
            raise _lost(self.socket_path) from None

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._sock.recv(size - len(data))
            if not chunk:
                raise _lost(self.socket_path)
            data += chunk
        return data


def _lost(path: Path) -> KofuError:
    return Conflict(f"the card device at {path} stopped answering", field="reader")
