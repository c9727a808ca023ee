"""The authority's tables: every certificate it issued, with its status."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, MetaData, String, Table

from kofu.core.instant import Instant

__all__ = ["certificates", "metadata", "revision"]

metadata = MetaData()

certificates = Table(
    "certificates",
    metadata,
    Column("serial", String(40), primary_key=True),  # hex, as OCSP and CRLs name it
    Column("kind", String(8), nullable=False),
    Column("city", String(6), nullable=False),
    Column("resident_code", String(11), nullable=False),
    Column("card_id", String(32), nullable=False, index=True),
    Column("not_before", Instant(), nullable=False),
    Column("not_after", Instant(), nullable=False),
    Column("status", String(8), nullable=False),  # good | revoked
    Column("revoked_at", Instant()),
    Column("cause", String(24)),
    Column("der", LargeBinary, nullable=False),
    Index("ix_certificates_kind_status", "kind", "status"),
)

# A counter bumped on every revocation, so cached CRLs and OCSP answers know when to refresh.
revision = Table(
    "revision",
    metadata,
    Column("name", String(16), primary_key=True),
    Column("value", Integer, nullable=False),
)
