"""One valid message of every contract, and one field of it given a value of the wrong type."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from kofu.contracts import Contract
from kofu.contracts.citylink import (
    CertifiedResident,
    CitylinkAddress,
    CitylinkRefusal,
    MoveInNotice,
    MoveInReceipt,
    MoveOutData,
    MovingCard,
    MovingPerson,
    OrdinaryMoveInNotice,
    OrdinaryMoveInReceipt,
    WideAreaAnswer,
    WideAreaRequest,
)
from kofu.contracts.identity import DomicileAnswer, DomicileApplication, Identity, IdentityRequest
from kofu.contracts.jpki import (
    BasicFacts,
    CertificateRequest,
    CertificatesIssued,
    CertificateStatus,
    RevocationRequest,
    Revoked,
)
from kofu.contracts.juki import (
    CodeBlock,
    CodeBlockRequest,
    Disclosure,
    HeldRecords,
    IdentityNotice,
    IdentityNotices,
    IdentityReport,
    IdentityReports,
    JukiStore,
    NoticeReceipt,
    ProvidedIdentity,
    Provision,
    ReportCounts,
    SequenceRefusal,
)
from kofu.contracts.kiosk import (
    ConnectedCity,
    DomicileRequest,
    IssuanceRequest,
    PrintJob,
    PrintSettled,
    SessionEnded,
    SessionOpened,
    SignedIn,
    SignIn,
    VoidRequest,
)
from kofu.contracts.operator import (
    Alarm,
    CenterStatus,
    CityStateCount,
    IssuanceLog,
    LogEntry,
    Resumed,
    ResumeRequest,
    Settlement,
    SettlementRow,
)
from kofu.contracts.store import (
    CityHealth,
    IssueOptions,
    PrintRecorded,
    PrintRefused,
    PrintsRecorded,
    StoreAnswer,
    StoreOutcome,
    StorePrinted,
    StorePrints,
    StoreRequest,
)
from kofu.core.clock import JST
from kofu.core.identifiers import IndividualNumber, LocalGovernmentCode, ResidentCode

DIGEST = "ab" * 32


@dataclass(frozen=True)
class Example:
    """A valid message, and a field with a value of the wrong type for it."""

    message: Contract
    field: str
    wrong: Any

    @property
    def name(self) -> str:
        return type(self.message).__name__


_ANSWER = StoreAnswer(
    request_id="req-00000001",
    city="112186",
    certificate="juminhyo",
    issue_number=7,
    content_digest=DIGEST,
    holder_digest=DIGEST,
    holder_name="山田　太郎",
    fee=200,
    pdf_base64="JVBERi0=",
)

_REPORT = IdentityReport(
    resident_code=str(ResidentCode.from_base("1234567890")),
    individual_number=str(IndividualNumber.from_base("12345678901")),
    name="深谷　花子",
    birth_date=date(1990, 5, 10),
    sex="female",
    address="埼玉県深谷市仲町11番1号",
    city=str(LocalGovernmentCode.from_base("11218")),
    state="resident",
    version=3,
    since=date(2020, 4, 1),
)

_AT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
_NOTICE = IdentityNotice(
    seq=1, record=_REPORT, reason="move_in", effective=date(2026, 11, 20), recorded_at=_AT
)
_PROVISION = Provision(provision_id="prv-1", agency="a", purpose="p", provided_at=_AT)
_RC = str(ResidentCode.from_base("1234567890"))
_ADDRESS = CitylinkAddress(prefecture="岩手県", city="花巻市", town="東和町北成島", block="1番地")
_CERTIFIED = CertifiedResident(
    name="花巻　花子",
    kana="ハナマキ　ハナコ",
    birth_date=date(1990, 5, 10),
    sex="female",
    relationship="世帯主",
    became_resident_on=date(2015, 1, 27),
    address_set_on=date(2015, 1, 27),
    notified_on=date(2015, 1, 27),
    previous_address=_ADDRESS,
)
_CARD = MovingCard(
    card_id="112186-20260101-0001",
    auth_serial="c0ffee",
    state="active",
    expires_on=date(2036, 1, 1),
    certificates_expire_on=date(2031, 1, 1),
    issuer_secret="00" * 32,
)
_MOVER = MovingPerson(
    resident_code=_RC,
    individual_number=str(IndividualNumber.from_base("12345678901")),
    name="深谷　花子",
    kana="フカヤ　ハナコ",
    birth_date=date(1990, 5, 10),
    sex="female",
    relationship="世帯主",
    domicile="埼玉県深谷市仲町1番地",
    domicile_head="深谷　花子",
    card=_CARD,
)
_REFUSAL = CitylinkRefusal(reason="wide_area_refused", message="m", message_ja="m")
_ROW = SettlementRow(city="032051", chain="seven", issuances=2, copies=3, fees=600)
_ALARM = Alarm(
    at=datetime(2026, 11, 24, 3, tzinfo=UTC),
    city="032051",
    kind="holder_mismatch",
    detail="request store-bad-000001: returned store-bad-000001",
)

_ENTRY = LogEntry(
    request_id="store-ok-000001",
    state="printed",
    city="032051",
    store="7-1",
    chain="seven",
    certificate="juminhyo",
    copies=1,
    fee=200,
    created_at=datetime(2026, 11, 24, 3, tzinfo=UTC),
    updated_at=datetime(2026, 11, 24, 3, 1, tzinfo=UTC),
)

EXAMPLES = [
    Example(_ADDRESS, "town", 5),
    Example(
        WideAreaRequest(
            request_id="wa-00000001", issuing_city="112186", resident=_RC, id_check="licence"
        ),
        "id_check",
        "passport",
    ),
    Example(_CERTIFIED, "birth_date", "soon"),
    Example(_REFUSAL, "reason", 3),
    Example(
        WideAreaAnswer(
            request_id="wa-00000001",
            home_city="032051",
            home_city_name="岩手県花巻市",
            state="issued",
            address=_ADDRESS,
            household_head="花巻　花子",
            members=(_CERTIFIED,),
            subjects=(_RC,),
        ),
        "state",
        "printed",
    ),
    Example(
        WideAreaAnswer(
            request_id="wa-00000001",
            home_city="032051",
            home_city_name="岩手県花巻市",
            state="refused",
            refusal=_REFUSAL,
        ),
        "items",
        "domicile",
    ),
    Example(_CARD, "state", "lost"),
    Example(_MOVER, "individual_number", 123),
    Example(
        MoveOutData(
            move_out_id="mo-00000001",
            from_city="112186",
            to_city="032051",
            state="planned",
            notified_on=date(2026, 11, 24),
            planned_on=date(2026, 11, 30),
            channel="online",
            old_address=_ADDRESS,
            destination=_ADDRESS,
            household_head="深谷　花子",
            members=(_MOVER,),
        ),
        "channel",
        "fax",
    ),
    Example(
        MoveInNotice(
            move_out_id="mo-00000001",
            to_city="032051",
            moved_on=date(2026, 12, 1),
            notified_on=date(2026, 12, 2),
            residents=(_RC,),
        ),
        "residents",
        _RC,
    ),
    Example(
        MoveInReceipt(
            move_out_id="mo-00000001",
            state="moved_in",
            closed_at=datetime(2026, 12, 2, 3, 0, tzinfo=UTC),
            first=True,
        ),
        "first",
        "yes",
    ),
    Example(
        OrdinaryMoveInNotice(
            notice_id="mi-00000001",
            to_city="032051",
            resident=_RC,
            name="深谷　花子",
            birth_date=date(1990, 5, 10),
            moved_on=date(2026, 12, 1),
            notified_on=date(2026, 12, 2),
            address=_ADDRESS,
        ),
        "moved_on",
        20261201,
    ),
    Example(
        OrdinaryMoveInReceipt(notice_id="mi-00000001", resident=_RC, state="confirmed", first=True),
        "first",
        "yes",
    ),
    Example(
        IssueOptions(household="all", items=("head",), fiscal_year=None), "fiscal_year", "2025"
    ),
    Example(
        StoreRequest(
            request_id="req-00000001",
            auth_serial="c0ffee",
            certificate="kazei",
            options=IssueOptions(fiscal_year=2025),
        ),
        "certificate",
        7,
    ),
    Example(_ANSWER, "fee", "200"),
    Example(StoreOutcome(request_id="req-00000001", state="issued", answer=_ANSWER), "state", 1),
    Example(
        StoreOutcome(request_id="req-00000001", state="refused", reason="r", message="m"),
        "reason",
        ["r"],
    ),
    Example(
        StorePrinted(
            request_id="req-00000001",
            city="112186",
            copies=2,
            fee=400,
            chain="seven",
            printed_at=datetime(2026, 11, 24, 12, 0, tzinfo=JST),
        ),
        "copies",
        "2",
    ),
    Example(PrintRecorded(request_id="req-00000001", state="recorded"), "state", 1),
    Example(
        StorePrints(
            prints=[
                StorePrinted(
                    request_id="req-00000001",
                    city="112186",
                    copies=1,
                    fee=200,
                    printed_at=datetime(2026, 11, 24, 12, 0, tzinfo=JST),
                )
            ]
        ),
        "prints",
        "req-00000001",
    ),
    Example(PrintRefused(request_id="req-00000001", reason="not_issued"), "reason", 0),
    Example(
        PrintsRecorded(
            recorded=[PrintRecorded(request_id="req-00000001", state="already")],
            refused=[PrintRefused(request_id="req-00000002", reason="unknown_request")],
        ),
        "recorded",
        {"request_id": 1},
    ),
    Example(IdentityRequest(auth_serial="c0ffee"), "auth_serial", 12648430),
    Example(
        CityHealth(city="112186", name="埼玉県深谷市", status="ok", now=datetime(2026, 11, 24, 12)),
        "name",
        None,
    ),
    Example(
        Identity(
            resident_code="12345678901",
            name="山田　太郎",
            kana="ヤマダ　タロウ",
            birth_date=date(1980, 4, 1),
            sex="male",
            address="埼玉県深谷市仲町１－１",
        ),
        "birth_date",
        "1 April 1980",
    ),
    Example(
        DomicileApplication(
            auth_serial="c0ffee",
            domicile="岩手県花巻市花城町９番地",
            head_name="山田　一郎",
            name="山田　太郎",
            birth_date=date(1980, 4, 1),
            sex="female",
        ),
        "sex",
        "f",
    ),
    Example(
        DomicileAnswer(
            registration_id="D-1",
            auth_serial="c0ffee",
            register_id="R-1",
            member_name="山田　太郎",
            member_birth_date=date(1980, 4, 1),
            applied_at=datetime(2026, 11, 24, 12, 0),
            state="pending",
        ),
        "state",
        True,
    ),
    Example(
        CertificateRequest(
            city="112186",
            resident_code="12345678901",
            card_id="112186-1",
            birth_date=date(1990, 5, 10),
            card_expiry=date(2036, 5, 10),
            auth_public_key_pem="-----BEGIN PUBLIC KEY-----",
            sign_public_key_pem="-----BEGIN PUBLIC KEY-----",
            facts=BasicFacts(
                name="深谷　花子", sex="2", birth_date=date(1990, 5, 10), address="深谷市仲町"
            ),
        ),
        "card_expiry",
        20360510,
    ),
    Example(
        BasicFacts(name="深谷　花子", sex="2", birth_date=date(1990, 5, 10), address="深谷市"),
        "sex",
        2,
    ),
    Example(
        CertificatesIssued(auth_pem="-----BEGIN CERTIFICATE-----", auth_serial="1a2b"),
        "auth_serial",
        6699,
    ),
    Example(RevocationRequest(card_id="112186-1", cause="move"), "cause", "moved house"),
    Example(Revoked(revoked=("1a2b", "3c4d")), "revoked", "1a2b"),
    Example(
        CertificateStatus(
            serial="1a2b",
            status="good",
            city="112186",
            kind="auth",
            holder_digest=DIGEST,
            resident_code="12345678901",
        ),
        "status",
        None,
    ),
    Example(_REPORT, "version", "3"),
    Example(IdentityReports(city="112186", records=(_REPORT,)), "records", _REPORT.name),
    Example(ReportCounts(stored=1, replaced=0, unchanged=2), "stored", 1.5),
    Example(JukiStore(store_id="0f3c"), "store_id", 15),
    Example(_NOTICE, "seq", "1"),
    Example(IdentityNotices(sender="city-112186", notices=(_NOTICE,)), "sender", 112186),
    Example(
        NoticeReceipt(sender="pref-11", applied_through=4, applied=1, already=0), "applied", "1"
    ),
    Example(
        SequenceRefusal(error="Conflict", reason="sequence_gap", message="send 5", expected_seq=5),
        "expected_seq",
        "5",
    ),
    Example(CodeBlockRequest(request_id="blk-00000001", holder="pref-11", count=10), "count", "10"),
    Example(CodeBlock(block_id="national-1", holder="pref-11", first=1, count=10), "first", "1"),
    Example(HeldRecords(city=_REPORT.city, held_by="pref-11", records=(_REPORT,)), "records", 1),
    Example(
        ProvidedIdentity(
            provision_id="prv-1", record=_REPORT, agency="a", purpose="p", provided_at=_AT
        ),
        "provided_at",
        "soon",
    ),
    Example(_PROVISION, "agency", 1),
    Example(
        Disclosure(
            resident_code=_REPORT.resident_code, records=(_REPORT,), provisions=(_PROVISION,)
        ),
        "provisions",
        1,
    ),
    Example(SessionOpened(session="s-1", challenge_b64="AAEC"), "challenge_b64", b"x"),
    Example(SignIn(certificate_b64="MIIB", signature_b64="AAEC"), "signature_b64", 1),
    Example(SessionEnded(session="s-1", ended=True), "ended", False),
    Example(SignedIn(authenticated=True, valid_until=datetime(2031, 1, 1)), "authenticated", False),
    Example(
        IssuanceRequest(
            session="s-1",
            request_id="kiosk-000000001",
            certificate="juminhyo",
            options=IssueOptions(household="all", items=("head",)),
            copies=2,
            store="7-0001",
            chain="seven",
        ),
        "copies",
        "2",
    ),
    Example(
        PrintJob(
            request_id="kiosk-000000001",
            city="112186",
            certificate="juminhyo",
            copies=2,
            fee=400,
            holder_digest=DIGEST,
            pdf_base64="JVBERi0=",
        ),
        "fee",
        "400",
    ),
    Example(VoidRequest(reason="paper jam"), "reason", 3),
    Example(PrintSettled(request_id="kiosk-000000001", state="printed"), "state", "charged"),
    Example(ConnectedCity(code="032051", name="岩手県花巻市"), "code", 32051),
    Example(
        DomicileRequest(
            session="s-1", city="032051", domicile="花巻市1番地", head_name="花巻　太郎"
        ),
        "city",
        None,
    ),
    Example(_ROW, "fees", "600"),
    Example(Settlement(month="2026-11", rows=(_ROW,)), "rows", "none"),
    Example(_ALARM, "at", "yesterday"),
    Example(CityStateCount(city="032051", state="printed", count=2), "count", "2"),
    Example(_ENTRY, "created_at", "noon"),
    Example(IssuanceLog(entries=(_ENTRY,)), "entries", {"request_id": 1}),
    Example(ResumeRequest(request_id="resume-000001", reason="接続装置を交換"), "reason", 1),
    Example(
        Resumed(
            request_id="resume-000001",
            at=datetime(2026, 11, 24, 13, tzinfo=UTC),
            city="032051",
            operator="operator-supervisor",
            reason="接続装置を交換",
        ),
        "city",
        32051,
    ),
    Example(
        CenterStatus(
            now=datetime(2026, 11, 24, 12, tzinfo=UTC),
            alarms=(_ALARM,),
            stopped_cities=("032051",),
            issuances={"printed": 2, "voided": 1},
            per_city=(CityStateCount(city="032051", state="printed", count=2),),
            print_timeout_seconds=300,
        ),
        "print_timeout_seconds",
        "300",
    ),
]


def call(app: FastAPI, method: str, path: str, body: Any = None) -> httpx.Response:
    """One request to ``app`` in this process (no socket, no TLS: no caller to check)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://in-process") as client:
            return await client.request(method, path, json=body)

    return asyncio.run(send())


def schema_of(model: type[Contract], mode: str) -> dict[str, Any]:
    """The contract's JSON schema as OpenAPI components carry it (refs, and defs apart)."""
    schema = model.model_json_schema(
        ref_template="#/components/schemas/{model}",
        mode=mode,  # type: ignore[arg-type]
    )
    return _plain(schema)  # type: ignore[no-any-return]


def published(app: FastAPI, name: str) -> dict[str, Any]:
    """The app's OpenAPI component ``name``, spelt as ``schema_of`` spells it."""
    return _plain(app.openapi()["components"]["schemas"][name])  # type: ignore[no-any-return]


def _plain(value: Any) -> Any:
    """FastAPI writes bounds as floats and leaves nulls out of defaults; neither changes meaning."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def check_published(app: FastAPI, model: type[Contract], mode: str) -> None:
    """The app's component for ``model`` (and each it refers to) is the contract's schema."""
    expected = schema_of(model, mode)
    for name, schema in expected.pop("$defs", {}).items():
        assert published(app, name) == schema, name
    assert published(app, model.__name__) == expected, model.__name__


def named_fields(answer: httpx.Response) -> set[str]:
    """Every name a 422 gives for where the problem is (FastAPI's ``loc`` or kofu's ``field``)."""
    body = answer.json()
    names = {str(part) for error in body.get("detail", []) for part in error.get("loc", [])}
    for error in [body, *body.get("errors", [])]:
        names |= set(str(error.get("field") or "").split("."))
    return names - {""}
