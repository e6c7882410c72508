"""The sandbox's accounts: login and sessions, password change, the subscriber with contracts and
logins, and temporary enabling (3 days, once per 30 days)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from backend_client.errors import (
    InvalidCredentials,
    Rejected,
)
from backend_client.formats.documents import strip_document
from backend_client.models import (
    AccessLogin,
    BackendSession,
    Contract,
    ContractStatus,
    Subscriber,
    TemporaryEnabling,
    TemporaryEnablingPolicy,
)
from backend_client.sandbox import convert
from backend_client.sandbox.core import (
    ENABLING_DAYS,
    ENABLING_INTERVAL_DAYS,
    SandboxCore,
    day_text,
    operation,
)
from backend_client.sandbox.db import (
    AccessLoginRow,
    AuthSessionRow,
    ConnectionSessionRow,
    ContractRow,
    PlanRow,
    SubscriberRow,
    TemporaryEnablingRow,
)
from backend_client.sandbox.inline import Db
from backend_client.sandbox.security import (
    dummy_hash,
    hash_password,
    needs_rehash,
    new_token,
    password_problem,
    token_hash,
    verify_password,
)


class AccountsMixin(SandboxCore):
    """Login, sessions and password; the subscriber's account; temporary enabling."""

    # --- authentication -------------------------------------------------------------------------
    @operation
    async def login(self, document: str, password: str) -> BackendSession:
        document = strip_document(document)
        async with self._reading() as db:
            row = await db.scalar(select(SubscriberRow).where(SubscriberRow.document == document))
        stored = row.password_hash if row is not None else await asyncio.to_thread(dummy_hash)
        matches = await asyncio.to_thread(verify_password, password, stored)
        if row is None or not matches:
            raise InvalidCredentials()
        token = new_token()
        if needs_rehash(row.password_hash):  # a database seeded with older parameters
            new_hash = await asyncio.to_thread(hash_password, password)
            async with self._transaction() as db:
                await db.execute(
                    update(SubscriberRow)
                    .where(SubscriberRow.id == row.id)
                    .values(password_hash=new_hash)
                )
        await self._record_session(
            {"token_hash": token_hash(token), "subscriber_id": row.id, "created_at": self._now()}
        )
        self._remember_session(token_hash(token), row.id)
        return BackendSession(
            subscriber_id=row.id, document=row.document, name=row.name, token=token
        )

    async def _record_session(self, values: dict[str, Any]) -> None:
        """Write a new session, with those of the logins waiting meanwhile (group commit): one
        transaction each would make a burst of logins queue for the single writer."""
        self._unwritten_logins.append(values)
        if self._logins_written is None:
            self._logins_written = asyncio.ensure_future(self._write_new_sessions())
        await asyncio.shield(self._logins_written)

    async def _write_new_sessions(self) -> None:
        taken = False
        try:
            async with self._transaction() as db:
                # Taken once this writer's turn has come: logins meanwhile joined the batch.
                batch, self._unwritten_logins = self._unwritten_logins, []
                self._logins_written = None
                taken = True
                await db.execute(insert(AuthSessionRow), batch)
        except BaseException:
            if not taken:  # these logins fail (the error reaches each); the next ones retry
                self._unwritten_logins, self._logins_written = [], None
            raise

    @operation
    async def logout(self, session: BackendSession) -> None:
        """Forget the session; logging out twice is harmless."""
        key = token_hash(session.token)
        self._session_owners.pop(key, None)
        async with self._transaction() as db:
            await db.execute(delete(AuthSessionRow).where(AuthSessionRow.token_hash == key))

    def feed_reference(self, session: BackendSession) -> str:
        return session.subscriber_id  # the sandbox's feed lists everybody

    @operation
    async def change_password(
        self, session: BackendSession, current_password: str, new_password: str
    ) -> None:
        """The cheap policy check comes first, so a weak password costs no scrypt run."""
        problem = password_problem(current_password, new_password)
        if problem is not None:
            raise Rejected(problem)
        async with self._reading() as db:
            stored = (await self._subscriber(db, session)).password_hash
        if not await asyncio.to_thread(verify_password, current_password, stored):
            raise InvalidCredentials()
        new_hash = await asyncio.to_thread(hash_password, new_password)
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            subscriber.password_hash = new_hash
            # Every other session ends: whoever knew the old password is logged out.
            self._forget_sessions(subscriber.id, keep=token_hash(session.token))
            await db.execute(
                delete(AuthSessionRow).where(
                    AuthSessionRow.subscriber_id == subscriber.id,
                    AuthSessionRow.token_hash != token_hash(session.token),
                )
            )

    # --- account --------------------------------------------------------------------------------
    @operation
    async def get_subscriber(self, session: BackendSession) -> Subscriber:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            contract_rows = (
                await db.execute(
                    select(ContractRow, PlanRow)
                    .join(PlanRow, PlanRow.id == ContractRow.plan_id)
                    .where(ContractRow.subscriber_id == subscriber.id)
                    .order_by(ContractRow.started_on, ContractRow.id)
                )
            ).all()
            logins = await self._logins_by_contract(db, [c.id for c, _ in contract_rows])
        today = self._today()
        contracts = []
        for contract, plan in contract_rows:
            status, until = convert.effective_status(contract, today)
            contracts.append(
                Contract(
                    id=contract.id,
                    number=contract.number,
                    plan=convert.plan(plan),
                    status=status,
                    address=convert.address(contract),
                    due_day=contract.due_day,
                    started_on=contract.started_on,
                    logins=logins.get(contract.id, ()),
                    temporarily_enabled_until=until,
                )
            )
        return Subscriber(
            id=subscriber.id,
            name=subscriber.name,
            document=subscriber.document,
            email=subscriber.email,
            phones=tuple(p for p in subscriber.phones.split(",") if p),
            address=convert.address(subscriber),
            contracts=tuple(contracts),
        )

    @staticmethod
    async def _logins_by_contract(
        db: Db, contract_ids: list[str]
    ) -> dict[str, tuple[AccessLogin, ...]]:
        rows = (
            await db.scalars(
                select(AccessLoginRow)
                .where(AccessLoginRow.contract_id.in_(contract_ids))
                .order_by(AccessLoginRow.id)
            )
        ).all()
        online = set(
            await db.scalars(
                select(ConnectionSessionRow.login_id).where(
                    ConnectionSessionRow.login_id.in_([r.id for r in rows]),
                    ConnectionSessionRow.ended_at.is_(None),
                )
            )
        )
        result: dict[str, tuple[AccessLogin, ...]] = {}
        for row in rows:
            login = AccessLogin(
                id=row.id,
                contract_id=row.contract_id,
                login=row.login,
                ip_address=row.ip_address,
                kind=row.kind,
                online=row.id in online,
            )
            result[row.contract_id] = (*result.get(row.contract_id, ()), login)
        return result

    # --- temporary enabling ---------------------------------------------------------------------
    async def _enabling_policy(self, db: Db, contract: ContractRow) -> TemporaryEnablingPolicy:
        today = self._today()
        last_used = await db.scalar(
            select(func.max(TemporaryEnablingRow.used_on)).where(
                TemporaryEnablingRow.contract_id == contract.id
            )
        )
        status, until = convert.effective_status(contract, today)
        reason: str | None = None
        if status is ContractStatus.TEMPORARILY_ENABLED and until is not None:
            reason = f"A habilitação provisória deste contrato já vale até {day_text(until)}."
        elif status is not ContractStatus.SUSPENDED:
            reason = "Este contrato não está suspenso."
        elif last_used is not None and (today - last_used).days < ENABLING_INTERVAL_DAYS:
            again = last_used + timedelta(days=ENABLING_INTERVAL_DAYS)
            reason = (
                f"A habilitação provisória foi usada em {day_text(last_used)} e só pode ser "
                f"pedida uma vez a cada {ENABLING_INTERVAL_DAYS} dias. Você poderá pedir de novo "
                f"a partir de {day_text(again)}."
            )
        return TemporaryEnablingPolicy(
            days=ENABLING_DAYS,
            interval_days=ENABLING_INTERVAL_DAYS,
            eligible=reason is None,
            reason=reason,
            last_used_on=last_used,
        )

    @operation
    async def get_temporary_enabling_policy(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnablingPolicy:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            contract = await self._contract_row(db, subscriber.id, contract_id)
            return await self._enabling_policy(db, contract)

    @operation
    async def request_temporary_enabling(
        self, session: BackendSession, contract_id: str
    ) -> TemporaryEnabling:
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            contract = await self._contract_row(db, subscriber.id, contract_id)
            policy = await self._enabling_policy(db, contract)
            if not policy.eligible:
                raise Rejected(policy.reason or "Este contrato não pode ser habilitado agora.")
            today = self._today()
            until = today + timedelta(days=ENABLING_DAYS)
            protocol = await self._next_protocol(db)
            contract.status = ContractStatus.TEMPORARILY_ENABLED.value
            contract.temporarily_enabled_until = until
            db.add(
                TemporaryEnablingRow(
                    contract_id=contract.id, used_on=today, enabled_until=until, protocol=protocol
                )
            )
            await self._reconnect(db, contract.id)
        return TemporaryEnabling(contract_id=contract_id, enabled_until=until, protocol=protocol)
