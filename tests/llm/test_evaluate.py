"""`smolbot models eval`: the first stage scored on the newest labeled issues of each repository."""

from __future__ import annotations

import csv
import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from bot.cli import _register, cli
from bot.llm.evaluate import THRESHOLDS, Level, Report, evaluate, split_examples, time_split
from bot.llm.records import Example, Records
from bot.settings import get_settings
from bot.store import Store, open_store

START = datetime(2024, 1, 1, tzinfo=UTC)
WORDS = {
    "bug": ["crash", "error", "broken", "exception", "fails", "traceback", "segfault", "wrong"],
    "feature": ["add", "support", "option", "proposal", "would", "nice", "allow", "new"],
    "question": ["how", "where", "can", "what", "why", "possible", "help", "understand"],
}
FILLER = ["the", "editor", "panel", "build", "file", "server", "window", "settings", "module"]


def issue(label: str, rng: random.Random) -> str:
    """A made-up issue whose words lean towards its label (and some that say nothing)."""
    cue = rng.sample(WORDS[label], 3)
    words = cue + rng.sample(FILLER, 5)
    rng.shuffle(words)
    return f"{cue[0]} {words[1]} {words[2]}\n\n{' '.join(words)}"


def dataset(repos: list[str], per_label: int, seed: int = 0) -> list[Example]:
    """Examples learned newest first (as GitHub lists issues), each with its creation date."""
    rng, out = random.Random(seed), []
    for repo in repos:
        for label in WORDS:
            for i in range(per_label):
                created = (START + timedelta(days=i, hours=len(out))).timestamp()
                out.append(Example(repo, issue(label, rng), label, "backfill", created))
    return sorted(out, key=lambda e: -(e.created or 0))


@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 1000)), max_size=60),
    st.floats(0.05, 0.95),
)
def test_time_split_holds_out_the_newest_of_each_group(
    items: list[tuple[str, int]], holdout: float
) -> None:
    train, test = time_split(items, lambda r: r[0], lambda r: r[1], holdout)
    assert sorted(train + test) == sorted(items)
    for g in "abc":
        a = [t for k, t in train if k == g]
        b = [t for k, t in test if k == g]
        n = len(a) + len(b)
        assert len(b) == math.ceil(n * holdout - 1e-9)
        assert not a or not b or max(a) <= min(b)


def test_split_uses_dates_not_the_learning_order() -> None:
    rows = dataset(["o/r"], 10)  # learned newest first
    train, test = split_examples(rows, 0.3)
    assert len(train) == 21 and len(test) == 9
    for label in WORDS:
        newest = max(e.created or 0 for e in train if e.label == label)
        assert all((e.created or 0) > newest for e in test if e.label == label)


def test_without_dates_the_learning_order_decides() -> None:
    rows = [Example(e.scope, e.text, e.label, e.source) for e in dataset(["o/r"], 10)]
    train, test = split_examples(rows, 0.3)
    first_held = {e.label: rows.index(e) for e in reversed(test)}
    assert all(rows.index(e) < first_held[e.label] for e in train)


def test_scores_follow_the_answers() -> None:
    """Learnable labels score high; the same texts with shuffled labels score near chance."""
    rows = dataset(["o/a", "o/b"], 40)
    good = evaluate(rows, embed=False)
    assert [s.scope for s in good.scopes] == ["o/a", "o/b"]
    assert all(s.train == 84 and s.held == 36 for s in good.scopes)
    assert good.macro_f1 >= 0.9
    labels = [e.label for e in rows]
    random.Random(1).shuffle(labels)
    noise = [
        Example(e.scope, e.text, lab, e.source, e.created)
        for e, lab in zip(rows, labels, strict=True)
    ]
    assert evaluate(noise, embed=False).macro_f1 < 0.6


def test_threshold_levels_are_counted_from_the_answers() -> None:
    report = evaluate(dataset(["o/r"], 40, seed=3), embed=False, thresholds=(0.0, 0.5, 0.7, 1.0))
    kept = [lv.kept for lv in report.levels]
    assert kept[0] == 1.0
    assert kept == sorted(kept, reverse=True)
    for lv in report.levels:
        mine = [s for s in report.scored if s.confidence >= lv.threshold]
        assert lv.kept == pytest.approx(len(mine) / len(report.scored))
        if mine:
            assert lv.accuracy == pytest.approx(sum(s.gold == s.pred for s in mine) / len(mine))


def test_surest_80_is_the_accuracy_on_the_answers_it_is_surest_of() -> None:
    """The column beside accuracy is accuracy too, as the benchmark's coverage table counts it."""
    rng = random.Random(2)
    noisy = [  # 40 % of the labels drawn at random: some answers are wrong
        Example(
            e.scope,
            e.text,
            rng.choice(list(WORDS)) if rng.random() < 0.4 else e.label,
            "human",
            e.created,
        )
        for e in dataset(["o/r"], 40, seed=5)
    ]
    report = evaluate(noisy, embed=False)
    (scope,) = report.scopes
    rows = sorted(report.scored, key=lambda s: -s.confidence)[: round(0.8 * len(report.scored))]
    right = sum(s.gold == s.pred for s in rows)
    assert 0 < right < len(rows)
    assert scope.surest_80 == pytest.approx(right / len(rows))


def test_suggest_names_the_lowest_threshold_that_reaches_the_target() -> None:
    report = Report(0.3, 0, 0, "tfidf-lr")
    report.levels = [
        Level(0.5, 0.9, 0.80, 0.8),
        Level(0.6, 0.7, 0.91, 0.9),
        Level(0.7, 0.5, 0.89, 0.9),
        Level(0.8, 0.3, 0.95, 0.9),
    ]
    assert report.suggest(0.9) is report.levels[1]
    assert report.suggest(0.94) is report.levels[3]
    assert report.suggest(0.99) is None


def test_nothing_to_evaluate_says_what_to_do() -> None:
    with pytest.raises(ValueError, match="smolbot backfill"):
        evaluate([Example("o/r", "a\n\nb", "bug", "human")], embed=False)
    examples = dataset(["acme/app", "acme/lib"], per_label=8)
    with pytest.raises(ValueError, match="no labeled examples of Acme/App in the store; it has"):
        evaluate(examples, embed=False, scopes=["Acme/App"])  # another spelling than GitHub's


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    d = tmp_path / "data"
    monkeypatch.setenv("SMOLBOT_DATA_DIR", str(d))
    monkeypatch.setenv("SMOLBOT_ENV", "test")
    monkeypatch.setenv("SMOLBOT_THRESHOLDS", '{"triage": 0.6}')
    monkeypatch.delenv("SMOLBOT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    _register()
    yield d
    get_settings.cache_clear()


def test_backfill_from_file_then_eval(data_dir: Path, tmp_path: Path) -> None:
    """The CLI path: dated issues from a CSV, then the scores and the suggested threshold."""
    path = tmp_path / "issues.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["created_at", "label", "title", "body"])
        w.writeheader()
        for e in dataset(["o/r"], 30, seed=5):
            title, _, body = e.text.partition("\n\n")
            when = datetime.fromtimestamp(e.created or 0, UTC).strftime("%Y-%m-%d %H:%M:%S")
            w.writerow({"created_at": when, "label": e.label, "title": title, "body": body})
    runner = CliRunner()
    assert runner.invoke(cli, ["backfill", "o/r", "--from", str(path)]).exit_code == 0

    out = runner.invoke(cli, ["models", "eval", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output[out.output.index("{") :])
    assert data["dated"] == data["examples"] == 90
    (scope,) = data["scopes"]
    assert (scope["scope"], scope["train"], scope["held"]) == ("o/r", 63, 27)
    assert scope["macro_f1"] >= 0.8

    text = runner.invoke(cli, ["models", "eval", "--target", "0.5"])
    assert text.exit_code == 0, text.output
    assert "o/r" in text.output and "<- now" in text.output
    assert "Threshold 0.40 keeps" in text.output  # the lowest listed clears a 50 % target

    tuned = runner.invoke(cli, ["models", "eval", "--tune", "--epochs", "1", "--json"])
    assert tuned.exit_code == 0, tuned.output
    data = json.loads(tuned.output[tuned.output.index("{") :])
    assert "-tuned-" in data["classifier"] and data["scopes"][0]["held"] == 27
    assert "Loading weights" not in tuned.output and "model shards" not in tuned.output
    assert not (data_dir / "encoders" / "current.json").exists()  # the one in service: untouched


def test_the_cli_defaults_are_the_module_s() -> None:
    """The CLI spells --holdout and --target out (it imports evaluate, and sklearn, lazily)."""
    from bot.cli.models import eval_cmd
    from bot.llm import evaluate as ev

    defaults = {p.name: p.default for p in eval_cmd.params}
    assert (defaults["holdout"], defaults["target"]) == (ev.HOLDOUT, ev.TARGET)


def test_eval_of_an_empty_store_fails_with_advice(data_dir: Path) -> None:
    open_store(data_dir / "smolbot.db").close()  # the service's store, with nothing learned yet
    out = CliRunner().invoke(cli, ["models", "eval"])
    assert out.exit_code == 1
    assert "smolbot backfill" in out.output


def test_eval_without_a_store_says_where_it_looked(data_dir: Path) -> None:
    out = CliRunner().invoke(cli, ["models", "eval"])
    assert out.exit_code == 1
    assert "no store at" in out.output and not (data_dir / "smolbot.db").exists()


def test_a_date_learned_late_is_kept_and_a_relabel_keeps_it(any_store: Store) -> None:
    records = Records(any_store)
    records.learn("o/r", "It crashes\n\nboom", "bug", "backfill")
    assert records.examples()[0].created is None
    records.learn("o/r", "It crashes\n\nboom", "bug", "backfill", 1_700_000_000.0)
    seq = records.example_seq()
    assert records.examples()[0].created == 1_700_000_000.0
    records.learn("o/r", "It crashes\n\nboom", "question", "human")  # a person relabels it
    (e,) = records.examples()
    assert (e.label, e.created) == ("question", 1_700_000_000.0)
    assert records.example_seq() == seq + 1


def test_the_store_has_the_date_column(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.db")
    assert "created" in store.db.table("llm_examples").columns_dict
    store.close()


def _backfill(tmp_path: Path, per_label: int) -> None:
    path = tmp_path / "few.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["label", "title", "body"])  # no dates: the order learned
        w.writeheader()
        for e in dataset(["me/proj"], per_label, seed=3):
            title, _, body = e.text.partition("\n\n")
            w.writerow({"label": e.label, "title": title, "body": body})
    out = CliRunner().invoke(cli, ["backfill", "me/proj", "--from", str(path)])
    assert out.exit_code == 0, out.output


def test_too_few_held_out_issues_name_no_threshold(data_dir: Path, tmp_path: Path) -> None:
    """30 labeled issues held out 9: the header said 0 issues, the table was empty, and the
    advice named a threshold from the 9 anyway ("keeps 78 % at 100 % accuracy")."""
    _backfill(tmp_path, 10)
    for args in (["models", "eval"], ["models", "eval", "--repo", "me/proj"]):
        out = CliRunner().invoke(cli, args)
        assert out.exit_code == 1, out.output
        assert "too few labeled issues" in out.output and "a repository needs 10" in out.output
        assert "Threshold" not in out.output and "about 34 labeled issues" in out.output


def test_a_small_history_is_scored_but_names_no_threshold(data_dir: Path, tmp_path: Path) -> None:
    _backfill(tmp_path, 16)
    out = CliRunner().invoke(cli, ["models", "eval", "--target", "0.3"])
    assert out.exit_code == 0, out.output
    assert "me/proj" in out.output and "Threshold" not in out.output
    assert "held-out issues are too few to name a threshold from (at least 20)" in out.output
    raw = CliRunner().invoke(cli, ["models", "eval", "--json", "--target", "0.3"]).output
    parsed = json.loads(raw[raw.index("{") :])
    assert parsed["suggested_threshold"] is None
    assert all(lv["kept"] == 0 or lv["accuracy"] >= 0 for lv in parsed["levels"])


def test_the_threshold_table_counts_only_the_repositories_shown() -> None:
    from bot.llm.evaluate import _level

    examples = dataset(["a/big"], 20, seed=1) + dataset(["b/small"], 3, seed=2)
    report = evaluate(examples, embed=False)
    assert [s.scope for s in report.scopes] == ["a/big"]
    shown = [s for s in report.scored if s.scope == "a/big"]
    assert len(shown) < len(report.scored)

    def table(levels: list[Level]) -> list[tuple[float, float, float | None]]:
        return [(lv.threshold, lv.kept, lv.accuracy if lv.kept else None) for lv in levels]

    assert table(report.levels) == table([_level(shown, t) for t in THRESHOLDS])
    assert table(report.levels) != table([_level(report.scored, t) for t in THRESHOLDS])
