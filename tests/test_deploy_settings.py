"""Production settings: a real secret key or no start, HTTPS by default, ``check --deploy`` clean.

Each case runs ``manage.py`` in a process of its own with a production environment (no DEBUG, no
``DJANGO_HTTPS=false``, none of the tests' own settings), as a deployment would start it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.processes import Processes

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = {
    "DJANGO_SECRET_KEY": "Zx8-production-like-secret-key-of-sixty-characters-4f0aQ19cV",
    "DJANGO_ALLOWED_HOSTS": "shop-platform.example.fr",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_a_secret_key_the_platform_refuses_to_start_and_says_why() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_makemigrations_runs_without_a_secret_key_and_only_it() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}

    result = manage("makemigrations", "--check", "--dry-run", env=env)
    refused = manage("migrate", "--plan", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
    assert refused.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in refused.stderr


def test_https_is_the_default_and_the_embedded_setup_turns_it_off() -> None:
    code = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
    )
    production = manage("shell", "--no-imports", "-c", code, env=PRODUCTION)
    embedded = manage("shell", "--no-imports", "-c", code, env={**PRODUCTION, "DJANGO_HTTPS": "false"})

    assert production.stdout.split() == ["True", "True", "True", "31536000"]
    assert embedded.stdout.split() == ["False", "False", "False", "0"]


def environment_file(path: Path) -> dict[str, str]:
    """The variables of a systemd EnvironmentFile (``KEY=value`` lines; ``#`` comments)."""
    pairs = (
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    )
    return {key.strip(): value.strip() for key, value in pairs}


def test_check_deploy_is_clean_with_the_units_environment_file(processes: Processes) -> None:
    """What deploy/systemd/'s units start with (their EnvironmentFile, as shipped): any warning fails."""
    env = environment_file(ROOT / "deploy" / "systemd" / "platform.env.example")
    assert env["Q_SCHEDULER"] == "false"  # every host but the schedule owner's
    assert "DJANGO_DEBUG" not in env

    result = processes.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={"PATH": os.environ["PATH"], **env, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
