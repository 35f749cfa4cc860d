"""What `smolbot models eval` prints: a Report as a maintainer reads it (text or JSON), no I/O."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports bot.llm.evaluate (sklearn) only when the command runs
    from bot.llm.evaluate import Level, Report

NOW_MARK = "  <- now (SMOLBOT_THRESHOLDS triage)"


def as_json(report: Report, configured: float, best: Level | None) -> dict[str, Any]:
    out = {k: v for k, v in asdict(report).items() if k != "scored"}
    out |= {"macro_f1": report.macro_f1, "configured_threshold": configured}
    out["suggested_threshold"] = best.threshold if best else None
    return out


def as_text(
    report: Report, *, configured: float, target: float, best: Level | None, tuned: bool
) -> list[str]:
    """The header, the per-repository table, the threshold table and the advice."""
    return [
        *_header(report, tuned),
        *_scopes(report),
        *_levels(report, configured),
        "",
        _advice(best, target),
    ]


def _header(report: Report, tuned: bool) -> list[str]:
    undated = report.examples - report.dated
    line = (
        f"Trained {report.classifier} on the older labeled issues, scored the newest"
        f" {report.holdout:.0%} of each repository and label ({report.held} issues)."
    )
    if undated:
        line += f" {undated} examples have no date: they are split in the order learned."
    lines = [line]
    if "MiniLM" in report.classifier and not tuned:
        lines.append(
            "(The stock MiniLM encoder: the tuned one has seen the held-out issues; --tune tunes"
            " a copy on the older ones.)"
        )
    return lines


def _scopes(report: Report) -> list[str]:
    lines = [
        "",
        f"{'repository':<32} {'train':>6} {'held':>5} {'macro-F1':>9} {'accuracy':>9}"
        f" {'acc. surest 80 %':>16}",
    ]
    for s in report.scopes:
        lines.append(
            f"{s.scope:<32} {s.train:>6} {s.held:>5} {s.macro_f1:>9.3f} {s.accuracy:>9.3f}"
            f" {s.surest_80:>16.3f}"
        )
    if len(report.scopes) > 1:
        lines.append(f"{'average':<32} {'':>6} {report.held:>5} {report.macro_f1:>9.3f}")
    return lines


def _levels(report: Report, configured: float) -> list[str]:
    lines = ["", f"{'threshold':>9} {'kept':>6} {'accuracy':>9} {'macro-F1':>9}"]
    for lv in report.levels:
        mark = NOW_MARK if abs(lv.threshold - configured) < 1e-9 else ""
        acc = f"{lv.accuracy:>9.3f} {lv.macro_f1:>9.3f}" if lv.kept else f"{'-':>9} {'-':>9}"
        lines.append(f"{lv.threshold:>9.2f} {lv.kept:>6.0%} {acc}{mark}")
    return lines


def _advice(best: Level | None, target: float) -> str:
    if best is None:
        return (
            f"No threshold here keeps issues at {target:.0%} accuracy: more labeled issues help"
            " (smolbot backfill), and a large model takes what stays unsure."
        )
    return (
        f"Threshold {best.threshold:.2f} keeps {best.kept:.0%} of new issues at"
        f" {best.accuracy:.0%} accuracy; the other {1 - best.kept:.0%} go to the large model"
        " (needs-triage without one). Set it for every repository with SMOLBOT_THRESHOLDS"
        f"='{{\"triage\": {best.threshold:.2f}}}', or per repository in .github/smolbot.yml"
        f" (triage: threshold: {best.threshold:.2f})."
    )
