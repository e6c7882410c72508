"""The sandbox's records: phone lines and call records, connection (PPPoE) sessions."""

from __future__ import annotations

from sqlalchemy import select

from backend_client.errors import (
    NotFound,
)
from backend_client.models import (
    BackendSession,
    CallRecord,
    ConnectionSession,
    DateRange,
    PhoneLine,
    TerminalType,
)
from backend_client.sandbox import billing
from backend_client.sandbox.core import (
    SandboxCore,
    instant_bounds,
    operation,
)
from backend_client.sandbox.db import (
    CallRecordRow,
    ConnectionSessionRow,
    ContractRow,
    PhoneLineRow,
    TerminalTypeRow,
)


class RecordsMixin(SandboxCore):
    """Phone lines with their call records, and connection sessions."""

    # --- call records ---------------------------------------------------------------------------
    @operation
    async def list_phone_lines(self, session: BackendSession) -> list[PhoneLine]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            rows = await db.scalars(
                select(PhoneLineRow)
                .join(ContractRow, ContractRow.id == PhoneLineRow.contract_id)
                .where(ContractRow.subscriber_id == subscriber.id)
                .order_by(PhoneLineRow.id)
            )
            return [PhoneLine(id=r.id, contract_id=r.contract_id, number=r.number) for r in rows]

    @operation
    async def list_terminal_types(self, session: BackendSession) -> list[TerminalType]:
        async with self._reading() as db:
            await self._subscriber(db, session)
            rows = await db.scalars(select(TerminalTypeRow).order_by(TerminalTypeRow.position))
            return [TerminalType(id=row.id, name=row.name) for row in rows]

    @operation
    async def list_call_records(
        self,
        session: BackendSession,
        line_id: str,
        period: DateRange,
        terminal_type_id: str | None = None,
    ) -> list[CallRecord]:
        start, end = instant_bounds(period)
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            await self._line_row(db, subscriber.id, line_id)
            query = (
                select(CallRecordRow)
                .where(
                    CallRecordRow.line_id == line_id,
                    CallRecordRow.started_at >= start,
                    CallRecordRow.started_at < end,
                )
                .order_by(CallRecordRow.started_at, CallRecordRow.id)
            )
            if terminal_type_id is not None:
                if await db.get(TerminalTypeRow, terminal_type_id) is None:
                    raise NotFound(f"terminal type {terminal_type_id}")
                query = query.where(CallRecordRow.terminal_type_id == terminal_type_id)
            rows = await db.scalars(query)
            return [
                CallRecord(
                    id=row.id,
                    line_id=row.line_id,
                    terminal_type_id=row.terminal_type_id,
                    started_at=row.started_at,
                    called_number=row.called_number,
                    duration_seconds=row.duration_seconds,
                    cost=billing.cents_to_decimal(row.cost_cents),
                )
                for row in rows
            ]

    # --- connection records ---------------------------------------------------------------------
    @operation
    async def list_connection_sessions(
        self, session: BackendSession, login_id: str, period: DateRange
    ) -> list[ConnectionSession]:
        start, end = instant_bounds(period)
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            login = await self._login_row(db, subscriber.id, login_id)
            rows = await db.scalars(
                select(ConnectionSessionRow)
                .where(
                    ConnectionSessionRow.login_id == login_id,
                    ConnectionSessionRow.started_at >= start,
                    ConnectionSessionRow.started_at < end,
                )
                .order_by(ConnectionSessionRow.started_at, ConnectionSessionRow.id)
            )
            return [
                ConnectionSession(
                    id=row.id,
                    login=login.login,
                    started_at=row.started_at,
                    ended_at=row.ended_at,
                    ip_address=row.ip_address,
                    download_bytes=row.download_bytes,
                    upload_bytes=row.upload_bytes,
                    termination_cause=row.termination_cause,
                )
                for row in rows
            ]
