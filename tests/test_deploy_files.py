"""deploy/ agrees with the code: every setting it names exists, the settings a worker refuses to
start without are there to fill, the image has the driver for the database compose gives it, and
deploy/README.md's set-up creates what the systemd units expect."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
FILES = [p for p in sorted(DEPLOY.rglob("*")) if p.is_file()]


def _setting_names(text: str) -> set[str]:
    return set(re.findall(r"\bSMOLBOT_([A-Z0-9_]+)", text))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_setting_deploy_names_exists(path: Path) -> None:
    known = {name.upper() for name in Settings.model_fields}
    assert _setting_names(path.read_text()) - known == set()


def test_the_settings_to_fill_include_the_bot_login() -> None:
    example = (DEPLOY / "smolbot.env.example").read_text()
    (login,) = re.findall(r"^SMOLBOT_BOT_LOGIN=(\S+)$", example, re.M)
    assert login.endswith("[bot]")
    header = (DEPLOY / "compose.yaml").read_text().split("x-smolbot:")[0]
    for name in ("APP_ID", "WEBHOOK_SECRET", "DASHBOARD_TOKEN", "BOT_LOGIN"):
        assert f"SMOLBOT_{name}" in header


def _extras_with(package: str) -> set[str]:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    return {name for name, reqs in extras.items() if any(r.startswith(package) for r in reqs)}


def test_the_image_has_psycopg_for_composes_postgresql() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    url = compose["x-smolbot"]["environment"]["SMOLBOT_DATABASE_URL"]
    assert url.startswith("postgresql://")
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    (default,) = re.findall(r"^ARG EXTRAS=(\S+)$", dockerfile, re.M)
    assert 'pip install --no-cache-dir ".[${EXTRAS}]"' in dockerfile
    assert set(default.split(",")) & (_extras_with("psycopg") - {"dev"})


def _unit(name: str) -> dict[str, str]:
    text = (DEPLOY / "systemd" / name).read_text()
    return dict(re.findall(r"^(\w+)=(.*)$", text, re.M))


@pytest.mark.parametrize(
    "unit", ["smolbot-web.service", "smolbot-worker@.service", "smolbot-beat.service"]
)
def test_the_readme_sets_up_what_the_units_expect(unit: str) -> None:
    readme = (DEPLOY / "README.md").read_text()
    setup = readme.split("## Installing with systemd", 1)[1].split("\n## ", 1)[0]
    keys = _unit(unit)
    user, env_file = keys["User"], keys["EnvironmentFile"]
    venv = keys["ExecStart"].split("/bin/smolbot")[0]
    assert f"useradd --system --home-dir {keys['ReadWritePaths']}" in setup
    assert f"-o {user} -g {user} -m 700 {keys['ReadWritePaths']}" in setup
    assert f"python3 -m venv {venv}" in setup and f"{venv}/bin/pip install '.[postgres]'" in setup
    assert f"smolbot.env.example {env_file}" in setup
    assert f"--uid={user}" in setup and f"EnvironmentFile={env_file} {venv}/bin/smolbot" in setup
    example = (DEPLOY / "smolbot.env.example").read_text()
    assert f"SMOLBOT_DATA_DIR={keys['ReadWritePaths']}\n" in example
    assert "sudo cp deploy/systemd/*.service /etc/systemd/system/" in setup
    assert "sudo systemctl daemon-reload" in setup
    assert unit.removesuffix(".service").replace("@", "@fast") in setup  # enabled
