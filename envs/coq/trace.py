"""Tracing Coq libraries into the LeanDojo-shaped dataset.

Three parts: what a file declares, read from its text (premises, generated names, `Require`s);
the replay of one file through one coqidetop, recording every proof sentence's states and the
globals it names; and the project level (discover, build, trace files in parallel, resume, write
the dataset). Dataset types and splits are backend-neutral and live in `envs.dataset`.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import time
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from proofsmith.envs.base import EnvCrashError, EnvTimeoutError, Goal
from proofsmith.envs.coq import xml_protocol as xp
from proofsmith.envs.coq.env import CoqConfig, render_goals
from proofsmith.envs.coq.sentences import Sentence, _skip_comment, _skip_string, split_sentences, strip_comments
from proofsmith.envs.coq.session import CoqIdeSession, CoqSessionConfig
from proofsmith.envs.coq.source import PROOF_ENDS, THEOREM_KEYWORDS, coq_project_load_paths, sentence_body
from proofsmith.envs.dataset import (
    DEFAULT_SEED,
    Corpus,
    CorpusFile,
    Pos,
    Premise,
    Provenance,
    TheoremRecord,
    TracedTactic,
    write_dataset,
    write_json,
)
from proofsmith.envs.process import run_batch

TRACE_FORMAT = 1  # version of the per-file outputs under traced/ (a rerun re-traces other versions)

# =========================================================================== declarations
_IDENT = r"[A-Za-z_][\w']*"
_MODS = (
    r"(?:#\[[^\]]*\]\s*|(?:Local|Global|Polymorphic|Monomorphic|Program|Cumulative|NonCumulative|Private|Declare)\s+)*"
)
_DECL_KEYWORDS = THEOREM_KEYWORDS + (
    "Definition",
    "Fixpoint",
    "CoFixpoint",
    "Inductive",
    "CoInductive",
    "Variant",
    "Record",
    "Structure",
    "Class",
    "Instance",
    "Axiom",
    "Parameter",
    "Conjecture",
    "Function",
    "Scheme",
    "Canonical Structure",
    "Canonical",
    "Coercion",
)
_DECL_ALT = "|".join(k.replace(" ", r"\s+") for k in _DECL_KEYWORDS)
_DECL = re.compile(rf"^{_MODS}({_DECL_ALT})\s+({_IDENT})(?![\w'])")
_BLOCK = re.compile(rf"^(Module\s+Type|Module|Section)\s+(?:(?:Import|Export)\s+)?({_IDENT})")
_END = re.compile(rf"^End\s+({_IDENT})\s*\.$")
_REQUIRE = re.compile(rf"^(?:From\s+({_IDENT}(?:\.{_IDENT})*)\s+)?Require\s+(?:(?:Import|Export)\s+)?(.*)\.$", re.S)
_INDUCTIVES = ("Inductive", "CoInductive", "Variant", "Record", "Structure", "Class")
_GENERATED = ("_ind", "_rect", "_rec", "_sind")


def opens_block(body: str) -> tuple[str, str] | None:
    """("Module"|"Module Type"|"Section", name) if the sentence opens an interactive block."""
    m = _BLOCK.match(body)
    if not m or ":=" in body:
        return None
    return " ".join(m.group(1).split()), m.group(2)


def closes_block(body: str) -> str | None:
    m = _END.match(body)
    return m.group(1) if m else None


def declared_name(body: str) -> tuple[str, str] | None:
    """(keyword, name) of a declaration sentence."""
    m = _DECL.match(body)
    return (" ".join(m.group(1).split()), m.group(2)) if m else None


def required_libraries(body: str) -> list[str]:
    """The qualified names a `[From P] Require [Import|Export] A B.` sentence loads (P prefixed)."""
    m = _REQUIRE.match(body)
    if not m:
        return []
    names = re.findall(rf"{_IDENT}(?:\.{_IDENT})*", re.sub(r"\([^)]*\)", " ", m.group(2)))
    return [f"{m.group(1)}.{n}" if m.group(1) else n for n in names]


class LineIndex:
    """Character offset → 1-based (line, column)."""

    def __init__(self, text: str):
        self.starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]

    def pos(self, offset: int) -> Pos:
        line = bisect_right(self.starts, offset) - 1
        return (line + 1, offset - self.starts[line] + 1)


@dataclass
class Declarations:
    """Premises of one file and where each name (premise or generated alias) is written."""

    premises: list[Premise] = field(default_factory=list)
    name_spans: dict[str, tuple[Pos, Pos]] = field(default_factory=dict)  # full name → its identifier's span
    requires: list[str] = field(default_factory=list)
    short_names: dict[str, list[str]] = field(default_factory=dict)  # last component → full names

    def span_of(self, full_name: str) -> tuple[Pos, Pos] | None:
        if full_name in self.name_spans:
            return self.name_spans[full_name]
        # functor instances and other re-exported copies: a unique short name in the file is enough
        cands = self.short_names.get(full_name.rsplit(".", 1)[-1], [])
        return self.name_spans[cands[0]] if len(cands) == 1 else None


def _proof_end(sentences: list[Sentence], i: int) -> int:
    """Index of the sentence ending the proof opened by sentence i (or i itself for `:=` forms)."""
    for j in range(i + 1, min(len(sentences), i + 5000)):
        body = sentence_body(sentences[j])
        if body in PROOF_ENDS or body.startswith(("Save ", "Abort")):
            return j
        if _DECL.match(body) or opens_block(body) or closes_block(body):
            return j - 1  # no proof (Program obligations, an unterminated proof): stop before the next one
    return i


def _aliases(keyword: str, body: str, prefix: str, name: str) -> list[str]:
    """Names Coq generates from an inductive: constructors, record fields, elimination schemes."""
    out = [name + g for g in _GENERATED]
    if keyword in _INDUCTIVES:
        for block in re.split(r"\bwith\b", body):
            m = re.match(rf"^\s*(?:{_MODS}(?:{'|'.join(_INDUCTIVES)})\s+)?({_IDENT})", block)
            if m and m.group(1) != name:
                out += [m.group(1)] + [m.group(1) + g for g in _GENERATED]
            rhs = block.split(":=", 1)[1] if ":=" in block else ""
            out += re.findall(rf"(?:^|\|)\s*({_IDENT})(?=\s|:|\(|\{{|$)", rhs.split("{", 1)[0].strip())
            out += re.findall(rf"^\s*({_IDENT})\s*\{{", rhs)  # Record's constructor `Build {`
            if "{" in rhs:
                out += re.findall(rf"(?:\{{|;)\s*({_IDENT})\s*:>?", rhs)
    return out


def parse_declarations(text: str, library: str) -> Declarations:
    """Every global declaration of the file `text`, whose logical name is `library`."""
    sentences = split_file(text)
    lines = LineIndex(text)
    decls = Declarations()
    stack: list[tuple[str, str]] = []
    for i, s in enumerate(sentences):
        body = sentence_body(s)
        block = opens_block(body)
        if block:
            stack.append(block)
            continue
        closed = closes_block(body)
        if closed:
            if stack and stack[-1][1] == closed:
                stack.pop()
            continue
        decls.requires += required_libraries(body)
        found = declared_name(body)
        if not found or any(kind == "Module Type" for kind, _ in stack):
            continue
        keyword, name = found
        prefix = ".".join([library] + [n for kind, n in stack if kind == "Module"])
        opens_proof = ":=" not in strip_comments(s.text) and keyword not in _INDUCTIVES + (
            "Axiom",
            "Parameter",
            "Conjecture",
            "Scheme",
            "Coercion",
        )
        last = sentences[_proof_end(sentences, i)] if opens_proof else s
        code = strip_comments(s.text).strip()
        start, end = lines.pos(s.start), lines.pos(last.end - 1)
        decls.premises.append(
            Premise(f"{prefix}.{name}", code, start, (end[0], end[1] + 1), keyword.lower().replace(" ", "_"))
        )
        for alias in [name] + _aliases(keyword, strip_comments(s.text), prefix, name):
            full = f"{prefix}.{alias}"
            if full in decls.name_spans:
                continue
            m = re.search(rf"(?<![\w'.]){re.escape(alias)}(?![\w'])", s.text)
            off = s.start + (m.start() if m else 0)
            decls.name_spans[full] = (lines.pos(off), lines.pos(off + (len(alias) if m else 0)))
            decls.short_names.setdefault(alias, []).append(full)
    return decls


def corpus_file(path: str, imports: list[str], decls: Declarations) -> CorpusFile:
    return CorpusFile(path, tuple(dict.fromkeys(imports)), tuple(decls.premises))


# =========================================================================== replay of one file
_KEYWORDS = frozenset(
    "as at by cofix else end exists exists2 fix for forall fun if IF in let match mod Prop return Set SProp "
    "then Type using where with struct is of from".split()
)
_TOKEN = re.compile(rf"(?<![\w'.?%])@?({_IDENT}(?:\.{_IDENT})*)")
_PREMISE_KINDS = ("Constant", "Inductive", "Constructor")
# a tactic's own name sits at a head position; `split` must not resolve to a constant named `split`
_HEAD = re.compile(
    r"(?:^|[;\[|>]|\b(?:by|try|repeat|progress|first|solve|now|abstract|once|exactly_once|time|do\s+\d+|timeout\s+\d+))\s*$"
)
_TERMINATORS = ("Qed.", "Defined.", "Admitted.", "Abort.", "Abort All.", "Save ", "Defined ")


def library_path(library: str) -> str:
    """Dataset path of a library: its logical name as directories (`Coq.Arith.PeanoNat` → `Coq/Arith/PeanoNat.v`)."""
    return library.replace(".", "/") + ".v"


@functools.lru_cache(maxsize=1)
def coqlib() -> str:
    return subprocess.check_output(["coqc", "-where"], text=True).strip()


def default_roots() -> list[tuple[str, str]]:
    """Where Coq finds libraries without `-R`: the stdlib as `Coq`, user-contrib by directory."""
    return [(os.path.join(coqlib(), "theories"), "Coq"), (os.path.join(coqlib(), "user-contrib"), "")]


def is_default_load_path(directory: str, logical: str) -> bool:
    """True for the stdlib's own mapping. user-contrib is only `-Q`-bound by default, so its
    libraries (MathComp: `Require Export eqtype.`) still get an explicit `-R`."""
    d = os.path.realpath(directory)
    for root, prefix in default_roots()[:1]:
        r = os.path.realpath(root)
        rel = os.path.relpath(d, r)
        if rel.startswith(".."):
            continue
        expect = prefix if rel == "." else ".".join(filter(None, [prefix, rel.replace(os.sep, ".")]))
        if expect == logical:
            return True
    return False


class LibraryResolver:
    """Logical library names ↔ source files, over the project's load paths and Coq's defaults."""

    def __init__(self, load_paths: Sequence[tuple[str, str]] = ()):
        self.roots = list(load_paths) + default_roots()
        self._files: dict[str, str | None] = {}
        self._decls: dict[str, Declarations | None] = {}

    def source(self, library: str) -> str | None:
        if library not in self._files:
            found = None
            for directory, prefix in self.roots:
                if prefix and library != prefix and not library.startswith(prefix + "."):
                    continue
                rel = library[len(prefix) + 1 :] if prefix else library
                cand = os.path.join(directory, *rel.split(".")) + ".v"
                if rel and os.path.isfile(cand):
                    found = cand
                    break
            self._files[library] = found
        return self._files[library]

    def library_of(self, full_name: str) -> str | None:
        """The library (longest dotted prefix with a source file) that defines `full_name`."""
        parts = full_name.split(".")
        for k in range(len(parts) - 1, 0, -1):
            lib = ".".join(parts[:k])
            if self.source(lib):
                return lib
        return None

    def declarations(self, library: str) -> Declarations | None:
        if library not in self._decls:
            src = self.source(library)
            try:
                self._decls[library] = (
                    parse_declarations(Path(src).read_text(encoding="utf-8"), library) if src else None
                )
            except (OSError, ValueError):
                self._decls[library] = None
        return self._decls[library]

    def provenance(self, full_name: str) -> Provenance:
        lib = self.library_of(full_name)
        if lib is None:
            return Provenance(full_name, "")
        decls = self.declarations(lib)
        span = decls.span_of(full_name) if decls else None
        return Provenance(full_name, library_path(lib), *(span or (None, None)))


@dataclass(frozen=True)
class FileJob:
    """One .v file to trace."""

    source: str  # the file replayed (a build copy when the project had to be compiled)
    library: str  # its logical name
    load_paths: tuple[tuple[str, str], ...]  # `-R dir logical` beyond Coq's defaults
    url: str = ""
    commit: str = ""
    call_timeout: float = 300.0
    memory_limit: int | None = 8 * 1024**3

    @property
    def path(self) -> str:
        return library_path(self.library)


@dataclass
class _Proof:
    name: str | None
    full_name: str | None
    statement: Sentence
    state: str
    state_goals: tuple[Goal, ...]
    tactics: list[TracedTactic] = field(default_factory=list)


class ReplayAborted(Exception):
    pass


def _masked(text: str) -> str:
    """`text` with comments and strings blanked (same length), so identifiers keep their offsets."""
    out, i, n = list(text), 0, len(text)
    while i < n:
        if text.startswith("(*", i):
            j = _skip_comment(text, i)
        elif text[i] == '"':
            j = _skip_string(text, i)
        else:
            i += 1
            continue
        out[i:j] = " " * (j - i)
        i = j
    return "".join(out)


_ELLIPSIS_END = re.compile(r"(?<!\.)\.\.\.(?=\s)")


def split_file(text: str) -> list[Sentence]:
    """`split_sentences`, also ending a sentence at `tac...` (`Proof with`'s terminator), which the
    shared splitter reads as part of the next sentence."""
    out: list[Sentence] = []
    for s in split_sentences(text, allow_unterminated=True):
        cuts = [m.end() for m in _ELLIPSIS_END.finditer(_masked(s.text))]
        if not cuts:
            out.append(s)
            continue
        for a, b in zip([0] + cuts, cuts + [len(s.text)]):
            if s.text[a:b].strip():  # a piece may start with bullets: split it again
                out += [
                    Sentence(x.text, s.start + a + x.start, s.start + a + x.end)
                    for x in split_sentences(s.text[a:b], allow_unterminated=True)
                ]
    return out


def local_names(goals: Sequence[Goal]) -> set[str]:
    names: set[str] = set()
    for g in goals:
        for h in g.hypotheses:
            head = re.split(r"\s:=\s|\s:\s", h, maxsplit=1)[0]
            names.update(n.strip() for n in head.split(","))
    return names


class FileTracer:
    """Walks one file once through one coqidetop, sentence by sentence, recording the proof state
    before and after every proof sentence and resolving the globals each tactic names."""

    def __init__(self, job: FileJob):
        self.job = job
        self.text = Path(job.source).read_text(encoding="utf-8")
        self.lines = LineIndex(self.text)
        self.resolver = LibraryResolver(job.load_paths)
        self.noinit = job.library.startswith("Coq.Init.")
        self.session: CoqIdeSession | None = None
        self.doc: list[tuple[str, int]] = []  # sentences now in Coq's document and their state ids
        self.cache: dict[str, tuple[str, str] | None] = {}  # identifier → (kind, full name) or None
        self.failures: list[dict] = []
        self.counts: Counter[str] = Counter()
        self.imports: list[str] = []
        self.theorems: list[TheoremRecord] = []
        self.blocks: list[tuple[str, str]] = []

    # ------------------------------------------------------------------ session
    def _start(self) -> None:
        args = ["-topfile", self.job.source] + (["-noinit"] if self.noinit else [])
        self.session = CoqIdeSession(
            CoqSessionConfig(
                load_paths=self.job.load_paths,
                extra_args=tuple(args),
                call_timeout=self.job.call_timeout,
                memory_limit=self.job.memory_limit,
            )
        )
        self.session.start()
        self.doc = []
        sid = self._add(f"Set Printing Width {CoqConfig.printing_width}.")
        if sid is None:
            raise ReplayAborted("cannot set the printing width")

    @property
    def tip(self) -> int:
        assert self.session is not None
        return self.doc[-1][1] if self.doc else self.session.root_state

    def _add(self, text: str) -> int | None:
        assert self.session is not None
        reply = self.session.add(text, self.tip)
        if not reply.good:
            self._last_error = reply.fail_text
            return None
        sid = xp.decode_add(reply.value)
        self.doc.append((text, sid))
        return sid

    def _goals(self) -> tuple[bool, xp.CoqGoals | None]:
        """Execute up to the tip; (ok, goals) with goals None when no proof is open."""
        assert self.session is not None
        reply = self.session.goal()
        if not reply.good:
            errors = reply.error_messages()
            self._last_error = (errors[0].text if errors else reply.fail_text).strip()
            return False, None
        return True, xp.decode_goals(reply.value)

    def _undo(self) -> None:
        """Drop the last sentence of the document."""
        assert self.session is not None
        self.doc.pop()
        reply = self.session.edit_at(self.tip)
        if not reply.good:
            raise ReplayAborted(f"Edit_at failed: {reply.fail_text}")

    def _recover(self) -> None:
        """After a timeout or crash: a fresh coqidetop replays the document so far."""
        doc = [t for t, _ in self.doc[1:]]
        if self.session is not None:
            self.session.close()
        self.counts["restarts"] += 1
        self._start()
        for text in doc:
            if self._add(text) is None:
                raise ReplayAborted("replay after a restart failed")
        ok, _ = self._goals()
        if not ok:
            raise ReplayAborted("replay after a restart failed")

    # ------------------------------------------------------------------ failures
    def _fail(self, reason: str, sentence: Sentence | None, message: str, theorem: str | None = None) -> None:
        self.counts[f"failed:{reason}"] += 1
        self.failures.append(
            {
                "file_path": self.job.path,
                "theorem": theorem,
                "reason": reason,
                "sentence": sentence.text[:300] if sentence else None,
                "pos": list(self.lines.pos(sentence.start)) if sentence else None,
                "message": (message or "")[:1000],
            }
        )

    # ------------------------------------------------------------------ premises
    def _invalidate(self, body: str) -> None:
        """Keep the name cache true to Coq's scope: scope changes clear it, new names evict their short name."""
        if re.match(
            r"^(?:Require|From|Import|Export|Open|Close|Module|Section|End|Include|Set|Unset|Local|Global)\b", body
        ) and not declared_name(body):
            self.cache.clear()
            return
        found = declared_name(body)
        if found:
            short = found[1]
            for k in [k for k in self.cache if k.rsplit(".", 1)[-1] == short or k == short]:
                del self.cache[k]

    def _resolve(self, names: list[str], sid: int) -> None:
        assert self.session is not None
        todo = [n for n in dict.fromkeys(names) if n not in self.cache]
        if not todo:
            return
        self.counts["locate_queries"] += 1
        reply, notices = self.session.query(" ".join(f"Locate {n}." for n in todo), sid)
        if not reply.good or len(notices) != len(todo):  # one bad name spoils a batch: ask one by one
            notices = []
            for n in todo:
                r, ns = self.session.query(f"Locate {n}.", sid)
                notices.append(ns[0] if r.good and ns else "")
        for n, text in zip(todo, notices):
            first = text.strip().split("\n", 1)[0].split()
            if len(first) >= 2 and first[0] in _PREMISE_KINDS:
                self.cache[n] = (first[0], first[1])
            else:
                self.cache[n] = None

    def _annotate(self, tactic: str, goals: Sequence[Goal], sid: int) -> tuple[str, tuple[Provenance, ...]]:
        locals_ = local_names(goals)
        masked = _masked(tactic)
        hits = [
            m
            for m in _TOKEN.finditer(masked)
            if m.group(1) not in _KEYWORDS and m.group(1) not in locals_ and not _HEAD.search(masked[: m.start()])
        ]
        self._resolve([m.group(1) for m in hits], sid)
        out, provs, last = [], [], 0
        for m in hits:
            found = self.cache.get(m.group(1))
            if not found:
                continue
            out.append(tactic[last : m.start(1)] + f"<a>{m.group(1)}</a>")
            last = m.end(1)
            provs.append(self.resolver.provenance(found[1]))
        out.append(tactic[last:])
        return "".join(out), tuple(provs)

    # ------------------------------------------------------------------ imports
    def _record_imports(self, body: str) -> None:
        assert self.session is not None
        names = required_libraries(body)
        if not names:
            return
        reply, notices = self.session.query(" ".join(f"Locate Library {n}." for n in names), self.tip)
        for text in notices if reply.good else []:
            m = re.match(rf"^({_IDENT}(?:\.{_IDENT})*) has been loaded", text.strip())
            if m:
                self.imports.append(library_path(m.group(1)))

    def _prefix(self) -> str:
        # a lemma proved inside a Module Type is a field of it: its name includes the module type's
        return ".".join([self.job.library] + [n for kind, n in self.blocks if kind in ("Module", "Module Type")])

    # ------------------------------------------------------------------ the walk
    def run(self) -> dict:
        t0 = time.monotonic()
        self.decls = parse_declarations(self.text, self.job.library)
        sentences = split_file(self.text)
        if not self.noinit:
            self.imports.append(library_path("Coq.Init.Prelude"))
        loaded: list[str] = []
        try:
            self._start()
            i = 0
            while i < len(sentences):
                i = self._step(sentences, i)
            assert self.session is not None
            reply, notices = self.session.query("Print Libraries.", self.tip)
            if reply.good and notices:
                loaded = [l.strip() for l in notices[0].splitlines()[1:] if l.strip()]
        except ReplayAborted as e:
            self._fail("file_aborted", None, str(e))
        finally:
            if self.session is not None:
                self.session.close()
        self.counts["sentences"] = len(sentences)
        corpus = corpus_file(self.job.path, self.imports, self.decls)
        return {
            "version": TRACE_FORMAT,
            "path": self.job.path,
            "library": self.job.library,
            "source": self.job.source,
            "theorems": [t.to_json() for t in self.theorems],
            "corpus": corpus.to_json(),
            "loaded_libraries": loaded,
            "failures": self.failures,
            "counts": dict(self.counts),
            "seconds": round(time.monotonic() - t0, 3),
        }

    def _step(self, sentences: list[Sentence], i: int) -> int:
        """Process the sentence at i outside a proof; returns the next index."""
        s = sentences[i]
        body = sentence_body(s)
        found = declared_name(body)
        try:
            if self._add(s.text) is None:
                if found and found[0] in THEOREM_KEYWORDS:  # its proof would only cascade into more errors
                    self.counts["theorems"] += 1
                    self._fail("statement_error", s, self._last_error, f"{self._prefix()}.{found[1]}")
                    return self._skip_proof(sentences, i)
                self._fail("sentence_error", s, self._last_error)
                return i + 1
            ok, goals = self._goals()
        except (EnvTimeoutError, EnvCrashError) as e:
            self._fail("timeout" if isinstance(e, EnvTimeoutError) else "crash", s, str(e))
            self.doc.pop()
            self._recover()
            return i + 1
        if not ok:
            self._undo()
            if goals is None and found and found[0] in THEOREM_KEYWORDS:
                self.counts["theorems"] += 1
                self._fail("statement_error", s, self._last_error, f"{self._prefix()}.{found[1]}")
                return self._skip_proof(sentences, i)
            self._fail("sentence_error", s, self._last_error)
            return i + 1
        self._invalidate(body)
        block = opens_block(body)
        if block:
            self.blocks.append(block)
        elif (closed := closes_block(body)) and self.blocks and self.blocks[-1][1] == closed:
            self.blocks.pop()
        if required_libraries(body):
            self._record_imports(body)
        if goals is None:
            return i + 1
        name = found[1] if found else None
        pp, parsed = render_goals(goals) if not goals.complete else ("no goals", ())
        proof = _Proof(name, f"{self._prefix()}.{name}" if name else None, s, pp, parsed)
        return self._proof(sentences, i + 1, proof)

    def _skip_proof(self, sentences: list[Sentence], i: int) -> int:
        """Index after the terminator of the proof begun at i (Coq never saw its sentences)."""
        for j in range(i + 1, len(sentences)):
            body = sentence_body(sentences[j])
            if body.startswith(_TERMINATORS) or body == "Abort All.":
                return j + 1
            if declared_name(body) or opens_block(body) or closes_block(body):
                return j
        return len(sentences)

    def _give_up(self, sentences: list[Sentence], i: int, proof: _Proof) -> int:
        """A proof that does not replay: admit it so that later uses of the name still work."""
        if self._add("Admitted.") is None or not self._goals()[0]:
            self._add("Abort.")
        return self._skip_proof(sentences, i - 1)

    def _proof(self, sentences: list[Sentence], i: int, proof: _Proof) -> int:
        """Replay the proof sentences from i; returns the index after its terminator."""
        tracked = proof.full_name is not None
        if tracked:
            self.counts["theorems"] += 1
        else:
            self.counts["unnamed_proofs"] += 1
        while i < len(sentences):
            s = sentences[i]
            body = sentence_body(s)
            before_sid, before, before_goals = self.tip, proof.state, proof.state_goals
            try:
                sid = self._add(s.text)
                if sid is None:
                    self._fail("parse_error", s, self._last_error, proof.full_name)
                    return self._give_up(sentences, i, proof)
                ok, goals = self._goals()
            except (EnvTimeoutError, EnvCrashError) as e:
                self._fail("timeout" if isinstance(e, EnvTimeoutError) else "crash", s, str(e), proof.full_name)
                self.doc.pop()
                self._recover()
                return self._give_up(sentences, i, proof)
            terminator = body.startswith(_TERMINATORS) or body == "Abort All."
            if not ok:
                self._undo()
                reason = "qed_rejected" if terminator else "tactic_error"
                self._fail(reason, s, self._last_error, proof.full_name)
                return self._give_up(sentences, i, proof)
            if goals is None:  # the proof is closed
                if body.startswith(("Qed.", "Defined", "Save")) or re.match(r"^Proof\b", body):
                    if tracked and proof.tactics is not None:
                        if not proof.tactics and re.match(r"^Proof\b", body):
                            self.counts["term_proofs"] += 1
                        else:
                            self._record(proof, s)
                elif body.startswith("Admitted"):
                    self.counts["admitted"] += 1
                else:
                    self.counts["aborted"] += 1
                return i + 1
            if terminator:  # Coq accepted a terminator but a proof is still open (nested proofs)
                self._fail("unsupported", s, "proof still open after its terminator", proof.full_name)
                return self._give_up(sentences, i + 1, proof)
            pp, parsed = render_goals(goals) if not goals.complete else ("no goals", ())
            proof.state, proof.state_goals = pp, parsed
            if re.match(r"^Proof\b", body) or s.is_focus:
                i += 1
                continue
            self.counts["proof_sentences"] += 1
            if pp == before:
                self.counts["unchanged_tactics"] += 1
            elif tracked:
                tactic = " ".join(s.text.split()) if "\n" in s.text else s.text
                # hypotheses of both states are local: `intros f` must not make a global `f` a premise
                ann = self._annotate(tactic, tuple(before_goals) + tuple(parsed), before_sid)
                proof.tactics.append(TracedTactic(tactic, ann, before, pp))
            i += 1
        self._fail("unterminated", proof.statement, "end of file inside a proof", proof.full_name)
        return i

    def _record(self, proof: _Proof, end: Sentence) -> None:
        self.counts["traced_theorems"] += 1
        self.counts["tactics"] += len(proof.tactics)
        st = proof.statement
        self.theorems.append(
            TheoremRecord(
                self.job.url,
                self.job.commit,
                self.job.path,
                proof.full_name or "",
                self.lines.pos(st.start),
                _after(self.lines.pos(end.end - 1)),
                tuple(proof.tactics),
                strip_comments(st.text).strip(),
                "coq",
            )
        )


def _after(p: Pos) -> Pos:
    return (p[0], p[1] + 1)


def trace_file(job: FileJob) -> dict:
    return FileTracer(job).run()


# =========================================================================== projects
@dataclass(frozen=True)
class SourceTree:
    """A directory of .v files and the logical paths its files live under."""

    root: Path
    mappings: tuple[tuple[str, str], ...]  # (directory, logical prefix)

    def files(self) -> list[tuple[str, str]]:
        """(absolute .v path, library name) of every file."""
        out = []
        for directory, prefix in self.mappings:
            for p in sorted(Path(directory).rglob("*.v")):
                rel = p.relative_to(directory).with_suffix("")
                if any(not re.fullmatch(_IDENT, part) for part in rel.parts):
                    continue
                out.append((str(p), ".".join(filter(None, [prefix, *rel.parts]))))
        return out


def discover(src: Path, logical: str | None = None) -> SourceTree:
    """The logical paths of `src`: its `_CoqProject`, else `logical`, else the directory's name."""
    src = Path(src).resolve()
    if (src / "_CoqProject").is_file():
        maps = coq_project_load_paths(src / "_CoqProject")
        if maps:
            return SourceTree(src, maps)
    return SourceTree(src, ((str(src), logical or src.name),))


def git_origin(root: Path) -> tuple[str, str]:
    """(url, commit) of the repository holding `root`, or its file URI and "" outside git."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
        url = subprocess.run(
            ["git", "-C", str(root), "config", "--get", "remote.origin.url"], capture_output=True, text=True, timeout=10
        )
        if commit.returncode == 0:
            return (url.stdout.strip() or root.as_uri()), commit.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return root.as_uri(), ""


def needs_build(tree: SourceTree) -> bool:
    return any(not os.path.isfile(path + "o") for path, _ in tree.files())


def _coqdep_order(tree: SourceTree, cwd: str) -> list[str]:
    """The tree's .v files (relative to `cwd`), dependencies first, from `coqdep`."""
    files = [os.path.relpath(p, cwd) for p, _ in tree.files()]
    argv = ["coqdep"] + [a for d, l in tree.mappings for a in ("-R", os.path.relpath(d, cwd), l)] + files
    res = run_batch(argv, timeout=300, cwd=cwd)
    deps: dict[str, set[str]] = {f: set() for f in files}
    for line in res.output.splitlines():
        if ":" not in line:
            continue
        lhs, rhs = line.split(":", 1)
        target = lhs.split()[0]
        if not target.endswith(".vo"):
            continue
        v = target[:-1]
        if v in deps:
            deps[v] |= {d[:-1] for d in rhs.split() if d.endswith(".vo") and d[:-1] in deps and d[:-1] != v}
    order, done = [], set()

    def visit(f: str, stack: frozenset = frozenset()) -> None:
        if f in done or f in stack:
            return
        for d in sorted(deps[f]):
            visit(d, stack | {f})
        done.add(f)
        order.append(f)

    for f in sorted(deps):
        visit(f)
    return order


def build(tree: SourceTree, build_dir: Path, timeout: float = 1800.0) -> SourceTree:
    """Copy the tree into `build_dir` and compile it there in dependency order (sources untouched)."""
    build_dir = Path(build_dir)
    if build_dir.exists():
        shutil.rmtree(build_dir)
    shutil.copytree(tree.root, build_dir, ignore=shutil.ignore_patterns("*.vo", "*.vos", "*.vok", "*.glob", ".git"))
    copy = SourceTree(build_dir, tuple((str(build_dir / os.path.relpath(d, tree.root)), l) for d, l in tree.mappings))
    cwd = str(build_dir)
    rargs = [a for d, l in copy.mappings for a in ("-R", os.path.relpath(d, cwd), l)]
    for f in _coqdep_order(copy, cwd):
        res = run_batch(["coqc", "-q", *rargs, f], timeout=timeout, cwd=cwd)
        if res.returncode != 0:
            raise RuntimeError(f"coqc {f} failed: {res.output.strip()[-2000:]}")
    return copy


def _jobs(tree: SourceTree, call_timeout: float) -> list[FileJob]:
    url, commit = git_origin(tree.root)
    load_paths = tuple((d, l) for d, l in tree.mappings if not is_default_load_path(d, l))
    return [FileJob(path, lib, load_paths, url, commit, call_timeout) for path, lib in tree.files()]


def _run_job(job: FileJob) -> tuple[FileJob, dict | None, str]:
    try:
        return job, trace_file(job), ""
    except Exception as e:  # one broken file never stops the run; it is reported
        return job, None, f"{type(e).__name__}: {e}"


@dataclass
class TraceOptions:
    workers: int = max(1, os.cpu_count() or 1)
    resume: bool = True
    progress: bool = True
    call_timeout: float = 300.0
    seed: int = DEFAULT_SEED
    num_eval: int | None = None
    max_files: int | None = None  # trace only the first N files (by size, largest first): subsets
    file_filter: str | None = None  # regex on the library name


def _output_of(out: Path, job: FileJob) -> Path:
    return out / "traced" / (job.path[:-2] + ".json")


def trace_sources(trees: Sequence[SourceTree], out: Path, options: TraceOptions | None = None) -> dict:
    """Trace every file of `trees` into `out` and write the dataset; returns the stats."""
    opts = options or TraceOptions()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    jobs: list[FileJob] = []
    for k, tree in enumerate(trees):
        if needs_build(tree):
            tree = build(tree, out / "build" / str(k))
        jobs += _jobs(tree, opts.call_timeout)
    if opts.file_filter:
        jobs = [j for j in jobs if re.search(opts.file_filter, j.library)]
    jobs.sort(key=lambda j: -os.path.getsize(j.source))  # longest first: better packing over workers
    if opts.max_files is not None:
        jobs = jobs[: opts.max_files]
    todo = [j for j in jobs if not (opts.resume and _output_of(out, j).is_file())]
    errors: list[dict] = []
    bar = tqdm(
        total=len(jobs),
        initial=len(jobs) - len(todo),
        unit="file",
        desc="trace",
        disable=not opts.progress,
        dynamic_ncols=True,
    )
    done_theorems = 0
    with multiprocessing.get_context("fork").Pool(max(1, opts.workers), maxtasksperchild=50) as pool:
        for job, result, error in pool.imap_unordered(_run_job, todo):
            if result is None:
                errors.append({"file_path": job.path, "theorem": None, "reason": "file_error", "message": error})
            else:
                write_json(_output_of(out, job), result)
                done_theorems += len(result["theorems"])
            bar.update(1)
            bar.set_postfix(file=job.library[-30:], theorems=done_theorems)
    bar.close()
    stats = aggregate(out, jobs, errors, opts)
    stats["wall_seconds"] = round(time.monotonic() - t0, 2)
    stats["files_resumed"] = len(jobs) - len(todo)
    write_json(out / "trace_stats.json", stats)
    return stats


def _external_corpus(libraries: set[str], known: set[str], resolver: LibraryResolver) -> list[CorpusFile]:
    """Premise-only corpus lines for the libraries the traced files load but that were not traced,
    so that accessibility can follow imports transitively."""
    out = []
    for lib in sorted(libraries - known):
        decls = resolver.declarations(lib)
        if decls is None:
            continue
        imports = [] if lib.startswith("Coq.Init.") else [library_path("Coq.Init.Prelude")]
        for req in decls.requires:
            cands = sorted((l for l in libraries if l == req or l.endswith("." + req)), key=len)
            if cands:
                imports.append(library_path(cands[0]))
        out.append(corpus_file(library_path(lib), imports, decls))
    return out


def aggregate(out: Path, jobs: Sequence[FileJob], errors: list[dict], opts: TraceOptions) -> dict:
    theorems: list[TheoremRecord] = []
    files: list[CorpusFile] = []
    failures = list(errors)
    counts: Counter[str] = Counter()
    loaded: set[str] = set()
    seconds = 0.0
    for job in jobs:
        p = _output_of(out, job)
        if not p.is_file():
            continue
        d = json.loads(p.read_text(encoding="utf-8"))
        theorems += [TheoremRecord.from_json(t, "coq") for t in d["theorems"]]
        files.append(CorpusFile.from_json(d["corpus"]))
        failures += d["failures"]
        counts.update(d["counts"])
        loaded.update(d["loaded_libraries"])
        seconds += d["seconds"]
    resolver = LibraryResolver(tuple(lp for job in jobs for lp in job.load_paths))
    files += _external_corpus(loaded, {j.library for j in jobs}, resolver)
    metadata = {
        "backend": "coq",
        "coq_version": _coq_version(),
        "sources": sorted({j.url for j in jobs}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "format": "LeanDojo Benchmark 4 (+ backend field)",
    }
    splits = write_dataset(out, theorems, Corpus(files), metadata, opts.seed, opts.num_eval)
    with open(out / "failures.jsonl", "w", encoding="utf-8") as f:
        for x in failures:
            f.write(json.dumps(x, ensure_ascii=False) + "\n")
    by_reason = Counter(x["reason"] for x in failures)
    return {
        "files": len(jobs),
        "files_traced": len(jobs) - len(errors),
        "files_failed": len(errors),
        "theorems": counts["theorems"],
        "traced_theorems": counts["traced_theorems"],
        "traced_tactics": counts["tactics"],
        "term_proofs": counts["term_proofs"],
        "admitted": counts["admitted"],
        "unnamed_proofs": counts["unnamed_proofs"],
        "sentences": counts["sentences"],
        "proof_sentences": counts["proof_sentences"],
        "unchanged_tactics": counts["unchanged_tactics"],
        "locate_queries": counts["locate_queries"],
        "restarts": counts["restarts"],
        "corpus_files": len(files),
        "corpus_premises": sum(len(f.premises) for f in files),
        "failures": len(failures),
        "failures_by_reason": dict(sorted(by_reason.items())),
        "worker_seconds": round(seconds, 2),
        "splits": splits,
    }


@functools.lru_cache(maxsize=1)
def _coq_version() -> str:
    try:
        return subprocess.check_output(["coqc", "--print-version"], text=True).split()[0]
    except (OSError, subprocess.SubprocessError):
        return ""
