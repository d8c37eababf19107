"""The voiceflow Python module's Store (encrypted transcript store) and Enhancer (rules behind the queue)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from conftest import SPEECH, manifest, words

PASSPHRASE = "correct horse battery staple"


def files_contain(folder, needle: bytes) -> bool:
    return any(needle in path.read_bytes() for path in folder.rglob("*") if path.is_file())


def test_a_transcript_round_trips_through_an_encrypted_store(voiceflow, engine, tmp_path):
    transcript = engine.transcribe(SPEECH / "report.wav")
    before = datetime.now(timezone.utc)
    with voiceflow.Store(tmp_path / "store", PASSPHRASE) as store:
        assert store.encrypted and len(store) == 0
        id = store.put(transcript, "email", enhanced_text="Hi team, the report.", metadata={"app": "mail"}, model="tiny.en")
        store.flush()
        record = store.get(id)
        assert len(store) == 1
    assert record.id == id and record.context == "email" and record.model == "tiny.en"
    assert record.raw_text == transcript.text and words(record.raw_text) == words(manifest()["report.wav"])
    assert record.enhanced_text == "Hi team, the report." and record.metadata == {"app": "mail"}
    assert record.language == "en" and record.duration_s == transcript.duration_s
    assert [s.text for s in record.segments] == [s.text for s in transcript.segments]
    assert record.timings.total_s == transcript.timings.total_s
    assert before - timedelta(seconds=1) <= record.created_at <= datetime.now(timezone.utc)
    assert record.created_at_ms == int(record.created_at.timestamp() * 1000)
    assert not files_contain(tmp_path / "store", b"quarterly"), "plaintext on disk"

    with pytest.raises(voiceflow.WrongKeyError):
        voiceflow.Store(tmp_path / "store", "wrong passphrase")
    with voiceflow.Store(tmp_path / "store", PASSPHRASE) as store:
        assert store.get(id).raw_text == transcript.text


def test_dictate_transcribes_finishes_and_stores_in_one_call(voiceflow, engine, tmp_path):
    with voiceflow.Store(tmp_path / "history", "dictation") as store:
        record = voiceflow.dictate(engine, store, SPEECH / "report.wav", "email", beam_size=1)
        assert words(record.raw_text) == words(manifest()["report.wav"])
        finished = voiceflow.Enhancer().enhance(record.raw_text, "email", language="en")
        assert record.enhanced_text == finished.text
        assert record.context == "email"
        assert record.model == engine.model_info.name
        assert record.segments and record.duration_s > 4.0
        assert store.get(record.id).enhanced_text == record.enhanced_text
        with pytest.raises(voiceflow.InvalidArgumentError, match="poem"):
            voiceflow.dictate(engine, store, SPEECH / "report.wav", "poem")  # type: ignore[arg-type]
        assert [r.id for r in store.search("quarterly")] == [record.id]


def test_search_query_and_delete(voiceflow, tmp_path):
    with voiceflow.Store(tmp_path / "s", key=bytes(range(32))) as store:
        budget = store.put("Let's move the budget meeting to Friday", "email")
        chat = store.put("budget looks fine", "chat")
        store.put("Lunch on Friday?", "chat")
        assert [r.id for r in store.search("BUDGET, friday")] == [budget]
        assert {r.id for r in store.search("budget")} == {budget, chat}
        assert [r.id for r in store.query(context="email")] == [budget]
        assert [r.raw_text for r in store.query(words="friday", context="chat")] == ["Lunch on Friday?"]
        first = store.query(limit=2)
        rest = store.query(limit=2, after=first[-1].id)
        assert [r.raw_text for r in first + rest] == [
            "Lunch on Friday?",
            "budget looks fine",
            "Let's move the budget meeting to Friday",
        ]
        with pytest.raises(voiceflow.InvalidArgumentError):
            store.query(after="not-an-id")
        assert store.query(until=datetime.now(timezone.utc) - timedelta(hours=1)) == []
        assert len(store.query(since=datetime.now(timezone.utc) - timedelta(hours=1))) == 3
        store.delete(chat)
        with pytest.raises(voiceflow.NotFoundError) as raised:
            store.get(chat)
        assert isinstance(raised.value, LookupError) and isinstance(raised.value, voiceflow.StoreError)
        assert [r.id for r in store.search("budget")] == [budget]
        with pytest.raises(voiceflow.InvalidArgumentError):
            store.get("not-an-id")
        with pytest.raises(voiceflow.InvalidArgumentError):
            store.search("!!!")
    with pytest.raises(voiceflow.ClosedError):
        len(store)
    with pytest.raises(voiceflow.WrongKeyError):
        voiceflow.Store(tmp_path / "s", key=bytes(32))


def test_store_keys_must_be_explicit(voiceflow, tmp_path):
    for kwargs in [{}, {"key": bytes(31)}, {"passphrase": "p", "key": bytes(32)}, {"passphrase": "p", "encrypted": False}]:
        with pytest.raises(voiceflow.InvalidArgumentError):
            voiceflow.Store(tmp_path / "x", **kwargs)
    with voiceflow.Store(tmp_path / "plain", encrypted=False) as store:
        assert not store.encrypted
        store.put("stored in the clear")
    (tmp_path / "not-a-store").mkdir()
    (tmp_path / "not-a-store" / "notes.txt").write_text("hello")
    with pytest.raises(voiceflow.StoreError):
        voiceflow.Store(tmp_path / "not-a-store", PASSPHRASE)


def test_the_enhancer_finishes_text_for_its_context(voiceflow):
    with voiceflow.Enhancer(capacity=8, workers=2) as enhancer:
        out = enhancer.enhance("um so the the rate is twenty five percent")
        assert out.text == "So the rate is 25%." and out.backend == "rules"
        assert {"filler", "repetition", "number"} <= {e.kind for e in out.edits}
        code = enhancer.enhance("open paren x close paren", "code")
        assert code.text == "(x)"
        assert enhancer.enhance("thanks", "chat", timeout=5.0).text
        with pytest.raises(voiceflow.RequestTimeoutError) as raised:
            enhancer.enhance("um hello", timeout=0)
        assert isinstance(raised.value, TimeoutError)
        with pytest.raises(voiceflow.InvalidArgumentError, match="unknown context"):
            enhancer.enhance("hello", "poem")
    with pytest.raises(voiceflow.ClosedError):
        enhancer.enhance("hello")
    with pytest.raises(voiceflow.InvalidArgumentError):
        voiceflow.Enhancer(capacity=0)


def test_a_full_queue_raises_queue_full(voiceflow):
    long_text = "um so the the rate is twenty five percent " * 20000
    outcomes = []
    with voiceflow.Enhancer(capacity=1, workers=1) as enhancer:

        def submit():
            try:
                outcomes.append(enhancer.enhance(long_text).text)
            except voiceflow.QueueFullError as error:
                outcomes.append(error)

        threads = [threading.Thread(target=submit) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert any(isinstance(o, voiceflow.QueueFullError) for o in outcomes), outcomes
    finished = [o for o in outcomes if isinstance(o, str)]
    assert finished and all(text.startswith("So the rate is 25% ") for text in finished)
