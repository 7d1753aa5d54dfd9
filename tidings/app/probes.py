"""Endpoints for operators: liveness and readiness. (Metrics have a port of their own.)"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

# Each store's check: an awaitable that succeeds only if the store answers.
Readiness = Mapping[str, Callable[[], Awaitable[object]]]


async def health(_request: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readiness(request: Request) -> Response:
    """Readiness: every store answers within a short timeout."""
    checks: Readiness = request.state.readiness
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            async with asyncio.timeout(2):
                await check()
            results[name] = "ok"
        except Exception as error:  # any failure means not ready, whatever its kind
            results[name] = type(error).__name__
    ready = all(result == "ok" for result in results.values())
    return JSONResponse({"ready": ready, "stores": results}, status_code=200 if ready else 503)
