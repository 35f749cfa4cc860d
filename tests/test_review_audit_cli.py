"""`smolbot audit`: one line a row (a YAML error's reason spilled over five), with the row's task
and a short summary of the model behind it; `--json` gives the detail as an object, not a JSON
string inside the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.settings import get_settings, load_settings
from bot.store import open_store

YAML_ERROR = (
    ".github/smolbot.yml is not valid YAML: while parsing a flow node\nexpected the node "
    "content, but found '<stream end>'\n  in \"<unicode string>\", line 3, column 1:\n    \n    ^"
)
MODEL = {"backend": "classifier", "model": "enc", "confidence": 0.9, "note": "x" * 400}


@pytest.fixture
def audit_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMOLBOT_ENV", "test")
    get_settings.cache_clear()  # an earlier test's settings name another data dir
    s = load_settings(data_dir=tmp_path / "data", env="test")
    store = open_store(s.effective_database_url)
    store.audit("config_error_issue", "dry-run", YAML_ERROR, task="repo_config", repo="octo/app")
    store.audit(
        "add_labels",
        "dry-run",
        "kind bug (confident)",
        task="triage",
        repo="octo/app",
        number=3,
        detail={"model": MODEL},
    )
    store.audit("comment", "done", "no model here", task="summary", repo="octo/app", number=4)
    store.db.execute("update audit set detail = 'not json' where action = 'comment'")
    store.close()
    from bot.cli import _register, cli

    _register()

    def run(*args: str) -> list[str]:
        out = CliRunner().invoke(cli, ["audit", *args])
        assert out.exit_code == 0, out.output
        return out.output.splitlines()

    yield run
    get_settings.cache_clear()


def test_each_row_is_one_line_with_its_task_and_model(audit_cli) -> None:  # type: ignore[no-untyped-def]
    lines = audit_cli()
    assert len(lines) == 3
    by_action = {
        a: line
        for line in lines
        for a in ("config_error_issue", "add_labels", "comment")
        if a in line
    }
    yaml_line = by_action["config_error_issue"]
    assert "repo_config" in yaml_line
    assert "parsing a flow node expected the node content" in yaml_line
    assert 'in "<unicode string>", line 3, column 1: ^' in yaml_line
    labels = by_action["add_labels"]
    assert " triage " in labels and labels.endswith(
        "kind bug (confident)  [classifier/enc conf 0.90]"
    )
    assert "xxx" not in labels  # the note and the rest of the record: in --json
    assert " summary " in by_action["comment"] and by_action["comment"].endswith("no model here")


def test_json_gives_the_detail_as_an_object(audit_cli) -> None:  # type: ignore[no-untyped-def]
    rows = {r["action"]: r for r in map(json.loads, audit_cli("--json"))}
    assert rows["add_labels"]["detail"] == {"model": MODEL}
    assert rows["config_error_issue"]["detail"] == {}
    assert rows["config_error_issue"]["reason"] == YAML_ERROR  # the reason as stored
    assert rows["comment"]["detail"] == "not json"  # not JSON: kept as the string it is
