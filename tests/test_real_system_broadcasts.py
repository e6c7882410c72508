"""Issue 19, done: on real systems (the IXC and SGP stand-ins, and our HTTP contract served by the
sandbox) an operator targets a broadcast by city, plan, contract status or overdue invoice, over
the chats the bot keeps linked — the audience is computed from the provider's system, its count
is shown before sending, and only the chats in it receive the message."""

from __future__ import annotations

from bot.broadcasts.audience import Audience
from bot.broadcasts.service import BroadcastService, Draft
from tests.support.bot_env import SUSPENDED
from tests.test_real_system_notifications import (  # noqa: F401
    System,
    link_then_log_out,
    received,
    system,
)

# Maria (PERSON): active, in Campinas, on the 300 Mega plan, with an overdue invoice.
# João (SUSPENDED): suspended for non-payment, in Sumaré. On the SGP stand-in both are on the
# same plan (id 301), elsewhere João is on the 500 Mega plan.


async def test_an_operator_targets_city_plan_status_and_overdue(system: System) -> None:  # noqa: F811
    env = system.env
    maria = await link_then_log_out(system)
    joao = await link_then_log_out(system, SUSPENDED, 555002)
    service: BroadcastService = env.app.bot_data["broadcasts"]
    plan_300 = "FIBRA 300 MEGA" if system.name == "ixc" else "Fibra 300 Mega"
    segments = [
        (Audience(places=(("Sumaré", None),)), {joao}),
        (Audience(places=(("campinas", None),)), {maria}),  # case and accents ignored
        (Audience(statuses=("suspended",)), {joao}),
        (Audience(statuses=("active",)), {maria}),
        (Audience(statuses=("overdue",)), {maria, joao}),
        (Audience(plans=(plan_300,)), {maria, joao} if system.name == "sgp" else {maria}),
    ]
    for audience, chats in segments:
        checked = await service.check_audience(audience)
        recipients = await service.recipients(checked)
        assert recipients is not None, audience
        assert {chat_id for chat_id, _ in recipients} == chats, (system.name, audience)
        assert await service.count(checked) == len(chats), audience
    assert await service.count(Audience(everyone=True)) == 2

    broadcast = await service.create(
        Draft(
            "Manutenção programada em Sumaré amanhã às 2h.", Audience(places=(("Sumaré", None),))
        ),
        created_by="test",
    )
    await service.run(broadcast.id)
    assert received(env, joao)[-1] == "Manutenção programada em Sumaré amanhã às 2h."
    assert not any("Manutenção" in text for text in received(env, maria))
    report = await service.report(broadcast.id)
    assert report is not None and (report.sent, report.total) == (1, 1)
