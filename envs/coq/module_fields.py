"""The lemmas Coq's number modules get from functors, as premises.

Most of what a proof about `Z`, `N`, `nat` or `positive` applies is not stated in `BinInt.v`,
`BinNat.v`, `PeanoNat.v` or `BinPos.v` but included into their modules from functors
(`Z.mul_le_mono_nonneg_l` comes from `Coq.Numbers.NatInt.NZMulOrder`, `Nat.add_comm` from
`NZAdd`). A traced file only declares the functor's body, under a name no proof can use; so a
premise corpus built from the source text has neither `Z.mul_le_mono_nonneg_l` nor most of its
siblings (1,265 fields in `Z`, of which 268 are stated in `BinInt.v`). `Print Module` lists every
field of the instantiated module with its type; each lemma (`Parameter` there) becomes a premise of
the module's file, placed after the file's last declaration: usable from every file that imports
it, never from the file itself.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from proofsmith.dataset.schema import CorpusFile, Premise
from proofsmith.envs.coq.libraries import library_path
from proofsmith.envs.process import run_batch

log = logging.getLogger(__name__)

# (library, module): the modules that include the number functors
INSTANCE_MODULES: tuple[tuple[str, str], ...] = (
    ("Coq.ZArith.BinInt", "Z"),
    ("Coq.NArith.BinNat", "N"),
    ("Coq.Arith.PeanoNat", "Nat"),
    ("Coq.PArith.BinPos", "Pos"),
)
PRINT_TIMEOUT = 60.0
_FIELD = re.compile(r"^     Parameter ([A-Za-z_][\w']*) :(.*)$")  # a field of the printed struct


def parse_fields(printed: str) -> list[tuple[str, str]]:
    """(name, type) of each lemma (`Parameter`) of a `Print Module` struct; a type continues on the
    lines indented deeper than the field. Nested modules are listed by name only and skipped."""
    out: list[tuple[str, str]] = []
    current: list[str] | None = None
    for line in printed.splitlines():
        m = _FIELD.match(line)
        if m:
            current = [m.group(2).strip()]
            out.append((m.group(1), ""))
        elif current is not None and line.startswith("      "):
            current.append(line.strip())
        else:
            current = None
            continue
        out[-1] = (out[-1][0], " ".join(x for x in current if x))
    return [(n, t.removesuffix(".").strip()) for n, t in out if t]


def print_module(library: str, module: str, timeout: float = PRINT_TIMEOUT) -> str | None:
    """`Print Module library.module` from coqc, or None when it cannot (no coqc, not installed)."""
    coqc = shutil.which("coqc")
    if coqc is None:
        return None
    with tempfile.TemporaryDirectory(prefix="proofsmith-fields-") as tmp:
        vfile = Path(tmp) / "Fields.v"
        vfile.write_text(f"Require {library}.\nSet Printing Width 1000.\nPrint Module {library}.{module}.\n")
        res = run_batch([coqc, "-q", str(vfile)], timeout=timeout, cwd=tmp)
    if res.timed_out or res.returncode != 0:
        log.warning("Print Module %s.%s failed: %s", library, module, res.output[-300:])
        return None
    return res.output


def add_module_fields(
    files: Iterable[CorpusFile], modules: Sequence[tuple[str, str]] = INSTANCE_MODULES
) -> list[CorpusFile]:
    """`files` with each instance module's functor lemmas added to its file's premises (those the file
    does not declare already). Files of other libraries, and a corpus without the modules' files, are
    returned as they are."""
    files = list(files)
    index = {f.path: i for i, f in enumerate(files)}
    for library, module in modules:
        i = index.get(library_path(library))
        if i is None:
            continue
        printed = print_module(library, module)
        if printed is None:
            continue
        cf = files[i]
        known = {p.full_name for p in cf.premises}
        last = max((p.end for p in cf.premises), default=(0, 0))
        at = (last[0] + 1, 1)
        added = [
            Premise(full, f"Lemma {name} : {type_}.", at, at, "lemma")
            for name, type_ in parse_fields(printed)
            if (full := f"{library}.{module}.{name}") not in known
        ]
        log.info("%s.%s: %d functor lemmas added to %s", library, module, len(added), cf.path)
        files[i] = CorpusFile(cf.path, cf.imports, cf.premises + tuple(added))
    return files
