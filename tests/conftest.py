import shutil
from pathlib import Path

import pytest

import os

# shared/ (fixtures, specs, benchmarks) lies beside the checkout, in development and in CI alike
SHARED = Path(os.environ.get("PROOFSMITH_SHARED", Path(__file__).resolve().parents[2] / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


def pytest_collection_modifyitems(config, items):
    # A missing Coq is a broken install here, not something to skip: `make test` installs it.
    if shutil.which("coqidetop.opt") is None and any("coq" in item.nodeid for item in items):
        raise pytest.UsageError("Coq is not installed: run `make setup` (it apt-get installs coq)")
