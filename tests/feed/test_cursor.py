import base64

import pytest

from tidings.feed.cursor import POST_ID, TIE, USER_ID, CursorCodec
from tidings.feed.errors import BadUserInput

codec = CursorCodec("secret")


def test_each_kind_round_trips() -> None:
    assert codec.decode(POST_ID, codec.encode(POST_ID, 116600970190912)) == 116600970190912
    assert codec.decode(USER_ID, codec.encode(USER_ID, "alice_01-x")) == "alice_01-x"
    assert codec.decode(TIE, codec.encode(TIE, (1_700_000_000_000, "bob"))) == (
        1_700_000_000_000,
        "bob",
    )


def test_a_post_cursor_is_the_same_string_signed_once_or_again() -> None:
    # Memoized for posts: the cached string must be what signing gives anew.
    first = codec.encode(POST_ID, 7)
    assert CursorCodec("secret").encode(POST_ID, 7) == first == codec.encode(POST_ID, 7)


def test_cursor_is_opaque() -> None:
    assert "alice" not in codec.encode(USER_ID, "alice")
    assert "12345" not in codec.encode(POST_ID, 12345)


def test_tampered_cursor_is_refused() -> None:
    raw = bytearray(base64.urlsafe_b64decode(codec.encode(POST_ID, 42) + "=="))
    raw[7] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(BadUserInput):
        codec.decode(POST_ID, tampered)


def test_cursor_of_another_kind_or_secret_is_refused() -> None:
    with pytest.raises(BadUserInput):
        codec.decode(USER_ID, codec.encode(POST_ID, 42))
    with pytest.raises(BadUserInput):
        codec.decode(POST_ID, codec.encode(TIE, (42, "x")))
    with pytest.raises(BadUserInput):
        CursorCodec("other").decode(POST_ID, codec.encode(POST_ID, 42))


@pytest.mark.parametrize("garbage", ["", "x", "!!!!", "é", "A" * 500, "AAAAAAAAAAAAAAAAAAAAAAAA"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(BadUserInput):
        codec.decode(POST_ID, garbage)
