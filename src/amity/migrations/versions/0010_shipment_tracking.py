"""commerce: shipments found by tracking number (carrier feeds)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_commerce_shipments_tracking_number", "commerce_shipments", ["tracking_number"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_commerce_shipments_tracking_number", table_name="commerce_shipments")
