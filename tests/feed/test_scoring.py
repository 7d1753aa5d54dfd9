"""The built-in score on hand-made cases (a pure function: no store involved)."""

from datetime import UTC, datetime, timedelta

from tidings.feed.scoring import HALF_LIFE_HOURS, Signals, ranked, score

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def test_a_close_friends_fresh_post_outranks_a_distant_friends_older_one() -> None:
    close = Signals(1, "close", ago(1), affinity=20)
    distant = Signals(2, "distant", ago(5), affinity=0)
    assert ranked([distant, close], NOW) == [1, 2]


def test_engagement_lifts_a_post_over_a_slightly_newer_quiet_one() -> None:
    liked = Signals(1, "a", ago(2), likes=200, comments=30)
    quiet = Signals(2, "b", ago(1))
    assert ranked([quiet, liked], NOW) == [1, 2]


def test_age_wins_in_the_end_whatever_the_engagement() -> None:
    stale = Signals(1, "a", ago(72), affinity=50, likes=10_000, comments=1_000)
    fresh = Signals(2, "b", ago(0.5))
    assert ranked([stale, fresh], NOW) == [2, 1]


def test_the_score_halves_every_half_life_and_ties_go_to_the_newer_post() -> None:
    now_score = score(Signals(1, "a", NOW), NOW)
    assert score(Signals(1, "a", ago(HALF_LIFE_HOURS)), NOW) == now_score / 2
    assert ranked([Signals(5, "a", NOW), Signals(9, "b", NOW)], NOW) == [9, 5]


def test_a_comment_counts_twice_a_like_and_nothing_goes_below_nothing() -> None:
    assert score(Signals(1, "a", NOW, likes=2), NOW) == score(Signals(2, "a", NOW, comments=1), NOW)
    assert score(Signals(1, "a", NOW, affinity=-5, likes=-1), NOW) == score(
        Signals(2, "a", NOW), NOW
    )
    # A post from the future (a skewed clock) is not boosted past "now".
    assert score(Signals(1, "a", NOW + timedelta(hours=1)), NOW) == score(Signals(2, "a", NOW), NOW)
