"""The learned first stage for labels: TF-IDF + logistic regression, one general model and one per
scope (repository), blended by how much the scope has seen.

Chosen by measurement (bench/models.py, per-repository time split of the labeled dev set): word
1-2-grams over the title (counted twice) and the body with code blocks, HTML comments and links
replaced scored best; adding character n-grams scored lower and doubled training time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.llm.records import Example

MIN_SCOPE_EXAMPLES = 30  # below this a scope has no model of its own
MIN_GENERAL_EXAMPLES = 6
BLEND_K = 500.0  # the scope model's weight is n / (n + BLEND_K): 0.32 at 240 examples
# Few examples make confident-looking but unreliable probabilities: shrink them towards uniform
# over the asked labels by n / (n + SHRINK_K), n = examples seen (0.5 at 60, 0.95 at 1,140).
SHRINK_K = 60.0
BODY_CHARS = 3000
CODE = re.compile(r"```.*?```", re.DOTALL)
NOISE = re.compile(r"<!--.*?-->|https?://\S+", re.DOTALL)


def features(text: str) -> str:
    """Title twice (it says the most per word), then the body with code and noise replaced."""
    title, _, body = text.partition("\n")
    body = NOISE.sub(" ", CODE.sub(" codeblock ", body))[:BODY_CHARS]
    return f"{title} {title} {body}"


@dataclass
class Model:
    """One TF-IDF vectorizer and one logistic regression."""

    classes: list[str]
    vectorizer: TfidfVectorizer
    lr: LogisticRegression

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], c: float = 4.0) -> Model:
        vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        docs = [features(t) for t in texts]
        try:
            x = vec.fit_transform(docs)
        except ValueError:  # tiny corpora: no term in two documents
            vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
            x = vec.fit_transform(docs)
        # saga: lbfgs took 60x longer here; random_state: the same examples give the same model
        lr = LogisticRegression(C=c, max_iter=3000, solver="saga", random_state=0)
        lr.fit(x, list(labels))
        return cls([str(k) for k in lr.classes_], vec, lr)

    def proba(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        x = self.vectorizer.transform([features(t) for t in texts])
        out: np.ndarray[Any, Any] = self.lr.predict_proba(x)
        return out


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
        n = sum(self.counts.values())
        w = n / (n + SHRINK_K)
        # the prior covers every asked label, seen or not: a classifier that never saw `bug` must
        # not be sure that an issue is a `feature` (it would never escalate, so never learn `bug`)
        return {k: w * v / total + (1 - w) / len(labels) for k, v in p.items()}


def _restrict(model: Model, text: str, labels: Sequence[str]) -> dict[str, float]:
    row = model.proba([text])[0]
    known = dict(zip(model.classes, row, strict=True))
    return {k: float(known.get(k, 0.0)) for k in labels}


def _trainable(rows: Sequence[Example], minimum: int) -> bool:
    counts = Counter(e.label for e in rows)
    return len(rows) >= minimum and len(counts) >= 2
