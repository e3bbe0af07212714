"""privacy: data-subject requests, exports, erasure tombstones, retention runs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import amity.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("filed_by", sa.String(length=200), nullable=False),
        sa.Column("verified_by", sa.String(length=200), nullable=True),
        sa.Column("verification_method", sa.String(length=200), nullable=True),
        sa.Column("verified_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changes", JSON, nullable=False),
        sa.Column("received_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("extended_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("denied_reason", sa.Text(), nullable=True),
        sa.Column("result", JSON, nullable=False),
        sa.Column("export_path", sa.String(length=500), nullable=True),
        sa.Column("export_expires_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index(
        op.f("ix_privacy_requests_customer_id"), "privacy_requests", ["customer_id"], unique=False
    )
    op.create_index("ix_privacy_requests_status_due", "privacy_requests", ["status", "due_at"], unique=False)
    op.create_table(
        "privacy_tombstones",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_tombstones")),
        sa.UniqueConstraint("digest", "type", name="uq_privacy_tombstones_digest_type"),
    )
    op.create_table(
        "privacy_retention_rules",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=100), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_retention_rules")),
        sa.UniqueConstraint("kind", "target", name="uq_privacy_retention_rules_kind"),
    )
    op.create_table(
        "privacy_retention_runs",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("ran_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("counts", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_retention_runs")),
    )


def downgrade() -> None:
    op.drop_table("privacy_retention_runs")
    op.drop_table("privacy_retention_rules")
    op.drop_table("privacy_tombstones")
    op.drop_index("ix_privacy_requests_status_due", table_name="privacy_requests")
    op.drop_index(op.f("ix_privacy_requests_customer_id"), table_name="privacy_requests")
    op.drop_table("privacy_requests")
