"""Area outages declared by the provider's staff, in the bot's database: one row per outage (its
city, neighbourhood — none means the whole city — description, forecast, who declared it and
when it ended). Active = not ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.db import Base, UTCDateTime, session_factory


class AreaOutageRow(Base):
    __tablename__ = "area_outages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    city: Mapped[str] = mapped_column(String(128))
    neighbourhood: Mapped[str | None] = mapped_column(String(128), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    forecast: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True, slots=True)
class DeclaredOutage:
    id: int
    city: str
    neighbourhood: str | None
    description: str
    forecast: datetime | None
    created_at: datetime
    ended_at: datetime | None
    created_by: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "city": self.city,
            "neighbourhood": self.neighbourhood,
            "description": self.description,
            "forecast": self.forecast.isoformat() if self.forecast else None,
            "created_at": self.created_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "created_by": self.created_by,
            "active": self.ended_at is None,
        }


def _outage(row: AreaOutageRow) -> DeclaredOutage:
    return DeclaredOutage(
        row.id, row.city, row.neighbourhood, row.description, row.forecast, row.created_at,
        row.ended_at, row.created_by,
    )  # fmt: skip


class OutageStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def declare(
        self,
        *,
        city: str,
        neighbourhood: str | None,
        description: str,
        forecast: datetime | None,
        created_by: str,
        now: datetime,
    ) -> DeclaredOutage:
        async with self._sessions.begin() as session:
            row = AreaOutageRow(
                city=city.strip(), neighbourhood=(neighbourhood or "").strip() or None,
                description=description.strip(), forecast=forecast, created_at=now,
                ended_at=None, created_by=created_by[:64],
            )  # fmt: skip
            session.add(row)
            await session.flush()
            return _outage(row)

    async def active(self) -> list[DeclaredOutage]:
        query = select(AreaOutageRow).where(AreaOutageRow.ended_at.is_(None))
        async with self._sessions() as session:
            return [_outage(r) for r in await session.scalars(query.order_by(AreaOutageRow.id))]

    async def listing(self, limit: int = 100) -> list[DeclaredOutage]:
        query = select(AreaOutageRow).order_by(AreaOutageRow.id.desc()).limit(limit)
        async with self._sessions() as session:
            return [_outage(r) for r in await session.scalars(query)]

    async def get(self, outage_id: int) -> DeclaredOutage | None:
        async with self._sessions() as session:
            row = await session.get(AreaOutageRow, outage_id)
            return _outage(row) if row else None

    async def end(self, outage_id: int, now: datetime) -> DeclaredOutage | None:
        """End an active outage; None when there is no such outage or it had already ended."""
        async with self._sessions.begin() as session:
            row = await session.get(AreaOutageRow, outage_id, with_for_update=True)
            if row is None or row.ended_at is not None:
                return None
            row.ended_at = now
            await session.flush()
            return _outage(row)
