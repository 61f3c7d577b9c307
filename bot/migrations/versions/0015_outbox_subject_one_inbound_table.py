"""the outbox knows no tickets; one table of inbound events for every channel

``outbox.ticket_id`` (a foreign key to handoff_ticket) becomes ``subject_id``, a plain
number the producer's hooks read. Telegram's handled updates move from
``processed_update`` into ``inbound_event``, where Zalo's events already are.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def _pending_chat_index() -> None:
    """0013's index, made again after SQLite rebuilt the table."""
    op.create_index(
        "ix_outbox_pending_chat",
        "outbox",
        ["channel", "destination", "id"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )


def upgrade() -> None:
    # SQLite rebuilds the table to drop the key: the partial index is made again after
    op.drop_index("ix_outbox_pending_chat", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_ticket_id")
        batch.drop_constraint("fk_outbox_ticket_id_handoff_ticket", type_="foreignkey")
        batch.alter_column("ticket_id", new_column_name="subject_id", existing_type=sa.Integer())
    op.create_index("ix_outbox_subject_id", "outbox", ["subject_id"])
    _pending_chat_index()
    op.execute(
        "INSERT INTO inbound_event (source, event_id, payload, status, attempts, created_at) "
        "SELECT p.source, p.update_id, '{}', 'done', 0, p.created_at FROM processed_update p "
        "WHERE NOT EXISTS (SELECT 1 FROM inbound_event e "
        "WHERE e.source = p.source AND e.event_id = p.update_id)"
    )
    op.drop_table("processed_update")


def downgrade() -> None:
    op.create_table(
        "processed_update",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "update_id", name=op.f("pk_processed_update")),
    )
    op.execute(
        "INSERT INTO processed_update (source, update_id, created_at) "
        "SELECT source, event_id, created_at FROM inbound_event WHERE source = 'telegram'"
    )
    op.execute("DELETE FROM inbound_event WHERE source = 'telegram'")
    op.drop_index("ix_outbox_pending_chat", table_name="outbox")
    op.drop_index("ix_outbox_subject_id", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("subject_id", new_column_name="ticket_id", existing_type=sa.Integer())
    with op.batch_alter_table("outbox") as batch:
        batch.create_foreign_key(
            "fk_outbox_ticket_id_handoff_ticket", "handoff_ticket", ["ticket_id"], ["id"]
        )
    op.create_index("ix_outbox_ticket_id", "outbox", ["ticket_id"])
    _pending_chat_index()
