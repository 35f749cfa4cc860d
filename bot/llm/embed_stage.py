"""Logistic regression on MiniLM embeddings: one general model and one per scope.

The classifier mixes its probabilities with the TF-IDF ones (bot/llm/classifier.py). Training
encodes each example once (the encoder caches by text), so retraining after a batch of new
examples only encodes the new ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

from bot.llm.embed import Encoder, Vectors
from bot.llm.records import Example, digest, fits_of

C = 4.0  # measured: C = 1, 4, 16 within 0.02 macro-F1; 4 mixed best with TF-IDF
MAX_EXAMPLES = 5000  # the newest ones: bounds a cold start's encoding (~1 min per 1,000 texts)


@dataclass
class EmbedModel:
    classes: list[str]
    lr: LogisticRegression

    @classmethod
    def fit(cls, x: Vectors, labels: Sequence[str]) -> EmbedModel:
        lr = LogisticRegression(C=C, max_iter=2000).fit(x, list(labels))
        return cls([str(k) for k in lr.classes_], lr)

    def proba(self, x: Vectors) -> dict[str, float]:
        row: np.ndarray[Any, Any] = self.lr.predict_proba(x)[0]
        return {k: float(v) for k, v in zip(self.classes, row, strict=True)}


@dataclass
class EmbedStage:
    """General + per-scope embedding models; probabilities are blended by the classifier."""

    encoder: Encoder
    general: EmbedModel | None = None
    scoped: dict[str, EmbedModel] = field(default_factory=dict)
    # the examples each scope's model learned from, in the newest MAX_EXAMPLES of all: fewer than
    # its TF-IDF model's when the scope's labels are mostly older than another scope's, so the
    # classifier blends this stage by these counts
    counts: dict[str, int] = field(default_factory=dict)
    fitted_on: dict[str, str] = field(default_factory=dict)  # as Classifier.fitted_on

    @classmethod
    def train(
        cls,
        encoder: Encoder,
        examples: Sequence[Example],
        scopes: set[str],
        *,
        minimum: int = 1,
        previous: EmbedStage | None = None,
    ) -> EmbedStage:
        """Fit the general model on the newest MAX_EXAMPLES examples, and a model for each of
        `scopes` with `minimum` examples among them. A model of `previous` whose examples are the
        same is kept if `previous` used this encoder (a tuned one gives other embeddings)."""
        rows = list(examples)[-MAX_EXAMPLES:]
        out = cls(encoder)
        if not rows:
            return out
        fits: dict[str, EmbedModel] = (
            fits_of(previous.general, previous.scoped, previous.fitted_on)
            if previous is not None and previous.encoder is encoder  # the same weights
            else {}
        )
        x = encoder.encode([e.text for e in rows])

        def fit(key: str, idx: list[int]) -> EmbedModel:
            key_of = out.fitted_on[key] = digest([rows[i] for i in idx])
            if key_of not in fits:
                fits[key_of] = EmbedModel.fit(x[idx], [rows[i].label for i in idx])
            return fits[key_of]

        if len({e.label for e in rows}) >= 2:
            out.general = fit("", list(range(len(rows))))
        for scope in scopes:
            idx = [i for i, e in enumerate(rows) if e.scope == scope]
            if len(idx) >= minimum and len({rows[i].label for i in idx}) >= 2:
                out.scoped[scope] = fit(scope, idx)  # if it is all the examples: the general model
                out.counts[scope] = len(idx)
        return out

    def probabilities(
        self, scope: str, text: str
    ) -> tuple[dict[str, float] | None, dict[str, float] | None]:
        """(general, scope) probabilities over the classes each model saw; None where none."""
        if self.general is None and scope not in self.scoped:
            return None, None
        x = self.encoder.encode([text])
        local = self.scoped.get(scope)
        general = self.general.proba(x) if self.general is not None else None
        if local is not None and local is self.general:  # a scope that is all the examples
            return general, general
        return general, local.proba(x) if local is not None else None
