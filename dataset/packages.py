"""The library packages a corpus is built from: the committed list (`coq_packages.toml`), the
selection a command asks for, and what Debian says about them (installed version, files, licences).

The list names every package, in or out and why; `load_package_list` checks it whole, and
`select_packages` turns `all` or `PKG,PKG` into entries, refusing unknown and excluded names.
`missing_packages` / `install_packages` / `install_line` install what the selection needs.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from proofsmith.envs.coq.flags import CoqFlagsError, check_coq_flags

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

log = logging.getLogger(__name__)

DEFAULT_PACKAGE_LIST = Path(__file__).resolve().with_name("coq_packages.toml")
DEBIAN_NAME = re.compile(r"[a-z0-9][a-z0-9+.-]+")
LOGICAL = re.compile(r"[A-Za-z_][A-Za-z0-9_']*(\.[A-Za-z_][A-Za-z0-9_']*)*")
_KEYS = {"version", "roots", "include", "reason", "exclude", "path", "licence", "coq_flags"}


class PackageListError(ValueError):
    """A package list that cannot be used, or a selection it cannot satisfy (one line)."""


@dataclass(frozen=True)
class PackageEntry:
    """One package of the list: a Debian package, or a local project (`path`)."""

    name: str
    version: str
    roots: tuple[str, ...] = ()
    include: bool = True
    reason: str = ""
    exclude: dict[str, str] = field(default_factory=dict)  # logical prefix -> why its files are left out
    path: Path | None = None  # a local project directory: traced as it is, never installed
    licence: str = ""  # local projects: the licence as declared in the list
    # Coq flags its libraries are compiled with (HoTT: -noinit -indices-matter), passed wherever its files are
    # traced and its theorems started or verified (see envs/coq/flags.py)
    coq_flags: tuple[str, ...] = ()

    @property
    def debian(self) -> bool:
        return self.path is None

    def excluded(self, library: str) -> str | None:
        """Why `library` is left out of this package, or None."""
        for prefix, why in self.exclude.items():
            if library == prefix or library.startswith(prefix + "."):
                return why
        return None


def _entry(name: str, raw: object, base: Path, where: str) -> PackageEntry:
    if not isinstance(raw, dict):
        raise PackageListError(f"{where}: [packages.{name}] is not a table")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise PackageListError(f"{where}: [packages.{name}] has unknown keys {', '.join(unknown)}")
    version = raw.get("version")
    if not isinstance(version, str) or not version:
        raise PackageListError(f"{where}: [packages.{name}] needs a version string")
    include = raw.get("include", True)
    if not isinstance(include, bool):
        raise PackageListError(f"{where}: [packages.{name}] include must be true or false")
    reason = raw.get("reason", "")
    if not isinstance(reason, str):
        raise PackageListError(f"{where}: [packages.{name}] reason must be a string")
    if not include and not reason.strip():
        raise PackageListError(f"{where}: [packages.{name}] is left out without a reason")
    roots = raw.get("roots", [])
    if not isinstance(roots, list) or not all(isinstance(r, str) and LOGICAL.fullmatch(r) for r in roots):
        raise PackageListError(f"{where}: [packages.{name}] roots must be a list of logical names")
    exclude = raw.get("exclude", {})
    if not isinstance(exclude, dict) or not all(
        isinstance(k, str) and LOGICAL.fullmatch(k) and isinstance(v, str) and v.strip() for k, v in exclude.items()
    ):
        raise PackageListError(
            f'{where}: [packages.{name}] exclude must map logical prefixes to reasons ("X.Y" = "why")'
        )
    path = raw.get("path")
    if path is not None:
        if not isinstance(path, str) or len(roots) != 1:
            raise PackageListError(f"{where}: [packages.{name}] a local project needs a path and exactly one root")
        local = (base / path).resolve()
    else:
        local = None
        if not DEBIAN_NAME.fullmatch(name):
            raise PackageListError(f"{where}: {name!r} is not a Debian package name")
    if include and not roots:
        raise PackageListError(f"{where}: [packages.{name}] is included but names no roots")
    licence = raw.get("licence", "")
    if not isinstance(licence, str):
        raise PackageListError(f"{where}: [packages.{name}] licence must be a string")
    try:
        coq_flags = check_coq_flags(raw.get("coq_flags", []), f"[packages.{name}] coq_flags")
    except CoqFlagsError as e:
        raise PackageListError(f"{where}: {e}") from None
    return PackageEntry(name, version, tuple(roots), include, reason.strip(), dict(exclude), local, licence, coq_flags)


def load_package_list(path: Path | str = DEFAULT_PACKAGE_LIST) -> list[PackageEntry]:
    """Every entry of a package list, in file order; a malformed list raises `PackageListError`."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise PackageListError(f"package list {p}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise PackageListError(f"package list {p}: not valid TOML ({e})") from None
    packages = data.get("packages")
    if set(data) != {"packages"} or not isinstance(packages, dict) or not packages:
        raise PackageListError(f"package list {p}: expected [packages.<name>] tables and nothing else")
    return [_entry(name, raw, p.resolve().parent, f"package list {p}") for name, raw in packages.items()]


def coq_flags_of(library: str, package_list: Path | str = DEFAULT_PACKAGE_LIST) -> tuple[str, ...]:
    """The `coq_flags` of the listed package whose roots hold `library` (a logical name), or () when none
    does (or the list cannot be read): what an installed library's theorems are started and verified
    with when they carry no flags of their own."""
    for root, flags in _flagged_roots(str(Path(package_list).resolve())):
        if library == root or library.startswith(root + "."):
            return flags
    return ()


@functools.lru_cache(maxsize=4)
def _flagged_roots(package_list: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    try:
        entries = load_package_list(package_list)
    except PackageListError as e:
        log.warning("no Coq flags for installed libraries: %s", e)
        return ()
    return tuple((root, e.coq_flags) for e in entries if e.coq_flags and e.debian for root in e.roots)


def select_packages(entries: Sequence[PackageEntry], spec: str) -> list[PackageEntry]:
    """`all` (every included entry, in list order) or `PKG,PKG` (those, `libcoq-` optional)."""
    spec = spec.strip()
    if spec == "all":
        chosen = [e for e in entries if e.include]
        if not chosen:
            raise PackageListError("the package list includes no package")
        return chosen
    by_name = {e.name: e for e in entries}
    out: list[PackageEntry] = []
    for raw in spec.split(","):
        name = raw.strip()
        if not name:
            raise PackageListError(f"--packages {spec!r}: empty package name")
        entry = by_name.get(name) or by_name.get(f"libcoq-{name}")
        if entry is None:
            raise PackageListError(f"--packages: {name} is not in the package list (see `--list`)")
        if not entry.include:
            raise PackageListError(f"--packages: {entry.name} is left out of the corpus: {entry.reason}")
        if entry not in out:
            out.append(entry)
    return out


# --------------------------------------------------------------------------- Debian
def installed_version(package: str) -> str | None:
    """The installed version of a Debian package, or None when it is not installed."""
    try:
        res = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Status}\t${Version}", package], capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    status, _, version = res.stdout.partition("\t")
    return version if res.returncode == 0 and status.endswith("install ok installed") else None


def package_files(package: str) -> list[str]:
    """The files a Debian package installed (`dpkg -L`)."""
    res = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise PackageListError(f"{package}: dpkg -L failed: {res.stderr.strip()}")
    return [line for line in res.stdout.splitlines() if line.startswith("/")]


def missing_packages(entries: Sequence[PackageEntry]) -> list[str]:
    return [e.name for e in entries if e.debian and installed_version(e.name) is None]


def install_line(names: Sequence[str]) -> str:
    """The command a non-root user runs to install `names`."""
    return "sudo apt-get install -y " + " ".join(names)


def install_packages(names: Sequence[str], timeout: float = 3600.0) -> None:
    """`apt-get update` and `apt-get install -y` (as root); raises RuntimeError when apt fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    log.info("installing Debian packages: %s", " ".join(names))
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *names]):
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
        if res.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} failed: {(res.stderr or res.stdout).strip()[-500:]}")


def declared_licences(package: str, doc_root: Path = Path("/usr/share/doc")) -> tuple[str, tuple[str, ...]]:
    """(the licence of `Files: *`, every licence named) as the package's machine-readable
    copyright file declares them; ("unknown", ()) without one."""
    path = doc_root / package / "copyright"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown", ()
    main = ""
    names: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        files = re.search(r"^Files:\s*(.*)$", para, re.M)
        lic = re.search(r"^License:\s*(\S.*)$", para, re.M)
        if not files or not lic:
            continue
        name = lic.group(1).strip()
        if name not in names:
            names.append(name)
        if not main and files.group(1).split()[:1] == ["*"]:
            main = name
    if not names:
        return "unknown", ()
    return main or names[0], tuple(names)
