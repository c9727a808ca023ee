"""How commands reach other parties: over HTTP when a URL is configured, otherwise in-process.

A demo or a test on one machine can run the card desk without starting the
authority: the command then opens the authority's own store under KOFU_HOME,
exactly as ``kofu serve jpki`` would, and speaks to it through the same port.
The two parties are built by their bootstraps; only the choice is made here,
the one place that may know both.
"""

from __future__ import annotations

import os
from functools import cache

from kofu.city.adapters.juki_watch import wait_for_juki
from kofu.city.bootstrap import remote_authority
from kofu.city.domain.ports import CertificateAuthority
from kofu.core.cardkey import card_master_key
from kofu.core.settings import Settings
from kofu.jpki.bootstrap import LocalAuthority

__all__ = ["DEFAULT_JPKI_URL", "LocalAuthority", "authority", "card_master_key", "wait_for_juki"]

DEFAULT_JPKI_URL = "http://127.0.0.1:8801"


def authority(settings: Settings, city: str) -> CertificateAuthority:
    """KOFU_JPKI_URL when set (a running authority's private https URL), else in-process.

    Over the network the desk speaks as the city: its LGWAN certificate ``city-CODE``.
    """
    url = os.environ.get("KOFU_JPKI_URL")
    if url:
        return remote_authority(url, settings.home, city)
    return _local(settings, DEFAULT_JPKI_URL)


@cache
def _local(settings: Settings, base_url: str) -> LocalAuthority:
    return LocalAuthority(settings, base_url)


def juki_url(settings: Settings, name: str) -> str:
    """The URL of a running Juki-net server: ``national`` or ``pref-11`` (from its ready file)."""
    from kofu.juki.bootstrap import juki_url as ready_url

    return ready_url(settings, name)
