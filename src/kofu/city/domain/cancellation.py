"""異動の取消し (jyuki-stnd 4.6.0.1): a change made in error undone by a new version.

Nothing is deleted: the record as it stood before the change is written
again as the newest version, marked with what it cancelled, so the history
keeps both the cancelled change and the cancellation.  A removal undone is
異動取消（増）, an entry undone （減）, any other change （修正）.

Only a person's newest change is cancelled (a move-out notified ahead with
its planned line counts as one); what came after must be cancelled first,
newest first.  Changes that follow a family-register event are put right
through the family register (戸籍訂正) and a 職権修正, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from kofu.city.domain import kinship
from kofu.city.domain.model import Cancellation, RemovalReason, Resident, ResidentStatus
from kofu.city.domain.ports import Registers, ResidentVersion
from kofu.core.errors import Conflict, InvalidInput, NotFound
from kofu.core.identifiers import ResidentCode

__all__ = ["Restored", "cancel_newest", "check_households"]

# kinds that follow a family-register event: its 戸籍訂正 comes first, then a 職権修正
_FAMILY_REGISTER = frozenset(
    {
        "marriage",
        "divorce",
        "adoption",
        "special_adoption",
        "special_adoption_dissolution",
        "sex_change",
        "domicile_transfer_out",
        "domicile_transfer_in",
    }
)
_NOT_CANCELLED = _FAMILY_REGISTER | {"cancellation", "resident_code_change", "domicile_changed"}


@dataclass(frozen=True)
class Restored:
    """One record written back: before the cancellation, the restored one, and its day."""

    before: Resident
    after: Resident
    effective: date


def _cancelled(history: Sequence[ResidentVersion], version: int) -> int:
    """The index of the first version to cancel: the newest change, with its planned line."""
    if not history:
        raise NotFound("no such resident", field="resident")
    last = len(history) - 1
    start = last
    if (
        history[last].kind == "move_out"
        and last > 0
        and history[last - 1].kind == ("move_out_planned")
    ):
        start = last - 1  # a move-out notified ahead is one change in two versions
    if version not in (history[start].version, history[last].version):
        newest = history[last]
        raise Conflict(
            f"only the newest change can be cancelled: version {newest.version} "
            f"({newest.kind}, {newest.effective.isoformat()}); cancel later changes first",
            field="version",
        )
    if history[last].kind in _NOT_CANCELLED:
        raise Conflict(
            f"a {history[last].kind} is not cancelled here"
            + (
                "; it follows the family register (戸籍訂正, then a correction)"
                if history[last].kind in _FAMILY_REGISTER
                else ""
            ),
            field="version",
        )
    return start


def _category(before: Resident | None, now: Resident) -> Literal["増", "減", "修正"]:
    if before is None or (not before.is_resident and now.is_resident):
        return "減"
    if before.is_resident and not now.is_resident:
        return "増"
    return "修正"


def cancel_newest(reg: Registers, code: str, version: int, on: date, reason: str) -> Restored:
    """The record as before the person's newest change, marked as its cancellation."""
    ResidentCode(code)
    history = reg.history(code)
    if not history:
        raise NotFound(f"no resident with code {code}", field="resident")
    start = _cancelled(history, version)
    gone = history[start:]
    before = history[start - 1] if start > 0 else None
    if before is not None and on < before.effective:
        raise InvalidInput(
            f"effective: the cancellation comes after the change before it "
            f"({before.effective.isoformat()})",
            field="effective",
        )
    if on < gone[0].effective and gone[0].effective <= reg.today:
        raise InvalidInput(
            f"effective: a cancellation comes on or after the change it cancels "
            f"({gone[0].effective.isoformat()})",
            field="effective",
        )
    now = reg.resident(code)
    assert now is not None  # it has a history
    effective = min(gone[0].effective, on)
    mark = Cancellation(
        versions=tuple(v.version for v in gone),
        kind=gone[-1].kind,
        category=_category(before.record if before else None, gone[-1].record),
        change_on=gone[-1].effective,
        cancelled_on=on,
        reason=reason,
    )
    if before is None:  # 異動取消（減） of the record's only entry: a 除票 with that reason
        after = now.model_copy(
            update={
                "status": ResidentStatus.MOVED_OUT,
                "removed_on": effective,
                "removal_reason": RemovalReason.CANCELLED,
                "removal_notified_on": None,
            }
        )
    else:
        after = before.record
    after = after.model_copy(update={"cancellation": mark, "ex_officio": None})
    _restore_seal(reg, gone, after)
    return Restored(before=now, after=after, effective=effective)


def _restore_seal(reg: Registers, gone: Sequence[ResidentVersion], after: Resident) -> None:
    """A seal the cancelled removal ended is registered again (its 廃止 was the removal's)."""
    removal = next((v for v in gone if v.kind in ("move_out", "death")), None)
    if removal is None or not after.is_resident:
        return
    seal = reg.seal(after.resident_code)
    if (
        seal is not None
        and seal.abolished_by == "removal"
        and seal.abolished_on == removal.effective
    ):
        reg.save_seal(seal.model_copy(update={"abolished_on": None, "abolished_by": None}))


def check_households(reg: Registers, restored: Sequence[Restored]) -> None:
    """After the cancellation every household has one head, or (世帯主不在) all wait for one.

    A head's removal cancelled brings the head back: the 世帯主変更 or 世帯主不在
    it caused for the others must be cancelled with it (``members``).  A
    person put back into a household whose head has left since, or taken out
    of a household they headed with others in it, would leave a household
    without a head nobody is waiting to replace: refused, the clerk decides
    the head first (世帯主変更) or cancels with the others.
    """
    touched = {r.after.household_id for r in restored if r.after.is_resident}
    touched |= {r.before.household_id for r in restored if r.before.is_resident}
    for household_id in sorted(touched):
        members = list(reg.household(household_id))
        if not members:
            continue
        heads = [m for m in members if m.relationship == kinship.HEAD]
        waiting = [m.resident_code for m in members if m.head_absent]
        if len(heads) > 1 or (heads and waiting):
            others = sorted({m.resident_code for m in heads[1:]} | set(waiting))
            raise Conflict(
                f"household {household_id} would have "
                + ("two heads" if len(heads) > 1 else "a head and members waiting for one")
                + f"; cancel the change of {', '.join(others)} with it (members)",
                field="members",
            )
        if not heads and len(waiting) < len(members):
            raise Conflict(
                f"household {household_id} would have no head (世帯主不在) that its members "
                "wait for; decide its head first (household_head_change) or cancel the change "
                "that took the head away with it (members)",
                field="members",
            )
