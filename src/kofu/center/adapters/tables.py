"""The center's issuance log: one row per issuance, keyed by the kiosk's request id."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    true,
)

from kofu.core.instant import Instant

__all__ = ["alarms", "issuances", "metadata", "resumes", "sessions", "sign_in_failures"]

metadata = MetaData()

issuances = Table(
    "issuances",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # requested, rendered, printed, voided
    Column("auth_serial", String(40), nullable=False),
    Column("city", String(6), nullable=False),
    Column("certificate", String(16), nullable=False),
    Column("copies", Integer, nullable=False),
    Column("fee", Integer, nullable=False),  # yen for all copies; charged only when printed
    Column("store", String(32), nullable=False),
    Column("chain", String(32), nullable=False),
    Column("created_at", Instant(), nullable=False, index=True),
    Column("updated_at", Instant(), nullable=False),
    Column("holder_digest", String(64)),
    Column("content_digest", String(64)),
    Column("reason", Text),
    Column("print_job", LargeBinary),  # the stamped PDF until printed or voided, then dropped
    Column("kiosk", String(48), nullable=False, server_default=""),  # only it confirms or voids
    # False from the print until the city has counted it (its activity log): the notice's outbox
    Column("city_told", Boolean, nullable=False, server_default=true()),
    Index("ix_issuances_state_updated_at", "state", "updated_at"),  # the print-timeout sweep
    Index("ix_issuances_city_told_state", "city_told", "state"),  # prints the city has not heard
)

# Sessions live in the store so that any worker behind the load balancer can serve the next step.
sessions = Table(
    "sessions",
    metadata,
    Column("session", String(32), primary_key=True),
    Column("challenge", LargeBinary),  # set until answered once, then cleared
    Column("challenge_expires", Instant(), nullable=False),
    Column("auth_serial", String(40)),
    Column("not_after", Instant()),
    Column("expires", Instant()),
    # The kiosk (network certificate name) that opened it, "" without mutual TLS: only it goes on.
    Column("kiosk", String(48), nullable=False, server_default=""),
    Column("request_id", String(64)),  # the one request the session was spent on
    Column("certificate", LargeBinary),  # the card's certificate, its status asked again at issue
    Column("ended", Boolean, nullable=False, server_default=false()),  # its kiosk ended it (中止)
)

# Sign-ins that failed for a card (bad signature, expired or replayed challenge): a run of them
# before a good one looks like someone working at a stolen card's certificate.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant(), nullable=False),
    Column("auth_serial", String(40), nullable=False),
    Column("reason", String(32), nullable=False),
    Index("ix_sign_in_failures_serial_at", "auth_serial", "at"),
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Instant(), nullable=False),
    Column("city", String(6), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_alarms_city_id", "city", "id"),
)

# Append-only: a supervisor's resume of a city answers its alarms up to ``through_alarm``.
resumes = Table(
    "resumes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False, unique=True),
    Column("at", Instant(), nullable=False),
    Column("city", String(6), nullable=False),
    Column("operator", String(48), nullable=False),  # the supervisor's network certificate name
    Column("reason", Text, nullable=False),
    Column("through_alarm", Integer, nullable=False),  # the newest alarm the resume answered
    Index("ix_resumes_city_through", "city", "through_alarm"),
)
