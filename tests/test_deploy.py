"""deploy/: what the Dockerfile does, checked without a Docker engine (none runs here)."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def test_dockerfile_is_multi_stage_slim_and_non_root() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert len(stages) == 2 and all("slim" in stage for stage in stages)
    assert re.search(r"^USER minhacentral$", dockerfile, re.MULTILINE)
    assert "minha-central db upgrade && exec minha-central run" in dockerfile
    assert "TELEGRAM_BOT_TOKEN" not in dockerfile


def test_env_example_documents_every_setting() -> None:
    settings_source = (ROOT / "bot" / "settings.py").read_text()
    read = set(re.findall(r'get\("([A-Z_]+)"\)', settings_source))
    read |= set(re.findall(r'"(BACKEND_[A-Z]+)"', settings_source))
    documented = set(re.findall(r"^([A-Z_]+)=", (DEPLOY / "env.example").read_text(), re.M))
    assert read - documented == set()
    readme = (ROOT / "README.md").read_text()
    assert {name for name in read if f"`{name}`" not in readme} == set()


def test_compose_runs_the_bot_with_postgresql() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["build"]["dockerfile"] == "deploy/Dockerfile"


def test_the_installed_package_runs_outside_the_source_tree(tmp_path: Path) -> None:
    """The Dockerfile's 'pip install .' then 'db upgrade': build the wheel, install it in a
    fresh virtualenv (dependencies borrowed from this one), run it from another folder."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Dependencies from this environment, our code only from the wheel.
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next(wheels.glob("minha_central-*.whl"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--quiet",
            "--target",
            site,
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    workdir = tmp_path / "run"
    workdir.mkdir()
    environ = {
        "PATH": "/usr/bin:/bin",
        "TELEGRAM_BOT_TOKEN": "123456789:AAFakeTokenForOfflineTestsOnly_0123456789",
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
    }

    def cli(*args: str) -> str:
        result = subprocess.run(
            [str(python), "-m", "bot", *args],
            cwd=workdir,
            env=environ,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    located = subprocess.run(
        [str(python), "-c", "import bot; print(bot.__file__)"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in located  # really the installed copy
    upgraded = cli("db", "upgrade")
    assert "schema revision: 0" in upgraded and "sandbox provider: ready" in upgraded
    assert "Maria Aparecida dos Santos" in cli("sandbox", "accounts")
