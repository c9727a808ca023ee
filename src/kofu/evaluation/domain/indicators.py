"""The indicator catalogue (EVALUATION.md §2.4): 33 stable IDs, each computed from daily tallies.

A ``Tally`` is the log summed over a day range by kind and qualifiers; an
indicator picks the tallies it counts (``Pick``) and sums one measure of
them.  The same pick, as a filter, is the drill-down to the records.
Percentages are rounded half-up (``Decimal.ROUND_HALF_UP``), never by
Python's banker's ``round``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

__all__ = [
    "CATALOGUE",
    "Definition",
    "Pick",
    "Tally",
    "half_up",
    "pct_change",
]

Measure = Literal["n", "copies", "fee_yen"]


@dataclass(frozen=True)
class Tally:
    """The log's sums for one combination of kind and qualifiers over a day range."""

    kind: str
    channel: str = ""
    doc_type: str = ""
    role: str = ""
    cause: str = ""
    programme: str = ""
    n: int = 0
    copies: int = 0
    fee_yen: int = 0
    records: int = 0


@dataclass(frozen=True)
class Pick:
    """Which tallies an indicator counts: a kind and, optionally, allowed qualifier values."""

    kind: str
    measure: Measure = "n"
    channel: tuple[str, ...] = ()
    doc_type: tuple[str, ...] = ()
    role: tuple[str, ...] = ()
    cause: tuple[str, ...] = ()

    def matches(self, t: Tally) -> bool:
        return (
            t.kind == self.kind
            and (not self.channel or t.channel in self.channel)
            and (not self.doc_type or t.doc_type in self.doc_type)
            and (not self.role or t.role in self.role)
            and (not self.cause or t.cause in self.cause)
        )

    def total(self, tallies: Sequence[Tally]) -> tuple[int, int]:
        """(sum of the measure, number of records) over the matching tallies."""
        picked = [t for t in tallies if self.matches(t)]
        return sum(getattr(t, self.measure) for t in picked), sum(t.records for t in picked)

    def as_filter(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind}
        for name in ("channel", "doc_type", "role", "cause"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        return out


Kind = Literal["flow", "stock", "ratio", "cost", "other"]


@dataclass(frozen=True)
class Definition:
    """One indicator of the catalogue."""

    id: str
    key: str
    label: str
    unit: str
    kind: Kind
    formula: str  # 実績値の算出式, printed when the sheet's cell is empty
    pick: Callable[[Scope], Pick] | None = None
    source: str = ""  # the event type counted (実績値の出所 by default)


@dataclass(frozen=True)
class Scope:
    """What configuration decides about a count: which types and card kinds are in scope."""

    store_types: tuple[str, ...] = (
        "juminhyo",
        "inkan",
        "kazei",
        "shotoku",
        "koseki-zenbu",
        "koseki-kojin",
        "fuhyo",
    )
    card_kinds: tuple[str, ...] = ()  # () = every kind (new, renewal, reissue)
    card_since: date = date(2016, 1, 1)
    programme: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def half_up(value: Decimal, places: int = 1) -> Decimal:
    """Rounded half-up to ``places`` decimals (23.515… → 23.5, 0.25 → 0.3)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def pct_change(now: int | Decimal, before: int | Decimal) -> Decimal | None:
    """|now − before| ÷ before × 100, half-up to 1 decimal; None when before is 0."""
    if before == 0:
        return None
    return half_up(abs(Decimal(now) - Decimal(before)) / Decimal(before) * 100)


def _p(kind: str, **kw: object) -> Callable[[Scope], Pick]:
    return lambda scope: Pick(kind, **kw)  # type: ignore[arg-type]


def _cards(scope: Scope) -> Pick:
    return Pick("card.issued", role=scope.card_kinds)


def _store(scope: Scope) -> Pick:
    return Pick("certificate.issued", "copies", channel=("store",), doc_type=scope.store_types)


def _all_certs(scope: Scope) -> Pick:
    return Pick("certificate.issued", "copies", doc_type=scope.store_types)


_D = Definition
CATALOGUE: dict[str, Definition] = {
    d.id: d
    for d in (
        _D(
            "IND-01",
            "card.issued.cumulative",
            "マイナンバーカードの交付件数（平成２８年１月から）",
            "件",
            "stock",
            "平成28年1月1日から年度末（3月31日）までのカード交付件数の累計",
            _cards,
            "card.issued",
        ),
        _D(
            "IND-02",
            "card.issued.annual",
            "個人番号カード交付枚数",
            "枚",
            "flow",
            "年度内（4月1日〜3月31日）のカード交付件数",
            _cards,
            "card.issued",
        ),
        _D(
            "IND-03",
            "widearea_juminhyo.issued.annual",
            "広域住民票の交付件数",
            "件",
            "flow",
            "年度内に交付地として交付した広域住民票の件数",
            _p("widearea_juminhyo.issued", role=("issuing",)),
            "widearea_juminhyo.issued",
        ),
        _D(
            "IND-04",
            "complaint.issuance_error.annual",
            "交付誤りによる苦情件数",
            "件",
            "flow",
            "年度内に記録された交付誤りを原因とする苦情の件数",
            _p("complaint.recorded", cause=("issuance_error",)),
            "complaint.recorded",
        ),
        _D(
            "IND-05",
            "certificate.store_share.annual",
            "住民票や戸籍謄本等のうちコンビニで交付された割合",
            "%",
            "ratio",
            "コンビニ交付件数 ÷ 全発行証明件数 × 100（小数第1位、四捨五入）",
            None,
            "certificate.issued",
        ),
        _D(
            "IND-06",
            "certificate.store.annual",
            "コンビニ交付件数",
            "件",
            "flow",
            "年度内にコンビニで印刷が確認された証明書の通数",
            _store,
            "certificate.issued",
        ),
        _D(
            "IND-07",
            "certificate.all.annual",
            "住民票や戸籍謄本等の年間の全発行証明件数",
            "件",
            "flow",
            "年度内に全交付方法で発行した対象証明書の通数",
            _all_certs,
            "certificate.issued",
        ),
        _D("COST-01", "cost.program", "事業費", "円", "cost", "財務記録（事業費）の合計"),
        _D("COST-02", "funding.national", "国支出金", "円", "cost", "財源：国支出金の合計"),
        _D("COST-03", "funding.prefectural", "県支出金", "円", "cost", "財源：県支出金の合計"),
        _D("COST-04", "funding.bond", "地方債", "円", "cost", "財源：地方債の合計"),
        _D("COST-05", "funding.other_specific", "他特定財源", "円", "cost", "財源：その他の合計"),
        _D("COST-06", "funding.general", "一般財源", "円", "cost", "事業費 − 特定財源"),
        _D(
            "COST-07",
            "staff.fte",
            "従事職員数（人）",
            "人",
            "cost",
            "従事時間 ÷ 年間標準勤務時間（小数第2位、四捨五入）",
            _p("staff.time_logged"),
            "staff.time_logged",
        ),
        _D(
            "COST-08",
            "cost.personnel_equiv",
            "人件費相当試算",
            "円",
            "cost",
            "従事職員数 × 平均人件費（円未満四捨五入）",
        ),
        _D(
            "COST-09",
            "cost.total_estimate",
            "総事業費試算",
            "円",
            "cost",
            "事業費 + 人件費相当試算",
        ),
        _D("COST-10", "cost.lines", "内訳（節）", "円", "cost", "節・項目別の事業費"),
        _D(
            "COST-11",
            "cost.delta",
            "決算額前年比 (B-A)",
            "円",
            "cost",
            "当年度決算額 − 前年度決算額",
        ),
        _D(
            "COST-12",
            "cost.store_commission_estimate",
            "証明書発行手数料（推計）",
            "円",
            "cost",
            "コンビニ交付件数 × 1通あたり委託手数料",
        ),
        _D(
            "OPT-01",
            "card.application.annual",
            "マイナンバーカード申請受付件数",
            "件",
            "flow",
            "年度内の申請受付件数",
            _p("card.application_received"),
            "card.application_received",
        ),
        _D(
            "OPT-02",
            "card.outreach.annual",
            "出張申請受付サポート 受付件数",
            "件",
            "flow",
            "年度内の出張申請受付の件数",
            _p("card.application_received", channel=("outreach", "group_outreach")),
            "card.application_received",
        ),
        _D(
            "OPT-03",
            "jpki.cert.issued.annual",
            "電子証明書発行件数",
            "件",
            "flow",
            "年度内の電子証明書（署名用・利用者証明用）の発行件数",
            _p("jpki.certificate_issued"),
            "jpki.certificate_issued",
        ),
        _D(
            "OPT-04",
            "special_moveout.annual",
            "特例転出処理件数",
            "件",
            "flow",
            "年度内の特例転出処理件数",
            _p("special_moveout.processed"),
            "special_moveout.processed",
        ),
        _D(
            "OPT-05",
            "special_movein.annual",
            "特例転入処理件数",
            "件",
            "flow",
            "年度内の特例転入処理件数",
            _p("special_movein.processed"),
            "special_movein.processed",
        ),
        _D(
            "OPT-06",
            "resident_code.change.annual",
            "住民票コード変更件数",
            "件",
            "flow",
            "年度内の住民票コード変更件数（窓口・郵便）",
            _p("resident_code.changed"),
            "resident_code.changed",
        ),
        _D(
            "OPT-07",
            "juki.link_check.annual",
            "既存住基との通信確認 実施回数",
            "回",
            "flow",
            "年度内の通信確認の実施回数",
            _p("juki.link_check_run"),
            "juki.link_check_run",
        ),
        _D(
            "OPT-08",
            "card.holding_rate",
            "マイナンバーカード保有率",
            "%",
            "other",
            "有効なカードの保有者 ÷ 住民基本台帳人口 × 100（年度末）",
        ),
        _D(
            "OPT-09",
            "mis_issuance.annual",
            "誤交付件数",
            "件",
            "flow",
            "年度内に検出された誤交付の件数（目標0）",
            _p("mis_issuance.detected"),
            "mis_issuance.detected",
        ),
        _D(
            "OPT-10",
            "certificate.auto_share.annual",
            "自動交付割合",
            "%",
            "ratio",
            "（自動交付機 + コンビニ）÷ 全発行証明件数 × 100",
            None,
            "certificate.issued",
        ),
        _D(
            "OPT-11",
            "seal.registration.new.annual",
            "新規印鑑登録件数",
            "件",
            "flow",
            "年度内の新規印鑑登録件数",
            _p("seal.registered", role=("new",)),
            "seal.registered",
        ),
        _D(
            "OPT-12",
            "cost.per_issuance",
            "単位コスト",
            "円/件",
            "other",
            "総事業費試算 ÷ 活動指標１",
        ),
        _D(
            "OPT-13",
            "widearea_juminhyo.served.annual",
            "広域住民票 住所地送信件数",
            "件",
            "flow",
            "年度内に住所地として送信した広域住民票の件数",
            _p("widearea_juminhyo.issued", role=("residence",)),
            "widearea_juminhyo.issued",
        ),
        _D(
            "OPT-14",
            "card.slot_fill.annual",
            "交付枠 充足率",
            "%",
            "other",
            "予約数 ÷ 交付枠 × 100",
            None,
            "card.issuance_booked",
        ),
    )
}
