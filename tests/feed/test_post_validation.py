import pytest

from tidings.feed.errors import BadUserInput
from tidings.feed.posts import MAX_BODY_BYTES, validate_post


def test_a_full_kilobyte_of_multibyte_text_is_accepted() -> None:
    body = "é" * (MAX_BODY_BYTES // 2)
    assert len(body.encode()) == 1_024
    assert validate_post(body, None) == (body, None)


@pytest.mark.parametrize(
    "body",
    ["", "   ", "\n\t ", "é" * 512 + "a", "a" * 1_025, "\ud800", "nul\x00byte"],
    ids=["empty", "spaces", "whitespace", "1025-multibyte", "1025-ascii", "surrogate", "nul"],
)
def test_bad_bodies_are_refused(body: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        validate_post(body, None)
    assert caught.value.extensions["field"] == "body"


def test_client_metadata_is_bounded() -> None:
    assert validate_post("hi", "c" * 64) == ("hi", "c" * 64)
    with pytest.raises(BadUserInput):
        validate_post("hi", "c" * 65)
