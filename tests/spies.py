"""Counting the store calls a test makes, by name, in order, on the real stores."""

from typing import Any

import pytest


def record_calls(monkeypatch: pytest.MonkeyPatch, *methods: tuple[type, str]) -> list[str]:
    """Wraps each (class, method name): every call appends the name, then runs."""
    made: list[str] = []
    for owner, name in methods:
        real = getattr(owner, name)

        def spy(real: Any = real, name: str = name) -> Any:
            async def counted(self: object, *args: Any, **kwargs: Any) -> Any:
                made.append(name)
                return await real(self, *args, **kwargs)

            return counted

        monkeypatch.setattr(owner, name, spy())
    return made
