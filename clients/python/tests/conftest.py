"""Fixtures: the wald binary under test ($WAL_TEST_WALD) and live servers that are always killed."""
from __future__ import annotations

import os
import pathlib
import signal
from typing import Callable, Iterator, List

import pytest

from wald_process import Wald


def _interrupt(signum, frame):
    # A SIGTERM (from `timeout` or ctest) would end Python without teardown;
    # as KeyboardInterrupt, pytest still runs the fixtures that kill wald.
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, _interrupt)


@pytest.fixture(scope="session")
def wald_binary() -> str:
    binary = os.environ.get("WAL_TEST_WALD", "")
    if not binary:
        if os.environ.get("WAL_CLIENT_REQUIRE_WALD"):
            pytest.fail("WAL_TEST_WALD is not set: it must name the wald binary to test against")
        pytest.skip("WAL_TEST_WALD is not set (the path of a built wald); live tests skipped")
    if not os.access(binary, os.X_OK):
        pytest.fail(f"WAL_TEST_WALD={binary} is not an executable")
    return binary


@pytest.fixture
def make_wald(wald_binary: str, tmp_path: pathlib.Path) -> Iterator[Callable[..., Wald]]:
    """make_wald(name, extra_config="") -> a Wald, not yet started; all are killed at teardown."""
    made: List[Wald] = []

    def make(name: str = "wald", extra_config: str = "") -> Wald:
        wald = Wald(wald_binary, tmp_path / name, extra_config)
        made.append(wald)
        return wald

    yield make
    for wald in made:
        wald.kill()
