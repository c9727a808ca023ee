"""Waiting until juki holds every record of some cities (they report every 2 s)."""

from __future__ import annotations

from kofu.core.settings import Settings

__all__ = ["wait_for_juki"]


def wait_for_juki(
    settings: Settings, juki_url: str, cities: list[str], seconds: float, say: bool = False
) -> None:
    """Until juki holds a record of every resident of ``cities`` (they report every 2 s).

    Counted in the cities' own stores, removed records included, as juki keeps
    those too; ``say`` prints the progress to stderr.  A clear error at the end
    of ``seconds``.
    """
    import sys
    import time

    import httpx

    from kofu.city.adapters.uow import CityUnitOfWork
    from kofu.city.store import city_engine
    from kofu.core.errors import KofuError
    from kofu.core.network import client_context, network_identity

    expected = 0
    for code in cities:
        engine = city_engine(settings, code)
        with CityUnitOfWork(engine) as uow:
            expected += uow.registers.count_residents()
        engine.dispose()
    identity = network_identity(settings.home, "juki-watch", "lgwan")
    with httpx.Client(verify=client_context(identity), timeout=10) as client:
        deadline = time.monotonic() + seconds
        while (held := int(client.get(f"{juki_url}/health").json()["records"])) < expected:
            if time.monotonic() > deadline:
                raise KofuError(
                    f"juki did not receive the cities' {expected:,} records in {seconds:.0f} s"
                )
            if say:
                print(f"juki: {held:,} of {expected:,} records reported", file=sys.stderr)
            time.sleep(2 if say else 0.5)
