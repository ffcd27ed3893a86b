"""The F* IDE client against the recorded transcripts, replayed by a fake `fstar.exe --ide`.

Expected files were normalised by F*'s cleanup.py (sorted keys, progress dropped, basenames), so
the comparisons are on parsed JSON. Progress messages (`full-buffer-finished`) and silent
`cancel`/`restart-solver`/symbol-range lookups are not in the recordings: those tests say spec_only.
"""

from __future__ import annotations

import json
import time

import pytest
from fstar_fakes import expected_lines, read_log, recorded_queries

from proofsmith.envs.base import EnvTimeoutError
from proofsmith.envs.fstar.messages import (
    FStarProtocolError,
    Issue,
    ProofStateDump,
    Query,
    Range,
    Response,
    parse_lookup,
    parse_output,
)


def _by_id(expected: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for obj in expected[1:]:
        out.setdefault(obj["query-id"], []).append(obj)
    return out


def _call(session, q: dict):
    a = q["args"]
    if q["query"] == "push":
        return session.push(a["code"], a["line"], a["column"], a["kind"], timeout=10).response
    if q["query"] == "peek":
        return session.peek(a["code"], a["line"], a["column"], a["kind"], timeout=10).response
    if q["query"] == "pop":
        return session.pop()
    raise AssertionError(q["query"])


def test_fstar_integration_push_pop_every_query(replay_session):
    session = replay_session("Integration.push-pop.in", "Integration.push-pop.ideout.expected", "Integration.fst")
    assert session.info.version == 3 and "push-partial-checked-file" in session.info.features
    expected = _by_id(expected_lines("Integration.push-pop.ideout.expected"))
    queries = recorded_queries("Integration.push-pop.in")
    assert len(queries) == 114
    for q in queries:
        resp = _call(session, q)
        want = expected[q["query-id"]][-1]
        assert (resp.status, resp.response) == (want["status"], want["response"]), q["query-id"]
    assert session.alive


def test_fstar_integration_issues_are_typed(replay_session):
    session = replay_session("Integration.push-pop.in", "Integration.push-pop.ideout.expected", "Integration.fst")
    replies = {q["query-id"]: _call(session, q) for q in recorded_queries("Integration.push-pop.in")}
    failed = replies["101"]
    assert failed.status == "failure" and not failed.ok
    (issue,) = failed.errors
    assert issue.number == 19 and issue.level == "error"
    assert issue.ranges == (Range("Integration.fst", (11, 15), (11, 17)), Range("Prims.fst", (477, 18), (477, 24)))
    peek = replies["137"]  # a peek reports errors with status success: read the issues
    assert peek.ok and [i.number for i in peek.errors] == [168]
    assert replies["175"].errors[0].message == "- Expected type int but 2uy has type UInt8.t\n"
    assert replies["112"].response is None and replies["112"].ok


def test_fstar_harness_selfref_partial_checked_file(replay_session):
    session = replay_session("Harness.selfref.in", "Harness.selfref.ideout.expected", "Harness.fst")
    assert session.push_partial_checked_file("Harness.always_foo", timeout=10).response.response == []
    r2 = session.push("let always_foo x : Lemma (foo x) = ()", 1, timeout=10).response
    assert r2.status == "failure" and [i.number for i in r2.errors] == [19]
    assert r2.errors[0].ranges[0] == Range("<input>", (1, 35), (1, 37))
    r3 = session.push("let always_foo x : Lemma (foo x) = Harness.always_foo x", 1, timeout=10).response
    assert [i.number for i in r3.errors] == [72] and "not in scope" in r3.errors[0].message


def test_fstar_unknown_query_is_a_protocol_violation(replay_session):
    session = replay_session("Minimal.describe-repl.in", "Minimal.describe-repl.ideout.expected", "Minimal.fst")
    resp = session.request("repl-info", {}, timeout=10).response
    assert resp.status == "protocol-violation" and resp.response == "Unknown query ‘repl-info’"


def test_fstar_lookup_failures_after_lax_push(replay_session):
    session = replay_session("InfoTable.lookup.in", "InfoTable.lookup.ideout.expected", "InfoTable.fst")
    queries = recorded_queries("InfoTable.lookup.in")
    assert session.push(**{k: queries[0]["args"][k] for k in ("code", "line", "kind")}, timeout=10).response.ok
    r = session.push(**{k: queries[1]["args"][k] for k in ("code", "line", "kind")}, timeout=10).response
    assert r.errors[0].number == 189 and r.errors[0].ranges[0].beg == (5, 11)
    for q in queries[2:]:
        a = q["args"]
        resp = session.lookup(a["symbol"], a["requested-info"], context=a["context"], location=a["location"])
        assert resp.status == "failure" and resp.response == "No such symbol, module, or namespace."
        assert session.lookup_result(resp) is None


def test_fstar_compute_and_autocomplete(replay_session):
    s = replay_session("Fib.compute.in", "fib.compute.out.expected", "Fib.fst")
    code = recorded_queries("Fib.compute.in")[0]["args"]["code"]
    assert s.push(code, 1, timeout=10).response.ok
    assert s.compute("fib 5", rules=None).response == "8 <: int"
    m = replay_session("Minimal.autocomplete-global.in", "minimal.autocomplete-global.out.expected", "Minimal.fst")
    code = recorded_queries("Minimal.autocomplete-global.in")[0]["args"]["code"]
    assert m.push(code, 1, timeout=10).response.ok
    assert m.autocomplete("Pr.Mkdtuple").response == [[14, "", "Prims.Mkdtuple2"], [0, "<search term>", "Pr.Mkdtuple"]]


def test_fstar_vfs_add_and_interface_violation(replay_session):
    s = replay_session("Missing.in", "Missing.ideout.expected", "Missing.fst")
    assert s.vfs_add("module Missing let _ = Seq.seq int", filename="/Missing.fst").response is None
    assert s.push("module Missing let _ = Seq.seq int", 1, timeout=10).response.response == []
    n = replay_session(
        "Number.interface-violation-and-fix.in", "Number.interface-violation-and-fix.ideout.expected", "Number.fst"
    )
    assert n.vfs_add("module Number\n\nlet a = -1\n").ok
    assert n.push("module Number\n", 1, timeout=10).response.ok
    bad = n.push("\nlet a = -1\n", 2, timeout=10).response
    assert not bad.ok and [r.fname for r in bad.errors[0].ranges] == ["Number.fst", "Number.fsti"]
    assert n.pop().ok
    assert n.vfs_add("module Number\n\nval a : a:int{a < 0}\n", filename="number.fsti").ok
    assert n.push("module Number\n", 1, timeout=10).response.ok
    assert n.push("\nlet a = 1\n", 2, timeout=10).response.ok


def test_fstar_tactic_failure_proof_states(replay_session):
    s = replay_session("FailRange.in", "FailRange.ideout.expected", "FailRange.fst")
    queries = recorded_queries("FailRange.in")
    a0 = queries[0]["args"]
    assert s.push(a0["code"], a0["line"], timeout=10).response.ok
    a1 = queries[1]["args"]
    reply = s.push(a1["code"], a1["line"], kind=a1["kind"], timeout=10)
    assert reply.response.errors[0].number == 228 and reply.response.errors[0].ranges[0].beg == (5, 2)
    (dump,) = [m for m in reply.messages if isinstance(m, ProofStateDump)]
    assert dump.label == "at the time of failure" and len(dump.goals) == 2
    assert dump.goals[0].type == "squash l_True" and dump.goals[0].hyps == ()
    assert dump.location.fname == "FStar.Tactics.V2.Derived.fst"


def test_fstar_full_buffer_until_finished_spec_only(replay_session):
    s = replay_session("FullBuffer.full-buffer.in", "old/FullBuffer.full-buffer.ideout.expected", "FullBuffer.fst")
    queries = recorded_queries("FullBuffer.full-buffer.in")
    assert s.vfs_add(queries[0]["args"]["contents"]).ok
    result = s.full_buffer(queries[1]["args"]["code"], timeout=10)
    assert result.finished and len(result.responses) == 4
    assert all(r.status == "failure" for r in result.responses)
    assert result.responses[-1].errors[0].number == 189 and result.responses[-1].errors[0].ranges[0].beg == (4, 19)


def test_fstar_segment(replay_session):
    s = replay_session("Tutorial.segment.in", "Tutorial.segment.ideout.expected", "Tutorial.fst")
    code = recorded_queries("Tutorial.segment.in")[0]["args"]["code"]
    decls = s.segment(code).response["decls"]
    assert len(decls) == 21 and decls[4]["def_range"]["beg"] == [9, 0]


def test_fstar_silent_server_times_out_and_restarts(replay_session):
    """Search.cons-snoc: an out-of-band error, then F* answers nothing more."""
    s = replay_session("Search.cons-snoc.in", "Search.cons-snoc.ideout.expected", "Search.fst")
    code = recorded_queries("Search.cons-snoc.in")[0]["args"]["code"]
    assert s.push(code, 1, timeout=10).response.ok
    t0 = time.monotonic()
    with pytest.raises(EnvTimeoutError):
        s.search("cons snoc", timeout=1)
    assert time.monotonic() - t0 < 8 and not s.alive  # deadline, SIGINT ignored, group killed
    s.start()
    assert s.push(code, 1, timeout=10).response.ok


def test_fstar_fire_and_forget_queries_do_not_hang_spec_only(replay_session, tmp_path):
    s = replay_session("Fib.compute.in", "fib.compute.out.expected", "Fib.fst")
    s.cancel(3, 0)
    s.restart_solver()
    assert s.lookup("nothing", symbol_range={"fname": "Fib.fst", "beg": [1, 0], "end": [1, 3]}, timeout=0.5) is None
    code = recorded_queries("Fib.compute.in")[0]["args"]["code"]
    assert s.push(code, 1, timeout=10).response.response == []  # later answers still route by query-id
    sent = [e["query"] for e in read_log(tmp_path)]
    assert sent == ["cancel", "restart-solver", "lookup", "push"]


def test_fstar_output_only_transcripts_parse():
    tutorial = [parse_output(json.dumps(o)) for o in expected_lines("Tutorial.push.ideout.expected")[1:]]
    assert tutorial[-1] == Response("a12", "failure", "Too many pops")
    warn = tutorial[10].issues[0]
    assert tutorial[10].ok and warn == Issue("warning", warn.message, (Range("<input>", (60, 0), (60, 48)),), 272)
    minimal = expected_lines("Minimal.push-positional-location.ideout.expected")
    found = parse_lookup(parse_output(json.dumps(minimal[2])).response)
    assert (found.name, found.type, found.defined_at.beg) == ("Minimal.hello", "string", (2, 4))


def test_fstar_query_ids_are_strings_and_garbage_is_rejected():
    line = json.loads(Query("7", "pop", {}).to_line())
    assert line == {"query-id": "7", "query": "pop", "args": {}}
    with pytest.raises(FStarProtocolError):
        parse_output('{"kind":"response","query-id":')
    with pytest.raises(FStarProtocolError):
        parse_output('{"kind":"weird"}')
    with pytest.raises(FStarProtocolError):
        parse_output("[1, 2]")
