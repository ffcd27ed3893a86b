import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Recorded transcripts (see tests/fixtures/PROVENANCE.md); nothing outside the clone is read.
FIXTURES = REPO / "tests" / "fixtures"
MINIF2F_VALID = REPO / "examples" / "minif2f-rocq-valid"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def minif2f_valid_dir() -> Path:
    return MINIF2F_VALID


def pytest_collection_modifyitems(config, items):
    # A missing Coq is a broken install here, not something to skip: `make test` installs it.
    if shutil.which("coqidetop.opt") is None and any("coq" in item.nodeid for item in items):
        raise pytest.UsageError("Coq is not installed: run `make setup` (it apt-get installs coq)")
