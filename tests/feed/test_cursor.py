import base64

import pytest

from tidings.feed.cursor import CursorCodec
from tidings.feed.errors import BadUserInput

codec = CursorCodec("secret")


def test_post_and_user_cursors_round_trip() -> None:
    assert codec.decode_post(codec.encode_post(116600970190912)) == 116600970190912
    assert codec.decode_user(codec.encode_user("alice_01-x")) == "alice_01-x"


def test_cursor_is_opaque() -> None:
    assert "alice" not in codec.encode_user("alice")
    assert "12345" not in codec.encode_post(12345)


def test_tampered_cursor_is_refused() -> None:
    raw = bytearray(base64.urlsafe_b64decode(codec.encode_post(42) + "=="))
    raw[7] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(BadUserInput):
        codec.decode_post(tampered)


def test_cursor_of_another_kind_or_secret_is_refused() -> None:
    with pytest.raises(BadUserInput):
        codec.decode_user(codec.encode_post(42))
    with pytest.raises(BadUserInput):
        CursorCodec("other").decode_post(codec.encode_post(42))


@pytest.mark.parametrize("garbage", ["", "x", "!!!!", "é", "A" * 500, "AAAAAAAAAAAAAAAAAAAAAAAA"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(BadUserInput):
        codec.decode_post(garbage)
