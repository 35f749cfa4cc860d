"""The drafter never runs code from the checkout it drafts for: with hooks installed (globally,
too), git clone / checkout / add start it in any repository, before anyone read its code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commits.conftest import Git, wait_for

NO_MODEL = {"SMOLBOT_MODEL_PATH": "/nonexistent/model.gguf"}


@pytest.mark.parametrize("how", ["post-index-change hook", "smolbot hook run trigger"])
@pytest.mark.parametrize("module", ["argparse.py", "bot/__init__.py"])
def test_modules_in_the_checkout_do_not_run_in_the_drafter(
    repo: Git, tmp_path: Path, module: str, how: str
) -> None:
    """`python -m` puts the working directory (the checkout) first on sys.path: a top-level
    argparse.py shadowed the standard library's, a `bot/` package smolbot's own."""
    ran = tmp_path / "checkout-code-ran"
    repo.write(module, f"import pathlib\npathlib.Path({str(ran)!r}).write_text('ran')\n")
    repo("add", module)
    repo("commit", "-q", "--no-verify", "-m", "chore: a module of our own")
    if how == "post-index-change hook":
        assert repo.smolbot("hook", "install", "--no-start").returncode == 0
    repo.write("docs/usage.md", "# Usage\n\nRun `shop serve`.\n")
    repo("add", "docs/usage.md", env=NO_MODEL)
    if how == "smolbot hook run trigger":  # the pre-commit framework's entry: drafter.spawn()
        assert repo.smolbot("hook", "run", "trigger", env=NO_MODEL).returncode == 0
    draft = repo.draft_file()
    wait_for(lambda: ran.exists() or draft.is_file(), timeout=60)
    assert not ran.exists(), f"{module} from the checkout ran in the drafter"
    assert draft.read_text().startswith("docs")
