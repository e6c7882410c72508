"""What the running bot loads at start: heavy libraries that only some requests need wait for
them (fpdf2 is ~40 MB of memory and 0.3 s of start-up; the bot builds a PDF only when a
subscriber asks for one)."""

from __future__ import annotations

import subprocess
import sys


def test_the_bot_starts_without_the_pdf_library() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, bot.application; print('fpdf' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"
