"""Every backend that takes due-day requests reports the one awaiting the provider
(DueDayOptions.pending) and refuses another for the contract, the same day or not (issue 17,
defect 10). Runs on every backend of the conformance suite; where the operations are missing the
check is that they say so."""

from __future__ import annotations

import pytest

from backend_client.errors import NotSupported, Rejected
from tests.backends.conftest import Case


async def test_a_pending_request_is_reported_and_not_repeated(case: Case) -> None:
    session = await case.backend.login(case.person.document, case.person.password)
    contract_id = (await case.backend.get_subscriber(session)).contracts[0].id
    if "get_due_day_options" in case.unsupported:
        with pytest.raises(NotSupported):
            await case.backend.get_due_day_options(session, contract_id)
        return
    options = await case.backend.get_due_day_options(session, contract_id)
    assert options.pending is None
    day, other = [d for d in options.available_days if d != options.current_day][:2]

    request = await case.backend.request_due_day_change(session, contract_id, day)
    pending = (await case.backend.get_due_day_options(session, contract_id)).pending
    assert pending is not None
    assert (pending.requested_day, pending.protocol) == (day, request.protocol)
    assert pending.current_day == options.current_day and pending.contract_id == contract_id

    for again in (day, other):
        with pytest.raises(Rejected) as refused:
            await case.backend.request_due_day_change(session, contract_id, again)
        assert request.protocol in refused.value.reason
    still = (await case.backend.get_due_day_options(session, contract_id)).pending
    assert still is not None and still.protocol == request.protocol
