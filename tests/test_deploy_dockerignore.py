"""The Docker build context (deploy/compose.yaml builds from the repository root, the Dockerfile
copies it whole) leaves out the App's private key, .env files, the virtualenv, git's history,
caches and local data, and keeps every file the repository tracks.

.dockerignore is read as Docker reads it (moby's patternmatcher, which BuildKit and the classic
builder share): each pattern is matched against the whole path from the root (`*` stops at `/`,
`**` crosses directories), a path is left out when it or one of its parent directories matches,
and the last matching line wins (`!` puts back)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _patterns(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(exclusion, regex) per line, as moby's ignorefile.ReadAll and Pattern.compile make them."""
    out = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        line = line[1:].strip() if keep else line
        line = _clean(line).lstrip("/") or "."
        out.append((keep, re.compile(_regex(line))))
    return out


def _clean(path: str) -> str:
    """Go's filepath.Clean for the patterns this file uses: no empty, `.` or `..` parts."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
            continue
        parts.append(part)
    return ("/" if path.startswith("/") else "") + "/".join(parts)


def _regex(pattern: str) -> str:
    regex, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # `**/` is `**`
                i += 1
            regex += ".*" if i == len(pattern) else "(.*/)?"
            continue
        if ch == "*":
            regex += "[^/]*"
        elif ch == "?":
            regex += "[^/]"
        elif ch in ".$+(){}^|":
            regex += "\\" + ch
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            regex += re.escape(pattern[i])
        else:  # letters, and [ ] ranges as Go's filepath.Match has them
            regex += ch
        i += 1
    return regex + "$"


def left_out(path: str, patterns: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """moby's PatternMatcher.MatchesOrParentMatches."""
    parents = path.split("/")[:-1]
    excluded = False
    for keep, regex in patterns:
        if keep != excluded:  # an exclusion only matters once excluded, and the reverse
            continue
        hit = bool(regex.match(path)) or any(
            regex.match("/".join(parents[: i + 1])) for i in range(len(parents))
        )
        if hit:
            excluded = not keep
    return excluded


@pytest.fixture(scope="module")
def patterns() -> list[tuple[bool, re.Pattern[str]]]:
    return _patterns((ROOT / ".dockerignore").read_text())


SECRETS = [
    "deploy/app-private-key.pem",  # where compose.yaml says to put the key
    "deploy/.env",  # compose's env_file
    "app-private-key.pem",
    ".env",
    ".env.production",
    "deploy/smolbot.env",  # deploy/smolbot.env.example copied beside it
    "some/where/deep/github-app.2024-01-01.private-key.pem",
    "keys/app.key",
]
BULK = [
    ".venv/lib/python3.11/site-packages/torch/lib/libtorch_cpu.so",
    ".venv/bin/python",
    ".git/objects/pack/pack-1.pack",
    ".git/HEAD",
    "bot/__pycache__/settings.cpython-311.pyc",
    "tests/dashboard/__pycache__/conftest.cpython-311-pytest-8.3.2.pyc",
    ".pytest_cache/v/cache/lastfailed",
    ".mypy_cache/3.11/bot/settings.data.json",
    ".ruff_cache/0.6.9/123",
    ".hypothesis/examples/ab/cd",
    ".import_linter_cache/x.json",
    "smolbot.egg-info/PKG-INFO",
    "build/lib/bot/__init__.py",
    "dist/smolbot-0.1.0-py3-none-any.whl",
    "htmlcov/index.html",
]
DATA = [
    ".data/smolbot.db",
    ".data/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    "data/smolbot.db",
    "data/broker.sqlite",
    "bench/out/webhook.json",
    "smolbot.db",
    "smolbot.db-wal",
    "tmp/broker.sqlite-shm",
    "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
]
KEPT = [
    "pyproject.toml",
    "README.md",  # pyproject's readme: pip install . needs it
    "bot/__init__.py",
    "bot/dashboard/templates/login.html",
    "bot/samples/__init__.py",
    "workers/celery_app.py",
    "prompts/first_response_triage.yaml",
    "deploy/Dockerfile",
    "deploy/smolbot.env.example",
    "bot/data/labels.py",  # `data` is left out at the root only
]


@pytest.mark.parametrize("path", SECRETS + BULK + DATA)
def test_secrets_bulk_and_data_stay_out_of_the_image(
    patterns: list[tuple[bool, re.Pattern[str]]], path: str
) -> None:
    assert left_out(path, patterns), f"{path} would be copied into the image"


@pytest.mark.parametrize("path", KEPT)
def test_what_the_image_builds_from_goes_in(
    patterns: list[tuple[bool, re.Pattern[str]]], path: str
) -> None:
    assert not left_out(path, patterns), f"{path} would be missing from the image"


def test_every_file_the_repository_tracks_goes_in(
    patterns: list[tuple[bool, re.Pattern[str]]],
) -> None:
    """pip install . builds from the copy: no source, template, prompt or sample may be left out
    (and the repository tracks no secret)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    tracked = [p for p in listed.split("\0") if p and (ROOT / p).exists()]
    assert len(tracked) > 100
    assert [p for p in tracked if left_out(p, patterns)] == []


@pytest.mark.parametrize(
    ("lines", "path", "out"),
    [
        ("*.pem", "deploy/key.pem", False),  # Docker: from the root only (fnmatch said yes)
        ("*.pem", "key.pem", True),
        ("**/*.pem", "deploy/key.pem", True),
        ("**/*.pem", "key.pem", True),
        ("deploy/*", "deploy/a/b", True),  # a parent directory matched
        (".git", ".github/workflows/ci.yml", False),
        ("/.env", ".env", True),
        ("*.md\n!README.md", "README.md", False),
        ("**\n!bot/**", "bot/x.py", False),
        ("**\n!bot/**", "tests/x.py", True),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
    ],
)
def test_the_matcher_reads_patterns_as_docker_does(lines: str, path: str, out: bool) -> None:
    assert left_out(path, _patterns(lines)) is out
