"""Every recorded REPL scenario, driven through `ReplSession`'s verbs against the transcript server.

For each request of `X.in` the test calls the matching session method; the server checks the
request and answers with the recorded bytes. The client's typed parse must give back exactly the
recorded JSON, and what the client wrote must be the `.in` request byte for byte (or, for the few
`.in` requests written with other spacing/key order or raw line breaks, the same request after the
REPL's own framing rule).
"""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, replies_of, requests_of

from proofsmith.envs.lean import messages as m
from proofsmith.envs.lean.session import ReplSession

IDENTICAL = 143  # of 170 requests; the other 27 differ only in spacing ("cmd" :) or key order
SCENARIOS = sorted(p.name[: -len(".expected.out")] for p in FIXTURES.glob("*.expected.out"))


def call(session: ReplSession, req: dict) -> m.Response:
    """Dispatch a recorded request to the session verb, in the REPL's own parse order (spec §3)."""
    if "tactic" in req and "proofState" in req:
        return session.tactic(req["tactic"], req["proofState"])
    if "pickleTo" in req and "env" in req:
        return session.pickle_env(req["pickleTo"], req["env"])
    if "unpickleEnvFrom" in req:
        return session.unpickle_env(req["unpickleEnvFrom"])
    if "pickleTo" in req and "proofState" in req:
        return session.pickle_proof_state(req["pickleTo"], req["proofState"])
    if "unpickleProofStateFrom" in req:
        return session.unpickle_proof_state(req["unpickleProofStateFrom"], req.get("env"))
    opts = dict(
        env=req.get("env"),
        all_tactics=req.get("allTactics", False),
        root_goals=req.get("rootGoals", False),
        infotree=req.get("infotree"),
    )
    if "cmd" in req:
        return session.command(req["cmd"], **opts)
    return session.file(req["path"], **opts)


def test_lean_every_scenario_with_replies_is_covered():
    # 55 recorded scenarios; only the two pickle_scoped_notation ones (known REPL bug) have no replies.
    assert len(SCENARIOS) == 55
    missing = {p.stem for p in FIXTURES.glob("*.in")} - set(SCENARIOS)
    assert missing == {"pickle_scoped_notation", "pickle_scoped_notation_2"}


@pytest.mark.parametrize("name", SCENARIOS)
def test_lean_transcript_scenario(name, fake):
    requests = [json.loads(r) for r in requests_of(name)]
    replies = replies_of(name)
    assert len(requests) == len(replies)
    with ReplSession(fake.config(name)) as session:
        for req, expected in zip(requests, replies):
            got = call(session, req)
            assert got.to_json() == expected, f"{name}: parsed reply differs from the recording"
        assert session.generation == 1  # no restart: the server accepted every request
    assert fake.sent_requests() == requests


def test_lean_requests_are_byte_identical_to_the_in_files(fake):
    """Canonical `.in` requests must be reproduced byte for byte; the rest must frame to the same request."""
    identical = equivalent = 0
    for name in SCENARIOS:
        raw_in = [r for r in requests_of(name)]
        fake.log.unlink(missing_ok=True)
        with ReplSession(fake.config(name)) as session:
            for text in raw_in:
                call(session, json.loads(text))
        sent = fake.sent().decode("utf-8").split("\n\n")[:-1]  # each request is one line + one blank line
        assert len(sent) == len(raw_in)
        for mine, theirs in zip(sent, raw_in):
            assert "\n" not in mine  # one line: newlines inside strings are escaped
            if mine == theirs:
                identical += 1
            else:  # `{"cmd" : ...}`, `{"proofState": 0, "tactic": ...}`, or raw line breaks in the .in
                assert json.loads(mine) == json.loads(theirs)
                equivalent += 1
    assert fake.sent().endswith(b"}\n\n")
    assert (identical, equivalent) == (IDENTICAL, 170 - IDENTICAL)


def test_lean_raw_line_break_is_sent_escaped(fake):
    """invalid_line_break.in shows a raw break inside a string vanishing (`bysorry`); we never send one."""
    with ReplSession(fake.config("line_breaks")) as session:
        r = session.command("theorem foo : 1 = 1 := by\nsorry")
        assert isinstance(r, m.CommandResponse) and r.env == 0
        assert [e.data for e in r.errors] == ["unsolved goals\n⊢ 1 = 1", "unexpected token 'sorry'; expected command"]
    assert fake.sent() == b'{"cmd": "theorem foo : 1 = 1 := by\\nsorry"}\n\n'


def test_lean_response_kinds_and_channels(fake):
    """The two error channels and the reply kinds, read from the real recordings."""
    with ReplSession(fake.config("app_type_mismatch2")) as s:
        first = s.command("example : 1 = 0 := by\n  cases 1\n  rfl\n  have: true := by\n    apply ?succ\n    trivial")
        assert isinstance(first, m.CommandResponse) and first.errors[0].data.startswith(
            "(kernel) application type mismatch"
        )
        opened = s.command("example : 1 = 0 := sorry")
        assert opened.sorries[0].proof_state == 0 and opened.sorries[0].pos == m.Pos(1, 19)
        assert opened.messages[0].is_sorry_warning
        step = s.tactic("cases 1", 0)
        assert isinstance(step, m.ProofStepResponse) and len(step.goals) == 2 and not step.completed
        s.tactic("rfl", 1)
        kernel = s.tactic("have: true := by\n    apply ?succ\n    trivial", 2)
        assert kernel.goals == () and kernel.proof_status.startswith("Error: kernel type check failed")
        assert not kernel.completed
        with_sorry = s.tactic("have: true := sorry", 2)
        assert with_sorry.sorries[0].proof_state == 4 and with_sorry.sorries[0].pos is None
        assert with_sorry.proof_state == 5  # sorry ids come first: never assume old id + 1
        thrown = s.tactic("apply ?succ", 4)
        assert isinstance(thrown, m.ReplError) and thrown.is_lean_error
        assert thrown.text.startswith("Tactic `apply` failed")


def test_lean_logged_error_with_no_goals_is_not_completed(fake):
    with ReplSession(fake.config("invalid_tactic")) as s:
        s.command("theorem my_theorem (x : Nat) : x = x := by sorry")
        r = s.tactic("exact my_fake_premise", 0)
        assert r.goals == () and r.proof_status == m.CONTAINS_SORRY
        assert r.errors and r.errors[0].pos == m.Pos(0, 0)
        assert not r.completed


def test_lean_all_tactics_and_root_goals_give_proof_states(fake):
    with ReplSession(fake.config("all_tactics-20250622")) as s:
        r = s.command("example (P : Prop) (hp : P) : P := by\n  exact hp\n", all_tactics=True)
        assert [(t.tactic, t.proof_state, t.goals) for t in r.tactics] == [("exact hp", 0, "P : Prop\nhp : P\n⊢ P")]
        assert s.tactic("exact hp", 0).completed
    with ReplSession(fake.config("root_goals")) as s:
        r = s.command("example : 1=1 := by\n  skip\n  exact?\n\ntheorem bb : 1+1=2 := by rfl", root_goals=True)
        roots = [x for x in r.sorries if x.pos == x.end_pos]
        assert [x.goal for x in roots] == ["⊢ 1 = 1", "⊢ 1 + 1 = 2"]
        assert s.tactic("rfl", 0).completed and s.tactic("exact rfl", 1).completed


def test_lean_pickling_round_trip(fake):
    with ReplSession(fake.config("pickle_proof_state_env")) as s:
        assert s.command("import Lean").env == 0
        assert s.command("def f : Nat := by sorry", 0).sorries[0].proof_state == 0
        pickled = s.pickle_proof_state("test/c.olean", 0)
        assert pickled.proof_state == 1 and pickled.goals == ("⊢ Nat",)  # a new id for the same state
        assert s.unpickle_proof_state("test/c.olean", env=0).proof_state == 2
        assert s.tactic("have t : Nat := 42", 2).goals == ("t : Nat\n⊢ Nat",)
        s.pickle_proof_state("test/d.olean", 3)
        assert s.unpickle_proof_state("test/d.olean", env=0).proof_state == 5
        assert s.tactic("exact t", 5).completed
    with ReplSession(fake.config("pickle_environment")) as s:
        assert s.command("def f := 42").env == 0
        assert s.pickle_env("test/a.olean", 0).env == 0  # same id back
        assert s.unpickle_env("test/a.olean").env == 1  # new id
        assert s.command("example : f = 42 := by rfl", 1) == m.CommandResponse(env=2)


def test_lean_unknown_ids_are_errors_not_crashes(fake):
    with ReplSession(fake.config("unknown_environment")) as s:
        assert s.command("def f : Nat := by sorry", 5) == m.ReplError("Unknown environment.")
    with ReplSession(fake.config("unknown_proof_state")) as s:
        s.command("def f : Nat := by sorry")
        assert s.tactic("exact 42", 1) == m.ReplError("Unknown proof state.")
        assert s.process.alive
