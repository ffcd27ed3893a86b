"""The replay of one Coq file through one coqidetop.

`FileTracer` walks the file sentence by sentence, recording the proof state before and after every
proof sentence and the globals each tactic names (resolved with `Locate`), and returns the
per-file trace (theorems, corpus line, failures, counts) that the batch driver collects.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from proofsmith.dataset.schema import Pos, Provenance, TheoremRecord, TracedTactic
from proofsmith.envs.base import EnvCrashError, EnvTimeoutError, Goal
from proofsmith.envs.coq import xml_protocol as xp
from proofsmith.envs.coq.declarations import (
    IDENT,
    LineIndex,
    closes_block,
    corpus_file,
    declared_name,
    masked_text,
    opens_block,
    parse_declarations,
    required_libraries,
    split_file,
)
from proofsmith.envs.coq.env import CoqConfig, render_goals
from proofsmith.envs.coq.libraries import LibraryResolver, library_path
from proofsmith.envs.coq.sentences import Sentence, strip_comments
from proofsmith.envs.coq.session import CoqIdeSession, CoqSessionConfig
from proofsmith.envs.coq.source import THEOREM_KEYWORDS, sentence_body

TRACE_FORMAT = 1  # version of the per-file outputs under traced/ (a rerun re-traces other versions)

_KEYWORDS = frozenset(
    "as at by cofix else end exists exists2 fix for forall fun if IF in let match mod Prop return Set SProp "
    "then Type using where with struct is of from".split()
)
_TOKEN = re.compile(rf"(?<![\w'.?%])@?({IDENT}(?:\.{IDENT})*)")
_PREMISE_KINDS = ("Constant", "Inductive", "Constructor")
# a tactic's own name sits at a head position; `split` must not resolve to a constant named `split`
_HEAD = re.compile(
    r"(?:^|[;\[|>]|\b(?:by|try|repeat|progress|first|solve|now|abstract|once|exactly_once|time|do\s+\d+|timeout\s+\d+))\s*$"
)
_TERMINATORS = ("Qed.", "Defined.", "Admitted.", "Abort.", "Abort All.", "Save ", "Defined ")


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
    coq_flags: tuple[str, ...] = ()  # what its library is compiled with (HoTT: -noinit -indices-matter)

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
        self.noinit = job.library.startswith("Coq.Init.") or "-noinit" in job.coq_flags  # no Prelude loaded
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
        flags = list(self.job.coq_flags)
        args = ["-topfile", self.job.source] + (["-noinit"] if self.noinit and "-noinit" not in flags else []) + flags
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
        masked = masked_text(tactic)
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
            m = re.match(rf"^({IDENT}(?:\.{IDENT})*) has been loaded", text.strip())
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
            "coq_flags": list(self.job.coq_flags),
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
                coq_flags=self.job.coq_flags,  # so that the environment and the verifier pass them too
            )
        )


def _after(p: Pos) -> Pos:
    return (p[0], p[1] + 1)


def trace_file(job: FileJob) -> dict:
    return FileTracer(job).run()
