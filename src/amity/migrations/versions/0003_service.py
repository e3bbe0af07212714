"""service: teams, tiers, agent profiles, brands, calendars, macros, routing, SLA clocks, escalations, approvals

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import amity.db

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_brands",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("from_address", sa.String(length=320), nullable=True),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column(
            "colours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_brands")),
        sa.UniqueConstraint("name", name=op.f("uq_service_brands_name")),
    )
    op.create_table(
        "service_calendars",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "hours",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "holidays",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_calendars")),
        sa.UniqueConstraint("name", name=op.f("uq_service_calendars_name")),
    )
    op.create_table(
        "service_macros",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_macros")),
        sa.UniqueConstraint("name", name=op.f("uq_service_macros_name")),
    )
    op.create_table(
        "service_routing_rules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column(
            "conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "actions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("continue_after", sa.Boolean(), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_routing_rules")),
    )
    with op.batch_alter_table("service_routing_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_routing_rules_position"), ["position"], unique=False)

    op.create_table(
        "service_tiers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column(
            "limits",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("may_approve", sa.Boolean(), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_tiers")),
        sa.UniqueConstraint("level", name=op.f("uq_service_tiers_level")),
        sa.UniqueConstraint("name", name=op.f("uq_service_tiers_name")),
    )
    op.create_table(
        "service_agent_profiles",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("tier_id", sa.String(length=32), nullable=True),
        sa.Column(
            "skills",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("availability", sa.String(length=20), nullable=False),
        sa.Column("last_assigned_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tier_id"], ["service_tiers.id"], name=op.f("fk_service_agent_profiles_tier_id_service_tiers")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_service_agent_profiles_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_service_agent_profiles")),
    )
    with op.batch_alter_table("service_agent_profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_agent_profiles_tier_id"), ["tier_id"], unique=False)

    op.create_table(
        "service_sla_policies",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("calendar_id", sa.String(length=32), nullable=True),
        sa.Column(
            "conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "targets",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("pause_on_hold", sa.Boolean(), nullable=False),
        sa.Column("warn_before_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["service_calendars.id"],
            name=op.f("fk_service_sla_policies_calendar_id_service_calendars"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_sla_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_service_sla_policies_name")),
    )
    with op.batch_alter_table("service_sla_policies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_sla_policies_calendar_id"), ["calendar_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_sla_policies_position"), ["position"], unique=False)

    op.create_table(
        "service_teams",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tier_id", sa.String(length=32), nullable=True),
        sa.Column("strategy", sa.String(length=20), nullable=False),
        sa.Column("rr_last_user_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tier_id"], ["service_tiers.id"], name=op.f("fk_service_teams_tier_id_service_tiers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_teams")),
        sa.UniqueConstraint("name", name=op.f("uq_service_teams_name")),
    )
    with op.batch_alter_table("service_teams", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_teams_tier_id"), ["tier_id"], unique=False)

    op.create_table(
        "service_approvals",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column(
            "execution",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_service_approvals_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_service_approvals_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_approvals")),
    )
    with op.batch_alter_table("service_approvals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_approvals_conversation_id"), ["conversation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_approvals_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_service_approvals_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "service_escalations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("from_team_id", sa.String(length=32), nullable=True),
        sa.Column("to_team_id", sa.String(length=32), nullable=False),
        sa.Column("from_tier_id", sa.String(length=32), nullable=True),
        sa.Column("to_tier_id", sa.String(length=32), nullable=True),
        sa.Column("from_assignee_id", sa.String(length=32), nullable=True),
        sa.Column("to_assignee_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_service_escalations_conversation_id_conversations"),
        ),
        sa.ForeignKeyConstraint(
            ["to_team_id"], ["service_teams.id"], name=op.f("fk_service_escalations_to_team_id_service_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_escalations")),
    )
    with op.batch_alter_table("service_escalations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_escalations_conversation_id"), ["conversation_id"], unique=False
        )

    op.create_table(
        "service_sla_clocks",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("conversation_id", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=20), nullable=False),
        sa.Column("policy_id", sa.String(length=32), nullable=True),
        sa.Column("cycle", sa.String(length=64), nullable=False),
        sa.Column("elapsed_us", sa.BigInteger(), nullable=False),
        sa.Column("running_since", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("met_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("warned_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("breached_at", amity.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_service_sla_clocks_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_sla_clocks")),
        sa.UniqueConstraint("conversation_id", "target", name="uq_service_sla_clocks_target"),
    )
    with op.batch_alter_table("service_sla_clocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_sla_clocks_due_at"), ["due_at"], unique=False)

    op.create_table(
        "service_team_members",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", amity.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["service_teams.id"], name=op.f("fk_service_team_members_team_id_service_teams")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_service_team_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_service_team_members")),
    )
    with op.batch_alter_table("service_team_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_team_members_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_team_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_team_members_user_id"))

    op.drop_table("service_team_members")
    with op.batch_alter_table("service_sla_clocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_sla_clocks_due_at"))

    op.drop_table("service_sla_clocks")
    with op.batch_alter_table("service_escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_escalations_conversation_id"))

    op.drop_table("service_escalations")
    with op.batch_alter_table("service_approvals", schema=None) as batch_op:
        batch_op.drop_index("ix_service_approvals_status_created")
        batch_op.drop_index(batch_op.f("ix_service_approvals_customer_id"))
        batch_op.drop_index(batch_op.f("ix_service_approvals_conversation_id"))

    op.drop_table("service_approvals")
    with op.batch_alter_table("service_teams", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_teams_tier_id"))

    op.drop_table("service_teams")
    with op.batch_alter_table("service_sla_policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_sla_policies_position"))
        batch_op.drop_index(batch_op.f("ix_service_sla_policies_calendar_id"))

    op.drop_table("service_sla_policies")
    with op.batch_alter_table("service_agent_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_agent_profiles_tier_id"))

    op.drop_table("service_agent_profiles")
    op.drop_table("service_tiers")
    with op.batch_alter_table("service_routing_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_routing_rules_position"))

    op.drop_table("service_routing_rules")
    op.drop_table("service_macros")
    op.drop_table("service_calendars")
    op.drop_table("service_brands")
