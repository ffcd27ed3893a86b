"""Shared helpers for the Lean backend tests: transcripts and a client wired to the fake REPL."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from proofsmith.envs.lean.session import LeanReplConfig

HERE = Path(__file__).parent
FAKE_REPL = HERE / "fake_repl.py"
FIXTURES = HERE.parent / "fixtures" / "lean-repl" / "test"
SPEC_ONLY = HERE / "spec_only_transcripts"

sys.path.insert(0, str(HERE))
from fake_repl import split_requests, split_responses  # noqa: E402


def scenario(name: str) -> Path:
    for folder in (FIXTURES, SPEC_ONLY):
        p = folder / f"{name}.in"
        if p.exists():
            return p
    raise FileNotFoundError(name)


def requests_of(name: str) -> list[str]:
    return split_requests(scenario(name).read_text(encoding="utf-8"))


def replies_of(name: str) -> list[dict]:
    return [json.loads(r) for r in split_responses(scenario(name).with_suffix(".expected.out").read_bytes())]


class FakeRepl:
    """Builds configs that run the transcript server; `sent()` is what the client wrote."""

    def __init__(self, tmp_path: Path):
        self.tmp = tmp_path
        self.log = tmp_path / "sent.log"

    def config(
        self, name: str, *, start: int = 0, fault: str | None = None, fault_at: int = -1, **kw
    ) -> LeanReplConfig:
        argv = [sys.executable, str(FAKE_REPL), str(scenario(name)), "--start", str(start), "--log", str(self.log)]
        if fault:
            argv += ["--fault", fault, "--fault-at", str(fault_at), "--fault-once", str(self.tmp / "fault.done")]
        kw.setdefault("memory_limit", 1 << 30)
        kw.setdefault("timeout", 20)
        kw.setdefault("start_timeout", 20)
        return LeanReplConfig(argv=tuple(argv), **kw)

    def sent(self) -> bytes:
        return self.log.read_bytes() if self.log.exists() else b""

    def sent_requests(self) -> list[dict]:
        return [json.loads(r) for r in split_requests(self.sent().decode("utf-8"))]


@pytest.fixture
def fake(tmp_path) -> FakeRepl:
    return FakeRepl(tmp_path)
