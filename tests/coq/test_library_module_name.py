"""A library file is started under its own module name and re-checked under its own short name
(`envs.coq.env.session_key`, `envs.coq.verify.check_module`), as the tracer and `coqc` name it. Under
coqidetop's default `Top`, 242 traced theorems of MathComp-Analysis' `functions.v` did not start
(`scripts/bench_start.py` over the corpus). Real Coq and the installed libraries throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

from proofsmith.envs.base import TacticState, TheoremRef
from proofsmith.envs.coq import CoqEnvironment
from proofsmith.envs.coq.libraries import coqlib
from proofsmith.envs.coq.source import TheoremStartError, locate
from proofsmith.envs.coq.verify import CHECK_MODULE, check_module, verify_theorem

USER_CONTRIB = Path(coqlib()) / "user-contrib"
SELF_NAMED = "Definition x := 1.\nLemma l : foo.x = 1.\nProof.\nreflexivity.\nQed.\n"


def test_a_library_file_that_names_itself_starts_and_re_checks(tmp_path):
    """`foo.x` only resolves inside a module named `foo`: the file's own name, in the live environment
    and in the re-check."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "foo.v").write_text(SELF_NAMED, encoding="utf-8")
    ref = TheoremRef.from_file(lib / "foo.v", "l", load_paths=((str(lib), "MyLib"),))
    with CoqEnvironment() as env:
        state = env.start(ref)
        assert isinstance(state, TacticState) and state.pp.endswith("x = 1")
        # the same file outside every library is a benchmark file, replayed under `Top`: `foo.x` is unknown
        with pytest.raises(TheoremStartError, match="foo.x"):
            env.start(TheoremRef.from_file(lib / "foo.v", "l"))
    verdict = verify_theorem(locate(ref), ["reflexivity."])
    assert verdict.verified, verdict.reasons


def test_a_file_outside_every_library_is_still_checked_as_the_fixed_module():
    assert check_module(None) == CHECK_MODULE
    assert check_module("mathcomp.classical.functions") == "functions"


def test_hierarchy_builder_names_follow_the_module_in_start_and_verify():
    """MathComp-Analysis' `functions.v` declares Hierarchy Builder factories whose generated names carry
    the module's short name: under `Top` the prefix failed with "Fun.functions_IsFun_mixin: Not a
    projection", and the re-check failed compiled as `Check.v`."""
    ref = TheoremRef.from_file(USER_CONTRIB / "mathcomp" / "classical" / "functions.v", "oinvV")
    with CoqEnvironment() as env:
        state = env.start(ref)
        assert isinstance(state, TacticState) and "'oinv_('oinv_f) = omap f" in state.pp
    verdict = verify_theorem(locate(ref), ["by []."], timeout=300)
    assert verdict.verified, verdict.reasons
