"""Notifications to linked chats (invoice reminders, payment confirmations, ticket answers, new
fiscal notes, the end of a temporary enabling): ``service`` plans them from the provider's feed,
``store`` keeps the links, the outbox and the rounds' positions, ``jobs`` polls and delivers.
The subscriber's screens (linking a chat, choosing notices) are the flow
``bot.conversations.notifications`` with its texts in ``bot.ui.texts.notifications``."""
