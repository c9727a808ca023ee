"""Wiring the authority from settings: its store, its keys, its URLs, its clock."""

from __future__ import annotations

from kofu.core.clock import Clock
from kofu.core.db import make_engine, migrate
from kofu.core.settings import Settings
from kofu.jpki.adapters.keys import FileKeyStore
from kofu.jpki.domain.ca import Urls
from kofu.jpki.services.authority import JpkiService

__all__ = ["build_jpki"]


def build_jpki(settings: Settings, base_url: str, clock: Clock) -> JpkiService:
    """The authority over KOFU_HOME/jpki (keys) and its own database or schema."""
    url, schema = settings.database_for("jpki")
    engine = make_engine(url, schema)
    migrate(engine, "jpki")
    keys = FileKeyStore(settings.home / "jpki")
    return JpkiService(engine, keys, Urls(base_url.rstrip("/")), clock)
