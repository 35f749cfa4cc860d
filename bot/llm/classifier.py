"""The learned first stage for labels: TF-IDF (words + characters, title weighted) + logistic regression,
one general model and one per scope (repository), blended by how much the scope has seen."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.llm.records import Example

MIN_SCOPE_EXAMPLES = 30  # below this a scope has no model of its own
MIN_GENERAL_EXAMPLES = 6
BLEND_K = 150.0  # the scope model's weight is n / (n + BLEND_K)
BODY_CHARS = 3000
NOISE = re.compile(r"```.*?```|<!--.*?-->|https?://\S+", re.DOTALL)


def split(text: str) -> tuple[str, str]:
    title, _, body = text.partition("\n")
    return title.strip(), NOISE.sub(" ", body)[:BODY_CHARS]


@dataclass
class Model:
    """Three vectorizers (title words, body words, all characters) and one logistic regression."""

    classes: list[str]
    vectorizers: list[TfidfVectorizer]
    lr: LogisticRegression

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], c: float = 4.0) -> Model:
        parts = [split(t) for t in texts]
        vecs = _vectorizers()
        cols = _columns(parts)
        x = hstack([v.fit_transform(col) for v, col in zip(vecs, cols, strict=True)]).tocsr()
        lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        lr.fit(x, list(labels))
        return cls([str(c) for c in lr.classes_], vecs, lr)

    def proba(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        cols = _columns([split(t) for t in texts])
        x = hstack(
            [v.transform(col) for v, col in zip(self.vectorizers, cols, strict=True)]
        ).tocsr()
        out: np.ndarray[Any, Any] = self.lr.predict_proba(x)
        return out


def _vectorizers() -> list[TfidfVectorizer]:
    return [
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True),
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2, max_features=50000),
        TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2, max_features=80000
        ),
    ]


def _columns(parts: Sequence[tuple[str, str]]) -> list[list[str]]:
    titles = [t for t, _ in parts]
    bodies = [b for _, b in parts]
    return [titles, bodies, [f"{t} {t} {b}" for t, b in parts]]


@dataclass
class Classifier:
    """General + per-scope models trained from labeled examples; `seq` says what it was trained on."""

    general: Model | None = None
    scoped: dict[str, Model] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    seq: int = -1

    @classmethod
    def train(cls, examples: Sequence[Example], seq: int = 0) -> Classifier:
        out = cls(seq=seq)
        if _trainable(examples, MIN_GENERAL_EXAMPLES):
            out.general = Model.fit([e.text for e in examples], [e.label for e in examples])
        by_scope: dict[str, list[Example]] = {}
        for e in examples:
            by_scope.setdefault(e.scope, []).append(e)
        for scope, rows in by_scope.items():
            out.counts[scope] = len(rows)
            if _trainable(rows, MIN_SCOPE_EXAMPLES):
                out.scoped[scope] = Model.fit([e.text for e in rows], [e.label for e in rows])
        return out

    @property
    def ready(self) -> bool:
        return self.general is not None

    def probabilities(
        self, scope: str, text: str, labels: Sequence[str]
    ) -> dict[str, float] | None:
        """P(label) over `labels` only (renormalised); None when there is nothing to go on."""
        if self.general is None:
            return None
        p = _restrict(self.general, text, labels)
        local = self.scoped.get(scope)
        if local is not None:
            w = self.counts[scope] / (self.counts[scope] + BLEND_K)
            q = _restrict(local, text, labels)
            p = {k: (1 - w) * p[k] + w * q[k] for k in labels}
        total = sum(p.values())
        if total <= 0:
            return None
        return {k: v / total for k, v in p.items()}


def _restrict(model: Model, text: str, labels: Sequence[str]) -> dict[str, float]:
    row = model.proba([text])[0]
    known = dict(zip(model.classes, row, strict=True))
    return {k: float(known.get(k, 0.0)) for k in labels}


def _trainable(rows: Sequence[Example], minimum: int) -> bool:
    counts = Counter(e.label for e in rows)
    return len(rows) >= minimum and len(counts) >= 2
