"""Bearer tokens: HS256 JWTs whose `sub` is the user id."""

import time

import jwt

from tidings.feed.errors import Unauthenticated
from tidings.feed.users import is_user_id

ALGORITHM = "HS256"


def issue_token(user_id: str, secret: str, ttl_seconds: int) -> str:
    if not is_user_id(user_id):
        raise ValueError("invalid user id")
    now = int(time.time())
    claims = {"sub": user_id, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class TokenVerifier:
    def __init__(self, secret: str, leeway_seconds: int) -> None:
        self._secret = secret
        self._leeway = leeway_seconds

    def viewer_id(self, authorization: str | None) -> str:
        """The user an `Authorization` header value speaks for, or UNAUTHENTICATED."""
        if not authorization:
            raise Unauthenticated("Sign in: send `Authorization: Bearer <token>`.")
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("The Authorization header must be `Bearer <token>`.")
        try:
            # Only HS256 is accepted, so `alg: none` and algorithm swaps fail here.
            claims = jwt.decode(
                token.strip(),
                self._secret,
                algorithms=[ALGORITHM],
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
        return subject
