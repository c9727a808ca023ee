"""The key card files are sealed with on this installation (``KOFU_HOME/card/master.key``).

Kept in core so the CLI, the kiosk page and the benchmarks read the same key
without one importing another.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from kofu.core.settings import Settings

__all__ = ["card_master_key"]


def card_master_key(settings: Settings) -> bytes:
    """The key card files are sealed with on this installation (made on first use, owner-only)."""
    path: Path = settings.home / "card" / "master.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(32))
    return path.read_bytes()
