"""A signed-in reader's timeline, quiet and while anonymous clients flood the API
with large documents that defeat every cache (a random comment each).

    python bench/anonymous_flood.py [--url URL] [--seconds 5] [--flooders 16]

Against a running `make run` (it finds the URL and the JWT secret the same way
`tidings bench` does). Prints the reader's latency quiet and under the flood, and
how the flood was answered: since the second hardening round a document over 256
characters without a valid token is refused before it is parsed.
"""

import argparse
import asyncio
import json
import time
import uuid
from collections import Counter

import httpx

from tidings.app.auth import issue_token
from tidings.app.settings import Settings
from tidings_tools.bench.measure import latency_summary
from tidings_tools.stack import running_api_url, with_running_stack

PAGE = "{ timeline(first: 20) { edges { node { id body author { id friendCount } } } } }"


def flood_document() -> str:
    # About 6 KB: 500 fields, and a comment no cache has seen.
    return "{ viewer { " + "friendCount " * 500 + "} } #" + uuid.uuid4().hex


async def reader_latencies(
    client: httpx.AsyncClient, url: str, token: str, seconds: float
) -> list[float]:
    took: list[float] = []
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}"}
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        response = await client.post(url, json={"query": PAGE}, headers=headers)
        response.raise_for_status()
        took.append((time.perf_counter() - started) * 1000)
    return took


async def flood(client: httpx.AsyncClient, url: str, until: float, answers: Counter[str]) -> None:
    while time.perf_counter() < until:
        response = await client.post(url, json={"query": flood_document()})
        try:
            code = response.json()["errors"][0]["extensions"]["code"]
        except (ValueError, KeyError, IndexError):
            code = "-"
        answers[f"{response.status_code} {code}"] += 1


async def main(url: str, secret: str, seconds: float, flooders: int) -> dict[str, object]:
    token = issue_token("flood-reader", secret, 600)
    limits = httpx.Limits(max_connections=flooders + 4)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        quiet = await reader_latencies(client, url, token, seconds)
        answers: Counter[str] = Counter()
        until = time.perf_counter() + seconds
        floods = [asyncio.create_task(flood(client, url, until, answers)) for _ in range(flooders)]
        loud = await reader_latencies(client, url, token, seconds)
        await asyncio.gather(*floods)
    return {
        "reader_quiet": latency_summary(quiet),
        "reader_under_flood": latency_summary(loud),
        "flood_requests_per_s": round(sum(answers.values()) / seconds, 1),
        "flood_answers": dict(answers),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--flooders", type=int, default=16)
    args = parser.parse_args()
    settings = with_running_stack(Settings())
    secret = settings.hs256_secret()
    if not secret:
        raise SystemExit("No JWT secret: start `make run`, or set TIDINGS_JWT_SECRET.")
    url = args.url or running_api_url(settings)
    report = asyncio.run(main(url, secret, args.seconds, args.flooders))
    print(json.dumps(report, indent=2))
