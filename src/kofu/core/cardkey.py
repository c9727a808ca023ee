"""The key card files are sealed with on this installation (``KOFU_HOME/card/master.key``).

Kept in core so the CLI, the kiosk page and the benchmarks read the same key
without one importing another.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from kofu.core.keys import write_new
from kofu.core.settings import Settings

__all__ = ["card_master_key"]


def card_master_key(settings: Settings) -> bytes:
    """The key card files are sealed with on this installation (made on first use, owner-only)."""
    path: Path = settings.home / "card" / "master.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        write_new(path, secrets.token_bytes(32))  # False: another process made it first
    return path.read_bytes()
