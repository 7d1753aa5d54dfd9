from datetime import UTC, datetime, timedelta

import pytest

from tidings.feed.errors import BadUserInput
from tidings.feed.ids import (
    MAX_POST_ID,
    NODES,
    PostIdGenerator,
    parse_post_id,
    post_id_time,
    smallest_post_id_at,
)


def test_ids_increase_and_stay_unique_through_a_burst() -> None:
    generator = PostIdGenerator(node=3)
    ids = [generator.next_id() for _ in range(20_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_fit_in_a_double_and_a_javascript_number() -> None:
    post_id = PostIdGenerator(node=NODES - 1).next_id()
    assert 0 < post_id <= MAX_POST_ID == 2**53 - 1
    assert int(float(post_id)) == post_id


def test_two_nodes_never_collide_in_the_same_millisecond() -> None:
    first, second = PostIdGenerator(node=1), PostIdGenerator(node=2)
    ids = [gen.next_id() for _ in range(1_000) for gen in (first, second)]
    assert len(set(ids)) == len(ids)


def test_id_carries_its_creation_time() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)
    post_id = PostIdGenerator(node=0).next_id()
    after = datetime.now(UTC) + timedelta(milliseconds=1)
    assert before <= post_id_time(post_id) <= after
    assert smallest_post_id_at(post_id_time(post_id)) <= post_id


def test_node_number_is_bounded() -> None:
    with pytest.raises(ValueError, match="node"):
        PostIdGenerator(node=NODES)


@pytest.mark.parametrize("value", ["", "-1", "1.5", "abc", "٣", str(2**53), "9" * 17])
def test_parse_post_id_refuses_what_is_not_an_id(value: str) -> None:
    with pytest.raises(BadUserInput):
        parse_post_id(value)


def test_parse_post_id_accepts_a_decimal_id() -> None:
    assert parse_post_id("116600970190912") == 116600970190912
