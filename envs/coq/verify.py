"""Whole-theorem re-check: compile with `coqc` from scratch, then audit axioms.

The audit `Require`s the compiled file in a fresh coqidetop, runs `Print Assumptions`, and resolves
every printed name with `Locate Term` in that same context (printed names are only the shortest
unambiguous suffix, so a user axiom named `classic` must not pass for `Coq...classic`). An axiom
passes only if its full name is in Coq's standard library (`Coq.`) or in the caller's allow-list.

One deadline, `timeout` seconds from the start, bounds the whole check (coqc, then every call of
the audit): past it the process group at work is killed and the verdict is a failure whose first
reason starts with "timeout", within `timeout` + LIMIT_SLACK seconds.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from proofsmith.envs.base import CIRCULAR, EnvCrashError, EnvTimeoutError, ProverNotInstalledError, Verdict
from proofsmith.envs.coq import xml_protocol as xp
from proofsmith.envs.coq.circularity import circular_dependency, circular_reference, locate_full_name
from proofsmith.envs.coq.flags import CoqFlagsError, check_coq_flags
from proofsmith.envs.coq.libraries import library_name
from proofsmith.envs.coq.session import COQ_INSTALL_HINT, INTERRUPT_GRACE, CoqIdeSession, CoqSessionConfig
from proofsmith.envs.coq.source import TheoremSource
from proofsmith.envs.coq.tactic_filter import CheckedTactic, check_tactic
from proofsmith.envs.limits import VERIFY_TIMEOUT
from proofsmith.envs.process import DEFAULT_MEMORY_LIMIT, run_batch

log = logging.getLogger(__name__)
CHECK_LIBRARY = "ProofsmithVerify"
CHECK_MODULE = "Check"
_HEADER = re.compile(r"^[A-Z][^:]*:$")  # "Axioms:", "Section Variables:", "... assumed to be guarded:"
_RELIES = re.compile(r"^(\S+) relies on (.+?)\.?$")  # "paths relies on an unsafe hierarchy."


def parse_print_assumptions(text: str) -> tuple[dict[str, list[str]], bool]:
    """Sections of `Print Assumptions` output → {header: [names]}, and whether it was closed."""
    if "Closed under the global context" in text:
        return {}, True
    sections: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        if not line or line[0].isspace():
            continue  # continuation of a type
        if _HEADER.match(line.strip()) and " : " not in line:
            current = line.strip()[:-1]
            sections.setdefault(current, [])
            continue
        unsafe = _RELIES.match(line.strip())
        if unsafe:  # `-type-in-type`: "UU relies on an unsafe hierarchy." (a section of its own, never an axiom)
            sections.setdefault(f"Constants relying on {unsafe.group(2)}", []).append(unsafe.group(1))
            continue
        name = line.split(" : ")[0].split()[0]
        sections.setdefault(current or "Axioms", []).append(name)
    return sections, False


def check_module(library: str | None) -> str:
    """The name of the module `coqc` compiles the proof as: a library file's own short name (Hierarchy
    Builder names what it generates after it: MathComp-Analysis' `functions.v` compiles as `functions.v`
    and not under another name), `CHECK_MODULE` for a file outside every library."""
    return library.rsplit(".", 1)[-1] if library else CHECK_MODULE


def verify_theorem(
    source: TheoremSource,
    proof: Sequence[str],
    *,
    allowed_axioms: Iterable[str] = (),
    additional_imports: Sequence[str] = (),
    timeout: float = VERIFY_TIMEOUT,
    memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
) -> Verdict:
    t0 = time.monotonic()
    deadline = t0 + timeout
    name = source.name

    def verdict(ok: bool, reasons: Sequence[str], axioms: Sequence[str] = ()) -> Verdict:
        return Verdict(name, ok, tuple(reasons), tuple(axioms), time.monotonic() - t0)

    checked = check_tactic("\n".join(proof), script=True, max_chars=10**7)
    if not isinstance(checked, CheckedTactic):
        return verdict(False, [f"proof refused: {checked.reason}"])
    coqc = shutil.which("coqc")
    if coqc is None:
        raise ProverNotInstalledError(COQ_INSTALL_HINT)
    for _, logical in source.load_paths:
        if logical == "Coq" or logical.startswith("Coq."):
            return verdict(False, ["a project load path may not be mapped to the reserved 'Coq' prefix"])
    try:  # the library's flags, as traced: only the accepted ones, whoever built the source
        flags = list(check_coq_flags(source.coq_flags))
    except CoqFlagsError as e:
        return verdict(False, [f"refused: {e}"])

    body = "\n".join(s.text for s in checked.sentences)
    library = library_name(source.file_path, source.load_paths)
    circular = circular_reference(body, name, source.module_path, library)
    if circular is not None:
        return verdict(False, [f"{CIRCULAR}: the proof names {circular}, the theorem's own library as compiled"])
    # the imports where the live environment puts them: after the theorem's own context (`TheoremSource.context`)
    context = source.context_text(additional_imports)
    text = f"{context}{source.statement.text}\nProof.\n{body}\nQed.\n{source.closing_text()}\n"
    module = check_module(library)
    with tempfile.TemporaryDirectory(prefix="proofsmith-verify-") as tmp:
        vfile = Path(tmp) / f"{module}.v"
        vfile.write_text(text, encoding="utf-8")
        argv = [coqc, "-q", *flags]
        for directory, prefix in source.load_paths:
            argv += ["-R", directory, prefix]
        argv += ["-Q", tmp, CHECK_LIBRARY, str(vfile)]
        res = run_batch(
            argv,
            timeout=deadline - time.monotonic(),
            cwd=tmp,
            memory_limit=memory_limit,
            env={**os.environ, "TMPDIR": tmp},  # a killed `hammer` leaves its temporary files here, not in /tmp
        )
        if res.timed_out:
            return verdict(False, [f"timeout: coqc did not finish within the {timeout:.1f}s verify limit"])
        if res.returncode != 0:
            return verdict(False, ["coqc rejected the proof: " + " ".join(res.output.split())[-600:]])

        qualified = ".".join([CHECK_LIBRARY, module, *source.module_path, name])
        session = CoqIdeSession(
            CoqSessionConfig(
                load_paths=[*source.load_paths, (tmp, CHECK_LIBRARY)],
                extra_args=flags,
                memory_limit=memory_limit,
                # Init is bounded by what is left; every other call gets the deadline explicitly
                call_timeout=max(0.0, deadline - time.monotonic()) + INTERRUPT_GRACE,
            )
        )
        timed_out = [f"timeout: the axiom audit did not finish within the {timeout:.1f}s verify limit"]
        try:
            root = session.start()
            reply = session.add(f"Require {CHECK_LIBRARY}.{module}.", root, deadline=deadline)
            if session.interrupted:
                return verdict(False, timed_out)
            if not reply.good:
                return verdict(False, [f"cannot load the compiled proof: {reply.fail_text}"])
            sid = xp.decode_add(reply.value)
            reply, notices = session.query(f"Print Assumptions {qualified}.", sid, deadline=deadline)
            if session.interrupted:
                return verdict(False, timed_out)
            if not reply.good:
                return verdict(False, [f"Print Assumptions failed: {reply.fail_text}"])
            sections, closed = parse_print_assumptions("\n".join(notices))
            if library is not None:
                reused = circular_dependency(session, sid, qualified, source, library, deadline)
                if session.interrupted:
                    return verdict(False, timed_out)
                if reused is not None:
                    return verdict(False, [reused])
            if closed:
                return verdict(True, ["coqc accepted the proof; closed under the global context"])
            allowed = set(allowed_axioms)
            reasons, axioms, ok = [], [], True
            for header, names in sections.items():
                if header != "Axioms":
                    ok = False
                    reasons.append(f"Print Assumptions reports {header}: {', '.join(names)}")
                    continue
                for short in names:
                    full = locate_full_name(session, sid, short, deadline)
                    if session.interrupted:
                        return verdict(False, timed_out)
                    full = full or short
                    axioms.append(full)
                    if full in allowed or full.startswith("Coq."):
                        continue
                    ok = False
                    reasons.append(f"uses axiom {full} (not in Coq's standard library nor allow-listed)")
            if ok:
                reasons.append("coqc accepted the proof; axioms all from the standard library or allow-listed")
            return verdict(ok, reasons, axioms)
        except EnvTimeoutError:  # the audit's coqidetop ignored its interrupt and was killed
            log.warning("axiom audit of %s exceeded the %.1fs verify limit; coqidetop killed", name, timeout)
            return verdict(False, timed_out)
        except EnvCrashError as e:
            return verdict(False, [f"the axiom audit's coqidetop died: {e}"])
        finally:
            session.close()
