"""``kofu demo``: the two demo cities, seeded, and a sample of every certificate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kofu.cli.common import guarded

__all__ = ["demo"]


def demo(
    out: Annotated[Path, typer.Option(help="folder for the sample certificates")] = Path(
        "var/samples"
    ),
    residents: Annotated[int, typer.Option(help="residents per demo city when seeding")] = 20_000,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines")] = False,
) -> None:
    """Seed the demo cities (once) and issue a sample of every certificate into a folder."""
    from kofu.cli.samples import issue_samples

    with guarded(as_json):
        issue_samples(out, residents, as_json)
