"""The bench's verdicts follow from its figures."""

from typing import Any

import pytest

from tidings_tools.bench import targets


def report(first: float, fanout: float, lag: float, memory: float, celeb: float) -> dict[str, Any]:
    return {
        "read": {"first_page": {"ratio_to_a": first}},
        "fanout": {"ratio_to_b": fanout},
        "write": {"lag_to_timeline": {"p99_ms": lag}},
        "memory": {"bytes_per_entry": memory},
        "celebrities": {"ratio_10x_to_1x": celeb},
    }


@pytest.mark.parametrize(
    ("figures", "met"),
    [
        ((0.6, 0.5, 499.0, 25.0, 1.5), [True] * 5),
        ((0.59, 0.49, 500.0, 25.1, 1.51), [False] * 5),
        ((0.25, 0.69, 8458.35, 20.5, 0.83), [False, True, False, True, True]),
    ],
)
def test_each_target_is_judged_by_its_own_threshold(
    figures: tuple[float, float, float, float, float], met: list[bool]
) -> None:
    verdicts = targets(report(*figures))
    assert [target["met"] for target in verdicts.values()] == met
    assert [target["value"] for target in verdicts.values()] == list(figures)
