"""``/aviso``'s audience step: everyone, or filters combined with AND — city/neighbourhood, plan,
contract situation (pickers with ☑️ toggles), explicit contract or subscriber ids. Button data
``bc:<action>[:<index>…]`` carries indices into the provider's lists, checked (any client can
forge them)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from backend_client.provider import AudienceOptions
from bot.broadcasts import texts as t
from bot.broadcasts.audience import MAX_IDS, split_ids
from bot.broadcasts.flow_common import (
    AUDIENCE,
    BUTTONS,
    FLOW,
    IDS,
    SEGMENTS,
    argument,
    audience_data,
    audience_of,
    cancel_row,
    draft_data,
    list_index,
    provider_options,
    when_screen,
)
from bot.broadcasts.jobs import service_of
from bot.handlers.access import admin_step
from bot.services.context import BotContext
from bot.ui import callbacks, paging
from bot.ui.keyboards import button
from bot.ui.screens import answer_query, send, show
from bot.ui.texts import BUTTON_EXPIRED

PICK_PAGE = 12  # cities / neighbourhoods / plans per picker page


async def audience_screen(update: Update, context: BotContext, *, new_message: bool = False) -> int:
    options = await provider_options(update, context)
    if options is False:
        return AUDIENCE
    has_feed = options is not None
    data = draft_data(context)
    audience = audience_data(data)
    audience["all"] = False
    summary = t.describe_audience(
        audience_of(data).to_json(), await service_of(context.application).plan_names()
    )
    rows = [[button(t.BUTTON_EVERYONE, BUTTONS.pack("all"))]]
    if has_feed:
        rows += [
            [
                button(t.BUTTON_PLACES, BUTTONS.pack("cities:page", 0)),
                button(t.BUTTON_PLANS, BUTTONS.pack("plans:page", 0)),
            ],
            [
                button(t.BUTTON_STATUSES, BUTTONS.pack("statuses")),
                button(t.BUTTON_CONTRACTS, BUTTONS.pack("ids", "contract_ids")),
            ],
        ]
    rows.append([button(t.BUTTON_SUBSCRIBERS, BUTTONS.pack("ids", "subscriber_ids"))])
    if audience_of(data).has_segments:
        rows.append(
            [
                button(t.BUTTON_CLEAR, BUTTONS.pack("clear")),
                button(t.BUTTON_CONTINUE, BUTTONS.pack("continue")),
            ]
        )
    rows.append(cancel_row())
    text, keyboard = t.audience_screen(summary, has_feed), InlineKeyboardMarkup(rows)
    if new_message:
        await send(update, text, keyboard)
    else:
        await show(update, text, keyboard)
    return AUDIENCE


@admin_step(FLOW)
async def audience_menu(update: Update, context: BotContext) -> int:
    return await audience_screen(update, context)


@admin_step(FLOW)
async def everyone(update: Update, context: BotContext) -> int:
    data = draft_data(context)
    data["audience"] = {"all": True, **{key: [] for key in SEGMENTS}}
    return await when_screen(update)


@admin_step(FLOW)
async def clear(update: Update, context: BotContext) -> int:
    data = draft_data(context)
    data["audience"] = {"all": False, **{key: [] for key in SEGMENTS}}
    return await audience_screen(update, context)


@admin_step(FLOW)
async def continue_(update: Update, context: BotContext) -> int:
    if not audience_of(draft_data(context)).has_segments:
        await answer_query(update, t.NEED_SEGMENT)
        return AUDIENCE
    return await when_screen(update)


# cities and neighbourhoods
@admin_step(FLOW)
async def cities(update: Update, context: BotContext) -> int:
    raw_page = argument(update, "cities:page")  # bc:cities:page:<n>
    options = await provider_options(update, context)
    if not options:
        return AUDIENCE if options is False else await audience_screen(update, context)
    places = audience_data(draft_data(context))["places"]
    chosen = {city for city, _ in places}
    names = [city for city, _ in options.places]
    page = paging.clamp(callbacks.page_number(raw_page), len(names), PICK_PAGE)
    start_at = page * PICK_PAGE
    buttons = [
        button(t.check(city, city in chosen), BUTTONS.pack("city", start_at + i))
        for i, city in enumerate(names[start_at : start_at + PICK_PAGE])
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = paging.nav_row(BUTTONS.pack("cities"), page, len(names), PICK_PAGE)
    rows += [nav] if nav else []
    rows.append([button(t.BUTTON_BACK, BUTTONS.pack("aud"))])
    await show(update, t.CHOOSE_CITY, InlineKeyboardMarkup(rows))
    return AUDIENCE


async def _city_screen(
    update: Update, context: BotContext, options: AudienceOptions, city_index: int, page: int
) -> int:
    city, hoods = options.places[city_index]
    places = audience_data(draft_data(context))["places"]
    whole = [city, None] in places
    chosen = {hood for c, hood in places if c == city and hood is not None}
    page = paging.clamp(page, len(hoods), PICK_PAGE)
    start_at = page * PICK_PAGE
    buttons = [
        button(t.check(hood, hood in chosen), BUTTONS.pack("hood", city_index, start_at + i))
        for i, hood in enumerate(hoods[start_at : start_at + PICK_PAGE])
    ]
    whole_button = button(
        t.check(t.BUTTON_WHOLE_CITY, whole), BUTTONS.pack("wholecity", city_index)
    )
    rows = [[whole_button]]
    rows += [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = paging.nav_row(BUTTONS.pack("hoods", city_index), page, len(hoods), PICK_PAGE)
    rows += [nav] if nav else []
    rows.append(
        [
            button(t.BUTTON_BACK, BUTTONS.pack("cities:page", 0)),
            button(t.BUTTON_CONTINUE, BUTTONS.pack("aud")),
        ]
    )
    await show(update, t.city_screen(city), InlineKeyboardMarkup(rows))
    return AUDIENCE


async def _city_from(
    update: Update, context: BotContext, raw: str
) -> tuple[AudienceOptions, int] | int:
    """The options and a checked city index, or the state to return (stale or forged data)."""
    options = await provider_options(update, context)
    if not options:
        return AUDIENCE if options is False else await audience_screen(update, context)
    city_index = list_index(raw, len(options.places))
    if city_index is None:
        await answer_query(update, BUTTON_EXPIRED)
        return await audience_screen(update, context)
    return options, city_index


@admin_step(FLOW)
async def city(update: Update, context: BotContext) -> int:
    found = await _city_from(update, context, argument(update, "city"))  # bc:city:<i>
    if isinstance(found, int):
        return found
    return await _city_screen(update, context, *found, 0)


@admin_step(FLOW)
async def hoods_page(update: Update, context: BotContext) -> int:
    raw_city, _, raw_page = argument(update, "hoods").partition(":page:")  # bc:hoods:<i>:page:<n>
    found = await _city_from(update, context, raw_city)
    if isinstance(found, int):
        return found
    page = callbacks.page_number(raw_page)
    return await _city_screen(update, context, *found, page)


@admin_step(FLOW)
async def whole_city(update: Update, context: BotContext) -> int:
    found = await _city_from(update, context, argument(update, "wholecity"))  # bc:wholecity:<i>
    if isinstance(found, int):
        return found
    options, city_index = found
    name = options.places[city_index][0]
    audience = audience_data(draft_data(context))
    if [name, None] in audience["places"]:
        audience["places"].remove([name, None])
    else:  # the whole city replaces its neighbourhoods
        audience["places"] = [p for p in audience["places"] if p[0] != name] + [[name, None]]
    return await _city_screen(update, context, options, city_index, 0)


@admin_step(FLOW)
async def hood(update: Update, context: BotContext) -> int:
    raw_city, _, raw_hood = argument(update, "hood").partition(":")  # bc:hood:<city>:<hood>
    found = await _city_from(update, context, raw_city)
    if isinstance(found, int):
        return found
    options, city_index = found
    name, hoods = options.places[city_index]
    hood_index = list_index(raw_hood, len(hoods))
    if hood_index is None:
        await answer_query(update, BUTTON_EXPIRED)
        return await _city_screen(update, context, options, city_index, 0)
    entry = [name, hoods[hood_index]]
    audience = audience_data(draft_data(context))
    places = [p for p in audience["places"] if p != [name, None]]
    others = [p for p in places if p != entry]
    audience["places"] = others if entry in places else [*others, entry]
    return await _city_screen(update, context, options, city_index, hood_index // PICK_PAGE)


# plans and statuses
@admin_step(FLOW)
async def plans(update: Update, context: BotContext) -> int:
    toggled = argument(update, "plan")  # bc:plans:page:<n> or bc:plan:<i>
    options = await provider_options(update, context)
    if not options:
        return AUDIENCE if options is False else await audience_screen(update, context)
    audience = audience_data(draft_data(context))
    page = 0 if toggled else callbacks.page_number(argument(update, "plans:page"))
    if toggled:
        index = list_index(toggled, len(options.plans))
        if index is None:
            await answer_query(update, BUTTON_EXPIRED)
        else:
            plan_id = options.plans[index][0]
            chosen = [p for p in audience["plans"] if p != plan_id]
            audience["plans"] = chosen if plan_id in audience["plans"] else [*chosen, plan_id]
            page = index // PICK_PAGE
    page = paging.clamp(page, len(options.plans), PICK_PAGE)
    start_at = page * PICK_PAGE
    rows = [
        [button(t.check(name, plan_id in audience["plans"]), BUTTONS.pack("plan", start_at + i))]
        for i, (plan_id, name) in enumerate(options.plans[start_at : start_at + PICK_PAGE])
    ]
    nav = paging.nav_row(BUTTONS.pack("plans"), page, len(options.plans), PICK_PAGE)
    rows += [nav] if nav else []
    rows.append([button(t.BUTTON_BACK, BUTTONS.pack("aud"))])
    await show(update, t.CHOOSE_PLANS, InlineKeyboardMarkup(rows))
    return AUDIENCE


@admin_step(FLOW)
async def statuses(update: Update, context: BotContext) -> int:
    key = argument(update, "status")  # bc:statuses or bc:status:<key>
    audience = audience_data(draft_data(context))
    if key:
        if key not in t.STATUS_LABELS:
            await answer_query(update, BUTTON_EXPIRED)
        elif key in audience["statuses"]:
            audience["statuses"].remove(key)
        else:
            audience["statuses"].append(key)
    rows = [
        [button(t.check(label, key in audience["statuses"]), BUTTONS.pack("status", key))]
        for key, label in t.STATUS_BUTTONS
    ]
    rows.append([button(t.BUTTON_BACK, BUTTONS.pack("aud"))])
    await show(update, t.CHOOSE_STATUSES, InlineKeyboardMarkup(rows))
    return AUDIENCE


# explicit ids
@admin_step(FLOW)
async def ask_ids(update: Update, context: BotContext) -> int:
    kind = argument(update, "ids")  # bc:ids:contract_ids | bc:ids:subscriber_ids
    if kind not in ("contract_ids", "subscriber_ids"):
        await answer_query(update, BUTTON_EXPIRED)
        return AUDIENCE
    draft_data(context)["ids_for"] = kind
    text = t.ASK_CONTRACTS if kind == "contract_ids" else t.ASK_SUBSCRIBERS
    await show(update, text, InlineKeyboardMarkup([[button(t.BUTTON_BACK, BUTTONS.pack("aud"))]]))
    return IDS


@admin_step(FLOW)
async def receive_ids(update: Update, context: BotContext) -> int:
    message = update.effective_message
    assert message is not None and message.text is not None
    data = draft_data(context)
    ids = [item[:100] for item in split_ids(message.text)]
    if not ids:
        await send(update, t.IDS_EMPTY)
        return IDS
    kind = data.get("ids_for", "subscriber_ids")
    audience_data(data)[kind] = list(dict.fromkeys(ids))[:MAX_IDS]
    return await audience_screen(update, context, new_message=True)
