"""Ranking a reading session's candidates, once per session: the built-in score, or
a ranking service that may reorder them; the feed never depends on the service.
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import httpx

from tidings.feed.scoring import Signals, ranked

log = logging.getLogger(__name__)


class Ranker(Protocol):
    # Sessions ranked by the built-in score because the service failed.
    fallbacks: int

    async def order(
        self, viewer_id: str, candidates: Sequence[Signals], now: datetime
    ) -> list[int]: ...


class BuiltInScore:
    """The default: the built-in score (scoring.py)."""

    fallbacks = 0

    async def order(
        self, viewer_id: str, candidates: Sequence[Signals], now: datetime
    ) -> list[int]:
        return ranked(candidates, now)


class RemoteRanker:
    """Asks a ranking service over HTTP JSON, once per session; on any failure, or
    no answer within the deadline, the built-in score orders the session.

    Request:  POST {url} {"viewerId": str, "now": iso, "candidates": [{"id",
              "authorId", "createdAt", "likes", "comments", "affinity"}]}
    Response: 200 {"order": [post id, ...]}, a permutation of some of the candidate ids.
    Candidates it leaves out follow the ranked ones in the built-in order.
    """

    def __init__(self, client: httpx.AsyncClient, url: str, timeout_seconds: float) -> None:
        self._client = client
        self._url = url
        self._timeout = timeout_seconds
        self.fallbacks = 0

    async def order(
        self, viewer_id: str, candidates: Sequence[Signals], now: datetime
    ) -> list[int]:
        built_in = ranked(candidates, now)
        if len(candidates) < 2:
            return built_in
        payload = {
            "viewerId": viewer_id,
            "now": now.isoformat(),
            "candidates": [
                {
                    "id": str(c.post_id),
                    "authorId": c.author_id,
                    "createdAt": c.created_at.isoformat(),
                    "likes": c.likes,
                    "comments": c.comments,
                    "affinity": c.affinity,
                }
                for c in candidates
            ],
        }
        try:
            # A hard bound on the whole exchange, not per connect/read/write phase.
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(self._url, json=payload)
            response.raise_for_status()
            order = response.json()["order"]
            known = {str(post_id): post_id for post_id in built_in}
            chosen = [known.pop(str(post_id)) for post_id in order if str(post_id) in known]
        except (TimeoutError, httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            self.fallbacks += 1
            log.warning(
                "ranking service failed (%s); the built-in score orders the session",
                type(error).__name__,
            )
            return built_in
        return chosen + [post_id for post_id in built_in if str(post_id) in known]
