"""Bearer tokens: JWTs whose `sub` is the user id, HS256 or RS256."""

import time
from collections import OrderedDict
from dataclasses import dataclass

import jwt

from tidings.feed.errors import Unauthenticated
from tidings.feed.users import is_user_id

HS256 = "HS256"
RS256 = "RS256"


@dataclass(frozen=True, slots=True)
class Bearer:
    viewer_id: str
    # Unix time after which the token no longer speaks for them (leeway included).
    expires_at: float


def issue_token(user_id: str, secret: str, ttl_seconds: int) -> str:
    if not is_user_id(user_id):
        raise ValueError("invalid user id")
    now = int(time.time())
    claims = {"sub": user_id, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=HS256)


# Verified tokens remembered per process (about 2 MB at the bound).
_VERIFIED_TOKENS = 10_000


class TokenVerifier:
    """Accepts HS256 tokens signed with the shared secret and, when a public key is
    configured, RS256 tokens from an identity provider. Each key verifies only its
    own algorithm, so `alg: none` and algorithm confusion fail."""

    def __init__(
        self, secret: str | None, leeway_seconds: int, public_key: str | None = None
    ) -> None:
        self._keys: dict[str, str] = {}
        if secret:
            self._keys[HS256] = secret
        if public_key:
            self._keys[RS256] = public_key
        if not self._keys:
            raise RuntimeError("Set TIDINGS_JWT_SECRET or TIDINGS_JWT_PUBLIC_KEY")
        self._leeway = leeway_seconds
        # Tokens verified already, until they expire: a client sends the same token
        # with every request, and verifying it (parse, HMAC or RSA, claims) cost a
        # tenth of a timeline page. Keyed by the whole token, signature included.
        self._verified: OrderedDict[str, Bearer] = OrderedDict()

    def viewer_id(self, authorization: str | None) -> str:
        """The user an `Authorization` header value speaks for, or UNAUTHENTICATED."""
        return self.verify(authorization).viewer_id

    def verify(self, authorization: str | None) -> "Bearer":
        """Who an `Authorization` header value speaks for, and until when."""
        if not authorization:
            raise Unauthenticated("Sign in: send `Authorization: Bearer <token>`.")
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("The Authorization header must be `Bearer <token>`.")
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at > time.time():
                self._verified.move_to_end(token)
                return known
            del self._verified[token]
        bearer = self._verify(token)
        self._verified[token] = bearer
        if len(self._verified) > _VERIFIED_TOKENS:
            self._verified.popitem(last=False)
        return bearer

    def _verify(self, token: str) -> "Bearer":
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            if not isinstance(algorithm, str) or algorithm not in self._keys:
                raise Unauthenticated("The token is not valid.")
            key = self._keys[algorithm]
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                leeway=self._leeway,
                options={"require": ["sub", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The token has expired.") from None
        except jwt.PyJWTError:
            raise Unauthenticated("The token is not valid.") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not is_user_id(subject):
            raise Unauthenticated("The token does not name a valid user.")
        return Bearer(subject, float(claims["exp"]) + self._leeway)
