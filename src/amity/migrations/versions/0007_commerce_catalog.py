"""commerce catalogue: products, variants, locations, inventory, reservations, reviews

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 19:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import amity.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_locations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_locations")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_locations_code")),
    )
    op.create_table(
        "catalog_products",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("name_key", sa.String(length=300), nullable=False),
        sa.Column("brand", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_products")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_products_code")),
    )
    op.create_index(op.f("ix_catalog_products_name_key"), "catalog_products", ["name_key"], unique=False)
    op.create_table(
        "catalog_reviews",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("fit", sa.String(length=10), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_catalog_reviews_product_id_catalog_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_reviews")),
    )
    op.create_index(op.f("ix_catalog_reviews_customer_id"), "catalog_reviews", ["customer_id"], unique=False)
    op.create_index(op.f("ix_catalog_reviews_product_id"), "catalog_reviews", ["product_id"], unique=False)
    op.create_table(
        "catalog_variants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("product_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("size", sa.String(length=32), nullable=True),
        sa.Column("colour", sa.String(length=64), nullable=True),
        sa.Column(
            "attributes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_products.id"],
            name=op.f("fk_catalog_variants_product_id_catalog_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_variants")),
        sa.UniqueConstraint("sku", name=op.f("uq_catalog_variants_sku")),
    )
    op.create_index(op.f("ix_catalog_variants_product_id"), "catalog_variants", ["product_id"], unique=False)
    op.create_table(
        "catalog_reservations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("variant_id", sa.String(length=32), nullable=False),
        sa.Column("location_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=True),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("expires_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["catalog_locations.id"],
            name=op.f("fk_catalog_reservations_location_id_catalog_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"],
            ["catalog_variants.id"],
            name=op.f("fk_catalog_reservations_variant_id_catalog_variants"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_reservations")),
    )
    op.create_index(
        op.f("ix_catalog_reservations_customer_id"), "catalog_reservations", ["customer_id"], unique=False
    )
    op.create_index(
        "ix_catalog_reservations_due", "catalog_reservations", ["status", "expires_at"], unique=False
    )
    op.create_index(
        op.f("ix_catalog_reservations_variant_id"), "catalog_reservations", ["variant_id"], unique=False
    )
    op.create_table(
        "catalog_stock",
        sa.Column("variant_id", sa.String(length=32), nullable=False),
        sa.Column("location_id", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_catalog_stock_quantity_not_negative")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_catalog_stock_reserved_not_negative")),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["catalog_locations.id"],
            name=op.f("fk_catalog_stock_location_id_catalog_locations"),
        ),
        sa.ForeignKeyConstraint(
            ["variant_id"], ["catalog_variants.id"], name=op.f("fk_catalog_stock_variant_id_catalog_variants")
        ),
        sa.PrimaryKeyConstraint("variant_id", "location_id", name=op.f("pk_catalog_stock")),
    )
    op.create_index(op.f("ix_catalog_stock_location_id"), "catalog_stock", ["location_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_catalog_stock_location_id"), table_name="catalog_stock")
    op.drop_table("catalog_stock")
    op.drop_index(op.f("ix_catalog_reservations_variant_id"), table_name="catalog_reservations")
    op.drop_index("ix_catalog_reservations_due", table_name="catalog_reservations")
    op.drop_index(op.f("ix_catalog_reservations_customer_id"), table_name="catalog_reservations")
    op.drop_table("catalog_reservations")
    op.drop_index(op.f("ix_catalog_variants_product_id"), table_name="catalog_variants")
    op.drop_table("catalog_variants")
    op.drop_index(op.f("ix_catalog_reviews_product_id"), table_name="catalog_reviews")
    op.drop_index(op.f("ix_catalog_reviews_customer_id"), table_name="catalog_reviews")
    op.drop_table("catalog_reviews")
    op.drop_index(op.f("ix_catalog_products_name_key"), table_name="catalog_products")
    op.drop_table("catalog_products")
    op.drop_table("catalog_locations")
