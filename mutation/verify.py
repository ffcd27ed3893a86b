"""Batch verification of many mutants of one file with exact per-mutant verdicts.

All mutants go into one copy of the source file, each right after the proof of the theorem it
mutates (so it sees the same context, sections included); the copy is cut after the last mutant
and its open sections/modules are closed. One `coqc` compiles it (under a scratch logical name, and
with the Coq flags its theorems were started with, as `envs.coq.verify` does). If `coqc` stops at an
error inside a mutant, that mutant is rejected with Coq's message and the file is compiled again
without it; an error outside every mutant rejects the rest. Then every mutant gets its own `Print
Assumptions` audit in one coqidetop that loads the compiled file (with the same flags): a mutant is
verified only if coqc accepted it and all its axioms are Coq's standard library's (or allow-listed).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from proofsmith.envs.base import ProverNotInstalledError
from proofsmith.envs.coq import xml_protocol as xp
from proofsmith.envs.coq.flags import check_coq_flags
from proofsmith.envs.coq.sentences import split_sentences
from proofsmith.envs.coq.session import COQ_INSTALL_HINT, CoqIdeSession, CoqSessionConfig
from proofsmith.envs.coq.source import sentence_body, theorem_name
from proofsmith.envs.coq.verify import parse_print_assumptions
from proofsmith.envs.process import run_batch
from proofsmith.mutation.mutator import Mutant

CHECK_LIBRARY = "ProofsmithMutants"
CHECK_MODULE = "Check"
_BLOCK = re.compile(r"^(Section|Module(?:\s+Type)?)\s+(?!Import\b|Export\b)([A-Za-z_][\w']*)(?![^:]*:=)")
_END = re.compile(r"^End\s+([A-Za-z_][\w']*)\s*\.$")
_PROOF_END = ("Qed.", "Defined.", "Admitted.", "Abort.")
_ERR_LINE = re.compile(r'File "[^"]*", line (\d+), characters')


@dataclass(frozen=True)
class Placement:
    """Where a mutant goes: after the terminator of the proof that starts on `line` of the file."""

    mutant: Mutant
    after: int  # character offset just after the original proof's terminator


@dataclass
class MutantFile:
    text: str
    spans: dict[str, tuple[int, int]]  # mutant name → (first line, last line), 1-based
    module_paths: dict[str, tuple[str, ...]]


def proof_end_offsets(text: str) -> dict[int, tuple[int, tuple[tuple[str, str], ...]]]:
    """Statement line → (offset after its proof's terminator, blocks open there) for every theorem."""
    sentences = split_sentences(text, allow_unterminated=True)
    out: dict[int, tuple[int, tuple[tuple[str, str], ...]]] = {}
    stack: list[tuple[str, str]] = []
    pending: int | None = None
    for s in sentences:
        body = sentence_body(s)
        m = _BLOCK.match(body)
        if m and pending is None:
            stack.append((m.group(1), m.group(2)))
            continue
        m = _END.match(body)
        if m and pending is None:
            if stack and stack[-1][1] == m.group(1):
                stack.pop()
            continue
        if pending is None and theorem_name(s):
            pending = text[: s.start].count("\n") + 1
            continue
        if pending is not None and body in _PROOF_END:
            out[pending] = (s.end, tuple(stack))
            pending = None
    return out


def build_file(text: str, mutants_by_line: dict[int, list[Mutant]]) -> MutantFile:
    """The source text with each mutant after its original; cut after the last one, blocks closed."""
    ends = proof_end_offsets(text)
    placed = sorted((ends[line][0], line) for line in mutants_by_line if line in ends)
    if not placed:
        return MutantFile("", {}, {})
    pieces, spans, modules, pos = [], {}, {}, 0
    for offset, line in placed:
        pieces.append(text[pos:offset])
        pos = offset
        blocks = ends[line][1]
        for m in mutants_by_line[line]:
            head = "".join(pieces)
            first = head.count("\n") + 2
            block = "\n" + m.statement + "\nProof.\n" + "\n".join(m.proof) + "\nQed.\n"
            pieces.append(block)
            spans[m.name] = (first, first + block.count("\n") - 1)
            modules[m.name] = tuple(n for k, n in blocks if k.startswith("Module"))
    last_blocks = ends[placed[-1][1]][1]
    closing = "".join(f"\nEnd {name}." for _, name in reversed(last_blocks))
    return MutantFile("".join(pieces) + closing + "\n", spans, modules)


@dataclass
class BatchResult:
    verdicts: dict[str, tuple[bool, str]]  # name → (verified, reason)
    compiles: int
    final_text: str  # the file with the verified mutants only


def verify_mutants(
    text: str,
    placements: dict[int, list[Mutant]],
    load_paths: Sequence[tuple[str, str]],
    *,
    allowed_axioms: Iterable[str] = (),
    timeout: float = 600.0,
    max_compiles: int = 8,
    memory_limit: int | None = 8 * 1024**3,
    coq_flags: Sequence[str] = (),
) -> BatchResult:
    """`coq_flags`: those the original file was traced with (`TheoremSource.coq_flags` of its theorems),
    checked as `envs.coq.verify` checks them and passed to coqc and to the audit's coqidetop."""
    coqc = shutil.which("coqc")
    if coqc is None:
        raise ProverNotInstalledError(COQ_INSTALL_HINT)
    flags = list(check_coq_flags(tuple(coq_flags), "mutants: coq_flags"))
    verdicts: dict[str, tuple[bool, str]] = {}
    live = {line: list(ms) for line, ms in placements.items() if ms}
    compiles = 0
    with tempfile.TemporaryDirectory(prefix="proofsmith-mutants-") as tmp:
        vfile = Path(tmp) / f"{CHECK_MODULE}.v"
        argv = [coqc, "-q", *flags] + [a for d, p in load_paths for a in ("-R", d, p)]
        argv += ["-Q", tmp, CHECK_LIBRARY, str(vfile)]
        while True:
            mf = build_file(text, live)
            if not mf.spans:
                for ms in placements.values():
                    for m in ms:
                        verdicts.setdefault(m.name, (False, "its original theorem was not found in the file"))
                return BatchResult(verdicts, compiles, "")
            vfile.write_text(mf.text, encoding="utf-8")
            compiles += 1
            res = run_batch(argv, timeout=timeout, cwd=tmp, memory_limit=memory_limit)
            if res.returncode == 0 and not res.timed_out:
                break
            message = (
                " ".join(res.output.split())[-600:] if not res.timed_out else f"coqc did not finish in {timeout:.0f}s"
            )
            line = int(err.group(1)) if (err := _ERR_LINE.search(res.output)) else None
            culprit = next((n for n, (a, b) in mf.spans.items() if line is not None and a <= line <= b), None)
            if culprit is None or compiles >= max_compiles:
                for n in mf.spans:
                    verdicts[n] = (False, "coqc rejected the batch: " + message)
                return BatchResult(verdicts, compiles, "")
            verdicts[culprit] = (False, "coqc rejected the proof: " + message)
            live = {l: [x for x in ms if x.name != culprit] for l, ms in live.items()}
            live = {l: ms for l, ms in live.items() if ms}
        _audit(mf, tmp, load_paths, set(allowed_axioms), verdicts, timeout, memory_limit, flags)
        for ms in placements.values():  # a mutant whose original's proof end was not found is never checked
            for m in ms:
                verdicts.setdefault(m.name, (False, "its original theorem's proof was not found in the file"))
        final = build_file(text, {l: [x for x in ms if verdicts.get(x.name, (False,))[0]] for l, ms in live.items()})
        return BatchResult(verdicts, compiles, final.text)


def _audit(
    mf: MutantFile,
    tmp: str,
    load_paths: Sequence[tuple[str, str]],
    allowed: set[str],
    verdicts: dict[str, tuple[bool, str]],
    timeout: float,
    memory_limit: int | None,
    flags: Sequence[str] = (),
) -> None:
    session = CoqIdeSession(
        CoqSessionConfig(
            load_paths=[*load_paths, (tmp, CHECK_LIBRARY)],
            extra_args=tuple(flags),
            memory_limit=memory_limit,
            call_timeout=timeout,
        )
    )
    try:
        root = session.start()
        reply = session.add(f"Require {CHECK_LIBRARY}.{CHECK_MODULE}.", root)
        if not reply.good or not session.goal().good:
            for n in mf.spans:
                verdicts[n] = (False, "cannot load the compiled mutants")
            return
        sid = xp.decode_add(reply.value)
        for name in mf.spans:
            qualified = ".".join([CHECK_LIBRARY, CHECK_MODULE, *mf.module_paths[name], name])
            reply, notices = session.query(f"Print Assumptions {qualified}.", sid)
            if not reply.good:
                verdicts[name] = (False, f"Print Assumptions failed: {reply.fail_text}")
                continue
            sections, closed = parse_print_assumptions("\n".join(notices))
            if closed:
                verdicts[name] = (True, "coqc accepted; closed under the global context")
                continue
            bad = []
            for header, names in sections.items():
                if header != "Axioms":
                    bad.append(f"{header}: {', '.join(names)}")
                    continue
                for short in names:
                    r, ns = session.query(f"Locate Term {short}.", sid)
                    parts = ns[0].split() if r.good and ns else []
                    full = parts[1] if len(parts) >= 2 else short
                    if not (full in allowed or full.startswith("Coq.")):
                        bad.append(f"axiom {full}")
            verdicts[name] = (not bad, "; ".join(bad) if bad else "coqc accepted; axioms from the standard library")
    finally:
        session.close()
