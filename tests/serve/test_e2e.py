"""End to end through the real CLI: `proofsmith serve` with a model trained here, `proofsmith prove
--generator openai:lia@URL` over real HTTP proves with the served model's candidates; a server going
away mid-job stops the job cleanly and a rerun resumes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests
from serve_helpers import FakeServer, ServeProcess, completion, quiet_env

THEOREMS = {
    "comm": "Require Import Lia.\nTheorem comm : forall a b : nat, a + b = b + a.\nProof.\nAdmitted.\n",
    "shift": "Require Import Lia.\nTheorem shift : forall z : nat, z + 3 = 3 + z.\nProof.\nAdmitted.\n",
    "hard": "Require Import Lia.\nTheorem hard : forall x y : nat, x * x * y = y * y * x.\nProof.\nAdmitted.\n",
}


def write_bench(root: Path, names: dict[str, str]) -> Path:
    bench = root / "bench"
    bench.mkdir()
    for name, text in names.items():
        (bench / f"{name}.v").write_text(text)
    return bench


def prove(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "proofsmith.cli.main", "prove", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def rows(path: Path) -> dict[str, dict]:
    return {r["theorem"]: r for r in map(json.loads, path.read_text().splitlines())}


def test_prove_with_a_served_model_over_http(lia_model, tmp_path):
    secret = "e2e-secret-key"
    server = ServeProcess(lia_model, "--served-model-name", "lia", env=quiet_env(PROOFSMITH_SERVE_API_KEY=secret))
    try:
        bench = write_bench(tmp_path, THEOREMS)
        out = tmp_path / "r.jsonl"
        spec = f"openai:lia@{server.url}#temperature=0"
        env = quiet_env(PROOFSMITH_OPENAI_API_KEY=secret)
        r = prove(
            str(bench), "--generator", spec, "--workers", "2", "--num-tactics", "4", "--max-expansions", "3",
            "--theorem-timeout", "60", "--out", str(out), env=env,
        )  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr
        got = rows(out)
        assert set(got) == set(THEOREMS)
        proved = {name for name, row in got.items() if row["status"] == "proved"}
        assert proved and proved <= {"comm", "shift"}, got
        for name in proved:  # what the served tiny model proposes
            assert any("lia" in step for step in got[name]["proof"]), got[name]
        assert got["hard"]["status"] in ("failed", "timeout")
        stats = requests.get(server.url.removesuffix("/v1") + "/stats", timeout=10).json()
        assert stats["requests"] >= len(THEOREMS)  # the candidates came over HTTP from this server
        # a wrong key is refused before any worker starts
        bad = prove(str(bench), "--generator", spec, "--out", str(tmp_path / "r2.jsonl"),
                    env=quiet_env(PROOFSMITH_OPENAI_API_KEY="wrong"))  # fmt: skip
        assert bad.returncode == 2 and "HTTP 401" in bad.stderr and not (tmp_path / "r2.jsonl").exists()
    finally:
        server.stop()
    everything = r.stdout + r.stderr + out.read_text() + server.banner + server.stderr()
    assert secret not in everything


def test_server_going_away_mid_job_stops_cleanly_and_resumes(tmp_path):
    names = {f"t{i}": THEOREMS["shift"].replace("shift", f"t{i}") for i in range(4)}
    bench = write_bench(tmp_path, names)
    out = tmp_path / "r.jsonl"
    lia = (200, completion(["lia."]), {}, 0.0)
    with FakeServer([lia], close_after=1) as fake:  # answers one completion, then stops listening
        spec = f"openai:fake@{fake.url}#backoff=0&retries=1&request_timeout=5"
        r = prove(str(bench), "--generator", spec, "--workers", "1", "--num-tactics", "2",
                  "--theorem-timeout", "60", "--out", str(out), env=quiet_env())  # fmt: skip
        port = fake.port
    assert r.returncode == 5, r.stdout + r.stderr
    assert "stopped: the generator is unavailable" in r.stdout and "rerun the same command" in r.stdout
    first = rows(out)
    assert first["t0"]["status"] == "proved" and first["t0"]["proof"] == ["lia."]
    assert first["t1"]["status"] == "error" and first["t1"]["generator_unavailable"] is True
    assert set(first) == {"t0", "t1"}  # t2, t3 not started: nothing recorded for them
    # the server is back (same address): the rerun does only what is left
    with FakeServer([lia], port=port):
        again = prove(str(bench), "--generator", spec, "--workers", "1", "--num-tactics", "2",
                      "--theorem-timeout", "60", "--out", str(out), env=quiet_env())  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    final = rows(out)
    assert set(final) == set(names) and len(out.read_text().splitlines()) == 4
    assert final["t2"]["status"] == final["t3"]["status"] == "proved"
