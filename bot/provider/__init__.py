"""The provider's own configuration ("Configuração do APP", issue 20): brand, contacts, menu,
text overrides and policies, from one TOML file (``PROVIDER_CONFIG``).

- :mod:`bot.provider.config`: the dataclasses, read with ``tomllib`` and validated with every
  problem named at once; :data:`~bot.provider.config.DEFAULT` is the bot without a file.
- :mod:`bot.provider.store`: the running bot's current configuration (``.current``, read per
  update) and its atomic replacement (admin API ``PUT /admin/api/config``).
- :mod:`bot.provider.policies`: ``[policies]`` applied to the backend the flows call;
- :mod:`bot.provider.api`: the admin API routes; :mod:`bot.provider.cli`: ``config check``.

Where it shows in the chat: :mod:`bot.handlers.provider` and :mod:`bot.ui.texts.provider`.
"""
