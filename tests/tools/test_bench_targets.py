"""The bench's verdicts follow from its figures."""

from typing import Any

import pytest

from tidings_tools.bench import targets


def report(
    *figures: float, exact: bool = True, missed: int = 0, flat: bool = True
) -> dict[str, Any]:
    first, fanout, lag, memory, celeb, social, social_p99, hot, notify, ranked, start = figures[:11]
    media, server, neo4j, sustained_lag = figures[11:]
    return {
        "read": {
            "first_page": {"ratio_to_a": first},
            "first_page_social": {"ratio_to_a": social, "p99_ms": social_p99},
            "ranked_page": {"ratio_to_a": ranked},
            "ranked_session_start": {"p99_ms": start},
            "first_page_media": {"ratio_to_a": media},
        },
        "fanout": {
            "ratio_to_b": fanout,
            "ratio_to_server": server,
            "neo4j": {"ratio_to_falkordb": neo4j},
            "sustained": {"lag_to_timeline": {"p99_ms": sustained_lag}, "backlog_flat": flat},
        },
        "write": {"lag_to_timeline": {"p99_ms": lag}},
        "memory": {"bytes_per_entry": memory},
        "celebrities": {"ratio_10x_to_1x": celeb},
        "interact": {
            "like_hot_post": {
                "ratio_to_spread": hot,
                "hot_like_count": 400 if exact else 399,
                "likers": 400,
            },
            "notify_lag": {"p99_ms": notify, "never_notified": missed},
        },
    }


@pytest.mark.parametrize(
    ("figures", "met"),
    [
        (
            (0.6, 0.5, 499.0, 25.0, 1.5, 0.6, 49.9, 0.8, 499.0, 0.6, 49.9, 0.6, 0.25, 0.5, 499.0),
            [True] * 15,
        ),
        (
            (
                *(0.59, 0.49, 500.0, 25.1, 1.51, 0.59, 50.0, 0.79, 500.0, 0.59, 50.0, 0.59, 0.24),
                *(0.49, 500.0),
            ),
            [False] * 15,
        ),
        (
            (
                *(0.25, 0.69, 8458.35, 20.5, 0.83, 0.7, 80.0, 1.04, 120.0, 0.61, 75.0, 0.7, 0.07),
                *(0.2, 120.0),
            ),
            [
                False,
                True,
                False,
                True,
                True,
                True,
                False,
                True,
                True,
                True,
                False,
                True,
                False,
                False,
                True,
            ],
        ),
    ],
)
def test_each_target_is_judged_by_its_own_threshold(
    figures: tuple[float, ...], met: list[bool]
) -> None:
    verdicts = targets(report(*figures))
    assert [target["met"] for target in verdicts.values()] == met
    assert [target["value"] for target in verdicts.values()] == list(figures)


def test_an_inexact_count_or_a_missed_notification_fails_its_target() -> None:
    figures = (0.6, 0.5, 499.0, 25.0, 1.5, 0.6, 49.9, 0.8, 499.0, 0.6, 49.9, 0.6, 0.25, 0.5, 499.0)
    inexact = targets(report(*figures, exact=False))
    assert [t["met"] for t in inexact.values()] == [True] * 7 + [False] + [True] * 7
    missed = targets(report(*figures, missed=1))
    assert [t["met"] for t in missed.values()] == [True] * 8 + [False] + [True] * 6
    growing = targets(report(*figures, flat=False))
    assert [t["met"] for t in growing.values()] == [True] * 14 + [False]
