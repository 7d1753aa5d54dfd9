"""What a file really is, and its renditions: pure functions, no server."""

import io
import time

import pytest
from PIL import Image

from tests.images import long_gif, photo, png_bomb
from tidings.feed import images


def encoded(image: Image.Image, kind: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    "options",
    [{"lossless": False}, {"lossless": True}, {"exif": b"Exif\x00\x00"}],
    ids=["lossy VP8", "lossless VP8L", "extended VP8X"],
)
def test_a_webp_size_is_read_from_its_first_30_bytes(options: dict[str, object]) -> None:
    data = encoded(Image.new("RGB", (321, 123)), "WEBP", **options)
    facts = images.inspect(data[:30], complete=False)
    assert (facts.content_type, facts.width, facts.height, facts.frames) == (
        "image/webp",
        321,
        123,
        1,
    )


def test_an_animated_webp_counts_its_frames_only_from_the_whole_file() -> None:
    frames = [Image.new("RGB", (40, 30), (i * 60, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:])
    data = out.getvalue()
    assert images.inspect(data[:30], complete=False).frames is None
    assert images.inspect(data, complete=True).frames == 3


def test_the_signature_decides_the_type_whatever_the_name() -> None:
    assert images.sniff(photo(10, 10)) == "image/jpeg"
    assert images.sniff(encoded(Image.new("RGB", (2, 2)), "PNG")) == "image/png"
    assert images.sniff(encoded(Image.new("RGB", (2, 2)), "GIF")) == "image/gif"
    assert images.sniff(encoded(Image.new("RGB", (2, 2)), "BMP")) is None
    assert images.sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None


def test_a_bomb_is_refused_from_its_header_without_decoding() -> None:
    bomb = png_bomb()
    started = time.perf_counter()
    with pytest.raises(images.UnusableImage, match="too large"):
        images.inspect(bomb, complete=True)
    with pytest.raises(images.UnusableImage, match="too large"):
        images.render(bomb)
    assert time.perf_counter() - started < 1


def test_an_animation_over_the_limits_is_refused_once_its_frames_are_counted() -> None:
    long = long_gif(images.MAX_FRAMES + 1)
    assert images.inspect(long[:100], complete=False).frames is None  # not knowable yet
    with pytest.raises(images.UnusableImage, match="animation is too long"):
        images.inspect(long, complete=True)
    assert images.inspect(long_gif(3), complete=True).frames == 3


def test_renditions_are_upright_and_carry_no_metadata() -> None:
    image = Image.new("RGB", (400, 200), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, 200, 200))  # red on the left, blue on the right
    exif = image.getexif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise
    exif[0x8825] = {2: (48.0, 51.0, 29.0)}
    data = encoded(image, "JPEG", exif=exif.tobytes(), quality=95)
    made = images.render(data)
    assert (made.content_type, made.width, made.height) == ("image/jpeg", 200, 400)
    large = Image.open(io.BytesIO(made.large))
    assert dict(large.getexif()) == {}
    top = large.convert("RGB").getpixel((100, 50))  # red on top, once upright
    assert isinstance(top, tuple)
    assert top[0] > 200 > top[2]
    thumbnail = Image.open(io.BytesIO(made.thumbnail))
    assert thumbnail.size == (160, 320)
    assert len(made.placeholder) == 4 + 2 * 3 * 6  # BlurHash of 3 x 6 components


def test_transparency_is_kept_as_png() -> None:
    data = encoded(Image.new("RGBA", (50, 50), (1, 2, 3, 0)), "PNG")
    made = images.render(data)
    assert made.content_type == "image/png"
    assert Image.open(io.BytesIO(made.thumbnail)).mode == "RGBA"


def test_a_truncated_file_fails_when_decoded_with_a_reason() -> None:
    data = photo(1_200, 900)
    with pytest.raises(images.UnusableImage, match="incomplete"):
        images.render(data[: len(data) // 2])
