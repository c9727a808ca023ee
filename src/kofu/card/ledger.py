"""The installation's memory of every card's newest state: what makes a restored copy stale.

A card file is sealed, so nobody can edit its retry counters; but anyone can
copy it, spend the PIN's tries, and copy the old file back.  A real secure
element keeps its counters in memory that cannot be copied out.  A software
card gets the closest thing this machine offers: the card file carries a
``generation`` (sealed with the rest of it) that rises with every change, and
this ledger, kept under KOFU_HOME away from the card files, records per card id
the highest generation it has seen.  A file older than that is refused as
``card_rolled_back``; it never brings its old tries back.

The ledger also hands out each card's lock, so only one reader (one process)
holds a card at a time.  What it cannot do — resist someone who can rewrite
KOFU_HOME itself — is written down in docs/architecture.md, "Limits of a
software card".
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from kofu.core.errors import Conflict, Refused

__all__ = ["CardLedger", "rolled_back"]

_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")


def rolled_back(card_id: str, generation: int, newest: int) -> Refused:
    """The refusal a stale copy of a card gets, in words a resident and a clerk can read."""
    return Refused(
        "card_rolled_back",
        f"card {card_id} is an older copy (state {generation}) than this installation "
        f"has already seen (state {newest}); a card's retry counters cannot be reset "
        "by restoring its file — bring the card to the city counter",
        message_ja="このカードは以前の状態に戻されています。"
        "お住まいの市区町村の窓口にお問い合わせください。",
    )


class CardLedger:
    """Per card id: the highest generation seen, and a lock held while a reader has the card."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @classmethod
    def under(cls, home: Path) -> CardLedger:
        """The ledger of the installation whose state lives in ``home`` (KOFU_HOME)."""
        return cls(Path(home) / "card" / "ledger")

    def newest(self, card_id: str) -> int | None:
        """The highest generation recorded for ``card_id``, or None for a card not seen yet."""
        try:
            doc = json.loads(self._record(card_id).read_text(encoding="ascii"))
        except FileNotFoundError:
            return None
        generation = doc.get("generation") if isinstance(doc, dict) else None
        if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
            raise Conflict(f"the card ledger's record of {card_id} is damaged")
        return generation

    def check(self, card_id: str, generation: int) -> None:
        """Refuse a card state older than one seen before; remember a newer one."""
        newest = self.newest(card_id)
        if newest is not None and generation < newest:
            raise rolled_back(card_id, generation, newest)
        if newest is None or generation > newest:
            self._write(card_id, generation)

    def advance(self, card_id: str, generation: int) -> None:
        """Record a state just written; it must be newer than every one seen before."""
        newest = self.newest(card_id)
        if newest is not None and generation <= newest:
            raise rolled_back(card_id, generation, newest + 1)
        self._write(card_id, generation)

    @contextlib.contextmanager
    def hold(self, card_id: str) -> Iterator[None]:
        """The card is in one reader: a second holder is told it is busy, never let in."""
        self._ensure_folder()
        fd = os.open(self.folder / f"{_safe(card_id)}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Conflict(
                    f"card {card_id} is in use by another reader (is `kofu card serve` holding it?)"
                ) from None
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def _record(self, card_id: str) -> Path:
        return self.folder / f"{_safe(card_id)}.json"

    def _ensure_folder(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _write(self, card_id: str, generation: int) -> None:
        """Atomically and durably: the record is on disk before the caller goes on."""
        self._ensure_folder()
        text = json.dumps({"card_id": card_id, "generation": generation}) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".ledger.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self._record(card_id))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_folder(self.folder)


def _safe(card_id: str) -> str:
    if not isinstance(card_id, str) or not _SAFE_ID.fullmatch(card_id):
        raise Conflict(f"not a card id the ledger can record: {card_id!r}")
    return card_id


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
