"""tickets, outbox rows and chat turns of Telegram citizens carry the channel "telegram"

Earlier code took the sender id's prefix ("tg") as the channel, so the outbox never sent
the officers' replies to those citizens. Pending rows become deliverable.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TABLES = ("handoff_ticket", "outbox", "chat_turn")


def upgrade() -> None:
    for table in _TABLES:
        op.execute(f"UPDATE {table} SET channel = 'telegram' WHERE channel = 'tg'")  # noqa: S608


def downgrade() -> None:
    pass  # "tg" was never a valid channel: nothing to restore
