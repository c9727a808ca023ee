"""Programme configuration files: the package's defaults, or a clerk's copy under KOFU_HOME."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from kofu.core.errors import InvalidInput, NotFound
from kofu.evaluation.domain.programme import Programme

__all__ = ["config_path", "load_programme"]


def config_path(home: Path, city: str, programme: str) -> Path | None:
    """KOFU_HOME/evaluation/CITY-PROGRAMME.toml if a clerk made one, else the package's."""
    if not (city.isdigit() and programme.isdigit()):
        raise InvalidInput("city and programme are numbers", field="programme")
    own = home / "evaluation" / f"{city}-{programme}.toml"
    if own.exists():
        return own
    packaged = resources.files("kofu.evaluation") / "config" / f"{city}-{programme}.toml"
    return Path(str(packaged)) if packaged.is_file() else None


def load_programme(home: Path, city: str, programme: str) -> Programme:
    """The programme's configuration; a clear error names a missing file or a bad field."""
    path = config_path(home, city, programme)
    if path is None:
        raise NotFound(
            f"no evaluation configuration for programme {programme} of city {city}",
            field="programme",
        )
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        return Programme.model_validate(doc)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path.name}: {exc}", field="programme") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise InvalidInput(f"{path.name}: {where}: {first['msg']}", field=where) from exc
