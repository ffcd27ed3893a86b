"""Fixtures for the F* tests: the recorded IDE transcripts replayed by a fake `fstar.exe --ide`."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from proofsmith.envs.fstar import FStarConfig, FStarEnvironment, FStarIdeSession, FStarSessionConfig

HERE = Path(__file__).resolve().parent
EMACS = HERE.parent / "fixtures" / "fstar-ide" / "emacs"
FAKE = HERE / "fake_fstar.py"
FAKE_CMD = (sys.executable, str(FAKE))


def expected_lines(name: str) -> list[dict]:
    return [json.loads(l) for l in (EMACS / name).read_text().splitlines() if l.strip()]


def recorded_queries(name: str) -> list[dict]:
    return [json.loads(l) for l in (EMACS / name).read_text().splitlines() if l.strip()]


def fake_env_vars(tmp_path: Path, transcript_in: str, transcript_out: str, faults: list | None = None) -> dict:
    assert EMACS.is_dir(), f"recorded F* transcripts missing at {EMACS}"
    return {
        "FAKE_FSTAR_FIXTURES": str(EMACS),
        "FAKE_FSTAR_IN": transcript_in,
        "FAKE_FSTAR_OUT": transcript_out,
        "FAKE_FSTAR_FAULTS": json.dumps(faults or []),
        "FAKE_FSTAR_LOG": str(tmp_path / "fstar-log.jsonl"),
        "FAKE_FSTAR_PIDFILE": str(tmp_path / "z3.pid"),
    }


def read_log(tmp_path: Path) -> list[dict]:
    path = tmp_path / "fstar-log.jsonl"
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def replay_session(tmp_path):
    """(stem .in, expected output file, ide file) -> a started FStarIdeSession on the fake."""
    sessions: list[FStarIdeSession] = []

    def make(transcript_in: str, transcript_out: str, ide_file: str = "Scratch.fst") -> FStarIdeSession:
        s = FStarIdeSession(
            FStarSessionConfig(
                file=ide_file,
                command=FAKE_CMD,
                options=("--cache_off",),
                startup_timeout=20,
                interrupt_grace=1,
                extra_env=fake_env_vars(tmp_path, transcript_in, transcript_out),
            )
        )
        s.start()
        sessions.append(s)
        return s

    yield make
    for s in sessions:
        s.kill()


INTEGRATION_FILE = (
    "module Integration\n\nlet xxxxxx = 1\n\nlet yyyyyy = xxxxxx\n\nlet aaaaaa = yyyyyy\n\n"
    "let aaaaaaaaaaaaaaaaaaaaaaaa = yyyyyy\n\nlet y = assert (xx = 1)\n"
)


@pytest.fixture
def integration_file(tmp_path) -> Path:
    """A file for the Integration transcript (SOURCE.md: any file with the module header works)."""
    path = tmp_path / "Integration.fst"
    path.write_text(INTEGRATION_FILE)
    return path


@pytest.fixture
def harness_file(tmp_path) -> Path:
    for name in ("Harness.fst", "Harness.fsti"):
        shutil.copy(EMACS / name, tmp_path / name)
    return tmp_path / "Harness.fst"


@pytest.fixture
def fstar_env(tmp_path):
    envs: list[FStarEnvironment] = []

    def make(transcript_in: str, transcript_out: str, faults: list | None = None, **kw) -> FStarEnvironment:
        cfg = FStarConfig(
            command=FAKE_CMD,
            timeout=kw.pop("timeout", 10.0),
            startup_timeout=20,
            interrupt_grace=1.0,
            extra_env=fake_env_vars(tmp_path, transcript_in, transcript_out, faults),
            **kw,
        )
        env = FStarEnvironment(cfg)
        envs.append(env)
        return env

    yield make
    for e in envs:
        e.close()
