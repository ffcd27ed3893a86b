"""Reading Coq sources: where a theorem sits in its file, its context, its proof, load paths."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from proofsmith.envs.base import EnvStartError, TheoremRef
from proofsmith.envs.coq.compat import for_installed_coq
from proofsmith.envs.coq.flags import COQ_FLAGS, CoqFlagsError, check_coq_flags
from proofsmith.envs.coq.sentences import Sentence, split_sentences, strip_comments

THEOREM_KEYWORDS = ("Theorem", "Lemma", "Fact", "Remark", "Corollary", "Proposition", "Property", "Example")
_MODIFIERS = r"(?:#\[[^\]]*\]\s*|(?:Local|Global|Polymorphic|Monomorphic|Program)\s+)*"
_THEOREM = re.compile(rf"^{_MODIFIERS}(?:{'|'.join(THEOREM_KEYWORDS)})\s+([A-Za-z_][\w']*)", re.S)
PROOF_ENDS = ("Qed.", "Defined.", "Admitted.", "Abort.", "Save.")


class StartFailure(str, Enum):
    """Why a theorem could not be started (`TheoremStartError.reason`)."""

    SOURCE_UNREADABLE = "source_unreadable"  # the file cannot be read or split into sentences
    NOT_FOUND = "not_found"  # no statement of that name (at that position) in the file
    CONTEXT_FAILED = "context_failed"  # a sentence before the statement fails when replayed
    STATEMENT_FAILED = "statement_failed"  # the statement itself is rejected
    NO_PROOF_OPEN = "no_proof_open"  # the statement opens no proof
    TIMEOUT = "timeout"  # loading the context exceeded the start limit
    BAD_FLAGS = "bad_flags"  # the theorem carries Coq flags that are not accepted (`envs/coq/flags.py`)

    def __str__(self) -> str:
        return str(self.value)


class TheoremStartError(EnvStartError):
    """`EnvStartError` of the Coq environment, with the reason as a `StartFailure`."""

    def __init__(self, message: str, reason: StartFailure):
        super().__init__(message)
        self.reason = reason


def sentence_body(s: Sentence) -> str:
    return " ".join(strip_comments(s.text).split())


def theorem_name(s: Sentence) -> str | None:
    m = _THEOREM.match(sentence_body(s))
    return m.group(1) if m else None


@dataclass(frozen=True)
class TheoremSource:
    """A theorem located in its text: everything needed to replay it or re-check it."""

    name: str
    text: str  # the whole source text (file, or header + statement)
    sentences: tuple[Sentence, ...]  # all sentences of `text`
    index: int  # index of the statement sentence
    open_blocks: tuple[tuple[str, str], ...]  # (Section|Module, name) open at the statement
    load_paths: tuple[tuple[str, str], ...]
    file_path: Path | None = None
    coq_flags: tuple[str, ...] = ()  # passed to coqidetop and coqc wherever the theorem is started or re-checked

    @property
    def prefix(self) -> tuple[Sentence, ...]:
        return self.sentences[: self.index]

    @property
    def statement(self) -> Sentence:
        return self.sentences[self.index]

    @property
    def prefix_text(self) -> str:
        return self.text[: self.statement.start]

    @property
    def module_path(self) -> tuple[str, ...]:
        return tuple(name for kind, name in self.open_blocks if kind.startswith("Module"))

    def proof(self) -> tuple[list[str], str | None]:
        """The sentences of the proof as written in the source, and its terminator (`Qed.`...).
        A term-mode definition (`:=`) or a missing proof gives ([], None)."""
        out: list[str] = []
        for s in self.sentences[self.index + 1 :]:
            body = sentence_body(s)
            if body in PROOF_ENDS:
                return out, body
            if not out and re.match(r"^Proof\b", body):
                rest = body[len("Proof") :].strip()
                if rest.startswith("using") or rest == ".":
                    continue
                if rest.startswith("with"):
                    continue
                # `Proof term.` closes the proof with an exact term
                return [f"exact ({rest[:-1].strip()})."], "Qed."
            out.append(s.text)
        return out, None

    def context(self, additional_imports: Sequence[str] = ()) -> tuple[str, ...]:
        """The sentences replayed before the statement: the theorem's own prefix, then `additional_imports`.

        The imports come after the prefix, so that they never change how the file's own sentences are
        read: a hint they add (`Require Import Lra` loads ZArith's `Hint Extern ... => lia : zarith`) would
        otherwise change what `intuition` or `auto with *` do in an earlier proof of the file, which then
        no longer replays (`Znumtheory.prime_divisors`). The live environment (`context`) and the batch
        verifier (`context_text`) place them the same way."""
        return tuple(s.text for s in self.prefix) + tuple(additional_imports)

    def context_text(self, additional_imports: Sequence[str] = ()) -> str:
        """`context` as source text, for the batch verifier: the file up to the statement, the modules
        open there without their signatures (`unsealed_module`: the verifier closes them right after the
        theorem), then the imports."""
        from proofsmith.envs.coq.declarations import unsealed_module

        text, at = [], 0
        for i in _open_block_indices(self.sentences, self.index):
            s = self.sentences[i]
            unsealed = unsealed_module(sentence_body(s))
            if unsealed != sentence_body(s):
                text += [self.text[at : s.start], unsealed]
                at = s.end
        text.append(self.text[at : self.statement.start])
        prefix = "".join(text)
        if not additional_imports:
            return prefix
        return prefix + "\n" + "".join(f"{line}\n" for line in additional_imports)

    def closing_text(self) -> str:
        """`End X.` for every section/module open at the theorem, innermost first."""
        return "".join(f"\nEnd {name}." for _, name in reversed(self.open_blocks))


def _open_block_indices(sentences: tuple[Sentence, ...], index: int) -> list[int]:
    """The indices of the sentences opening the Sections, Modules and Module Types (functor bodies
    included) open at sentence `index`, outermost first, read as the tracer reads them (`Module Import
    M.` opens `M`; `Module M := F X.` opens nothing)."""
    from proofsmith.envs.coq.declarations import closes_block, opens_block

    stack: list[tuple[int, str]] = []
    for i, s in enumerate(sentences[:index]):
        body = sentence_body(s)
        block = opens_block(body)
        if block:
            stack.append((i, block[1]))
            continue
        closed = closes_block(body)
        if closed and stack and stack[-1][1] == closed:
            stack.pop()
    return [i for i, _ in stack]


def _blocks_before(sentences: tuple[Sentence, ...], index: int) -> tuple[tuple[str, str], ...]:
    """The Sections, Modules and Module Types open at sentence `index`, outermost first (`_open_block_indices`)."""
    from proofsmith.envs.coq.declarations import opens_block

    blocks = (opens_block(sentence_body(sentences[i])) for i in _open_block_indices(sentences, index))
    return tuple(b for b in blocks if b)


def _coq_project(path: Path) -> tuple[Path, list[str]] | None:
    """The directory and words of the nearest `_CoqProject` above `path`."""
    for d in [path if path.is_dir() else path.parent, *path.resolve().parents]:
        proj = d / "_CoqProject"
        if proj.is_file():
            return d, shlex.split(proj.read_text(), comments=True)
    return None


def coq_project_load_paths(path: Path) -> tuple[tuple[str, str], ...]:
    """`-R`/`-Q` mappings from the nearest `_CoqProject` above `path` (directories made absolute)."""
    found = _coq_project(path)
    if found is None:
        return ()
    d, words = found
    out = []
    for i, w in enumerate(words):
        if w in ("-R", "-Q") and i + 2 < len(words):
            out.append((str((d / words[i + 1]).resolve()), words[i + 2]))
    return tuple(out)


def coq_project_flags(path: Path) -> tuple[str, ...]:
    """The accepted Coq flags (`envs/coq/flags.py`) among the `-arg` lines of the nearest `_CoqProject`
    above `path` (`-arg -noinit`); other arguments (warnings...) are not flags of the library's logic."""
    found = _coq_project(path)
    if found is None:
        return ()
    words = found[1]
    args = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "-arg"]
    return tuple(dict.fromkeys(a for a in args if a in COQ_FLAGS))


def installed_library_load_paths(path: Path) -> tuple[tuple[str, str], ...]:
    """`-R user-contrib/<Lib> <Lib>` for a file of an installed library (Coquelicot, MathComp...):
    user-contrib is only `-Q`-bound by default, and such files load their siblings by short name
    (`Require Import Rcomplements.`), exactly as the tracer replayed them."""
    parts = path.resolve().parts
    if "user-contrib" in parts:
        i = len(parts) - 1 - parts[::-1].index("user-contrib")
        if i + 2 < len(parts):  # user-contrib/<Lib>/.../file.v
            return ((str(Path(*parts[: i + 2])), parts[i + 1]),)
    return ()


def installed_library_flags(path: Path) -> tuple[str, ...]:
    """The Coq flags of an installed library's file (user-contrib/HoTT/...: `-noinit -indices-matter`), from
    the package list entry whose roots hold it (`dataset/coq_packages.toml`, `coq_flags`)."""
    from proofsmith.dataset.packages import coq_flags_of

    parts = path.resolve().with_suffix("").parts
    if "user-contrib" in parts:
        i = len(parts) - 1 - parts[::-1].index("user-contrib")
        if i + 2 < len(parts):
            return coq_flags_of(".".join(parts[i + 1 :]))
    return ()


def list_theorems(text: str) -> list[tuple[int, str]]:
    """(sentence index, name) of every theorem-like statement in the text."""
    sentences = split_sentences(text, allow_unterminated=True)
    return [(i, n) for i, s in enumerate(sentences) if (n := theorem_name(s))]


def _offset(text: str, position: tuple[int, int]) -> int | None:
    """Character offset of a 1-based (line, column) position in `text` (None when past its end)."""
    line, col = position
    start = 0
    for _ in range(line - 1):
        nl = text.find("\n", start)
        if nl < 0:
            return None
        start = nl + 1
    return start + col - 1


def _declared(s: Sentence) -> str | None:
    """Name declared by sentence `s` with any declaration keyword (`Definition f n : T.` opens a proof
    just as `Lemma` does, and the tracer traces it)."""
    from proofsmith.envs.coq.declarations import declared_name

    found = declared_name(sentence_body(s))
    return found[1] if found else None


def _opens_proof(s: Sentence) -> bool:
    """A statement without a body (`:=`) opens a proof; theorem keywords always do."""
    return theorem_name(s) is not None or ":=" not in sentence_body(s)


def _find(theorem: TheoremRef, sentences: tuple[Sentence, ...], text: str) -> int | None:
    """Index of `theorem`'s statement among `sentences`.

    With a traced `position`, the sentence that starts there, provided it declares the name (a name can
    be declared in several modules, sections or functor bodies of one file). Otherwise, or if the file
    changed since, the statements declaring the name that open a proof: the one whose enclosing modules
    match the qualified name best (`Coq.Arith.PeanoNat.Nat.div2_Odd` → inside `Module Nat`), the first on
    ties, theorem keywords (`Lemma`...) before other declarations (`Definition`, `Instance`...)."""
    parts = theorem.name.split(".")
    wanted = parts[-1]
    if theorem.position is not None:
        offset = _offset(text, theorem.position)
        if offset is not None:
            for i, s in enumerate(sentences):
                if s.start <= offset < max(s.end, s.start + 1) and _declared(s) == wanted:
                    return i
                if s.start > offset:
                    break
    best: tuple[int, int, int] | None = None  # (-modules matched, keyword rank, index)
    for i, s in enumerate(sentences):
        if theorem_name(s) == wanted:
            rank = 0
        elif _declared(s) == wanted and _opens_proof(s):
            rank = 1
        else:
            continue
        modules = [name for kind, name in _blocks_before(sentences, i) if kind.startswith("Module")]
        qualifier = parts[:-1]
        matched = len(modules) if modules and qualifier[-len(modules) :] == modules else 0
        if modules and not matched and qualifier and not any(m in qualifier for m in modules):
            matched = -1  # qualified elsewhere: only if nothing better
        key = (-matched, rank, i)
        if best is None or key < best:
            best = key
    return best[2] if best is not None else None


def locate(theorem: TheoremRef) -> TheoremSource:
    """Find `theorem` in its file (at its traced position when given, see `_find`) or in its self-contained
    statement (Rocq 9's `From Stdlib` read as `Coq` on Coq 8.x: see `compat`)."""
    header = for_installed_coq(theorem.header.rstrip())
    if theorem.file_path is not None:
        path = Path(theorem.file_path)
        try:
            text = for_installed_coq(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise TheoremStartError(f"cannot read {path}: {e}", StartFailure.SOURCE_UNREADABLE) from e
        load_paths = theorem.load_paths or coq_project_load_paths(path) or installed_library_load_paths(path)
        raw_flags = theorem.coq_flags or coq_project_flags(path) or installed_library_flags(path)
    else:
        text = (header + "\n\n" if header else "") + (theorem.statement or "")
        load_paths = theorem.load_paths
        raw_flags = theorem.coq_flags
        path = None
    try:
        flags = check_coq_flags(raw_flags, f"{theorem.name}: coq_flags")
    except CoqFlagsError as e:
        raise TheoremStartError(str(e), StartFailure.BAD_FLAGS) from None
    try:
        sentences = tuple(_split(text))
    except ValueError as e:
        raise TheoremStartError(
            f"cannot split {path or 'statement'} into sentences: {e}", StartFailure.SOURCE_UNREADABLE
        ) from e
    wanted = theorem.name.split(".")[-1]
    index = _find(theorem, sentences, text)
    if index is not None:
        blocks = _blocks_before(sentences, index)
        return TheoremSource(wanted, text, sentences, index, blocks, tuple(load_paths), path, flags)
    if theorem.statement is not None and sentences:
        # a bare statement ("forall n, n = n") given without a Theorem keyword
        header_n = len(split_sentences(theorem.header, allow_unterminated=True)) if theorem.header.strip() else 0
        stmt = (theorem.statement or "").strip().rstrip(".")
        if stmt and not theorem_name(Sentence(stmt, 0, 0)):
            text2 = (header + "\n\n" if header else "") + f"Theorem {wanted} : {stmt}."
            s2 = tuple(split_sentences(text2))
            return TheoremSource(wanted, text2, s2, header_n, (), tuple(load_paths), None, flags)
    where = f" at line {theorem.position[0]}" if theorem.position is not None else ""
    raise TheoremStartError(
        f"theorem {theorem.name!r} not found{where} in {path or 'the statement'}", StartFailure.NOT_FOUND
    )


def _split(text: str) -> list[Sentence]:
    """Sentences as the tracer replays them (`tac...` of `Proof with` ends a sentence)."""
    from proofsmith.envs.coq.declarations import split_file

    return split_file(text)
