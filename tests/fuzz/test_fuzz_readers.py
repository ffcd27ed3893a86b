"""Hypothesis fuzzing of the four protocol readers: on arbitrary bytes, replies cut at any point and
garbage interleaved with real replies, each returns results or raises its documented error, and
never hangs (pytest-timeout) or leaks another exception type."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proofsmith.envs.base import EnvCrashError
from proofsmith.envs.coq.xml_protocol import XmlStreamReader
from proofsmith.envs.fstar.messages import FStarProtocolError, parse_output
from proofsmith.envs.fstar.session import FStarIdeSession, FStarSessionConfig
from proofsmith.envs.isabelle.framing import ByteMessageReader, encode_message
from proofsmith.envs.lean.framing import GarbageError, ResponseReader
from proofsmith.envs.lean.messages import ProtocolError, parse_response

FUZZ = settings(
    max_examples=int(os.environ.get("PROOFSMITH_FUZZ_EXAMPLES", 150)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
pytestmark = pytest.mark.timeout(120)

COQ_REPLY = (
    b'<value val="good"><pair><state_id val="5"/><pair><union val="in_l"><unit/></union>'
    b"<string>a&nbsp;b</string></pair></pair></value>"
    b'<feedback object="state" route="0"><state_id val="5"/><feedback_content val="processed"/></feedback>'
)
LEAN_REPLY = b'{"env": 0,\n "messages":\n [{"severity": "info", "pos": {"line": 1, "column": 0},\n   "endPos": null, "data": "ok"}]}\n\n'
FSTAR_LINES = [
    b'{"kind":"protocol-info","version":2,"features":["x"]}',
    b'{"kind":"response","query-id":"1","status":"success","response":[]}',
    b'{"kind":"message","query-id":"1","level":"progress","contents":{"stage":"loading"}}',
]

chunks = st.lists(st.binary(max_size=200), max_size=12)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    points = sorted({p % (len(data) + 1) for p in points})
    out, prev = [], 0
    for p in points + [len(data)]:
        out.append(data[prev:p])
        prev = p
    return [c for c in out if c]


def source(parts: list[bytes]) -> Callable[[float | None], bytes]:
    """Like ProverProcess.read_chunk: never-empty chunks, then EnvCrashError at EOF."""
    it: Iterator[bytes] = iter([p for p in parts if p])

    def read_chunk(deadline: float | None) -> bytes:
        for part in it:
            return part
        raise EnvCrashError("prover process closed its output")

    return read_chunk


# ----------------------------------------------------------------------------- Coq XML
def feed_all(parts: list[bytes]) -> list:
    reader = XmlStreamReader()
    out = []
    for p in parts:
        out += reader.feed(p)
    return out


@FUZZ
@given(chunks)
def test_fuzz_coq_xml_reader_arbitrary_bytes(parts):
    try:
        elements = feed_all(parts)
    except EnvCrashError:
        return
    assert all(e.tag for e in elements)


@FUZZ
@given(st.lists(st.integers(min_value=0), max_size=20))
def test_fuzz_coq_xml_reader_any_split_gives_same_elements(points):
    elements = feed_all(cut(COQ_REPLY * 2, points))
    assert [e.tag for e in elements] == ["value", "feedback"] * 2
    assert elements[0].find("pair/pair/string").text == "a b"  # &nbsp; even when split


@FUZZ
@given(st.binary(max_size=100), st.lists(st.integers(min_value=0), max_size=5))
def test_fuzz_coq_xml_reader_interleaved_garbage(garbage, points):
    try:
        elements = feed_all(cut(COQ_REPLY + garbage + COQ_REPLY, points))
    except EnvCrashError:
        return
    assert [e.tag for e in elements[:2]] == ["value", "feedback"]  # what came before the garbage


# ----------------------------------------------------------------------------- Lean REPL JSON
def lean_read_all(parts: list[bytes]) -> list:
    reader, read_chunk, out = ResponseReader(), source(parts), []
    while True:
        try:
            reply = reader.read(read_chunk, None)
        except (EnvCrashError, GarbageError):
            return out
        try:
            out.append(parse_response(reply))
        except ProtocolError:
            out.append(None)


@FUZZ
@given(chunks)
def test_fuzz_lean_reader_arbitrary_bytes(parts):
    lean_read_all(parts)  # any other exception fails the test


@FUZZ
@given(st.lists(st.integers(min_value=0), max_size=20))
def test_fuzz_lean_reader_any_split(points):
    replies = lean_read_all(cut(LEAN_REPLY * 3, points))
    assert [r.env for r in replies] == [0, 0, 0]


@FUZZ
@given(st.binary(max_size=100))
def test_fuzz_lean_reader_truncated_then_garbage(garbage):
    data = LEAN_REPLY + LEAN_REPLY[: len(LEAN_REPLY) // 2] + garbage
    replies = lean_read_all([data])
    assert replies and replies[0].env == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "env",
                    "messages",
                    "sorries",
                    "goals",
                    "proofState",
                    "proofStatus",
                    "message",
                    "severity",
                    "pos",
                    "endPos",
                    "data",
                    "line",
                    "column",
                    "tactics",
                    "traces",
                    "goal",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@FUZZ
@given(json_values)
def test_fuzz_lean_parse_response_shapes(obj):
    try:
        parse_response(obj)
    except ProtocolError:
        pass


# ----------------------------------------------------------------------------- Isabelle byte messages
def isabelle_read_all(parts: list[bytes]) -> list[str]:
    it = iter(parts)
    reader = ByteMessageReader(lambda deadline: next(it, b""))
    out = []
    while True:
        try:
            msg = reader.read_message(None)
        except EnvCrashError:
            return out
        if msg is None:
            return out
        out.append(msg)


@FUZZ
@given(chunks)
def test_fuzz_isabelle_reader_arbitrary_bytes(parts):
    assert all(isinstance(m, str) for m in isabelle_read_all(parts))


@FUZZ
@given(st.lists(st.text(max_size=300), min_size=1, max_size=4), st.lists(st.integers(min_value=0), max_size=10))
def test_fuzz_isabelle_reader_roundtrip_any_split(texts, points):
    texts = [t.replace("\r", "") for t in texts]
    data = b"".join(encode_message(t) for t in texts)
    got = isabelle_read_all(cut(data, points))
    assert got == texts


@FUZZ
@given(st.binary(max_size=60))
def test_fuzz_isabelle_reader_truncated_long_message(garbage):
    data = encode_message("x" * 200)
    got = isabelle_read_all([data[:150] + garbage])
    assert got == [] or all(isinstance(m, str) for m in got)


# ----------------------------------------------------------------------------- F* JSON lines
class _Chunks:
    def __init__(self, parts: list[bytes]):
        self.read_chunk = source(parts)


def fstar_read_all(parts: list[bytes]) -> list:
    session = FStarIdeSession(FStarSessionConfig(file="Fuzz.fst"))
    session.process = _Chunks(parts)  # type: ignore[assignment]  # never started: no process
    out = []
    while True:
        try:
            out.append(session._next(None))
        except FStarProtocolError:
            out.append(None)
        except EnvCrashError:
            return out


@FUZZ
@given(chunks)
def test_fuzz_fstar_reader_arbitrary_bytes(parts):
    fstar_read_all(parts)


@FUZZ
@given(st.binary(max_size=80), st.lists(st.integers(min_value=0), max_size=10))
def test_fuzz_fstar_reader_interleaved_garbage(garbage, points):
    data = b"\n".join(FSTAR_LINES[:1] + [garbage.replace(b"\n", b" ")] + FSTAR_LINES[1:]) + b"\n"
    got = [o for o in fstar_read_all(cut(data, points)) if o is not None]
    assert len(got) >= 3


@FUZZ
@given(json_values)
def test_fuzz_fstar_parse_output_shapes(obj):
    if isinstance(obj, dict):
        obj = {
            "kind": ["protocol-info", "response", "message"][len(obj) % 3],
            **obj,
            "version": obj.get("env", 2),
            "features": obj.get("messages", []),
        }
    try:
        parse_output(json.dumps(obj))
    except FStarProtocolError:
        pass
