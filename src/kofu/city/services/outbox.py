"""Delivering the city's outbox to the JPKI authority: at least once, harmless when repeated."""

from __future__ import annotations

from datetime import date

from kofu.city.domain.ports import CertificateAuthority, CityUnitOfWork
from kofu.core.clock import Clock
from kofu.core.errors import KofuError, NotFound

__all__ = ["deliver_to_jpki"]


def deliver_to_jpki(
    *, uow: CityUnitOfWork, authority: CertificateAuthority, clock: Clock
) -> dict[str, int]:
    """Send due revocations; a message dated in the future (a planned move-out) waits for its day.

    The authority's revocation is idempotent (revoking a revoked certificate
    changes nothing), so a message sent twice after a crash does no harm.
    """
    sent = failed = waiting = 0
    today = clock.today()
    with uow:
        for message in uow.outbox.pending("jpki"):
            if date.fromisoformat(message.payload["effective"]) > today:
                waiting += 1
                continue
            try:
                authority.revoke_card(message.payload["card_id"], message.payload["cause"])
            except NotFound:
                pass  # the authority never certified this card: nothing to revoke
            except KofuError as exc:
                uow.outbox.failed(message.message_id, exc.message)
                failed += 1
                continue
            uow.outbox.delivered(message.message_id, clock.now())
            sent += 1
        uow.commit()
    return {"sent": sent, "failed": failed, "waiting": waiting}
