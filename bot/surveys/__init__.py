"""The satisfaction survey (NPS, issue 22): offered after a ticket closes or a hand-off ends,
at most once per subscriber in 30 days and never in quiet hours. ``store`` keeps offers and
answers, ``report`` computes the score (Telegram-free), ``flow`` asks in the chat, ``api`` gives
the results to the provider (JSON and CSV)."""
