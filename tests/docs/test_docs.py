"""The documentation: the mkdocs site builds strictly, the README's links resolve, the README stays short and
opens with the two commands a new user runs, and nothing in the repository points outside it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
README_MAX_BYTES = 15_000

LINK_RE = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE_RE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def strip_code(text: str) -> str:
    """The text without fenced code blocks and inline code spans (links there are not links)."""
    out, fence = [], None
    for line in text.splitlines():
        m = FENCE_RE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * 3
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is None:
            out.append(re.sub(r"(`+)(?:(?!\1).)+?\1", "", line))
    return "\n".join(out)


def headings(text: str) -> list[str]:
    """ATX headings (`# ...` to `###### ...`) outside code blocks, as written."""
    out, fence = [], None
    for line in text.splitlines():
        m = FENCE_RE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)[0] * 3
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is None:
            h = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if h:
                out.append(h.group(1))
    return out


def heading_text(heading: str) -> str:
    """What a heading reads as: link text kept, markup dropped."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # [text](url) -> text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    return text.replace("\\", "")


def slug_github(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (except - and _), spaces to hyphens."""
    text = heading_text(heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def slug_mkdocs(heading: str) -> str:
    """Python-Markdown's toc slugify, as mkdocs uses it: runs of spaces and hyphens become one hyphen."""
    text = heading_text(heading)
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(text: str, slugify) -> set[str]:
    """Every anchor a page has; repeated headings get -1, -2, ... as both renderers do."""
    seen: dict[str, int] = {}
    out = set()
    for h in headings(text):
        base = slugify(h)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def relative_links(text: str) -> list[str]:
    body = strip_code(text)
    links = LINK_RE.findall(body) + IMAGE_RE.findall(body)
    return [u for u in links if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", u)]  # drop http:, mailto:, ...


# --------------------------------------------------------------------------------------------- tests


def test_slugifiers_match_the_renderers():
    assert slug_github('Soundness: what "verified" means') == "soundness-what-verified-means"
    assert slug_github("The demo (`make demo`)") == "the-demo-make-demo"
    assert slug_github("Tracing: the Coq stdlib + MathComp ssreflect") == "tracing-the-coq-stdlib--mathcomp-ssreflect"
    assert slug_mkdocs("Tracing: the Coq stdlib + MathComp ssreflect") == "tracing-the-coq-stdlib-mathcomp-ssreflect"
    assert slug_mkdocs("1. No unsound proof is ever reported") == "1-no-unsound-proof-is-ever-reported"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n", slug_github) == {"a", "a-1"}


def test_mkdocs_build_is_strict_and_green(tmp_path):
    config = REPO / "mkdocs.yml"
    assert config.is_file(), "mkdocs.yml is missing"
    assert re.search(r"^strict:\s*true\s*$", config.read_text(encoding="utf-8"), re.M), "mkdocs.yml must set strict"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    assert (tmp_path / "site" / "index.html").is_file()
    for page in ("environment", "tracing", "retrieval", "training", "search", "mutation", "reliability", "limits"):
        assert (tmp_path / "site" / page / "index.html").is_file(), f"docs/{page}.md was not built"


def test_readme_links_resolve():
    text = README.read_text(encoding="utf-8")
    links = relative_links(text)
    assert links, "the README links into docs/"
    problems = []
    for link in links:
        path, _, anchor = link.partition("#")
        target = (README.parent / path).resolve() if path else README
        if not target.is_relative_to(REPO):
            problems.append(f"{link}: points outside the repository")
            continue
        if not target.exists():
            problems.append(f"{link}: {target.relative_to(REPO)} does not exist")
            continue
        if anchor:
            if target.suffix != ".md":
                problems.append(f"{link}: an anchor into a non-Markdown file")
                continue
            if anchor not in anchors(target.read_text(encoding="utf-8"), slug_github):
                problems.append(f"{link}: no heading with anchor #{anchor} in {target.relative_to(REPO)}")
    assert not problems, "broken README links:\n" + "\n".join(problems)


def test_readme_is_short_and_opens_with_make_demo_and_make_test():
    data = README.read_bytes()
    assert len(data) <= README_MAX_BYTES, f"README.md is {len(data)} bytes (limit {README_MAX_BYTES})"
    head = "\n".join(data.decode("utf-8").splitlines()[:40])
    assert "make demo" in head, "the README's first 40 lines must show `make demo`"
    assert "make test" in head, "the README's first 40 lines must show `make test`"


def _repository_files() -> list[Path]:
    proc = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        timeout=60,
    )
    if proc.returncode == 0:
        names = {n for n in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if n}
    else:  # an unpacked archive: every file but the build and environment folders
        skip = {".git", ".venv", "build", "runs", "bench_results", "site"}
        names = {str(p.relative_to(REPO)) for p in REPO.rglob("*") if not skip & set(p.relative_to(REPO).parts)}
    return sorted(REPO / n for n in names if not n.startswith("tests/fixtures/") and (REPO / n).is_file())


def test_nothing_points_outside_the_repository():
    word = "sh" + "ared"  # built here so that this file does not contain the strings it looks for
    forbidden = ["../" + word, word + "/fixtures", word + "/specs", word + "/benchmarks"]
    files = _repository_files()
    assert any(f.name == "README.md" for f in files), "the file list is wrong: README.md is missing from it"
    hits = []
    for f in files:
        data = f.read_bytes()
        for needle in forbidden:
            if needle.encode() in data:
                hits.append(f"{f.relative_to(REPO)}: {needle}")
    assert not hits, "the project must be self-contained; found:\n" + "\n".join(hits)
