"""Fixtures for the Isabelle tests: the recorded transcripts and a fake server driven through the real client."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from proofsmith.envs.isabelle import IsabelleConfig, IsabelleEnvironment, IsabelleServerProcess, ServerConfig

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures" / "isabelle-server"
RESPONSES = FIXTURES / "isabelle-client-responses"
FAKE = HERE / "fake_isabelle.py"


@pytest.fixture
def responses_dir() -> Path:
    assert RESPONSES.is_dir(), f"recorded Isabelle transcripts missing at {RESPONSES}"
    return RESPONSES


def fake_server_config(tmp_path: Path, use_theories: str | None = None, scenario: dict | None = None) -> ServerConfig:
    env = {"FAKE_ISABELLE_FIXTURES": str(RESPONSES), "FAKE_ISABELLE_LOG": str(tmp_path / "isabelle-log.jsonl")}
    if use_theories:
        env["FAKE_ISABELLE_USE_THEORIES"] = use_theories
    if scenario is not None:
        path = tmp_path / "scenario.json"
        path.write_text(json.dumps(scenario))
        env["FAKE_ISABELLE_SCENARIO"] = str(path)
    return ServerConfig(command=(sys.executable, str(FAKE)), name="proofsmith-test", startup_timeout=20, extra_env=env)


def read_log(tmp_path: Path) -> list[dict]:
    path = tmp_path / "isabelle-log.jsonl"
    return [json.loads(l) for l in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def fake_server(tmp_path):
    """Start a replaying fake server; yields a function (use_theories fixture name) -> process."""
    started: list[IsabelleServerProcess] = []

    def start(use_theories: str | None = None) -> IsabelleServerProcess:
        proc = IsabelleServerProcess(fake_server_config(tmp_path, use_theories=use_theories))
        proc.start()
        started.append(proc)
        return proc

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def scenario_env(tmp_path):
    """An IsabelleEnvironment whose server is the fake in scenario mode."""
    envs: list[IsabelleEnvironment] = []

    def make(scenario: dict, **kw) -> IsabelleEnvironment:
        cfg = IsabelleConfig(
            server=fake_server_config(tmp_path, scenario=scenario),
            session="HOL",
            timeout=kw.pop("timeout", 10.0),
            cancel_grace=kw.pop("cancel_grace", 1.0),
            **kw,
        )
        env = IsabelleEnvironment(cfg)
        envs.append(env)
        return env

    yield make
    for e in envs:
        e.close()
