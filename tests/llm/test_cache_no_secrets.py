"""An answer that holds something like a credential is never cached: the cache keeps answers as
the model gave them, before any check, and a model that copied a key from a staged diff or an
issue left it in plain text in the store."""

from __future__ import annotations

import json

from bot.llm.records import Records
from bot.store import Store

KEY = "AKIA" + "IOSFODNN7EXAMPLE"


def test_an_answer_with_a_key_is_not_kept(llm_store: Store) -> None:
    records = Records(llm_store)
    records.cache_put("k1", "commit", "v1", "m", {"subject": f"feat: add key {KEY}"}, 0.9)
    records.cache_put("k2", "commit", "v1", "m", {"subject": "feat: add the retry loop"}, 0.9)
    assert records.cache_get("k1") is None
    assert records.cache_get("k2") == ({"subject": "feat: add the retry loop"}, 0.9)
    kept = [json.loads(r["value"]) for r in llm_store.db.table("llm_cache").rows]
    assert KEY not in json.dumps(kept)
