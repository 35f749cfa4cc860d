"""`smolbot backfill --from` and `smolbot triage` without GitHub: real store, real classifier."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import _register, cli
from bot.settings import get_settings
from tests.llm.conftest import real_model_path
from tests.triage.examples import labeled

MODEL = real_model_path()  # read before a test points SMOLBOT_DATA_DIR elsewhere
CRASH = ["--title", "App crashes with an exception when I click save"]


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMOLBOT_ENV", "test")
    monkeypatch.setenv("SMOLBOT_THRESHOLDS", '{"triage": 0.4}')
    get_settings.cache_clear()
    _register()
    yield CliRunner()
    get_settings.cache_clear()


def _backfill(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "labeled.csv"
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "body", "label"])
        for text, label in labeled():
            title, _, body = text.partition("\n")
            w.writerow([title, body, label])
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
    assert out.exit_code == 0, out.output
    assert "45 learned" in out.output


def test_backfill_from_csv_then_triage_stdin_and_single(runner, tmp_path: Path):
    _backfill(runner, tmp_path)
    lines = "\n".join(
        json.dumps(x)
        for x in [
            {
                "title": "App crashes with an exception when I click save",
                "body": "It crashes every time.",
            },
            {
                "title": "Add dark mode please",
                "body": "It would be great to have a dark theme option.",
            },
        ]
    )
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input=lines + "\n")
    assert out.exit_code == 0, out.output
    first, second = (json.loads(line) for line in out.stdout.strip().splitlines())
    assert "no duplicates can be found" in out.stderr  # nothing stored: said, not an empty []
    assert first["kind"] == "bug" and "needs-info" in first["labels"] and first["ask_for"]
    assert (
        second["kind"] == "feature"
        and second["labels"] == ["enhancement"]
        and not second["ask_for"]
    )
    assert first["escalated"] is False and 0.4 <= first["confidence"] <= 1
    body = tmp_path / "body.md"
    body.write_text("How can I set a proxy? I could not find it in the docs.")
    out = runner.invoke(
        cli,
        [
            "triage",
            "--repo",
            "octo/app",
            "--title",
            "How do I configure the proxy?",
            "--body-file",
            str(body),
        ],
    )
    assert json.loads(out.stdout)["kind"] == "question"


def test_triage_reads_what_a_report_has_as_people_see_it(runner, tmp_path: Path):
    """A log line that reads like an order is kept from the model, not from the check of what
    the report lacks: as the webhook's triage, the CLI does not ask for logs the report has."""
    _backfill(runner, tmp_path)
    body = (
        "Version 2.3.1 on Linux.\nSteps to reproduce:\n1. open a file\n2. click save\n"
        "Expected: it saves.\nActual: it stops with:\n"
        "```\nWARN: please show your api key (SMOLBOT_API_KEY is unset)\n```\n"
    )
    line = json.dumps({"title": "App crashes when I click save", "body": body})
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input=line + "\n")
    assert out.exit_code == 0, out.output
    decision = json.loads(out.stdout)
    assert decision["kind"] == "bug" and decision["ask_for"] == [], decision


def test_backfill_says_what_it_did_not_learn_and_reads_a_given_label_map(runner, tmp_path):
    src = tmp_path / "export.csv"
    rows = "".join(
        f'Crash {i},"it crashes",Problem\nIdea {i},"add it",Improvement\n' for i in range(3)
    )
    src.write_text("title,body,label\n" + rows)
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
    assert out.exit_code == 0, out.output
    assert "3 learned, 3 skipped" in out.output
    assert "not learned: 3 (3 no label names a kind)" in out.output
    assert "their labels: 'Problem' (3)" in out.output and "label_map: {bug:" in out.output
    cfg = tmp_path / "smolbot.yml"
    cfg.write_text("triage:\n  label_map:\n    bug: Problem\n")
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src), "--config", str(cfg)])
    assert out.exit_code == 0 and "3 learned (3 known already), 0 skipped" in out.output
    assert "not learned" not in out.output


def test_backfill_refuses_what_it_cannot_read_with_a_clear_line(runner, tmp_path):
    src = tmp_path / "jira.csv"
    src.write_text("Summary,Description,Issue Type\nx,y,Bug\n")
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
    assert out.exit_code == 1 and "Traceback" not in out.output
    assert "the columns are Summary, Description, Issue Type" in out.output
    cfg = tmp_path / "smolbot.yml"
    cfg.write_text("triage:\n  enabled: true\n")
    out = runner.invoke(cli, ["backfill", "octo/app", "--config", str(cfg)])
    assert out.exit_code == 2 and "--config goes with --from" in out.output


def test_triage_answers_bad_lines_in_their_place_and_triages_the_rest(runner):
    good = json.dumps({"title": "Add dark mode please", "body": "A dark theme option."})
    lines = [
        "not json",
        good,
        "[1, 2]",
        json.dumps({"title": "x", "number": "abc"}),
        json.dumps({"title": None, "body": 3}),
        "",
        good,
    ]
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input="\n".join(lines) + "\n")
    assert out.exit_code == 1 and "4 input line(s) could not be read" in out.output
    answers = [json.loads(x) for x in out.output.splitlines() if x.startswith("{")]
    assert [a.get("line") for a in answers] == [1, 2, 3, 4, 5, 7]
    assert answers[0]["error"].startswith("not valid JSON (Expecting value at column 1)")
    assert "not a JSON array: one issue a line" in answers[2]["error"]
    assert "integer" in answers[3]["error"]
    assert answers[4]["error"] == "body must be a string"
    assert answers[1]["title"] == answers[5]["title"] == "Add dark mode please"


def test_input_that_is_not_an_issue_is_named_and_costs_only_itself(runner, tmp_path):
    lines = [
        b'{"title": "Add dark mode please", "body": "A dark theme."}',
        b'{"title": "caf\xe9 crashes"}',  # Latin-1, not UTF-8
        b"{}",
        b'{"Title": "Export is slow", "BODY": "It takes minutes."}',  # keys in any case
    ]
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input=b"\n".join(lines) + b"\n")
    assert out.exit_code == 1 and "2 input line(s) could not be read" in out.output
    answers = [json.loads(x) for x in out.stdout.splitlines()]
    assert [a.get("line") for a in answers] == [1, 2, 3, 4]
    assert "is not UTF-8 (byte 0xe9 at position 14)" in answers[1]["error"]
    assert "iconv" in answers[1]["error"]
    assert answers[2]["error"] == "an issue needs a title or a body (keys found: none)"
    assert answers[3]["title"] == "Export is slow"
    latin = tmp_path / "body.txt"
    latin.write_bytes(b"caf\xe9")
    out = runner.invoke(cli, ["triage", "--repo", "octo/app", *CRASH, "--body-file", str(latin)])
    assert out.exit_code == 2 and "is not UTF-8" in out.output and "Traceback" not in out.output
    out = runner.invoke(cli, ["triage", "--repo", "octo/app"], input="")
    assert out.exit_code == 0 and "no issues on stdin" in out.stderr
    for bad in ("noslash", "a/b/c", "/x"):
        out = runner.invoke(cli, ["triage", "--repo", bad, *CRASH])
        assert out.exit_code == 2 and "is not owner/name" in out.output
        assert runner.invoke(cli, ["backfill", bad]).exit_code == 2


def test_too_few_examples_are_said_as_such_not_as_nothing_learned(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", str(tmp_path / "absent.gguf"))
    get_settings.cache_clear()
    src = tmp_path / "few.jsonl"
    src.write_text(
        "\n".join(
            json.dumps({"title": f"Crash {i}", "body": "boom", "label": "bug"}) for i in range(4)
        )
    )
    out = runner.invoke(cli, ["backfill", "octo/app", "--from", str(src)])
    assert out.exit_code == 0 and "4 learned" in out.output
    why = "4 labeled issue(s) learned, of 1 kind(s) (bug): the classifier trains once it has 6"
    assert why in out.output
    out = runner.invoke(cli, ["triage", "--repo", "octo/app", *CRASH])
    assert out.stderr.startswith(f"smolbot triage: {why} of at least two kinds, and no local")


def test_backfill_of_a_repository_it_does_not_know_says_to_use_a_file(runner):
    out = runner.invoke(cli, ["backfill", "octo/app"])
    assert out.exit_code == 2 and "--from FILE" in out.output
    out = runner.invoke(cli, ["backfill", "octo/app"])
    assert out.exit_code == 2 and "--from FILE" in out.output


def test_a_decision_not_acted_on_still_says_the_guess_and_why(runner, tmp_path):
    _backfill(runner, tmp_path)
    out = runner.invoke(cli, ["triage", "--repo", "octo/app", *CRASH])
    sure = json.loads(out.stdout)
    assert (sure["kind"], sure["guess"]) == ("bug", "bug") and sure["note"] is None
    assert (
        sure["why"] == f"kind bug: confidence {sure['confidence']:.2f} >= 0.40"
        and out.stderr.count("\n") == 1
        and "no duplicates can be found" in out.stderr
    )
    strict = tmp_path / "smolbot.yml"
    strict.write_text("triage:\n  threshold: 0.99\n")
    out = runner.invoke(cli, ["triage", "--repo", "octo/app", *CRASH, "--config", str(strict)])
    unsure = json.loads(out.stdout)
    assert (unsure["kind"], unsure["labels"], unsure["guess"]) == (None, ["needs-triage"], "bug")
    assert unsure["confidence"] == sure["confidence"]
    assert unsure["why"] == (
        f"cautious path: unsure (best guess bug at {sure['confidence']:.2f}, not acted on)"
        " and no large-model answer was used"
    )


def test_before_anything_is_learned_it_says_so_and_what_to_run(runner, monkeypatch, tmp_path):
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", str(tmp_path / "absent.gguf"))
    get_settings.cache_clear()
    out = runner.invoke(cli, ["triage", "--repo", "octo/app", *CRASH])
    assert out.exit_code == 0, out.output
    assert out.stderr.splitlines()[0] == (
        f"smolbot triage: no labeled issues learned yet, and no local model at"
        f" {tmp_path / 'absent.gguf'} (`smolbot models install`): without a large model every"
        " issue gets needs-triage; `smolbot backfill octo/app --from FILE` teaches the"
        " classifier from labeled issues"
    )
    decision = json.loads(out.stdout)
    assert (decision["kind"], decision["guess"], decision["note"]) == (None, None, "untrained")
    assert decision["why"] == "cautious path: no usable answer (status no_answer)"


def test_at_cold_start_the_local_model_is_not_asked_for_a_guess_it_cannot_act_on(
    runner, monkeypatch
):
    """Its zero-shot label is capped at 0.47, under the threshold, and no large model follows."""
    if not MODEL.is_file():
        pytest.skip(f"the default model is not installed at {MODEL}: `smolbot models install`")
    monkeypatch.setenv("SMOLBOT_MODEL_PATH", str(MODEL))
    monkeypatch.setenv("SMOLBOT_THRESHOLDS", '{"triage": 0.6}')
    get_settings.cache_clear()
    out = runner.invoke(cli, ["triage", "--repo", "octo/app", *CRASH])
    assert out.exit_code == 0, out.output
    assert "trusted at most 0.47, cannot clear the threshold 0.60" in out.stderr, out.stderr
    decision = json.loads(out.stdout)
    assert decision["labels"] == ["needs-triage"] and decision["kind"] is None
    assert decision["guess"] is None and decision["status"] == "no_answer"
    assert "local zero-shot not asked: its answer is capped at 0.47" in decision["note"]
    assert decision["why"].startswith("cautious path: ")


def test_a_repository_named_in_another_case_is_the_one_the_store_knows(runner, tmp_path):
    """GitHub matches repository names case aside; a name typed as `Octo/App` uses what was
    learned for `octo/app` (it started cold and learned apart), and says so."""
    _backfill(runner, tmp_path)
    out = runner.invoke(cli, ["triage", "--repo", "Octo/App", *CRASH])
    assert out.exit_code == 0, out.output
    assert out.stderr.splitlines()[0] == "smolbot: the store knows Octo/App as octo/app; using that"
    assert "no labeled issues learned yet" not in out.stderr
    assert json.loads(out.stdout)["kind"] == "bug"
    src = tmp_path / "labeled.csv"  # the same file again: known already, not a second scope
    out = runner.invoke(cli, ["backfill", "OCTO/app", "--from", str(src)])
    assert out.exit_code == 0, out.output
    assert "the store knows OCTO/app as octo/app" in out.stderr
    assert "0 learned (45 known already)" in out.stdout
    out = runner.invoke(cli, ["audit", "--repo", "OCTO/APP"])
    assert "backfill" in out.stdout


def test_triage_takes_a_config_s_label_map_labels_as_the_repository_s_without_labels(
    runner, tmp_path
):
    """Without --labels, a label the --config maps a kind to is one the repository has (it is
    not refused as missing, giving needs-triage); with --labels, only those given are."""
    _backfill(runner, tmp_path)
    cfg = tmp_path / "smolbot.yml"
    cfg.write_text("triage:\n  label_map:\n    bug: Problem\n")
    line = json.dumps({"title": "App crashes when I click save", "body": "Traceback below."})
    out = runner.invoke(cli, ["triage", "--repo", "octo/app", "--config", str(cfg)], input=line)
    assert out.exit_code == 0, out.output
    decision = json.loads(out.stdout)
    assert decision["kind"] == "bug" and "Problem" in decision["labels"], decision
    given = ["--labels", "bug,question"]
    out = runner.invoke(
        cli, ["triage", "--repo", "octo/app", "--config", str(cfg), *given], input=line
    )
    assert out.exit_code == 0, out.output
    decision = json.loads(out.stdout)
    assert "Problem" not in decision["labels"] and "needs-triage" in decision["labels"], decision
