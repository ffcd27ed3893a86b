"""A synthesis task: the file context before the target definition, and the target's expected type."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from proofsmith.envs.base import EnvStartError, TheoremRef
from proofsmith.envs.fstar.source import Fragment, defined_names, file_fragments, split_decls, type_after_name


@dataclass(frozen=True)
class FStarTask:
    module: str
    file: Path  # the file given to `fstar.exe --ide`
    target: str  # short name
    expected_type: str
    prefix: tuple[Fragment, ...]  # pushed one by one at start (prefix mode)
    next_line: int  # where the first candidate goes (prefix mode)

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.target}"

    @property
    def goal_text(self) -> str:
        return f"{self.target} : {self.expected_type}" if self.expected_type else self.target


def _module_of(text: str) -> str | None:
    m = re.search(r"(?m)^module\s+([A-Z][\w.]*)", text)
    return m.group(1) if m else None


def load_task(theorem: TheoremRef, scratch_dir: str | None = None) -> FStarTask:
    target = theorem.name.rsplit(".", 1)[-1]
    if theorem.statement is not None:
        text = theorem.header.rstrip("\n") + "\n\n" + theorem.statement.strip("\n") + "\n"
        module = _module_of(text)
        if module is None:
            raise EnvStartError("an F* statement needs a header with its `module` line")
        path = Path(scratch_dir or tempfile.mkdtemp(prefix="proofsmith-fstar-")) / f"{module}.fst"
        path.write_text(text, encoding="utf-8")
        cut_text = text
    else:
        assert theorem.file_path is not None
        path = Path(theorem.file_path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise EnvStartError(f"cannot read {path}: {e}") from e
        module = _module_of(text)
        if module is None:
            raise EnvStartError(f"{path}: no `module` line")
        cut_text = text
    if path.stem != module:  # FStar#1165: a mismatched module name let a false lemma through
        raise EnvStartError(f"module {module} does not match the file name {path.name}")
    frags = file_fragments(cut_text)
    prefix: list[Fragment] = []
    expected = ""
    for frag in frags:
        keyword, names = defined_names(frag.source)
        if target in names and keyword == "let":
            if not expected:
                expected = type_after_name(frag.source, target)
            break
        if target in names and keyword == "val":
            expected = type_after_name(frag.source, target)
        prefix.append(frag)
    else:
        if theorem.statement is None:
            raise EnvStartError(f"{path}: no definition of {target}")
    if not expected:
        expected = _type_from_interface(path, target)
    if not prefix or not prefix[0].source.startswith("module"):
        raise EnvStartError(f"{path}: the module line must come first")
    return FStarTask(module, path, target, expected, tuple(prefix), prefix[-1].end_line)


def _type_from_interface(path: Path, target: str) -> str:
    fsti = path.with_suffix(".fsti")
    if not fsti.exists():
        return ""
    text = fsti.read_text(encoding="utf-8")
    lines = text.split("\n")
    for first, last in split_decls(text):
        decl = "\n".join(lines[first : last + 1])
        keyword, names = defined_names(decl)
        if keyword == "val" and target in names:
            return type_after_name(decl, target)
    return ""
