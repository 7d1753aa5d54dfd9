import pytest

from tidings.feed.errors import BadUserInput
from tidings.feed.posts import MAX_BODY_BYTES, validate_post


def test_a_full_kilobyte_of_multibyte_text_is_accepted() -> None:
    body = "é" * (MAX_BODY_BYTES // 2)
    assert len(body.encode()) == 1_024
    assert validate_post(body, None) == (body, None)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "   ",
        "\n\t ",
        "é" * 512 + "a",
        "a" * 1_025,
        "\ud800",
        "nul\x00byte",
        "\u200b\u200c\u200d\ufeff",
        "\u202e\u00a0\u3000",
    ],
    ids=[
        "empty",
        "spaces",
        "whitespace",
        "1025-multibyte",
        "1025-ascii",
        "surrogate",
        "nul",
        "zero-width-only",
        "bidi-and-odd-spaces-only",
    ],
)
def test_bad_bodies_are_refused(body: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        validate_post(body, None)
    assert caught.value.extensions["field"] == "body"


def test_client_metadata_is_bounded() -> None:
    assert validate_post("hi", "c" * 64) == ("hi", "c" * 64)
    with pytest.raises(BadUserInput):
        validate_post("hi", "c" * 65)


@pytest.mark.parametrize(
    "client", ["app\x00", "app\x1b[31m", "\u202eppa", "zero\u200bwidth", "tab\tbed", "new\nline"]
)
def test_client_metadata_is_printable_text(client: str) -> None:
    with pytest.raises(BadUserInput) as caught:
        validate_post("hi", client)
    assert caught.value.extensions["field"] == "client"


def test_ordinary_text_with_emoji_and_newlines_is_kept_as_written() -> None:
    body = "Hello, world! 👋\nSecond line\twith a tab, and Ünïcödé."
    assert validate_post(body, "Tidings for iOS 2.1") == (body, "Tidings for iOS 2.1")
