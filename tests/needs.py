"""Tests that need a tool this machine may lack (Java, Node.js, a browser)."""

import os
from typing import NoReturn

import pytest


def unavailable(reason: str, *, required_by: str) -> NoReturn:
    """Skips the test, saying why, or fails it where `required_by`=1 (set by
    `.ci/run`) says it must run, so CI never skips it silently."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason}, and {required_by}=1 says this test must run")
    pytest.skip(reason)
