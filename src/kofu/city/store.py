"""Opening a city's store: the engine for its database, migrated to the newest revision."""

from __future__ import annotations

from functools import cache

from sqlalchemy import Engine

from kofu.core.db import make_engine, migrate
from kofu.core.identifiers import LocalGovernmentCode
from kofu.core.settings import Settings

__all__ = ["city_engine"]


@cache
def _engine(url: str, schema: str | None) -> Engine:
    engine = make_engine(url, schema)
    migrate(engine, "city")
    return engine


def city_engine(settings: Settings, code: str) -> Engine:
    """The migrated engine of city ``code`` (validated: 6 digits with check digit)."""
    city = LocalGovernmentCode(code)
    url, schema = settings.database_for(f"city_{city}")
    return _engine(url, schema)
