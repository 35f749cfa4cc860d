"""ModelLayer: the one object the rest of smolbot asks for typed answers, labels and model stats."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from bot.core.escalation import Route, Situation, route
from bot.llm import classifier as first_stage
from bot.llm import confidence, embed, encoder_share, generate, large, reader, tune
from bot.llm.api import Answer, Classification, ModelRecord, ModelUnavailable
from bot.llm.backends import Generation, LocalBackend, get_backend
from bot.llm.classifier import Classifier
from bot.llm.modelfile import check_model_file
from bot.llm.prompts import PROMPTS_DIR, load_prompt
from bot.llm.records import Example, Learned, Records
from bot.llm.stats import summarize
from bot.llm.zeroshot import LabelAnswer, classify_with, large_not_used
from bot.llm.zeroshot import prompt_version as zeroshot_version
from bot.settings import Settings
from bot.store import Store
from bot.store.outage import LocksLost

T = TypeVar("T", bound=BaseModel)
Check = Callable[[Any], float]  # evidence in [0, 1] that a validated answer is right
log = logging.getLogger(__name__)
RETRAIN_EVERY = 20  # new labeled examples before the classifier retrains (cheap: seconds)
# A classifier of more examples than this retrains in a thread beside the triage, which answers with
# the one it has until the new one is ready; smaller ones retrain in place (at most ~2 s here).
INLINE_RETRAIN_MAX = 3000
# The large model's max_tokens at least: a prompt's bound is sized for the local model's plain
# JSON (16 tokens for a kind); a forced tool call (Anthropic) costs more than its input, and a
# reasoning model (OpenAI's o-series, gpt-5) spends its thinking from the same budget, so the
# bound cut every such answer off. The schema bounds the answer; the provider bills what it writes.
LARGE_MIN_TOKENS = 1024
RETRAIN_PAUSE_S = 300.0  # after a background retrain failed (logged), before the next one starts


class ModelLayer:
    """Local backend, large backend, classifier, cache and call records for one store."""

    def __init__(
        self, settings: Settings, store: Store, *, prompts_dir: Path | None = None
    ) -> None:
        self.settings = settings
        self.records = Records(store)
        self.prompts_dir = prompts_dir or PROMPTS_DIR
        self.large = large.LargeModel(settings) if large.configured(settings) else None
        self.retrain_every = RETRAIN_EVERY
        self.inline_retrain_max = INLINE_RETRAIN_MAX
        self._clf = Classifier()
        self._clf_lock = threading.Lock()
        self._clf_gen = 0  # trainings started; a retrain swaps in only if none started after it
        self._retrain: threading.Thread | None = None  # the background retrain, while it runs
        self._retrain_after = 0.0  # monotonic time before which no background retrain starts
        self._next_sync = 0.0  # monotonic time of the next look at the store's shared tunes
        # called right before each local generation (a cache miss): a CLI says the slow part
        # has started, where a minute of silence reads as a hang
        self.before_generation: Callable[[], None] | None = None
        self._reader: tuple[tuple[int, int] | None, reader.Head | None] = (None, None)
        self._reader_lock = threading.Lock()

    # --- backends -------------------------------------------------------------------------
    @property
    def local(self) -> LocalBackend:
        s = self.settings
        opts: dict[str, object] = {"n_threads": s.model_threads, "n_ctx": s.model_context}
        return get_backend(s.model_backend, s.effective_model_path, opts)

    def local_available(self) -> bool:
        return self.local_problem() is None

    def local_problem(self) -> str | None:
        """Why the local model cannot answer (no file, a damaged one, one its runtime failed to
        load), or None when it can be tried."""
        try:
            check_model_file(self.settings.effective_model_path, self.local.runtime)
        except ModelUnavailable as err:
            return str(err)
        return None

    def _skipped_local(self, task: str, version: str, why: str) -> ModelRecord | None:
        """The record of a local model left out because its file is there but unusable (a
        missing file is a choice, say a large-model-only setup: not recorded on every call)."""
        path = self.settings.effective_model_path
        if not path.exists():
            return None
        rec = ModelRecord(task, self.local.name, path.name, version, 0.0, False, 0.0)
        rec.note = f"local model unavailable: {why}"
        return rec

    def budget_left(self) -> int:
        if self.large is None:
            return 0
        used = self.records.budget_used(self.large.name)
        return max(self.settings.large_daily_budget - used, 0)

    def _large_fn(self, schema: type[BaseModel]) -> generate.GenerateFn:
        assert self.large is not None
        model = self.large

        def spend() -> bool:  # one of the day's budget for every request, retries included
            return self.records.spend(model.name, self.settings.large_daily_budget)

        def fn(system: str, user: str, max_tokens: int, _temperature: float) -> Generation:
            try:
                reply = model.complete(system, user, schema, max_tokens, spend)
            except large.LargeModelError as err:
                raise generate.GenerationFailed(str(err)) from None
            return Generation(
                reply.text, reply.tokens_in, reply.tokens_out, truncated=reply.truncated
            )

        return fn

    def _local_fn(self, schema: type[BaseModel]) -> generate.GenerateFn:
        backend = self.local
        json_schema = schema.model_json_schema()

        def fn(system: str, user: str, max_tokens: int, temperature: float) -> Generation:
            if self.before_generation is not None:
                self.before_generation()
            return backend.generate(
                system, user, max_tokens=max_tokens, temperature=temperature, schema=json_schema
            )

        return fn

    # --- ask ------------------------------------------------------------------------------
    def ask(
        self,
        task: str,
        prompt: str,
        variables: dict[str, str],
        schema: type[T],
        *,
        scope: str = "",
        allow_escalation: bool = True,
        max_tokens: int | None = None,
        check: Check | None = None,
        use_unsure: bool = True,
    ) -> Answer[T]:
        """A validated answer from the local model, escalated to the large one when unsure.

        `check` is the caller's own evidence about an answer (e.g. agreement with what retrieval
        found in the repository's history), 0..1; it multiplies the answer's confidence before the
        escalation decision. Cached answers are checked again (the cache keeps the model's part).
        `use_unsure=False`: the caller sets an answer under the bar aside (the first response is
        posted only when sure), so the large model is not asked when no answer of it can clear
        the bar (_beyond_reach): with a `comment` bar of 0.97 every opened issue paid for a call
        whose answer was then dropped. A commit draft under the bar is still its caller's to use."""
        p = load_prompt(prompt, self.prompts_dir)
        req = generate.Request(
            task,
            p.render(variables),
            variables,
            max_tokens or p.spec.max_tokens,
            p.spec.temperature,
            p.spec.samples,
        )
        call_id = uuid.uuid4().hex
        why = self.local_problem()
        first = None
        if why is None:
            try:
                first = self._try_local(req, schema, check)
            except ModelUnavailable as err:  # there, but it would not load (remembered: once)
                log.warning("local model not used: %s", err)
                why = str(err)
        skipped = self._skipped_local(task, req.rendered.version, why) if why else None
        bar = None if use_unsure else self.settings.threshold(task)
        if why is not None and not self._large_ready(allow_escalation, bar):
            if skipped is not None:  # what was not used and why, as for any call
                if bar is not None:
                    self._beyond_reach(skipped, bar, allow_escalation)
                self._done(Answer(None, 0.0, skipped, "no_answer", [skipped]), call_id, scope)
            raise ModelUnavailable(why)  # as for a missing model: the caller's cautious path
        return self._finish(
            req, schema, first, call_id, scope, allow_escalation, check, skipped, not use_unsure
        )

    def _try_local(
        self, req: generate.Request, schema: type[T], check: Check | None = None
    ) -> generate.Outcome[T]:
        local = self.local
        out = generate.run(
            self.records,
            "local",
            local.name,
            local.model_name,
            self._local_fn(schema),
            req,
            schema,
            identity=local.model_id,
        )
        return _checked(out, check)

    def _try_large(
        self, req: generate.Request, schema: type[T], check: Check | None = None
    ) -> generate.Outcome[T]:
        assert self.large is not None
        room = max(req.max_tokens, LARGE_MIN_TOKENS)
        req = generate.Request(req.task, req.rendered, req.variables, room, 0.0)
        out = generate.run(
            self.records,
            "large",
            self.large.provider,
            self.large.model,
            self._large_fn(schema),
            req,
            schema,
            escalated=True,
            identity=self.large.identity,
        )
        return _checked(out, check)

    def _large_ready(self, allow: bool, bar: float | None = None) -> bool:
        """Whether the large model may be asked: allowed, configured, budget left, and, with a
        `bar`, one its answer can clear (_beyond_reach)."""
        return self._why_not_large(allow, bar) is None

    def _why_not_large(self, allow: bool, bar: float | None = None) -> str | None:
        """Why the large model may not be asked (_large_ready), as the end of a sentence for the
        audit, or None when it may. Past its reach it says only that: _beyond_reach says why."""
        if self.large is None:
            return "no large model is configured"
        if not allow:
            return "escalation to the large model is not allowed here"
        if self.budget_left() <= 0:
            return "the large model's daily budget is spent"
        if bar is not None and bar > confidence.reach("large"):
            return "the large model is not asked either"
        return None

    def _beyond_reach(self, rec: ModelRecord, bar: float, allow: bool) -> None:
        """Say on the final record (the audit shows it) when the large model was not asked only
        because no answer of it can reach `bar`: confidence caps it at its prior (0.95), and
        config allows thresholds up to 1. With `threshold: 0.97` every unsure issue paid for a
        large-model call whose answer was then set aside as unsure."""
        top = confidence.reach("large")
        if bar > top and self._large_ready(allow):
            why = (
                f"not escalated: the threshold {bar:.2f} is above the most a large model's"
                f" answer can get ({top:.2f})"
            )
            rec.add_note(why)

    def _finish(
        self,
        req: generate.Request,
        schema: type[T],
        first: generate.Outcome[T] | None,
        call_id: str,
        scope: str,
        allow: bool,
        check: Check | None = None,
        skipped: ModelRecord | None = None,
        reach: bool = False,
    ) -> Answer[T]:
        # None: no answer at all, which no bar accepts (not even 0); the local model was tried
        # already or cannot be, so only the large one is left to ask
        conf = first.confidence if first is not None and first.value is not None else None
        bar = self.settings.threshold(req.task)
        situation = self._situation(conf, bar, allow, reach=reach)
        where = route(replace(situation, local_available=False))
        attempts = [first.record] if first is not None else []
        if skipped is not None:  # the local model was left out: why comes first
            attempts.insert(0, skipped)
        if where is Route.ACCEPT and first is not None and conf is not None:
            return self._done(
                Answer(first.value, conf, first.record, "ok", attempts), call_id, scope
            )
        if where is Route.LARGE:
            second = self._try_large(req, schema, check)
            attempts.append(second.record)
            if second.value is not None and second.confidence >= bar:
                ans = Answer(second.value, second.confidence, second.record, "escalated", attempts)
                return self._done(ans, call_id, scope)
            if second.value is not None:  # the large model is unsure too: the cautious path
                generate.unsure(second.record, conf, second.confidence, bar)
                ans = Answer(
                    second.value, second.confidence, second.record, "not_escalated", attempts
                )
                return self._done(ans, call_id, scope)
        value = first.value if first is not None else None
        rec = first.record if first is not None else attempts[-1] if attempts else None
        if where is Route.LARGE and first is not None:  # asked, and it failed: say so
            large_not_used(first.record, attempts[-1])
        if where is Route.CAUTIOUS and reach and first is not None:  # only the bar kept it out?
            self._beyond_reach(first.record, bar, allow)
        if rec is None:  # nothing was asked (the budget ran out since ask() looked): say so
            rec = ModelRecord(req.task, "none", "", req.rendered.version, 0.0, False, 0.0)
            rec.note = "no model could be asked"
        status: Literal["not_escalated", "no_answer"] = (
            "not_escalated" if value is not None else "no_answer"
        )
        return self._done(Answer(value, conf or 0.0, rec, status, attempts), call_id, scope)

    def _situation(
        self, conf: float | None, threshold: float, allow: bool, *, reach: bool = False
    ) -> Situation:
        """`reach` (a classification, or an ask() whose caller never uses an answer under the
        bar): a bar no answer of the large model can reach is as if there were none
        (_beyond_reach). Not for other asks: a generation under the bar is still the caller's to
        use (a commit draft is)."""
        return Situation(
            confidence=conf,
            threshold=threshold,
            large_configured=self.large is not None
            and (not reach or threshold <= confidence.reach("large")),
            budget_left=self.budget_left(),
            allow_escalation=allow,
            local_available=conf is None and self.local_available(),
        )

    def _done(self, ans: Answer[Any], call_id: str, scope: str) -> Answer[Any]:
        for rec in ans.attempts:
            final = rec is ans.record
            self.records.log(
                rec,
                call_id=call_id,
                final=final,
                scope=scope,
                status=ans.status if final else "attempt",
            )
        if ans.record not in ans.attempts:
            self.records.log(
                ans.record, call_id=call_id, final=True, scope=scope, status=ans.status
            )
        return ans

    # --- classify -------------------------------------------------------------------------
    def classify(
        self,
        task: str,
        scope: str,
        text: str,
        labels: Sequence[str],
        *,
        allow_escalation: bool = True,
        threshold: float | None = None,
    ) -> Answer[Classification]:
        """A label from `labels`: the learned classifier first, the large model when it is unsure.

        `threshold` is the repository's own bar when it sets one (`triage: threshold:`); it
        decides escalation as well as acceptance, so a stricter repository escalates instead
        of getting a `needs-triage` it did not ask for."""
        bar = self.settings.threshold(task) if threshold is None else threshold
        clf = self.classifier()
        started = time.perf_counter()
        probs = clf.probabilities(scope, text, labels)
        call_id = uuid.uuid4().hex
        first = self._classifier_answer(task, clf, probs)
        first.record.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        where = route(
            self._situation(first.confidence if probs else None, bar, allow_escalation, reach=True)
        )
        if where is Route.ACCEPT:
            return self._done(first, call_id, scope)
        why = None if probs or where is Route.LOCAL else self.local_problem()
        skipped = (
            self._skipped_local(task, zeroshot_version(self.prompts_dir), why) if why else None
        )
        if skipped is not None:  # a cold start that cannot ask the local model: say why
            first.attempts.append(skipped)
        second = self._reader_answer(task, scope, text, labels, first) if probs else None
        if second is not None:
            first = second
            if second.confidence >= bar:
                return self._done(second, call_id, scope)
        return classify_with(
            self, where, first, task, scope, text, labels, call_id, allow_escalation, bar
        )

    def _classifier_answer(
        self, task: str, clf: Classifier, probs: dict[str, float] | None
    ) -> Answer[Classification]:
        model = f"{clf.name}@{clf.seq}"
        if not probs:
            rec = ModelRecord(task, "classifier", model, "", 0.0, False, 0.0, note="untrained")
            return Answer(None, 0.0, rec, "no_answer", [rec])
        label = max(probs, key=lambda k: probs[k])
        rec = ModelRecord(task, "classifier", model, "", round(probs[label], 4), False, 0.0)
        value = Classification(label=label, probabilities=probs)
        return Answer(value, probs[label], rec, "ok", [rec])

    def _reader_answer(
        self,
        task: str,
        scope: str,
        text: str,
        labels: Sequence[str],
        first: Answer[Classification],
    ) -> Answer[Classification] | None:
        """The reader's label for an issue the first stage is unsure of; None when it has no head
        (off, not installed, examples not read yet) or the model cannot read (logged)."""
        head = self.reader_head()
        if head is None:
            return None
        started = time.perf_counter()
        enc = self.reader_encoder()
        try:
            x = enc.encode([text])[0]
        except Exception as err:  # a model file gone since: the first stage's answer stands
            log.warning("triage reader skipped: %s", err)
            return None
        read = head.probabilities(scope, x, labels)
        probs = reader.combine(first.value.probabilities if first.value else {}, read)
        label = max(probs, key=lambda k: probs[k])
        conf = round(probs[label], 4)
        model = f"{enc.name}@{head.examples}"
        version = reader.prompt_version(self.prompts_dir)
        rec = ModelRecord(task, "reader", model, version, conf, False, 0.0)
        rec.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        rec.note = (
            f"mean of the first stage ({first.confidence:.2f}) and the reader"
            f" ({max(read.values()):.2f})"
        )
        value = Classification(
            label=label, probabilities={k: round(v, 4) for k, v in probs.items()}
        )
        return Answer(value, conf, rec, "ok", [*first.attempts, rec])

    def reader_encoder(self) -> embed.Encoder:
        """The reader for this model file, data dir and prompts (the model loads on first use)."""
        s = self.settings
        return reader.get_reader(
            s.effective_model_path, s.data_dir, s.model_threads, self.prompts_dir
        )

    def reader_head(self) -> reader.Head | None:
        """The reader's head, refit from the cached states when a read finished; None when the
        reader is off, not installed, the model file is missing or no read finished yet."""
        s = self.settings
        if not s.triage_reader or not reader.available() or not self.local_available():
            return None
        st = reader.stamp(s.data_dir)
        if st is None:
            return None
        with self._reader_lock:
            if self._reader[0] != st:
                n = reader.MAX_EXAMPLES
                examples = self.records.examples(newest_per_scope=n)[-n:]
                x, rows = reader.read_rows(self.reader_encoder(), examples)
                self._reader = (st, reader.Head.fit(x, rows))
                log.info("triage reader: head fit on %d read examples", len(rows))
            return self._reader[1]

    def reader_due(self, force: bool = False) -> tuple[bool, str]:
        """Whether the examples should be read now (reader on, installed, model file there, due)."""
        ok, why, _ = self._reader_plan(force)
        return ok, why

    def start_reader(self, force: bool = False) -> tuple[bool, str]:
        """Start reading the examples in a child process when due: (started, why or why not)."""
        ok, why, examples = self._reader_plan(force)
        if not ok:
            return False, why
        s = self.settings
        proc = reader.start_background(
            examples,
            s.data_dir,
            s.effective_model_path,
            threads=s.model_threads,
            prompts_dir=self.prompts_dir,
        )
        return True, f"{why}; reading in process {proc.pid} (log: reader/reader.log)"

    def _reader_plan(self, force: bool) -> tuple[bool, str, list[Example]]:
        s = self.settings
        if not s.triage_reader:
            return False, "the reader is off (SMOLBOT_TRIAGE_READER=true turns it on)", []
        if not reader.available():
            return False, reader.INSTALL_HINT, []
        try:
            check_model_file(s.effective_model_path)
        except ModelUnavailable as err:
            return False, str(err), []
        examples = self.records.examples()
        busy = reader.running(s.data_dir)
        last = None if force else reader.current(s.data_dir)
        enc = self.reader_encoder()
        labels = len({e.label for e in examples})
        unread = None
        if last is not None and last.name == enc.name and not busy:
            # what a read would take and has no state yet (the cache is looked in, nothing read)
            texts = [e.text for e in examples[-reader.MAX_EXAMPLES :]]
            unread = sum(v is None for v in enc.lookup(texts))
        ok, why = reader.due(len(examples), labels, enc.name, last, busy=busy, unread=unread)
        return ok, why, examples

    # --- learning -------------------------------------------------------------------------
    def learn(
        self,
        scope: str,
        text: str,
        label: str,
        source: str = "human",
        created: float | None = None,
        issue: int | None = None,
    ) -> Learned:
        """Store one labeled example (`created`: when the issue was opened, if known; `issue`:
        its number, so an edited issue stays one example); the classifier retrains from them in
        batches. Says whether it was new, known or outranked."""
        if source not in ("large", "backfill", "human"):
            raise ValueError(f"source must be large, backfill or human, not {source!r}")
        return self.records.learn(scope, text, label, source, created, issue)

    def forget_backfilled(self, scope: str, text: str, issue: int | None = None) -> bool:
        """Drop the example a backfill taught from `text` (or, with `issue`, from that issue
        under any text it had), if any: its issue teaches nothing now (the label map changed).
        A person's label and the large model's stay. The classifier learns of it at its next
        retrain (a backfill job forces one)."""
        return self.records.forget(scope, text, "backfill", issue)  # found as learn() stored it

    def forget_label(self, scope: str, text: str, issue: int | None, label: str) -> bool:
        """A person took a kind label off an issue: the example of that label it taught (theirs,
        or the large model's answer the bot labeled it by) goes; one of another label (relabeled
        since) stays."""
        gone = [
            self.records.forget(scope, text, src, issue, label=label) for src in ("human", "large")
        ]
        return any(gone)

    def classifier(self, force: bool = False, *, here: bool = False) -> Classifier:
        """The classifier, retrained when RETRAIN_EVERY examples arrived since (any process), or
        when a newly tuned encoder was published (bot/llm/tune.py; its embeddings are cached), or
        when `force`d.

        A large one (over inline_retrain_max examples) retrains in a background thread and this
        returns the current one meanwhile: a triage never waits out a retrain of a long history.
        A first training, a forced one and one asked for `here` (the model-queue jobs that warm
        the classifier up) happen in this call."""
        self.sync_encoder()
        seq = self.records.example_seq()
        tuned = tune.current(self.settings.data_dir)
        with self._clf_lock:
            clf = self._clf
            # a sequence gone back (a store restored from a backup, or examples deleted by hand:
            # forget() moves it on) is a history this classifier never learned: retrain
            stale = seq - clf.seq >= self.retrain_every or seq < clf.seq or (seq and not clf.ready)
            retune = bool(seq) and self._weights(tuned) != clf.weights
            if not (force or retune or (stale and seq != clf.seq)):
                return clf
            if force or here or not clf.ready or clf.size <= self.inline_retrain_max:
                self._clf_gen += 1
                self._clf = self._train(seq, tuned, clf)
                return self._clf
            if self._retrain is None and time.monotonic() >= self._retrain_after:
                self._clf_gen += 1
                self._retrain = threading.Thread(  # examples read here: the thread shares
                    target=self._train_beside,  # no connection with the job's thread
                    args=(self._clf_gen, seq, tuned, clf, self._examples()),
                    name="classifier-retrain",
                    daemon=True,
                )
                self._retrain.start()
            return clf

    def wait_retrain(self, timeout_s: float | None = None) -> bool:
        """Wait for a background retrain, if one runs; False if it is still running after
        `timeout_s`."""
        thread = self._retrain
        if thread is not None:
            thread.join(timeout_s)
            return not thread.is_alive()
        return True

    def _weights(self, tuned: tune.Tuned | None) -> Path | None:
        return tuned.weights(self.settings.data_dir) if tuned is not None else None

    def _examples(self) -> list[Example]:
        return self.records.examples(newest_per_scope=first_stage.MAX_EXAMPLES)  # all it reads

    def _train(
        self,
        seq: int,
        tuned: tune.Tuned | None,
        previous: Classifier,
        examples: list[Example] | None = None,
    ) -> Classifier:
        return Classifier.train(
            self._examples() if examples is None else examples,
            seq,
            cache_dir=self.settings.data_dir / "embeddings",
            weights=self._weights(tuned),
            encoder_name=tuned.name if tuned is not None else embed.MODEL_NAME,
            previous=previous,
        )

    def _train_beside(
        self,
        gen: int,
        seq: int,
        tuned: tune.Tuned | None,
        previous: Classifier,
        examples: list[Example],
    ) -> None:
        """The background retrain: swap the new classifier in unless a training that started
        after this one (a forced one) already did; classify() notices newer examples after it."""
        started = time.perf_counter()
        try:
            new = self._train(seq, tuned, previous, examples)
        except Exception:  # the current classifier keeps answering; retried after a pause
            log.exception(
                "background retrain of the triage classifier failed; the one trained on %d"
                " examples answers, and the retrain is tried again in %.0f s",
                previous.size,
                RETRAIN_PAUSE_S,
            )
            self._retrain_after = time.monotonic() + RETRAIN_PAUSE_S
            new = None
        with self._clf_lock:
            self._retrain = None
            if new is not None and gen == self._clf_gen:
                self._clf = new
                log.info(
                    "triage classifier retrained on %d examples in %.1f s, beside the triage",
                    new.size,
                    time.perf_counter() - started,
                )

    def start_tune(self, force: bool = False) -> tuple[bool, str]:
        """Start tuning the encoder in a child process when due: (started, why or why not).

        The child publishes the weights when done and `classifier()` picks them up; nothing waits.
        """
        data_dir, url = self.settings.data_dir, self._shared_url()
        examples = self.records.examples()
        published = encoder_share.newest(self.records.store) if url else None
        ok, why = tune.decide(
            examples,
            data_dir,
            force,
            published=published,
            learned_since=self.records.learned_since,
        )
        if not ok:
            return False, why
        proc = tune.start_background(examples, data_dir, epochs=tune.EPOCHS, publish_to=url)
        shared = ", then publish to the store" if url else ""
        return True, f"{why}; tuning in process {proc.pid}{shared} (log: encoders/tune.log)"

    def sync_encoder(self, *, now: float | None = None) -> tuple[bool, str]:
        """Start fetching the fleet's newest tune when this machine does not use it yet.

        Only with a shared (PostgreSQL) store, and at most every CHECK_EVERY seconds: one small
        query. Returns (started, why or why not); bot/llm/encoder_share.py does the work.
        """
        url = self._shared_url()
        if url is None:
            return False, "the store is not shared: tunes stay on the machine that ran them"
        t = time.monotonic() if now is None else now
        if t < self._next_sync:
            return False, "the store was checked less than a minute ago"
        self._next_sync = t + encoder_share.CHECK_EVERY
        data_dir = self.settings.data_dir
        if not embed.available():
            return False, f"the embed extra is not installed ({embed.INSTALL_HINT})"
        try:
            pub = encoder_share.latest(self.records.store)
        except LocksLost:  # the job's lock went with the session: it stops here, not at its write
            raise
        except Exception as err:  # the store is down or its row is unreadable: classify goes on
            log.warning("shared encoder tunes not checked: %s", err)
            return False, f"shared tunes not checked: {err}"
        ok, why = encoder_share.wanted(pub, tune.current(data_dir), data_dir)
        if not ok:
            return False, why
        if tune.running(data_dir):
            return False, f"{why}; a tune or fetch is running here"
        proc = tune.start_fetch(data_dir, url)
        log.info("%s: fetching it in process %d (log: encoders/tune.log)", why, proc.pid)
        return True, f"{why}; fetching in process {proc.pid} (log: encoders/tune.log)"

    def _shared_url(self) -> str | None:
        url = self.settings.effective_database_url
        return url if encoder_share.shared(url) else None

    def stats(self, since: float = 0.0) -> dict[str, Any]:
        return summarize(self.records.calls(since))


def _checked(out: generate.Outcome[T], check: Check | None) -> generate.Outcome[T]:
    """Multiply a validated answer's confidence by the caller's evidence (noted in the record)."""
    if check is None or out.value is None:
        return out
    evidence = min(max(float(check(out.value)), 0.0), 1.0)
    out.confidence = round(out.confidence * evidence, 4)
    out.record.confidence = out.confidence
    out.record.add_note(f"evidence {evidence:.2f}")
    return out


__all__ = ["Check", "LabelAnswer", "ModelLayer"]
