"""Theorems of installed libraries (user-contrib: Coquelicot, MathComp...) start from their own files.

Such files load their siblings by short name (`Require Import Rcomplements.`), which user-contrib's
default `-Q` binding does not resolve; the environment adds the library's `-R` as the tracer did.
"""

from pathlib import Path

from proofsmith.envs.base import TacticState, TheoremRef
from proofsmith.envs.coq.source import installed_library_load_paths, list_theorems

COQUELICOT = Path("/usr/lib/ocaml/coq/user-contrib/Coquelicot")


def test_load_path_of_an_installed_library_file_is_its_user_contrib_folder():
    f = Path("/usr/lib/ocaml/coq/user-contrib/mathcomp/ssreflect/seq.v")
    assert installed_library_load_paths(f) == (("/usr/lib/ocaml/coq/user-contrib/mathcomp", "mathcomp"),)
    assert installed_library_load_paths(Path("/usr/lib/ocaml/coq/theories/Reals/Rbase.v")) == ()
    assert installed_library_load_paths(Path("/tmp/user-contrib/x.v")) == ()  # no library folder


def test_coquelicot_theorem_loading_siblings_by_short_name_starts(env):
    path = COQUELICOT / "Rbar.v"  # libcoq-coquelicot, which `make setup` installs
    text = path.read_text()
    assert "Require Import Rcomplements" in text  # the short-name load that needs -R
    name = next(n for _, n in list_theorems(text) if n == "Rbar_le_refl")
    s0 = env.start(TheoremRef.from_file(path, name))
    assert isinstance(s0, TacticState)
    assert "Rbar_le x x" in s0.pp
