"""転入通知 of an ordinary move, between the new city and the old one (jyuki-stnd 4.1.3.1.1).

The new city records a ``move_in`` that names ``from_city`` (the 転出証明書's
city) and, in the same transaction, queues the 転入通知 for it in the outbox
(``events.apply_events``); ``special_move_in.deliver_notices`` sends it
over the city-to-city link.  The old city takes it in
(``receive_move_in_notice``): the ``move_in_notice`` event confirms the
move-out, and the same notice again changes nothing.
"""

from __future__ import annotations

from kofu.city.domain.ports import CityUnitOfWork
from kofu.city.services.events import apply_within
from kofu.city.services.seeding import city_profile
from kofu.contracts.citylink import OrdinaryMoveInNotice, OrdinaryMoveInReceipt
from kofu.core.clock import Clock
from kofu.core.errors import Conflict, NotFound, Refused
from kofu.core.identifiers import ResidentCode

__all__ = ["receive_move_in_notice"]


def receive_move_in_notice(
    *, uow: CityUnitOfWork, notice: OrdinaryMoveInNotice, clock: Clock
) -> OrdinaryMoveInReceipt:
    """The old city confirms the move-out the notice names; a resent notice changes nothing.

    Only the city the person moved into may say so: the address must be in it.
    """
    ResidentCode(notice.resident)
    to = city_profile(notice.to_city)
    if (notice.address.prefecture, notice.address.city) != (to.prefecture, to.name):
        raise Refused(
            "caller_not_allowed",
            f"city {notice.to_city} notifies only move-ins to its own addresses",
            message_ja="転入先の市区町村からの通知ではありません。",
        )
    with uow:
        uow.registers.today = clock.today()
        person = uow.registers.resident(notice.resident)
        if person is None:
            raise NotFound(f"no resident with code {notice.resident}", field="resident")
        if (person.name, person.birth_date) != (notice.name, notice.birth_date):
            raise Conflict(
                "the notice's name and date of birth are not those of this record",
                field="resident",
            )
        done = person.confirmed_move_out
        first = done is None or done.notice_id != notice.notice_id
        if first:
            destination = notice.address.model_dump(exclude={"v", "building"})
            apply_within(
                uow=uow,
                events=[
                    {
                        "kind": "move_in_notice",
                        "resident": notice.resident,
                        "effective": clock.today().isoformat(),
                        "moved_on": notice.moved_on.isoformat(),
                        "destination": destination,
                        "from_city": notice.to_city,
                        "notice_id": notice.notice_id,
                    }
                ],
                clock=clock,
            )
            uow.commit()
    return OrdinaryMoveInReceipt(
        notice_id=notice.notice_id, resident=notice.resident, state="confirmed", first=first
    )
