"""Every certificate the city can issue is offered at the counter, with its label and fee.

The counter's issue page listed types from its own table; when 記載事項証明書 joined the
certificate types, the page answered 500 for every resident.  This keeps the two in step.
"""

from __future__ import annotations

from kofu.city.domain.certificates import CertificateType
from kofu.city.domain.office import COUNTER_FEES
from kofu.city.web.counter import TYPE_LABELS


def test_every_certificate_type_has_a_counter_label_and_a_fee() -> None:
    types = {t.value for t in CertificateType}
    assert set(TYPE_LABELS) == types
    assert set(COUNTER_FEES) == types
    free = {"tenshutsu"}  # 転出証明書 is handed over with the 転出届, free of charge
    assert all(fee > 0 for kind, fee in COUNTER_FEES.items() if kind not in free)
    assert all(COUNTER_FEES[kind] == 0 for kind in free)


def test_each_label_starts_with_the_certificate_s_japanese_title() -> None:
    for kind in CertificateType:
        assert TYPE_LABELS[kind.value].startswith(kind.label), kind
