"""``[policies]`` applied where the flows meet the provider's system: the backend the flows call
is wrapped, and each call reads the configuration in force (``ProviderConfigStore.current``), so
a new file counts from the next update without a flow knowing about it.

- ``due_days``: offered by Alterar Vencimento when the system gives no list of its own;
- ``ticket_subjects``: the subjects offered when opening a ticket, in the file's order ("Nome"
  picks the system's subject of that name; "id=Nome" gives the system's id itself), taking
  precedence over the system's list and ``BACKEND_TICKET_SUBJECTS``;
- ``enabling_days`` is given to the SGP and IXC adapters when they are built (they use it when
  the system does not say): it counts from the next start.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from backend_client.models import BackendSession, DueDayOptions, TicketSubject
from bot.provider.store import ProviderConfigStore

logger = logging.getLogger(__name__)


class ProviderPolicies:
    """``inner`` (the bot's guarded backend) with the provider's policies; everything else is
    ``inner``'s own (``lacks``, the other operations, attributes read or set…)."""

    __slots__ = ("_inner", "_store", "_unmatched")

    def __init__(self, inner: Any, store: ProviderConfigStore) -> None:
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_store", store)
        object.__setattr__(self, "_unmatched", set())  # names logged once each

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._inner, name, value)

    async def get_due_day_options(self, session: BackendSession, contract_id: str) -> DueDayOptions:
        options: DueDayOptions = await self._inner.get_due_day_options(session, contract_id)
        days = self._store.current.policies.due_days
        if options.available_days or not days:
            return options
        offered = tuple(day for day in days if day != options.current_day)
        return dataclasses.replace(options, available_days=offered)

    async def list_ticket_subjects(self, session: BackendSession) -> list[TicketSubject]:
        wanted = self._store.current.policies.ticket_subjects
        if not wanted:
            subjects: list[TicketSubject] = await self._inner.list_ticket_subjects(session)
            return subjects
        if all(subject_id is not None for subject_id, _ in wanted):
            return [TicketSubject(subject_id or "", name) for subject_id, name in wanted]
        system: list[TicketSubject] = await self._inner.list_ticket_subjects(session)
        by_name = {subject.name.casefold(): subject for subject in system}
        chosen: list[TicketSubject] = []
        for subject_id, name in wanted:
            if subject_id is not None:
                chosen.append(TicketSubject(subject_id, name))
            elif (found := by_name.get(name.casefold())) is not None:
                chosen.append(found)
            elif name not in self._unmatched:
                self._unmatched.add(name)
                logger.warning(
                    "[policies] ticket_subjects: the provider's system has no subject named %r; "
                    "left out (write 'id=Nome' to give its id)",
                    name,
                )
        return chosen or system
