"""The XML reader on Coq's real recorded byte streams."""

import random

import pytest

from proofsmith.envs.base import EnvCrashError
from proofsmith.envs.coq import xml_protocol as xp


def test_coq_reader_splits_unframed_stream_in_random_chunks(fixtures_dir):
    data = (fixtures_dir / "coqidetop/02_stream_raw.stdout.xml").read_bytes()
    rng = random.Random(0)
    for _ in range(20):
        reader, elems, i = xp.XmlStreamReader(), [], 0
        while i < len(data):
            n = rng.randint(1, 40)
            elems += reader.feed(data[i : i + n])
            i += n
        # 9 calls were sent, two of them ill-formed: exactly 7 replies came back
        assert [e.tag for e in elems].count("value") == 7
        assert all(e.tag in ("value", "feedback") for e in elems)


def test_coq_reader_nbsp_split_across_reads_becomes_space():
    reader = xp.XmlStreamReader()
    whole = b'<value val="fail"><state_id val="3"/><richpp><_><pp>The&nbsp;reference</pp></_></richpp></value>'
    cut = whole.index(b"&nbsp;") + 3
    assert reader.feed(whole[:cut]) == []
    (value,) = reader.feed(whole[cut:])
    sid, text, loc = xp.decode_fail(value)
    assert (sid, text, loc) == (3, "The reference", None)


def test_coq_reader_rejects_garbage_with_crash_error():
    reader = xp.XmlStreamReader()
    with pytest.raises(EnvCrashError):
        reader.feed(b"<value val='good'></oops>")


def test_coq_goals_decode_bullets_zipper_and_given_up(fixtures_dir):
    log = (fixtures_dir / "coqidetop/06_bullets_admit.log").read_text()
    replies = [line[4:] for line in log.splitlines() if line.startswith("<<< <value") and "<goals>" in line]
    decoded = [xp.decode_goals(xp.XmlStreamReader().feed(r.encode())[0]) for r in replies]
    first = decoded[0]  # after '-': one focused goal, the other in the background zipper
    assert [g.conclusion for g in first.foreground] == ["True"]
    assert [g.conclusion for g in first.background] == ["False -> False"]
    assert any(d.given_up and not d.foreground for d in decoded), "admit must leave a given-up goal"
    assert not any(d.complete and d.given_up for d in decoded)


def test_coq_call_encoding_matches_recorded_add(fixtures_dir):
    log = (fixtures_dir / "coqidetop/06_bullets_admit.log").read_text()
    sent = [line[4:] for line in log.splitlines() if line.startswith(">>> ")]
    assert xp.call_add("split.", 2).decode() in sent
    assert xp.call_add("Theorem t : True /\\ (False -> False).", 1).decode() in sent
    assert xp.call_edit_at(3).decode() in sent
    assert xp.call_goal().decode() in sent
