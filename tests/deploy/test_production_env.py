"""Case 11: with deploy/production.env.example loaded, `check --deploy` is clean."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "production.env.example"


def _env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def _check_deploy(tmp_path, extra: dict[str, str]):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEEPFAKE_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "deepfake_site.settings",
            "DEEPFAKE_VAR_DIR": str(tmp_path / "var"),
            **extra,
        }
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_production_env_file(tmp_path):
    values = _env_file(EXAMPLE)
    for key in (
        "DJANGO_SECURE_SSL_REDIRECT",
        "DJANGO_SECURE_HSTS_SECONDS",
        "DJANGO_SECURE_COOKIES",
        "DJANGO_SECURE_PROXY_SSL_HEADER",
        "DEEPFAKE_PROXY_COUNT",
    ):
        assert key in values, key  # each switch comes from the environment
    done = _check_deploy(tmp_path, values)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.slow
def test_without_it_check_deploy_complains(tmp_path):
    done = _check_deploy(tmp_path, {})
    assert done.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012"):  # HSTS, SSL, cookies
        assert warning in done.stderr + done.stdout


def test_the_switches_reach_the_settings(monkeypatch):
    import importlib

    from deepfake_site import settings as site_settings

    for key, value in _env_file(EXAMPLE).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DEEPFAKE_VAR_DIR", str(ROOT / "var"))
    fresh = importlib.reload(site_settings)
    try:
        assert fresh.SECURE_SSL_REDIRECT is True and fresh.SECURE_HSTS_SECONDS == 31536000
        assert fresh.SESSION_COOKIE_SECURE and fresh.CSRF_COOKIE_SECURE
        assert fresh.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
        assert fresh.PROXY_COUNT == 1 and fresh.REST_FRAMEWORK["NUM_PROXIES"] == 1
        assert fresh.DEBUG is False
    finally:
        monkeypatch.undo()
        importlib.reload(site_settings)
