"""統合記載欄: each change of a record, with its reason and dates (jyuki-stnd 1.1.14, 20.0.3).

A residence certificate with history carries, per person, every 異動 the
record went through: its 事由, 異動日 and 届出日 and what changed (the earlier
address, the destination, the former name).  A move-out notified ahead is
written 「（予定）」, its removal on the day 「転出」, and once the new city's
転入通知 confirms it 「（確定）」 with the day and address it gives (4.1.3.1.1);
before its date a current record's certificate leaves the planned move-out
out (jyuki-stnd 5.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kofu.city.domain.model import Address, Cancellation, ExOfficio, Resident
from kofu.city.domain.ports import ResidentVersion
from kofu.core.era import wareki

__all__ = ["HistoryLine", "history_lines"]


@dataclass(frozen=True)
class HistoryLine:
    """One 異動 in the 統合記載欄."""

    reason: str  # 異動事由
    on: date  # 異動日
    notified_on: date | None  # 届出日, where the change was notified
    detail: str = ""


_REASONS = {
    "birth": "出生",
    "move_in": "転入",
    "move_within": "転居",
    "move_out_planned": "転出（予定）",
    "move_out": "転出",
    "move_out_confirmed": "転出（確定）",
    "death": "死亡",
    "name_change": "氏名の変更",
    "household_change": "世帯変更",
    "household_head_change": "世帯主変更",
    "household_head_absent": "世帯主不在",
    "marriage": "婚姻",
    "divorce": "離婚",
    "adoption": "養子縁組",
    "special_adoption": "特別養子縁組",
    "special_adoption_dissolution": "特別養子縁組解消",
    "domicile_transfer_out": "転籍",
    "domicile_transfer_in": "転籍",
    "alias_set": "通称の記載",
    "alias_remove": "通称の削除",
    "sex_change": "性別の変更",
    "former_surname_set": "旧氏の記載",
    "former_surname_remove": "旧氏の削除",
    "correction": "誤記修正",
    "cancellation": "異動の取消し",
}


# 特別な事由 (jyuki-stnd 1.1.4): kept in the record, printed only when asked for
SPECIAL_KINDS = frozenset({"special_adoption", "special_adoption_dissolution", "sex_change"})
_MOVES_AWAY = ("move_out_planned", "move_out", "move_out_confirmed")


def _line(
    kind: str, effective: date, before: Resident | None, after: Resident, special: bool = False
) -> HistoryLine:
    if kind == "cancellation" and after.cancellation is not None:
        return _cancellation_line(after.cancellation)
    reason = _REASONS[kind]
    if kind in ("birth", "move_in", "move_within"):
        notified: date | None = after.notified_on
    elif kind in ("move_out", "death"):
        notified = after.removal_notified_on
    elif kind == "move_out_planned" and after.planned_move_out is not None:
        notified = after.planned_move_out.notified_on
    else:
        notified = None
    detail = ""
    if kind == "move_in" and after.previous_address is not None:
        detail = f"転入前住所 {after.previous_address.text}"
    elif kind == "move_within" and before is not None:
        detail = f"従前の住所 {before.address.text}"
    elif kind == "move_out_planned" and after.planned_move_out is not None:
        detail = _destination(after, after.planned_move_out.destination)
    elif kind == "move_out_confirmed" and after.confirmed_move_out is not None:
        done = after.confirmed_move_out
        detail = f"{_destination(after, done.destination)}　転入通知 {wareki(done.notice_on)}"
        effective = done.moved_on  # 転出年月日（確定）
    elif kind == "move_out" and after.move_out_destination is not None:
        detail = _destination(after, after.move_out_destination)
    elif kind == "correction" and before is not None:
        detail = _corrected(before, after)
    elif kind == "sex_change" and before is not None and before.relationship != after.relationship:
        detail = f"続柄 {before.relationship} → {after.relationship}"
    elif before is not None and before.name != after.name:
        detail = f"旧氏名 {before.name}"
    elif kind == "former_surname_set":
        detail = f"旧氏 {after.former_surname}"
    elif kind in ("household_change", "household_head_change"):
        detail = f"世帯主 {after.household_head_name}"
    elif kind.startswith("domicile_transfer") and before is not None:
        detail = f"従前の本籍 {before.domicile or ''}"
    if kind == "move_out_planned" and after.planned_move_out is not None:
        effective = after.planned_move_out.planned_on  # 転出予定年月日
    detail = _adoption_move(kind, after, detail, special)
    by_city = after.ex_officio
    if by_city is not None and (before is None or before.ex_officio != by_city):
        reason, notified = f"{reason}（職権記載）", None  # no notification: the city wrote it
        detail = "　".join(p for p in (detail, _ex_officio_facts(by_city)) if p)
    return HistoryLine(reason, effective, notified, detail)


def _adoption_move(kind: str, after: Resident, detail: str, special: bool) -> str:
    """A move for a 特別養子縁組: the destination blank, the 備考 beside it when asked for.

    The 除票 of a child who moved away to be adopted does not say where to
    (1.1.5); the words 「特別養子縁組」 go with the 転出先 or 転入前住所 (1.1.14),
    among the special history (1.1.4).
    """
    if after.adoption_move is None or kind not in (*_MOVES_AWAY, "move_in") or not special:
        return detail
    return f"{detail}　{after.adoption_move}"


def _destination(after: Resident, address: Address) -> str:
    """「転出先 …」, or only 「転出先」 for a child moved away to be adopted (1.1.5)."""
    return "転出先" if after.adoption_move is not None else f"転出先 {address.text}"


def _ex_officio_facts(done: ExOfficio) -> str:
    """Why and when the city wrote the change, and when the person was told (4.2.0.1)."""
    parts = [f"職権記載 {wareki(done.recorded_on)}（{done.basis}）"]
    if done.late_notification_on is not None:
        parts.append(f"届出 {wareki(done.late_notification_on)}（期間経過）")
    if done.requested_on is not None:
        parts.append(f"申出 {wareki(done.requested_on)}")
    if done.notice_on is not None:
        parts.append(f"職権記載等通知 {wareki(done.notice_on)}")
    return "　".join(parts)


def history_lines(
    versions: Sequence[ResidentVersion], *, removed: bool, today: date, special: bool = False
) -> tuple[HistoryLine, ...]:
    """The 統合記載欄 of one record, oldest change first.

    A current record's planned move-out is left out until it is done; a 除票
    shows both the 予定 and the 確定 lines.
    """
    out = []
    before: Resident | None = None
    never = _cancelled_before_their_day(versions)
    for v in versions:
        if v.effective > today or v.version in never:
            continue  # not yet in effect; a version recorded after it may be (確定)
        skip_planned = v.kind == "move_out_planned" and not removed
        hidden = not special and (v.kind in SPECIAL_KINDS or _undoes_special(v))
        if v.kind in _REASONS and not skip_planned and not hidden:
            out.append(_line(v.kind, v.effective, before, v.record, special))
        before = v.record
    return tuple(out)


def _undoes_special(v: ResidentVersion) -> bool:
    """A cancellation of a special change (特別養子, 性別変更) is as private as the change."""
    mark = v.record.cancellation if v.kind == "cancellation" else None
    return mark is not None and mark.kind in SPECIAL_KINDS


def _cancelled_before_their_day(versions: Sequence[ResidentVersion]) -> set[int]:
    """Versions a cancellation undid before they took effect: they never happened."""
    by_number = {v.version: v for v in versions}
    never = set()
    for v in versions:
        mark = v.record.cancellation if v.kind == "cancellation" else None
        if mark is None:
            continue
        never |= {n for n in mark.versions if by_number[n].effective > mark.cancelled_on}
    return never


def _cancellation_line(mark: Cancellation) -> HistoryLine:
    """異動の取消し（増・減・修正）: on its day, naming the change it undid and why (4.6.0.1)."""
    undone = _REASONS.get(mark.kind, mark.kind)
    detail = f"{wareki(mark.change_on)}の{undone}を取消し（{mark.reason}）"
    return HistoryLine(f"異動の取消し（{mark.category}）", mark.cancelled_on, None, detail)


def _corrected(before: Resident, after: Resident) -> str:
    """What a 誤記修正 changed: each item, from what to what."""
    parts = []
    if before.name != after.name:
        parts.append(f"氏名 {before.name} → {after.name}")
    if before.kana != after.kana:
        parts.append(f"フリガナ {before.kana} → {after.kana}")
    if before.printed_birth_date != after.printed_birth_date:
        parts.append(f"生年月日 {before.printed_birth_date} → {after.printed_birth_date}")
    if before.sex != after.sex:
        parts.append(f"性別 {before.sex.ja} → {after.sex.ja}")
    return "　".join(parts)
