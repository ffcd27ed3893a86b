"""The package list of `proofsmith corpus`: parsing and bad input, selection, and package discovery
on the Debian packages `make setup` installs (stdlib, MathComp ssreflect, Coquelicot, Interval)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from proofsmith.cli.main import main
from proofsmith.dataset.packages import (
    DEFAULT_PACKAGE_LIST,
    PackageEntry,
    PackageListError,
    declared_licences,
    install_line,
    installed_version,
    load_package_list,
    missing_packages,
    select_packages,
)
from proofsmith.dataset.splits import NOVEL_PACKAGES_TEST, NOVEL_PACKAGES_VAL
from proofsmith.envs.coq.corpus import discover_package
from proofsmith.envs.coq.libraries import coqlib

USER_CONTRIB = Path(coqlib()) / "user-contrib"


def write_list(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "list.toml"
    p.write_text(body)
    return p


# --------------------------------------------------------------------------- the committed list
def test_committed_list_is_whole_and_explains_every_exclusion():
    entries = load_package_list(DEFAULT_PACKAGE_LIST)
    names = [e.name for e in entries]
    assert len(names) == len(set(names))
    assert all(e.name.startswith("libcoq-") and e.debian for e in entries)
    included = {e.name for e in entries if e.include}
    assert {"libcoq-stdlib", "libcoq-mathcomp-ssreflect", "libcoq-coquelicot", "libcoq-flocq"} <= included
    out = {e.name: e.reason for e in entries if not e.include}
    assert out["libcoq-interval"].startswith("no sources")
    assert out["libcoq-gappa"].startswith("no sources")
    assert {"libcoq-hott", "libcoq-unimath"} <= included  # with their Coq flags: tests/coq/test_noinit_libraries.py
    # the held-out packages of novel_packages are in the list, included, and disjoint
    assert set(NOVEL_PACKAGES_VAL) | set(NOVEL_PACKAGES_TEST) <= included
    assert not set(NOVEL_PACKAGES_VAL) & set(NOVEL_PACKAGES_TEST)
    equations = next(e for e in entries if e.name == "libcoq-equations")
    assert equations.excluded("Equations.HoTT.Logic") and equations.excluded("Equations.Prop.Logic") is None


@pytest.mark.parametrize(
    "body, message",
    [
        ("not = [valid", "not valid TOML"),
        ("[other]\nx = 1\n", "expected [packages.<name>]"),
        ('[packages.libcoq-x]\nroots = ["X"]\n', "needs a version"),
        ('[packages.libcoq-x]\nversion = "1"\nroots = ["X"]\ncolour = "red"\n', "unknown keys colour"),
        ('[packages.libcoq-x]\nversion = "1"\ninclude = false\n', "without a reason"),
        ('[packages.libcoq-x]\nversion = "1"\n', "names no roots"),
        ('[packages.libcoq-x]\nversion = "1"\nroots = ["not a name"]\n', "logical names"),
        ('[packages.libcoq-x]\nversion = "1"\nroots = ["X"]\ninclude = "yes"\n', "true or false"),
        ('[packages.Bad_Name]\nversion = "1"\nroots = ["X"]\n', "not a Debian package name"),
        ('[packages.libcoq-x]\nversion = "1"\nroots = ["X"]\nexclude = { "X.Y" = "" }\n', "exclude must map"),
        ('[packages.local]\nversion = "1"\npath = "d"\nroots = ["A", "B"]\n', "exactly one root"),
    ],
)
def test_bad_package_lists_are_refused_with_the_reason(tmp_path, body, message):
    with pytest.raises(PackageListError, match=message.replace("[", r"\[").replace(".", r"\.")):
        load_package_list(write_list(tmp_path, body))


def test_missing_list_is_refused(tmp_path):
    with pytest.raises(PackageListError, match="nope.toml"):
        load_package_list(tmp_path / "nope.toml")


def test_selection_all_names_prefix_and_refusals():
    entries = load_package_list(DEFAULT_PACKAGE_LIST)
    every = select_packages(entries, "all")
    assert [e.name for e in every] == [e.name for e in entries if e.include]
    two = select_packages(entries, "coquelicot, libcoq-flocq,coquelicot")
    assert [e.name for e in two] == ["libcoq-coquelicot", "libcoq-flocq"]  # prefix optional, no duplicates
    with pytest.raises(PackageListError, match="not in the package list"):
        select_packages(entries, "libcoq-nothing-like-this")
    with pytest.raises(PackageListError, match="left out of the corpus: no sources"):
        select_packages(entries, "interval")
    with pytest.raises(PackageListError, match="empty package name"):
        select_packages(entries, "flocq,")


# --------------------------------------------------------------------------- Debian facts
def test_installed_version_and_licences_come_from_dpkg_and_copyright():
    version = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", "libcoq-coquelicot"], capture_output=True, text=True
    ).stdout
    assert installed_version("libcoq-coquelicot") == version != ""
    assert installed_version("libcoq-proofsmith-absent") is None
    assert declared_licences("libcoq-coquelicot")[0] == "LGPL-3+"
    assert declared_licences("libcoq-proofsmith-absent") == ("unknown", ())


def test_licences_of_a_machine_readable_copyright_file(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: debian/*\nCopyright: someone\nLicense: GPL-2+\n\n"
        "Files: *\nCopyright: upstream\nLicense: CeCILL-B\n text of it\n\n"
        "License: CeCILL-B\n the full text\n"
    )
    assert declared_licences("pkg", tmp_path) == ("CeCILL-B", ("GPL-2+", "CeCILL-B"))


def test_missing_packages_print_the_apt_line_when_not_root(tmp_path, capsys, monkeypatch):
    lst = write_list(tmp_path, '[packages.libcoq-proofsmith-absent]\nversion = "1"\nroots = ["Absent"]\n')
    entries = load_package_list(lst)
    assert missing_packages(entries) == ["libcoq-proofsmith-absent"]
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    out = tmp_path / "out"
    assert main(["corpus", "--package-list", str(lst), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert install_line(["libcoq-proofsmith-absent"]) in err
    assert "sudo apt-get install -y libcoq-proofsmith-absent" in err
    assert not out.exists()  # nothing done before the packages are there


# --------------------------------------------------------------------------- discovery
def entry(name: str, roots: tuple[str, ...], **kw) -> PackageEntry:
    return PackageEntry(name, "listed-version", roots, **kw)


def test_discovery_of_coquelicot_finds_its_compiled_sources_and_logical_root():
    pkg = discover_package(entry("libcoq-coquelicot", ("Coquelicot",)))
    shipped = subprocess.run(["dpkg", "-L", "libcoq-coquelicot"], capture_output=True, text=True).stdout.split()
    compiled = sorted(f for f in shipped if f.endswith(".v") and os.path.isfile(f + "o"))
    assert len(compiled) == len(pkg.libraries) > 20
    assert any("/usr/share/doc/" in f for f in shipped if f.endswith(".v"))  # its examples are not traced
    (tree,) = pkg.trees
    assert tree.mappings == ((str(USER_CONTRIB / "Coquelicot"), "Coquelicot"),)
    assert sorted(p for p, _ in tree.files()) == compiled
    assert "Coquelicot.Derive" in pkg.libraries and all(l.startswith("Coquelicot.") for l in pkg.libraries)
    assert pkg.licence == "LGPL-3+" and pkg.version == installed_version("libcoq-coquelicot")


def test_discovery_of_a_shared_root_keeps_only_the_package_files():
    """MathComp parts share user-contrib/mathcomp (bound once as `-R ... mathcomp`): each package
    traces its own files only."""
    pkg = discover_package(entry("libcoq-mathcomp-ssreflect", ("mathcomp",)))
    (tree,) = pkg.trees
    assert tree.mappings == ((str(USER_CONTRIB / "mathcomp"), "mathcomp"),)
    assert "mathcomp.ssreflect.seq" in pkg.libraries
    assert all(l.startswith("mathcomp.ssreflect.") for l in pkg.libraries)
    assert tree.root == USER_CONTRIB / "mathcomp" / "ssreflect"  # records resolve their source under it


def test_discovery_of_the_stdlib_has_a_tree_per_root():
    pkg = discover_package(entry("libcoq-stdlib", ("Coq", "Ltac2")))
    assert [t.mappings[0][1] for t in pkg.trees] == ["Coq", "Ltac2"]
    assert "Coq.Arith.PeanoNat" in pkg.libraries and "Ltac2.Init" in pkg.libraries
    assert len(pkg.libraries) > 500


def test_discovery_refuses_what_the_list_gets_wrong():
    with pytest.raises(PackageListError, match="no compiled .v sources"):  # Interval ships .vo only
        discover_package(entry("libcoq-interval", ("Interval",)))
    with pytest.raises(PackageListError, match="outside its roots"):  # the stdlib without Ltac2
        discover_package(entry("libcoq-stdlib", ("Coq",)))
    with pytest.raises(PackageListError, match="not installed"):
        discover_package(entry("libcoq-proofsmith-absent", ("Absent",)))


def test_discovery_of_a_local_project_with_an_exclusion(tmp_path):
    src = tmp_path / "proj"
    (src / "Sub").mkdir(parents=True)
    (src / "A.v").write_text("Lemma a : True. Proof. exact I. Qed.\n")
    (src / "Sub" / "B.v").write_text("Lemma b : True. Proof. exact I. Qed.\n")
    lst = write_list(
        tmp_path,
        '[packages.local-proj]\nversion = "0.1"\npath = "proj"\nroots = ["Proj"]\nlicence = "MIT"\n'
        'exclude = { "Proj.Sub" = "not wanted" }\n',
    )
    (e,) = load_package_list(lst)
    assert e.path == src.resolve() and not e.debian
    pkg = discover_package(e)
    assert pkg.libraries == ("Proj.A",) and pkg.excluded_files == 1
    assert pkg.licence == "MIT" and pkg.version == "0.1"


def test_install_runs_apt_get_update_then_install(monkeypatch):
    import proofsmith.dataset.packages as packages

    calls = []

    def fake_run(argv, **kw):
        calls.append((argv, kw["env"].get("DEBIAN_FRONTEND")))
        return subprocess.CompletedProcess(argv, 100 if argv[1] == "install" and "bad" in argv[-1] else 0, "", "E: no")

    monkeypatch.setattr(packages.subprocess, "run", fake_run)
    packages.install_packages(["libcoq-a", "libcoq-b"])
    assert calls == [
        (["apt-get", "update", "-qq"], "noninteractive"),
        (["apt-get", "install", "-y", "-qq", "libcoq-a", "libcoq-b"], "noninteractive"),
    ]
    with pytest.raises(RuntimeError, match="apt-get install -y failed: E: no"):
        packages.install_packages(["libcoq-bad"])


def test_as_root_missing_packages_are_installed_before_any_work(tmp_path, capsys, monkeypatch):
    import proofsmith.cli.corpus as cli

    lst = write_list(tmp_path, '[packages.libcoq-proofsmith-absent]\nversion = "1"\nroots = ["Absent"]\n')
    installed = []
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(cli, "install_packages", installed.append)
    out = tmp_path / "out"
    # the fake install installs nothing, so discovery then refuses the package, still before any work
    assert main(["corpus", "--package-list", str(lst), "--out", str(out)]) == 2
    assert installed == [["libcoq-proofsmith-absent"]]
    assert "libcoq-proofsmith-absent is not installed" in capsys.readouterr().err
    assert not out.exists()
