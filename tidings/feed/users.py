"""User ids: opaque strings issued by whoever signs our tokens."""

import re

from tidings.feed.errors import BadUserInput

_USER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def is_user_id(value: str) -> bool:
    return _USER_ID.fullmatch(value) is not None


def parse_user_id(value: str) -> str:
    if not is_user_id(value):
        raise BadUserInput("A user id is 1 to 64 letters, digits, '_' or '-'.")
    return value
