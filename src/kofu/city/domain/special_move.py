"""The rules of the special move-out and move-in (転出届・転入届の特例) and 継続利用.

- the move-in is filed within 14 days of moving in AND within 30 days of
  the planned move-out date; past either, the special procedure is lost (a
  paper move-out certificate is needed);
- never for a move abroad (国外転出);
- never with a card that has expired, is suspended (reported lost),
  returned or abolished; nor with a card still waiting to be carried over
  from an earlier move (moved again before 継続利用: the card is invalid);
- the same move-out data registers nobody twice;
- the card is carried over (継続利用) within 90 days of the move-in
  notification, or it becomes invalid.

Each refusal is a stable reason code with words in English and Japanese.
"""

from __future__ import annotations

from datetime import date, timedelta

from kofu.city.domain.card_desk import CardRecord, CardState
from kofu.core.errors import InvalidInput, Refused

__all__ = [
    "CONTINUE_WITHIN",
    "MOVE_IN_AFTER_MOVE",
    "MOVE_IN_AFTER_PLANNED",
    "check_card_for_move",
    "check_continuation",
    "check_move_in_dates",
    "move_abroad",
    "move_in_done",
]

MOVE_IN_AFTER_MOVE = timedelta(days=14)  # 転入した日から14日以内
MOVE_IN_AFTER_PLANNED = timedelta(days=30)  # 転出予定日から30日以内
CONTINUE_WITHIN = timedelta(days=90)  # 転入届の日から90日以内に継続利用


def move_abroad() -> Refused:
    return Refused(
        "move_abroad",
        "a move abroad cannot use the special move-out; file a move-out at the counter",
        message_ja="国外への転出は特例による転出はできません。窓口で転出届をしてください。",
    )


def move_in_done() -> Refused:
    return Refused(
        "move_in_done",
        "this move-out data has already been used for a move-in",
        message_ja="この転出証明書情報による転入届はすでに受け付けています。",
    )


def check_move_in_dates(*, moved: date, planned: date, today: date) -> None:
    """Within 14 days of moving in and 30 days of the planned move-out, never in the future."""
    if moved > today:
        raise InvalidInput(
            f"the move-in date {moved.isoformat()} is after today ({today.isoformat()})",
            field="moved",
        )
    if today - moved > MOVE_IN_AFTER_MOVE:
        raise Refused(
            "move_in_too_late",
            f"a special move-in is filed within 14 days of moving in (moved {moved.isoformat()}); "
            "a paper move-out certificate from the old city is needed",
            message_ja="転入した日から14日を過ぎているため、特例による転入はできません。"
            "転出証明書が必要です。",
        )
    if today - planned > MOVE_IN_AFTER_PLANNED:
        raise Refused(
            "move_out_expired",
            f"a special move-in is filed within 30 days of the planned move-out "
            f"({planned.isoformat()}); a paper move-out certificate is needed",
            message_ja="転出予定日から30日を過ぎているため、特例による転入はできません。"
            "転出証明書が必要です。",
        )


def check_card_for_move(
    *,
    state: str,
    expires_on: date,
    certificates_expire_on: date,
    moved_in_on: date | None,
    continued_on: date | None,
    today: date,
) -> None:
    """The card that makes a move special must be active, unexpired and carried over."""
    if state != CardState.ACTIVE.value:
        words = {
            "suspended": "カードが一時停止（紛失届）されているため",
            "returned": "カードが返納されているため",
            "abolished": "カードが廃止されているため",
            "expired": "カードの有効期限が切れているため",
        }.get(state, "カードが有効でないため")
        raise Refused(
            f"card_{state}",
            f"the card is {state}: the special move-out and move-in need a valid card",
            message_ja=f"{words}、特例による転出・転入はできません。",
        )
    if expires_on < today or certificates_expire_on < today:
        raise Refused(
            "card_expired",
            "the card or its certificate has expired",
            message_ja="カードの有効期限が切れているため、特例による転出・転入はできません。",
        )
    if moved_in_on is not None and continued_on is None:
        raise Refused(
            "card_not_continued",
            "the card was not carried over after the previous move (継続利用); it is invalid",
            message_ja="前回の転入後に継続利用の手続きがされていないため、このカードは無効です。",
        )


def check_continuation(card: CardRecord, today: date) -> None:
    """継続利用 is possible within 90 days of the move-in notification, and only once."""
    if card.state is not CardState.ACTIVE:
        raise Refused(
            f"card_{card.state.value}",
            f"the card is {card.state.value}",
            message_ja="カードが有効でないため継続利用できません。",
        )
    if card.moved_in_on is None:
        raise Refused(
            "nothing_to_continue",
            "this card did not come with a special move-in here; nothing to carry over",
            message_ja="このカードは継続利用の手続きの対象ではありません。",
        )
    if today - card.moved_in_on > CONTINUE_WITHIN:
        raise Refused(
            "continuation_expired",
            f"the card was not carried over within 90 days of the move-in notification "
            f"({card.moved_in_on.isoformat()}); it is invalid",
            message_ja="転入届から90日を過ぎたため、このカードは無効になりました。",
        )
