"""commerce orders: orders, payments, shipments, returns, subscriptions, devices, loyalty, coupons

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import amity.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commerce_loyalty_programmes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_loyalty_programmes")),
        sa.UniqueConstraint("name", name=op.f("uq_commerce_loyalty_programmes_name")),
    )
    op.create_table(
        "commerce_appointments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("scheduled_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("engineer", sa.String(length=200), nullable=True),
        sa.Column(
            "address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_appointments_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_appointments")),
        sa.UniqueConstraint("external_id", name=op.f("uq_commerce_appointments_external_id")),
    )
    op.create_index(
        op.f("ix_commerce_appointments_customer_id"), "commerce_appointments", ["customer_id"], unique=False
    )
    op.create_table(
        "commerce_coupons",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("expires_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("goodwill", sa.Boolean(), nullable=False),
        sa.Column("redeemed_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("redeemed_order_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_coupons_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_commerce_coupons_code")),
    )
    op.create_index(
        op.f("ix_commerce_coupons_customer_id"), "commerce_coupons", ["customer_id"], unique=False
    )
    op.create_table(
        "commerce_credits",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approval_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_credits_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_credits")),
    )
    op.create_index(
        op.f("ix_commerce_credits_customer_id"), "commerce_credits", ["customer_id"], unique=False
    )
    op.create_table(
        "commerce_devices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("serial", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("last_seen_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_devices_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_devices")),
        sa.UniqueConstraint("serial", name=op.f("uq_commerce_devices_serial")),
    )
    op.create_index(
        op.f("ix_commerce_devices_customer_id"), "commerce_devices", ["customer_id"], unique=False
    )
    op.create_table(
        "commerce_loyalty_tiers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column(
            "benefits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["commerce_loyalty_programmes.id"],
            name=op.f("fk_commerce_loyalty_tiers_programme_id_commerce_loyalty_programmes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_loyalty_tiers")),
        sa.UniqueConstraint("programme_id", "name", name="uq_commerce_loyalty_tiers_name"),
    )
    op.create_index(
        op.f("ix_commerce_loyalty_tiers_programme_id"),
        "commerce_loyalty_tiers",
        ["programme_id"],
        unique=False,
    )
    op.create_table(
        "commerce_orders",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("service_level", sa.String(length=20), nullable=False),
        sa.Column(
            "shipping_address",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("coupon_code", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("replaces_order_id", sa.String(length=32), nullable=True),
        sa.Column("placed_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_orders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_orders")),
        sa.UniqueConstraint("external_id", name=op.f("uq_commerce_orders_external_id")),
    )
    op.create_index(
        op.f("ix_commerce_orders_conversation_id"), "commerce_orders", ["conversation_id"], unique=False
    )
    op.create_index(op.f("ix_commerce_orders_customer_id"), "commerce_orders", ["customer_id"], unique=False)
    op.create_index(
        "ix_commerce_orders_customer_placed", "commerce_orders", ["customer_id", "placed_at"], unique=False
    )
    op.create_table(
        "commerce_subscriptions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("plan", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("renews_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("started_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_subscriptions_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_subscriptions")),
        sa.UniqueConstraint("external_id", name=op.f("uq_commerce_subscriptions_external_id")),
    )
    op.create_index(
        op.f("ix_commerce_subscriptions_customer_id"), "commerce_subscriptions", ["customer_id"], unique=False
    )
    op.create_table(
        "commerce_memberships",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("programme_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("tier_id", sa.String(length=32), nullable=True),
        sa.Column("number", sa.String(length=64), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("joined_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_memberships_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"],
            ["commerce_loyalty_programmes.id"],
            name=op.f("fk_commerce_memberships_programme_id_commerce_loyalty_programmes"),
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["commerce_loyalty_tiers.id"],
            name=op.f("fk_commerce_memberships_tier_id_commerce_loyalty_tiers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_memberships")),
        sa.UniqueConstraint("programme_id", "customer_id", name="uq_commerce_memberships_customer"),
    )
    op.create_index(
        op.f("ix_commerce_memberships_customer_id"), "commerce_memberships", ["customer_id"], unique=False
    )
    op.create_index(
        op.f("ix_commerce_memberships_programme_id"), "commerce_memberships", ["programme_id"], unique=False
    )
    op.create_table(
        "commerce_order_lines",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["commerce_orders.id"],
            name=op.f("fk_commerce_order_lines_order_id_commerce_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_order_lines")),
    )
    op.create_index(
        op.f("ix_commerce_order_lines_order_id"), "commerce_order_lines", ["order_id"], unique=False
    )
    op.create_index(op.f("ix_commerce_order_lines_sku"), "commerce_order_lines", ["sku"], unique=False)
    op.create_table(
        "commerce_payments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("paid_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_payments_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["commerce_orders.id"], name=op.f("fk_commerce_payments_order_id_commerce_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_payments")),
        sa.UniqueConstraint("external_id", name=op.f("uq_commerce_payments_external_id")),
    )
    op.create_index(
        op.f("ix_commerce_payments_customer_id"), "commerce_payments", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_commerce_payments_order_id"), "commerce_payments", ["order_id"], unique=False)
    op.create_table(
        "commerce_refunds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approval_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_refunds_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["commerce_orders.id"], name=op.f("fk_commerce_refunds_order_id_commerce_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_refunds")),
    )
    op.create_index(
        op.f("ix_commerce_refunds_customer_id"), "commerce_refunds", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_commerce_refunds_order_id"), "commerce_refunds", ["order_id"], unique=False)
    op.create_table(
        "commerce_returns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column(
            "lines",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_returns_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["commerce_orders.id"], name=op.f("fk_commerce_returns_order_id_commerce_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_returns")),
    )
    op.create_index(
        op.f("ix_commerce_returns_customer_id"), "commerce_returns", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_commerce_returns_order_id"), "commerce_returns", ["order_id"], unique=False)
    op.create_table(
        "commerce_shipments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("carrier", sa.String(length=100), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=True),
        sa.Column("tracking_url", sa.String(length=2000), nullable=True),
        sa.Column("service_level", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column(
            "history",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("dispatched_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_commerce_shipments_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["commerce_orders.id"], name=op.f("fk_commerce_shipments_order_id_commerce_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commerce_shipments")),
    )
    op.create_index(
        op.f("ix_commerce_shipments_customer_id"), "commerce_shipments", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_commerce_shipments_order_id"), "commerce_shipments", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_commerce_shipments_order_id"), table_name="commerce_shipments")
    op.drop_index(op.f("ix_commerce_shipments_customer_id"), table_name="commerce_shipments")
    op.drop_table("commerce_shipments")
    op.drop_index(op.f("ix_commerce_returns_order_id"), table_name="commerce_returns")
    op.drop_index(op.f("ix_commerce_returns_customer_id"), table_name="commerce_returns")
    op.drop_table("commerce_returns")
    op.drop_index(op.f("ix_commerce_refunds_order_id"), table_name="commerce_refunds")
    op.drop_index(op.f("ix_commerce_refunds_customer_id"), table_name="commerce_refunds")
    op.drop_table("commerce_refunds")
    op.drop_index(op.f("ix_commerce_payments_order_id"), table_name="commerce_payments")
    op.drop_index(op.f("ix_commerce_payments_customer_id"), table_name="commerce_payments")
    op.drop_table("commerce_payments")
    op.drop_index(op.f("ix_commerce_order_lines_sku"), table_name="commerce_order_lines")
    op.drop_index(op.f("ix_commerce_order_lines_order_id"), table_name="commerce_order_lines")
    op.drop_table("commerce_order_lines")
    op.drop_index(op.f("ix_commerce_memberships_programme_id"), table_name="commerce_memberships")
    op.drop_index(op.f("ix_commerce_memberships_customer_id"), table_name="commerce_memberships")
    op.drop_table("commerce_memberships")
    op.drop_index(op.f("ix_commerce_subscriptions_customer_id"), table_name="commerce_subscriptions")
    op.drop_table("commerce_subscriptions")
    op.drop_index("ix_commerce_orders_customer_placed", table_name="commerce_orders")
    op.drop_index(op.f("ix_commerce_orders_customer_id"), table_name="commerce_orders")
    op.drop_index(op.f("ix_commerce_orders_conversation_id"), table_name="commerce_orders")
    op.drop_table("commerce_orders")
    op.drop_index(op.f("ix_commerce_loyalty_tiers_programme_id"), table_name="commerce_loyalty_tiers")
    op.drop_table("commerce_loyalty_tiers")
    op.drop_index(op.f("ix_commerce_devices_customer_id"), table_name="commerce_devices")
    op.drop_table("commerce_devices")
    op.drop_index(op.f("ix_commerce_credits_customer_id"), table_name="commerce_credits")
    op.drop_table("commerce_credits")
    op.drop_index(op.f("ix_commerce_coupons_customer_id"), table_name="commerce_coupons")
    op.drop_table("commerce_coupons")
    op.drop_index(op.f("ix_commerce_appointments_customer_id"), table_name="commerce_appointments")
    op.drop_table("commerce_appointments")
    op.drop_table("commerce_loyalty_programmes")
