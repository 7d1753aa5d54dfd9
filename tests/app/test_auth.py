import base64
import hashlib
import hmac
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


def rsa_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def test_rs256_tokens_verify_against_the_configured_public_key() -> None:
    private, public = rsa_pair()
    other_private, _ = rsa_pair()
    both = TokenVerifier(SECRET, leeway_seconds=5, public_key=public)
    claims = {"sub": "alice", "exp": int(time.time()) + 60}
    assert both.viewer_id(bearer(claims, private, "RS256")) == "alice"
    assert both.viewer_id(bearer(claims)) == "alice"  # HS256 still accepted
    with pytest.raises(Unauthenticated):
        both.viewer_id(bearer(claims, other_private, "RS256"))

    # Algorithm confusion: the public key used as an HMAC secret.
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    signing_input = (
        b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(b'{"sub":"mallory","exp":9999999999}')
    )
    signature = hmac.new(public.encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"Bearer {signing_input}.{b64(signature)}"
    with pytest.raises(Unauthenticated):
        TokenVerifier(None, 5, public_key=public).viewer_id(forged)


def test_a_verifier_needs_a_key() -> None:
    with pytest.raises(RuntimeError, match="JWT"):
        TokenVerifier(None, 5, public_key=None)


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    strict = TokenVerifier(SECRET, leeway_seconds=0)
    expires = int(time.time()) + 2
    token = jwt.encode({"sub": "alice", "exp": expires}, SECRET, algorithm="HS256")
    assert strict.viewer_id(f"Bearer {token}") == "alice"
    assert strict.viewer_id(f"Bearer {token}") == "alice"  # from the verified tokens
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(Unauthenticated, match="expired"):
        strict.viewer_id(f"Bearer {token}")
