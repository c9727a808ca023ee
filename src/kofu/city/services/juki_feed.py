"""Reporting the city's changed records to juki (本人確認情報の通知), at least once."""

from __future__ import annotations

from kofu.city.domain.juki_report import identity_report
from kofu.city.domain.ports import CityUnitOfWork, IdentityDirectory
from kofu.core.clock import Clock

__all__ = ["report_to_juki"]


def report_to_juki(
    *,
    uow: CityUnitOfWork,
    juki: IdentityDirectory,
    clock: Clock,
    batch: int = 500,
    batches: int = 20,
) -> dict[str, int]:
    """Report up to ``batches`` × ``batch`` changed records; the rest wait for the next call.

    The bookmarks are about one juki store: a store with another identity
    (restored empty after a loss, or replaced) gets every record again.

    Reading, reporting and bookmarking are three steps: a failure after juki
    stored a batch leaves it unmarked here, so it is reported again and juki
    ignores what it already has.  Nothing is lost and nothing doubles.
    """
    store = juki.store_id()
    with uow:
        if uow.juki.reported_to() != store:  # juki restored empty or replaced: all again
            uow.juki.start_over(store)
            uow.commit()
    reported = 0
    for _ in range(batches):
        with uow:
            code = uow.city().code
            pending = uow.juki.unreported(batch)
            uow.commit()  # reading may have brought a due future version into effect
        if not pending:
            break
        juki.report(code, [identity_report(u.person, code, u.version) for u in pending])
        with uow:
            uow.juki.mark(pending, clock.now())
            uow.commit()
        reported += len(pending)
    return {"reported": reported}
