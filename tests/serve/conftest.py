"""Fixtures for the serving tests: a tiny `lia` model trained once per session, one CPU thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from serve_helpers import train_lia_model


@pytest.fixture(scope="session")
def lia_model(tmp_path_factory) -> Path:
    return train_lia_model(tmp_path_factory.mktemp("lia_model"))


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
