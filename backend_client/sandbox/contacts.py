"""The sandbox's contacts (e-mails, phones) and the chats linked to them for notifications."""

from __future__ import annotations

from sqlalchemy import delete, select

from backend_client.errors import (
    NotFound,
    Rejected,
)
from backend_client.models import (
    BackendSession,
    Contact,
    ContactType,
    NewContact,
)
from backend_client.sandbox import convert
from backend_client.sandbox.core import (
    SandboxCore,
    new_id,
    operation,
)
from backend_client.sandbox.db import (
    ContactDeviceRow,
    ContactRow,
    ContactTypeRow,
)


class ContactsMixin(SandboxCore):
    """Contacts, their types and the devices linked to them."""

    # --- contacts -------------------------------------------------------------------------------
    @operation
    async def list_contacts(self, session: BackendSession) -> list[Contact]:
        async with self._reading() as db:
            subscriber = await self._subscriber(db, session)
            rows = (
                await db.execute(
                    select(ContactRow, ContactTypeRow)
                    .join(ContactTypeRow, ContactTypeRow.id == ContactRow.type_id)
                    .where(ContactRow.subscriber_id == subscriber.id)
                    .order_by(ContactRow.created_at, ContactRow.id)
                )
            ).all()
        return [convert.contact(contact, contact_type) for contact, contact_type in rows]

    @operation
    async def list_contact_types(self, session: BackendSession) -> list[ContactType]:
        async with self._reading() as db:
            await self._subscriber(db, session)
            rows = await db.scalars(select(ContactTypeRow).order_by(ContactTypeRow.position))
            return [ContactType(id=row.id, name=row.name) for row in rows]

    @operation
    async def add_contact(self, session: BackendSession, contact: NewContact) -> Contact:
        name = " ".join(contact.name.split())
        if not name:
            raise Rejected("Informe o nome completo do contato.")
        if not contact.mobile.strip():
            raise Rejected("Informe o celular do contato.")
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            contact_type = await db.get(ContactTypeRow, contact.type_id)
            if contact_type is None:
                raise NotFound(f"contact type {contact.type_id}")
            row = ContactRow(
                id=new_id("ct"),
                subscriber_id=subscriber.id,
                name=name,
                type_id=contact_type.id,
                mobile=contact.mobile.strip(),
                landline=(contact.landline or "").strip() or None,
                email=(contact.email or "").strip() or None,
                sms_opt_in=contact.sms_opt_in,
                created_at=self._now(),
            )
            db.add(row)
        return convert.contact(row, contact_type)

    @operation
    async def link_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            await self._contact_row(db, subscriber.id, contact_id)
            if await db.get(ContactDeviceRow, (contact_id, device_id)) is None:
                db.add(
                    ContactDeviceRow(
                        contact_id=contact_id, device_id=device_id, linked_at=self._now()
                    )
                )

    @operation
    async def unlink_contact_device(
        self, session: BackendSession, contact_id: str, device_id: str
    ) -> None:
        async with self._transaction() as db:
            subscriber = await self._subscriber(db, session)
            await self._contact_row(db, subscriber.id, contact_id)
            await db.execute(
                delete(ContactDeviceRow).where(
                    ContactDeviceRow.contact_id == contact_id,
                    ContactDeviceRow.device_id == device_id,
                )
            )

    async def contact_devices(self, contact_id: str) -> list[str]:
        """Devices linked to a contact (sandbox inspection helper, not part of the protocol)."""
        async with self._reading() as db:
            rows = await db.scalars(
                select(ContactDeviceRow.device_id)
                .where(ContactDeviceRow.contact_id == contact_id)
                .order_by(ContactDeviceRow.device_id)
            )
            return list(rows)
