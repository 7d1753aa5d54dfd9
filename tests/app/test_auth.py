import time

import jwt
import pytest

from tidings.app.auth import TokenVerifier, issue_token
from tidings.feed.errors import Unauthenticated

SECRET = "a-secret-long-enough-for-hs256-0123456789abcdef"
verifier = TokenVerifier(SECRET, leeway_seconds=5)


def bearer(claims: dict[str, object], secret: str = SECRET, algorithm: str = "HS256") -> str:
    return "Bearer " + jwt.encode(claims, secret, algorithm=algorithm)


def test_issued_token_names_its_user() -> None:
    assert verifier.viewer_id("Bearer " + issue_token("alice", SECRET, 60)) == "alice"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "alice",
        "Basic abc",
        "Bearer ",
        "Bearer not.a.token",
        bearer({"sub": "alice", "exp": int(time.time()) - 60}),
        bearer({"sub": "alice", "exp": int(time.time()) + 60}, secret="wrong-secret-" * 4),
        bearer({"sub": "alice"}),
        bearer({"exp": int(time.time()) + 60}),
        bearer({"sub": "not valid!", "exp": int(time.time()) + 60}),
        bearer({"sub": 42, "exp": int(time.time()) + 60}),
        bearer({"sub": "alice", "exp": int(time.time()) + 60}, secret="", algorithm="none"),
    ],
    ids=[
        "missing",
        "empty",
        "no-scheme",
        "basic",
        "empty-bearer",
        "malformed",
        "expired",
        "wrong-secret",
        "no-exp",
        "no-sub",
        "invalid-sub",
        "numeric-sub",
        "alg-none",
    ],
)
def test_bad_credentials_are_unauthenticated(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        verifier.viewer_id(header)


def test_small_clock_skew_is_tolerated() -> None:
    header = bearer({"sub": "alice", "exp": int(time.time()) - 2})
    assert verifier.viewer_id(header) == "alice"
