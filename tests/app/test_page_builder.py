"""Features add to a page of posts through batch steps: one call per page, only
when the query selects a field the step serves, fragments and aliases included."""

from collections.abc import Sequence
from typing import Any

import pytest

from tests.app.conftest import Api
from tests.app.scenario import befriend, post, timeline_ids
from tests.conftest import eventually
from tidings.feed.people import People
from tidings.feed.read_model import PostView
from tidings.resolvers.context import Context
from tidings.resolvers.page_builder import BatchStep
from tidings.schema.post_features import POST_STEPS

# Each call of the throwaway step: the ids of the posts it was given.
calls: list[list[int]] = []


async def _body_lengths(_ctx: Context, posts: Sequence[PostView]) -> dict[int, int]:
    calls.append([post.id for post in posts])
    return {post.id: len(post.body) for post in posts}


# Serves a field that exists (`client`), so a query can select it.
THROWAWAY = BatchStep("throwaway", frozenset({"client"}), _body_lengths)


@pytest.fixture
def post_steps() -> tuple[BatchStep[Any, Any], ...]:
    return (*POST_STEPS, THROWAWAY)


@pytest.fixture
async def twenty_posts(api: Api) -> list[str]:
    """Twenty of alice's posts, all in her timeline, newest first."""
    ids = [(await post(api, "alice", f"post {i}"))["id"] for i in range(20)]

    async def all_there() -> bool:
        return len(await timeline_ids(api, "alice", 20)) == 20

    await eventually(all_there)
    calls.clear()
    return list(reversed(ids))


async def test_a_page_of_20_posts_costs_a_step_one_call(api: Api, twenty_posts: list[str]) -> None:
    data = await api.data("alice", "{ timeline(first: 20) { edges { node { id client } } } }")
    shown = [edge["node"]["id"] for edge in data["timeline"]["edges"]]
    assert shown == twenty_posts
    assert calls == [[int(post_id) for post_id in twenty_posts]]


async def test_a_step_whose_fields_are_not_selected_does_not_run(
    api: Api, twenty_posts: list[str]
) -> None:
    data = await api.data("alice", "{ timeline(first: 20) { edges { node { id body } } } }")
    # The page was built (the positive signal), and the step was not asked.
    assert len(data["timeline"]["edges"]) == 20
    assert calls == []


async def test_fragments_and_aliases_select_a_step(api: Api, twenty_posts: list[str]) -> None:
    query = """
    query { home: timeline(first: 5) { edges { node { ...Shown } } } }
    fragment Shown on Post { id ... on Post { app: client } }
    """
    data = await api.data("alice", query)
    assert len(data["home"]["edges"]) == 5
    assert calls == [[int(post_id) for post_id in twenty_posts[:5]]]


async def test_posts_by_id_and_the_created_post_run_steps_too(
    api: Api, twenty_posts: list[str]
) -> None:
    wanted = twenty_posts[:3]
    data = await api.data(
        "alice", "query($ids: [ID!]!) { posts(ids: $ids) { id client } }", {"ids": wanted}
    )
    assert [found["id"] for found in data["posts"]] == wanted
    assert calls == [[int(post_id) for post_id in wanted]]
    created = await api.data(
        "alice", 'mutation { createPost(input: {body: "new"}) { post { id client } } }'
    )
    assert calls[1:] == [[int(created["createPost"]["post"]["id"])]]


async def test_authors_friend_counts_are_one_lookup_for_a_page(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    authors = [f"author{i}" for i in range(20)]
    await befriend(api, "alice", *authors)
    ids = [(await post(api, author, "hi"))["id"] for author in authors]

    async def all_there() -> bool:
        return set(await timeline_ids(api, "alice", 20)) == set(ids)

    await eventually(all_there)
    asked: list[list[str]] = []
    real = People.summaries

    async def spy(self: People, user_ids: Sequence[str]) -> Any:
        asked.append(list(user_ids))
        return await real(self, user_ids)

    monkeypatch.setattr(People, "summaries", spy)
    query = "{ timeline(first: 20) { edges { node { author { id friendCount } } } } }"
    data = await api.data("alice", query)
    counts = {
        edge["node"]["author"]["id"]: edge["node"]["author"]["friendCount"]
        for edge in data["timeline"]["edges"]
    }
    assert counts == dict.fromkeys(authors, 1)
    assert len(asked) == 1
    assert sorted(asked[0]) == sorted(authors)
