import pytest

from proofsmith.envs.base import TheoremRef
from proofsmith.envs.coq import CoqEnvironment

HEADER = "Require Import Arith Lia."


@pytest.fixture(scope="module")
def env():
    with CoqEnvironment(tactic_timeout=5) as e:
        yield e


def stmt(statement: str, name: str, header: str = HEADER) -> TheoremRef:
    return TheoremRef.from_statement(statement, name, header=header)
