"""Small hand-written labeled issues for classifier tests (not from the shared data set)."""

from __future__ import annotations

BUGS = [
    "App crashes on startup\n\nTraceback: TypeError when opening the settings file",
    "Error when saving file\n\nSaving throws an exception and the data is lost",
    "Button does nothing after update\n\nSince version 2 the button is broken",
    "Segfault in parser\n\nThe parser crashes with a segmentation fault on empty input",
    "Wrong result for negative numbers\n\nabs(-1) returns -1, expected 1; this is broken",
    "Memory leak in worker\n\nMemory grows until the process crashes",
]
FEATURES = [
    "Add dark mode\n\nIt would be nice to support a dark theme",
    "Support exporting to CSV\n\nPlease add an option to export the table as CSV",
    "Feature request: keyboard shortcuts\n\nI would like shortcuts for common actions",
    "Allow custom colors\n\nProposal: let users configure the colors of the chart",
    "Add a plugin API\n\nIt would be great to extend the tool with plugins",
    "New option for verbose logging\n\nPlease add a flag that enables more logs",
]
QUESTIONS = [
    "How do I configure the proxy?\n\nI cannot find where to set the proxy, how do I do that?",
    "How to install on Windows?\n\nWhat is the right way to install this on Windows?",
    "Question about the license\n\nCan I use this in a commercial project?",
    "How can I change the port?\n\nIs there a way to run the server on another port?",
    "Where are the logs stored?\n\nI want to read the logs, where do I find them?",
    "Is Python 3.8 supported?\n\nDoes this library work with Python 3.8?",
]
LABELS = ["bug", "feature", "question"]


def seed(layer: object, scope: str = "o/r") -> None:
    learn = layer.learn  # type: ignore[attr-defined]
    for label, texts in zip(LABELS, (BUGS, FEATURES, QUESTIONS), strict=True):
        for text in texts:
            learn(scope, text, label, source="human")
