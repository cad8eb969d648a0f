"""staff users: counsellors, supervisors, admins, reviewers

Revision ID: 0002_staff
Revises: 0001_core
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_staff"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("roles", sa.String(length=128), nullable=False),
        sa.Column("languages", sa.String(length=64), nullable=False),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )


def downgrade() -> None:
    op.drop_table("staff_users")
