"""``minha-central chat``: a newcomer chats with the bot in the terminal, offline."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.localapi.terminal import run_chat


async def test_login_menu_and_a_button_press(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SANDBOX_DATABASE_URL", "TELEGRAM_BOT_TOKEN", "BACKEND"):
        monkeypatch.delenv(name, raising=False)
    typed = io.StringIO("318.456.720-62\ndemo1234\n4\n1\n99\n/fim\n")
    shown = io.StringIO()

    assert await run_chat(tmp_path / "downloads", stdin=typed, out=shown) == 0

    output = shown.getvalue()
    assert "Para entrar, envie o CPF ou CNPJ" in output
    assert "(sua mensagem foi apagada pelo bot)" in output  # the password
    assert "[4] Agora não" in output  # the offer to link this chat, declined
    assert "[1] 👤 Minha Conta" in output and "[14] 🚪 Sair" in output
    assert "Maria Aparecida dos Santos" in output
    assert "(escolha um botão de 1 a 2)" in output  # 99 is not a button of Minha Conta
    assert "<b>" not in output


async def test_a_slow_answer_is_waited_for_before_the_next_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backend slower than any pause: each answer is on screen before the next line."""
    from backend_client.sandbox import SandboxBackend
    from bot import application

    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SANDBOX_DATABASE_URL", "TELEGRAM_BOT_TOKEN", "BACKEND"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        application,
        "create_backend",
        lambda settings: SandboxBackend(settings.sandbox_database_url, latency=0.5),
    )
    typed = io.StringIO("318.456.720-62\ndemo1234\n4\n1\n/fim\n")
    shown = io.StringIO()

    assert await run_chat(tmp_path / "downloads", stdin=typed, out=shown) == 0

    output = shown.getvalue()
    assert "[4] Agora não" in output
    assert "[1] 👤 Minha Conta" in output
    assert "Endereço:" in output  # Minha Conta, shown before /fim ended the chat


async def test_digits_are_text_unless_buttons_are_the_answer_and_the_banner_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 21: after Sair (an "Entrar" button on screen) a CPF typed as digits logs in; the
    banner's command for the demo logins works in the chat as printed."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "SANDBOX_DATABASE_URL", "TELEGRAM_BOT_TOKEN", "BACKEND"):
        monkeypatch.delenv(name, raising=False)
    typed = io.StringIO("/contas\n31845672062\ndemo1234\n4\n14\n31845672062\ndemo1234\n/fim\n")
    shown = io.StringIO()

    assert await run_chat(tmp_path / "downloads", stdin=typed, out=shown) == 0

    output = shown.getvalue()
    assert "digite /contas" in output
    assert "318.456.720-62       demo1234" in output  # /contas, printed by the chat itself
    assert "escolha um botão" not in output  # the CPF was never taken for a button number
    assert output.count("Agora envie a sua senha") == 2  # the login after Sair, too
    assert output.count("Você entrou na sua central") == 2
