"""The learned first stage for labels: TF-IDF + logistic regression, one general model and one per
scope (repository), blended by how much the scope has seen; with the `embed` extra installed, the
same on MiniLM embeddings (bot/llm/embed_stage.py), mixed in with weight 1 - TFIDF_SHARE.

Chosen by measurement (bench/models.py, per-repository time split of the labeled dev set): word
1-2-grams over the title (counted twice) and the body with code blocks, HTML comments and links
replaced scored best; adding character n-grams scored lower and doubled training time.
bench/triage_variants.py (time split per repository and label): TF-IDF 0.674 macro-F1, MiniLM +
LR 0.651, the 0.7 / 0.3 mix 0.712; a contrastive fine-tune of MiniLM did not beat the mix, a
cross-entropy one did (0.727-0.744 over three seeds): bot/llm/tune.py runs it in the background and
the embedding stage then uses the tuned weights. With issue templates' scaffolding dropped from the
encoder's input (embed.prepare): stock mix 0.723, tuned 0.736 (bench/triage.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.llm.embed import CODE, MODEL_NAME, NOISE, get_encoder
from bot.llm.embed_stage import EmbedStage
from bot.llm.records import Example, digest, fits_of

MIN_SCOPE_EXAMPLES = 30  # below this a scope has no model of its own
MIN_GENERAL_EXAMPLES = 6
BLEND_K = 500.0  # the scope model's weight is n / (n + BLEND_K): 0.32 at 240 examples
# Few examples make confident-looking but unreliable probabilities: shrink them towards uniform
# over the asked labels by n / (n + SHRINK_K), n = examples seen (0.5 at 60, 0.95 at 1,140).
# It keeps the ranking and moves a fixed threshold toward precision on small histories
# (bench/triage_variants.py --calibration: at 210 examples 0.60 keeps 32 % at 0.88 accuracy).
# n counts no more than (labels asked) x (the second most common kind's examples): a history that is
# nearly all one kind (210 bugs, 2 features) teaches what a bug looks like, not what tells the kinds
# apart, and must not be sure of anything (a question was a bug at 0.80). A history whose kinds
# come in comparable numbers (the benchmark's, most repositories') is shrunk as before.
SHRINK_K = 60.0
TFIDF_SHARE = 0.7  # of the mix with the embedding stage (measured: 0.6 and 0.7 best, 0.5 lower)
BODY_CHARS = 3000
# Each TF-IDF model learns from at most this many examples, the newest (of its scope, or of all for
# the general model): a fit takes ~0.26 ms an example on one core (bench/retrain.py), so this bounds
# a retrain of a large repository's history at seconds, and its vocabulary's memory with it.
MAX_EXAMPLES = 20_000


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
    kinds: dict[str, int] = field(default_factory=dict)  # examples by label, all scopes
    seq: int = -1
    embedded: EmbedStage | None = None
    weights: Path | None = None  # the tuned encoder asked for (bot/llm/tune.py); None: stock
    # what each TF-IDF model learned from ("" the general one): a retrain keeps the models whose
    # examples did not change, and a scope that is all the examples shares the general model
    fitted_on: dict[str, str] = field(default_factory=dict)

    @classmethod
    def train(
        cls,
        examples: Sequence[Example],
        seq: int = 0,
        *,
        embed: bool = True,
        cache_dir: Path | None = None,
        weights: Path | None = None,
        encoder_name: str = MODEL_NAME,
        previous: Classifier | None = None,
    ) -> Classifier:
        """Fit on `examples` (oldest first); `embed` adds the MiniLM stage when the extra is
        installed. `previous`: the classifier this one replaces, whose TF-IDF models are kept where
        their examples are the same (a label learned in one repository refits that repository's
        model and the general one, not every repository's).

        `cache_dir` keeps embeddings on disk, so a new process does not encode every example
        again (a cold start encodes ~1,000 issues a minute on one core). `weights` names a tuned
        encoder (bot/llm/tune.py); if it cannot be loaded the stock one answers.
        """
        out = cls(seq=seq, weights=weights)
        # by what it learned from: one fit per distinct example set, previous ones included
        fits: dict[str, Model] = (
            fits_of(previous.general, previous.scoped, previous.fitted_on) if previous else {}
        )

        def fit(key: str, rows: Sequence[Example]) -> Model:
            key_of = out.fitted_on[key] = digest(rows)
            if key_of not in fits:
                fits[key_of] = Model.fit([e.text for e in rows], [e.label for e in rows])
            return fits[key_of]

        newest = examples[-MAX_EXAMPLES:]
        if _trainable(newest, MIN_GENERAL_EXAMPLES):
            out.general = fit("", newest)
        out.kinds = dict(Counter(e.label for e in examples))
        by_scope: dict[str, list[Example]] = {}
        for e in examples:
            by_scope.setdefault(e.scope, []).append(e)
        for scope, rows in by_scope.items():
            out.counts[scope], rows = len(rows), rows[-MAX_EXAMPLES:]
            if _trainable(rows, MIN_SCOPE_EXAMPLES):
                out.scoped[scope] = fit(scope, rows)
        encoder = (
            get_encoder(cache_dir, weights, encoder_name)
            if embed and out.general is not None
            else None
        )
        if encoder is not None:
            out.embedded = EmbedStage.train(
                encoder,
                examples,
                set(out.scoped),
                minimum=MIN_SCOPE_EXAMPLES,
                previous=previous.embedded if previous is not None else None,
            )
        return out

    @property
    def ready(self) -> bool:
        return self.general is not None

    @property
    def name(self) -> str:
        """What the model record names: the stages that answer."""
        return "tfidf-lr" if self.embedded is None else f"tfidf-lr+{self.embedded.encoder.name}-lr"

    def probabilities(
        self, scope: str, text: str, labels: Sequence[str]
    ) -> dict[str, float] | None:
        """P(label) over `labels` only (renormalised); None when there is nothing to go on."""
        if self.general is None:
            return None
        local = self.scoped.get(scope)
        # a scope that is all the examples shares the general model: the blend would be the same
        q = _restrict(local, text, labels) if local and local is not self.general else None
        p = _blend(
            min(self.counts.get(scope, 0), MAX_EXAMPLES), _restrict(self.general, text, labels), q
        )
        if self.embedded is not None:
            g, q = self.embedded.probabilities(scope, text)
            if g is not None:  # its scope model learned from fewer examples, maybe: its own count
                n = self.embedded.counts.get(scope, 0)
                e = _blend(n, _only(g, labels), q and _only(q, labels))
                p = {k: TFIDF_SHARE * p[k] + (1 - TFIDF_SHARE) * e[k] for k in labels}
        if sum(p.values()) <= 0:
            return None
        # the prior covers every asked label, seen or not: a classifier that never saw `bug` must
        # not be sure that an issue is a `feature` (it would never escalate, so never learn `bug`)
        return shrunk(p, self.evidence(labels), labels)

    @property
    def size(self) -> int:
        """How many examples it was trained on."""
        return sum(self.counts.values())

    def evidence(self, labels: Sequence[str]) -> int:
        """How many examples the shrink towards uniform counts (SHRINK_K): see `evidence`."""
        return evidence(self.kinds, labels, self.size)


def evidence(kinds: Mapping[str, int], labels: Sequence[str], size: int | None = None) -> int:
    """How many of the examples a model learned from (`kinds`: how many of each label; `size`:
    how many in all, their sum by default) the shrink towards uniform counts (SHRINK_K): all of
    them, but no more than as many times as there are asked `labels` as the asked label ranked
    just past the middle has (of two or three asked, the second most common; of four, the
    third). Of the asked ones only: 300 `feature` and 250 `question` examples, asked [bug,
    feature], know nothing of bug, and were sure (0.95) of a crash being a feature; a history of
    bugs and features only, asked the four kinds, called 72 of 106 questions a bug or a feature
    at 0.6 or more (it cannot tell a question from either), and is sure of none now, until the
    third kind has examples in number (one does not undo it). With one kind of four unseen (few
    repositories label documentation) it counts the third. The triage reader's head
    (bot/llm/reader.py) is shrunk by the same rule, over what it learned from."""
    asked = set(labels)
    counts = sorted((kinds.get(k, 0) for k in asked), reverse=True)
    if len(counts) < 2:
        return 0
    total = sum(kinds.values()) if size is None else size
    return min(total, len(asked) * counts[len(counts) // 2])


def shrunk(p: Mapping[str, float], n: int, labels: Sequence[str]) -> dict[str, float]:
    """`p` over `labels` (renormalised; a label it lacks has 0) shrunk towards uniform over the
    asked labels by n / (n + SHRINK_K), n = evidence(): every asked label keeps some chance, and
    no label is surer than n examples allow. `p` must have some mass on `labels`."""
    total = sum(float(p.get(k, 0.0)) for k in dict.fromkeys(labels))
    w = n / (n + SHRINK_K)
    return {k: w * float(p.get(k, 0.0)) / total + (1 - w) / len(labels) for k in labels}


def _blend(n: int, general: dict[str, float], local: dict[str, float] | None) -> dict[str, float]:
    """The scope's model weighs n / (n + BLEND_K), n = the examples it learned from."""
    if not local:
        return general
    w = n / (n + BLEND_K)
    return {k: (1 - w) * general[k] + w * local[k] for k in general}


def _restrict(model: Model, text: str, labels: Sequence[str]) -> dict[str, float]:
    row = model.proba([text])[0]
    return _only(dict(zip(model.classes, row, strict=True)), labels)


def _only(known: dict[str, Any], labels: Sequence[str]) -> dict[str, float]:
    return {k: float(known.get(k, 0.0)) for k in labels}


def _trainable(rows: Sequence[Example], minimum: int) -> bool:
    counts = Counter(e.label for e in rows)
    return len(rows) >= minimum and len(counts) >= 2
