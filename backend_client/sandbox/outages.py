"""The sandbox's area outages (issue 22): what its ``area_outages`` table lists, not ended."""

from __future__ import annotations

from sqlalchemy import select

from backend_client.models import AreaOutage, BackendSession
from backend_client.sandbox.core import SandboxCore, operation
from backend_client.sandbox.db import AreaOutageRow


class OutagesMixin(SandboxCore):
    @operation
    async def list_outages(self, session: BackendSession) -> list[AreaOutage]:
        async with self._reading() as db:
            await self._subscriber(db, session)  # a valid session only
            query = select(AreaOutageRow).where(AreaOutageRow.ended_at.is_(None))
            rows = (await db.scalars(query.order_by(AreaOutageRow.id))).all()
        return [
            AreaOutage(row.id, row.city, row.neighbourhood, row.description, row.forecast)
            for row in rows
        ]
