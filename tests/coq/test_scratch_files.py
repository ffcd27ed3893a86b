"""Temporary files a tactic leaves behind (CoqHammer's `predict` files of an interrupted `hammer`,
micromega caches) stay in the session's scratch directory and go with it."""

from __future__ import annotations

import os

from proofsmith.envs.coq.session import CoqIdeSession, CoqSessionConfig


def _environ(pid: int) -> dict[str, str]:
    raw = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    return dict(x.decode().split("=", 1) for x in raw if b"=" in x)


def test_coqidetop_writes_temporary_files_in_a_scratch_directory_removed_on_close(tmp_path):
    session = CoqIdeSession(CoqSessionConfig(cwd=str(tmp_path)))  # a caller's cwd does not take TMPDIR
    session.start()
    try:
        pid = session.process.pid
        assert pid is not None
        tmpdir = _environ(pid)["TMPDIR"]
        assert os.path.isdir(tmpdir) and os.path.realpath(tmpdir) != os.path.realpath(tmp_path)
        leftover = os.path.join(tmpdir, "predict123fea")  # what a killed `hammer` leaves
        open(leftover, "w").close()
    finally:
        session.close()
    assert not os.path.exists(tmpdir)
    assert list(tmp_path.iterdir()) == []
