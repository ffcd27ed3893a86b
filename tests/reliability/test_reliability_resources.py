"""Resource faults: a full disk and a read-only output directory give a clear error and leave only
whole result lines; a second job on the same results file refuses to start."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from pathlib import Path

from proofsmith.prover.results import ResultsFile, read_results

from .chaos import PROOFSMITH, ROOT, make_bench

ROW = {"key": "k", "status": "failed", "proof": None, "pad": "x" * 900}


@contextlib.contextmanager
def tmpfs(path: Path, size: str, read_only: bool = False):
    """A tiny tmpfs when we may mount (root); otherwise None (callers fall back)."""
    path.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        ).returncode
        != 0
    ):
        yield None
        return
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def fill_until_error(out: Path) -> tuple[int, str]:
    n, err = 0, ""
    with ResultsFile(out) as rf:
        try:
            for i in range(10_000):
                rf.append({**ROW, "key": f"k{i}"})
                n += 1
        except OSError as e:
            err = str(e)
    return n, err


def assert_whole_lines(out: Path, n: int) -> None:
    data = out.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "a half-written line was left behind"
    assert [json.loads(l)["key"] for l in data.splitlines()] == [f"k{i}" for i in range(n)]


def test_reliab_disk_full_leaves_only_whole_lines(tmp_path):
    with tmpfs(tmp_path / "small", "64k") as mnt:
        if mnt is not None:
            n, err = fill_until_error(mnt / "r.jsonl")
            assert n > 10 and err, "the disk never filled"
            assert_whole_lines(mnt / "r.jsonl", n)
            return
    # not root: a file-size limit gives the same short write / EFBIG in a child process
    out = tmp_path / "r.jsonl"
    code = (
        "import resource, signal, sys\nsignal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "from tests.reliability.test_reliability_resources import fill_until_error\n"
        f"n, err = fill_until_error(__import__('pathlib').Path({str(out)!r}))\nprint(n, bool(err))\n"
    )
    res = subprocess.run([str(PROOFSMITH.parent / "python"), "-c", code], cwd=ROOT, capture_output=True, text=True)
    n, erred = res.stdout.split()
    assert erred == "True" and int(n) > 10, res.stderr
    assert_whole_lines(out, int(n))


def test_reliab_read_only_output_dir_is_a_clear_error(tmp_path):
    bench = make_bench(tmp_path / "bench", n_easy=1, n_hard=0)
    ro = tmp_path / "ro"
    with tmpfs(ro, "64k") as mnt:
        if mnt is not None:
            assert subprocess.run(["mount", "-o", "remount,ro", str(mnt)]).returncode == 0
        else:
            ro.chmod(0o555)
        res = subprocess.run(
            [str(PROOFSMITH), "prove", str(bench), "--out", str(ro / "r.jsonl"), "--timeout", "5"],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ, RAY_ADDRESS=""),
        )
        assert res.returncode == 4, res.stdout[-1000:] + res.stderr[-1000:]
        assert "cannot write results" in res.stdout and "Traceback" not in res.stdout + res.stderr
        assert not (ro / "r.jsonl").exists()


def test_reliab_second_job_on_same_results_file_refuses(tmp_path):
    bench = make_bench(tmp_path / "bench", n_easy=1, n_hard=0)
    out = tmp_path / "r.jsonl"
    with ResultsFile(out) as rf:  # the first job holds the lock
        rf.append({"key": "first", "status": "proved"})
        res = subprocess.run(
            [str(PROOFSMITH), "prove", str(bench), "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
            env=dict(os.environ, RAY_ADDRESS=""),
        )
    assert res.returncode == 3 and "being written by another job" in res.stdout, res.stdout[-1000:]
    assert [r["key"] for r in read_results(out)] == ["first"]  # the refused job wrote nothing
