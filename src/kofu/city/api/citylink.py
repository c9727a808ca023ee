"""The city's doors for other cities over Juki-net (LGWAN, mutual TLS).

- ``POST /citylink/wide-area``: a wide-area certificate request from the
  issuing city named in the body, and only from it (``city-CODE``);
- ``GET /citylink/move-outs/{resident_code}``: the 転出証明書情報 of a special
  move-out, only to the city the move-out names as its destination;
- ``POST /citylink/move-ins``: the destination city's 転入通知, only from it;
- ``POST /citylink/move-in-notices``: an ordinary move's 転入通知, only from the
  city named as its sender, whose own address it must give.

Any other caller is 403 ``caller_not_allowed`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request

from kofu.city.adapters.uow import CityUnitOfWork
from kofu.city.services import special_move
from kofu.city.services.move_notice import receive_move_in_notice
from kofu.city.services.wide_area import answer_wide_area
from kofu.contracts.citylink import (
    MoveInNotice,
    MoveInReceipt,
    MoveOutData,
    OrdinaryMoveInNotice,
    OrdinaryMoveInReceipt,
    WideAreaAnswer,
    WideAreaRequest,
)
from kofu.core.clock import Clock
from kofu.core.http import check_caller

__all__ = ["add_citylink_routes"]


def add_citylink_routes(
    app: FastAPI, uow: Callable[[], CityUnitOfWork], code: str, clock: Clock
) -> None:
    """The four doors, each checking its caller by the network name the rules give."""

    @app.post("/citylink/wide-area")
    def wide_area(body: WideAreaRequest, request: Request) -> WideAreaAnswer:
        """The home city's answer: the certificate's content or a reason code (住基法12条の4)."""
        check_caller(
            request,
            f"city-{body.issuing_city}",
            f"ask for a wide-area certificate as city {body.issuing_city}",
        )
        return answer_wide_area(uow=uow(), code=code, clock=clock, request=body)

    @app.get("/citylink/move-outs/{resident_code}")
    def move_out(resident_code: str, request: Request) -> MoveOutData:
        """転出証明書情報, for the destination city only (any other city: 403)."""
        return special_move.move_out_data(
            uow=uow(),
            resident_code=resident_code,
            ask=lambda to_city: check_caller(
                request, f"city-{to_city}", "read the move-out data of a move to another city"
            ),
        )

    @app.post("/citylink/move-ins")
    def move_in(body: MoveInNotice, request: Request) -> MoveInReceipt:
        """転入通知: the move-out data is closed; a resent notice changes nothing."""
        check_caller(request, f"city-{body.to_city}", f"notify a move-in as city {body.to_city}")
        return special_move.close_move_out(uow=uow(), notice=body, clock=clock)

    @app.post("/citylink/move-in-notices")
    def move_in_notice(body: OrdinaryMoveInNotice, request: Request) -> OrdinaryMoveInReceipt:
        """An ordinary move's 転入通知: the move-out confirmed (予定→確定); a resend: nothing."""
        check_caller(request, f"city-{body.to_city}", f"notify a move-in as city {body.to_city}")
        return receive_move_in_notice(uow=uow(), notice=body, clock=clock)
