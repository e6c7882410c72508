"""``[support]`` in the provider file (issue 22): chat_id, hours, reply_timeout_minutes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.provider.config import ProviderConfigError, parse


def test_hours_are_read_in_sao_paulo_time() -> None:
    config = parse(
        '[support]\nchat_id = -100123\nhours = ["seg-sex 08:00-18:00", "sáb 08:00-12:00"]\n'
        "reply_timeout_minutes = 5\n"
    )
    support = config.support
    assert support.chat_id == -100123 and support.reply_timeout_minutes == 5
    # 2026-11-28 is a Saturday; São Paulo is UTC-3.
    assert support.is_open(datetime(2026, 11, 28, 13, 0, tzinfo=UTC))  # sáb 10:00
    assert not support.is_open(datetime(2026, 11, 28, 15, 0, tzinfo=UTC))  # sáb 12:00
    assert not support.is_open(datetime(2026, 11, 29, 13, 0, tzinfo=UTC))  # dom
    assert support.is_open(datetime(2026, 11, 30, 20, 59, tzinfo=UTC))  # seg 17:59
    assert config.to_json()["support"]["hours"] == ["seg-sex 08:00-18:00", "sáb 08:00-12:00"]


def test_without_hours_the_team_answers_at_any_time() -> None:
    support = parse("[support]\nchat_id = -100123\n").support
    assert support.is_open(datetime(2026, 11, 29, 3, 0, tzinfo=UTC))
    assert support.reply_timeout_minutes == 10


def test_wrong_hours_and_timeouts_are_named() -> None:
    with pytest.raises(ProviderConfigError) as raised:
        parse(
            '[support]\nhours = ["segunda 8h-18h", "xyz 08:00-12:00", "seg 18:00-08:00"]\n'
            "reply_timeout_minutes = 0\n"
        )
    problems = raised.value.problems
    assert len(problems) == 4, problems
    assert all(p.startswith("[support] ") for p in problems)
    assert any("reply_timeout_minutes" in p for p in problems)
