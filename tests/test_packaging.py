"""The install claims one import name, `proofsmith`, and ships the stage folders inside it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
STAGES = ("envs", "retrieval", "mutation", "training", "prover", "cli", "dataset")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (whl,) = out.glob("proofsmith-*.whl")
    return whl


def test_wheel_installs_one_top_level_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"proofsmith"}
    top_level = next(n for n in names if n.endswith("top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["proofsmith"]


def test_wheel_holds_every_stage_and_py_typed(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "proofsmith/py.typed" in names
    for stage in STAGES:
        assert f"proofsmith/{stage}/__init__.py" in names, stage
    assert "proofsmith/envs/coq/env.py" in names
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "proofsmith = proofsmith.cli.main:main" in entry


def test_installed_wheel_imports_without_the_clone(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "import proofsmith.envs.limits as l, proofsmith.envs.base, proofsmith.cli.main; print(l.__file__)"
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(target)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert Path(res.stdout.strip()).is_relative_to(target)
