"""A bug report in another language than English: what triage can and cannot judge of it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.core.actions import AddLabels, Comment, NoOp
from bot.core.config import Kind, RepoConfig
from bot.core.templates import (
    DEFAULT_NEEDS,
    missing_needs,
    needs_from_template,
    parse_template,
    pick_bug_template,
    reads_as_english,
    report_gaps,
)
from bot.core.triage import IssueSnapshot, info_actions

# the same report, in English and in four other languages: each has a version, steps, what was
# expected and what happened, and the error
ENGLISH = (
    "When I open a file with a space in its name the app crashes. Steps to reproduce: create "
    "a file named 'a b.txt' and open it. I expected it to open, instead it closes. The error "
    "says it cannot find the file. I am using the latest version on Windows."
)
OTHERS = {
    "de": (
        "Wenn ich eine Datei mit einem Leerzeichen im Namen öffne, stürzt die Anwendung ab. "
        "Schritte: eine Datei namens 'a b.txt' anlegen und öffnen. Erwartet habe ich, dass sie "
        "sich öffnet, stattdessen schließt sich das Programm. Die Fehlermeldung sagt, die Datei "
        "wurde nicht gefunden. Ich benutze die neueste Fassung unter Windows."
    ),
    "es": (
        "Cuando abro un archivo con un espacio en el nombre, la aplicación se cierra. Pasos: "
        "crear un archivo llamado 'a b.txt' y abrirlo. Esperaba que se abriera, pero se cierra. "
        "El mensaje dice que no encuentra el archivo. Uso la última edición en Windows."
    ),
    "ja": (
        "名前に空白を含むファイルを開くとアプリが落ちます。再現手順：'a b.txt' という名前の"
        "ファイルを作って開きます。開くはずですが、閉じてしまいます。ファイルが見つからない"
        "というメッセージが出ます。Windows で最新のものを使っています。"
    ),
    "ru": (
        "Когда я открываю файл с пробелом в имени, приложение падает. Шаги: создать файл "
        "'a b.txt' и открыть его. Ожидал, что он откроется, а программа закрывается. Сообщение "
        "говорит, что файл не найден. Использую последнюю сборку на Windows."
    ),
}


def test_an_english_report_is_read_as_english() -> None:
    assert reads_as_english(ENGLISH)
    assert {n.key for n in missing_needs("Crash", ENGLISH, DEFAULT_NEEDS)} == set()


@pytest.mark.parametrize("lang", sorted(OTHERS))
def test_a_report_in_another_language_is_not_asked_for_what_it_has(lang: str) -> None:
    body = OTHERS[lang]
    assert not reads_as_english(body)
    # the default needs are recognised by English words: the report is not judged lacking them
    missing, unread = report_gaps("Absturz", body, DEFAULT_NEEDS)
    assert missing == ()
    assert {n.key for n in unread} == {"version", "steps", "expected", "logs"}


def test_signs_that_are_no_words_still_count_in_another_language() -> None:
    body = OTHERS["de"] + "\n\nVersion 2.4.1\n\n```\nFileNotFoundError: a b.txt\n```"
    missing, unread = report_gaps("Absturz", body, DEFAULT_NEEDS)
    # a version number and a log block are signs in any language; steps and expected are unread
    assert missing == () and {n.key for n in unread} == {"steps", "expected"}


def test_code_and_logs_do_not_make_a_report_english() -> None:
    body = (
        OTHERS["es"]
        + '\n\n```\nTraceback (most recent call last):\n  File "app.py", line 3, in <module>\n    open(the_file_that_is_not_there)\nFileNotFoundError: it is not found and that is the error\n```\nhttps://example.com/the/path/to/it/is/this'
    )
    assert not reads_as_english(body)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Crash",
        "TypeError in foo.bar()",  # too little prose to tell: read as English, as before
        "The app crashes on start.\n\n```\nTraceback ...\n```",
        "Crash when the config file has a BOM. Version 1.2. Steps: save it as UTF-8 with BOM, run.",
    ],
)
def test_short_and_technical_english_reads_as_english(text: str) -> None:
    assert reads_as_english(text)


def _snapshot(body: str, labels: tuple[str, ...] = ("bug",)) -> IssueSnapshot:
    return IssueSnapshot("o/r", 1, "Absturz", body, "alice", labels)


def test_nothing_is_asked_of_a_report_triage_cannot_read_and_the_audit_says_why() -> None:
    cfg = RepoConfig()
    _, unread = report_gaps("Absturz", OTHERS["ru"], DEFAULT_NEEDS)
    actions = info_actions(Kind.BUG, (), _snapshot(OTHERS["ru"]), cfg, unread=unread)
    assert not any(isinstance(a, (Comment, AddLabels)) for a in actions)
    (noop,) = actions
    assert isinstance(noop, NoOp) and "English" in noop.reason and "steps" in noop.reason


def test_needs_info_stays_while_what_was_asked_cannot_be_read() -> None:
    # asked in English; the reporter answers in Russian: needs-info is not taken off on a guess
    cfg = RepoConfig()
    issue = _snapshot(OTHERS["ru"], ("bug", "needs-info"))
    _, unread = report_gaps("Absturz", OTHERS["ru"], DEFAULT_NEEDS)
    actions = info_actions(Kind.BUG, (), issue, cfg, unread=unread)
    assert [type(a) for a in actions] == [NoOp]


JA_FORM = """name: バグ報告
labels: [bug]
body:
  - type: input
    attributes: {label: バージョン}
    validations: {required: true}
  - type: textarea
    attributes: {label: 再現手順}
    validations: {required: true}
  - type: textarea
    attributes: {label: 期待する動作}
    validations: {required: true}
"""


def test_a_form_in_another_script_keeps_its_fields_apart() -> None:
    tpl = parse_template(".github/ISSUE_TEMPLATE/bug.yml", JA_FORM)
    assert tpl is not None and pick_bug_template([tpl]) is tpl
    needs = needs_from_template(tpl)
    # the steps left empty, the last field filled: only the steps are missing
    body = (
        "### バージョン\n\n2.4.1\n\n### 再現手順\n\n_No response_\n\n### 期待する動作\n\n開くこと"
    )
    assert [n.label for n in missing_needs("落ちる", body, needs, tpl)] == ["再現手順"]
    filled = body.replace("_No response_", "ファイルを開く")
    assert missing_needs("落ちる", filled, needs, tpl) == ()


def test_two_forms_in_another_script_are_told_apart() -> None:
    other = JA_FORM.replace("再現手順", "画面の名前").replace("期待する動作", "ブラウザ")
    a = parse_template(".github/ISSUE_TEMPLATE/bug.yml", JA_FORM)
    b = parse_template(".github/ISSUE_TEMPLATE/bug-ui.yml", other)
    assert a is not None and b is not None
    body = "### バージョン\n\n2.4.1\n\n### 画面の名前\n\n設定\n\n### ブラウザ\n\nFirefox"
    assert pick_bug_template([a, b], body) is b


DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "issues-labeled-dev.csv"


@pytest.mark.skipif(not DATA.exists(), reason="the shared data set is not on this machine")
def test_the_benchmark_reports_read_as_english_but_for_those_that_are_not() -> None:
    # the data set's issues come from English-speaking projects; a few are written in another
    # language. Reading an English one as another language would only stop triage asking
    csv.field_size_limit(1 << 30)
    with DATA.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    foreign = [r["title"] for r in rows if not reads_as_english(f"{r['title']}\n{r['body']}")]
    assert len(rows) > 1000 and len(foreign) <= len(rows) // 200
    assert "Extention React non définie sur chrome" in foreign  # French
