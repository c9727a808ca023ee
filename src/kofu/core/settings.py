"""Where kofu keeps its state, read once from the environment and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """KOFU_HOME holds every party's state; KOFU_DATABASE_URL moves storage to PostgreSQL."""

    home: Path
    database_url: str | None
    schema_prefix: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            home=Path(os.environ.get("KOFU_HOME", "var")).resolve(),
            database_url=os.environ.get("KOFU_DATABASE_URL") or None,
            schema_prefix=os.environ.get("KOFU_DATABASE_SCHEMA_PREFIX", ""),
        )

    def database_for(self, party: str) -> tuple[str, str | None]:
        """The URL and schema of one party's database (a city is ``city_112186``).

        With SQLite each party has its own file under KOFU_HOME; with PostgreSQL
        each party has its own schema in the one database.
        """
        if self.database_url:
            return self.database_url, f"{self.schema_prefix}{party}"
        self.home.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.home / party}.sqlite", None
