"""Tables of the commune directory."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base


class Commune(Base):
    """A commune-level unit since 1/7/2025 (xã, phường or đặc khu)."""

    __tablename__ = "commune"
    __table_args__ = (UniqueConstraint("province", "unit_type", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    unit_type: Mapped[str] = mapped_column(String(16))
    province: Mapped[str] = mapped_column(String(80))
    # The commune police's Telegram group for handoff alerts (None: officers' own chats).
    officer_chat_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    former_units: Mapped[list[FormerUnitRow]] = relationship(back_populates="commune")

    @property
    def label(self) -> str:
        """The commune as people say it: "xã Xốp"."""
        return f"{self.unit_type} {self.name}"


class FormerUnitRow(Base):
    """A unit as it was before 1/7/2025, and the commune it became part of."""

    __tablename__ = "former_unit"
    __table_args__ = (UniqueConstraint("district", "unit_type", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    unit_type: Mapped[str] = mapped_column(String(16))
    district: Mapped[str] = mapped_column(String(80))
    province: Mapped[str] = mapped_column(String(80))
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"))
    commune: Mapped[Commune] = relationship(back_populates="former_units")
