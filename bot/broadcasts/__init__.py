"""Provider broadcasts, one feature in one package (layered inside: the entry points call the
service, the service its parts, everything the store).

Entry points (Telegram and outside):
    flow.py (+ flow_audience.py, flow_common.py)  ``/aviso``, the operator's guided flow
    commands.py                                   ``/avisos``: list, report, pause/resume/cancel
    api.py                                        the admin HTTP API under ``/admin/api``
    cli.py                                        ``minha-central broadcast …``
    jobs.py, sender.py                            in the bot: the service and pacer in bot_data,
                                                  the dispatch tick, the Telegram sender
Service and its parts (Telegram-free):
    service.py    BroadcastService: create, control, choose recipients, start runs
    content.py    the HTML text and media by Telegram's rules (bot.telegram_html)
    audience.py   who a broadcast is for
    schedule.py   when it goes out
    delivery.py   the run loop: store, sender and pacer
    report.py     progress and report
Storage:
    store.py      the tables and their SQL;  journal.py  recipients' states in group commits
texts.py holds every pt-BR text of the feature.
"""
