"""What an uploaded file really is, and the renditions made of it: pure functions.

The type comes from the bytes, never from what the client declared. Pillow opens
only the formats we take, reads only the header until asked for pixels, and its
decompression-bomb guard stays on; our own limits are checked before any pixel
is decoded. Renditions are re-encoded from pixels alone, so no metadata (EXIF,
GPS, XMP, ICC, comments) survives into them.
"""

import io
import math
import warnings
from dataclasses import dataclass

import blurhash
from PIL import Image, ImageOps, UnidentifiedImageError

# Content type -> Pillow's format name.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
MAX_PIXELS = 50_000_000  # one frame: room for a 48-megapixel phone photo
MAX_SIDE = 16_384
MAX_FRAMES = 100
MAX_ANIMATION_PIXELS = 200_000_000  # every frame together
THUMBNAIL_SIDE = 320
LARGE_SIDE = 1_600
_PLACEHOLDER_SIDE = 32
_JPEG_QUALITY = 85


class UnusableImage(Exception):
    """Why a file cannot be a post's photo, in words for the person who sent it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ImageFacts:
    content_type: str
    # None when the first bytes did not reach that far: the worker checks again.
    width: int | None
    height: int | None
    frames: int | None


@dataclass(frozen=True, slots=True)
class Renditions:
    content_type: str
    large: bytes
    thumbnail: bytes
    # The large rendition's size (the thumbnail has the same proportions).
    width: int
    height: int
    placeholder: str


def sniff(data: bytes) -> str | None:
    """The content type that the file's signature says, if it is one we take."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _webp_header(data: bytes) -> tuple[int, int, bool] | None:
    """(width, height, animated) from a WebP's first chunk; Pillow's WebP reader
    needs the whole file, this needs 30 bytes."""
    if len(data) < 30:
        return None
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return width, height, bool(data[20] & 0x02)
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width = int.from_bytes(data[26:28], "little") & 0x3FFF
        height = int.from_bytes(data[28:30], "little") & 0x3FFF
        return width, height, False
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF), False
    return None


def _open(data: bytes, content_type: str) -> Image.Image:
    """Pillow's view of the header, in the one format the signature named; a bomb
    (its guard, or ours) is refused before any pixel is decoded."""
    try:
        # The guard warns between one and two times its limit: a refusal here.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[FORMATS[content_type]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnusableImage(_too_large()) from None
    return image


def _too_large() -> str:
    return (
        f"The image is too large: at most {MAX_PIXELS // 1_000_000} megapixels "
        f"and {MAX_SIDE} pixels a side."
    )


def check_limits(facts: ImageFacts) -> None:
    width, height, frames = facts.width, facts.height, facts.frames
    if width is None or height is None:
        return
    if width < 1 or height < 1:
        raise UnusableImage("The image has no pixels.")
    if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
        raise UnusableImage(_too_large())
    if frames is not None and (
        frames > MAX_FRAMES or width * height * frames > MAX_ANIMATION_PIXELS
    ):
        raise UnusableImage(
            f"The animation is too long: at most {MAX_FRAMES} frames and "
            f"{MAX_ANIMATION_PIXELS // 1_000_000} megapixels in all its frames."
        )


def inspect(data: bytes, *, complete: bool) -> ImageFacts:
    """Type, size and frames from the file's first bytes (`complete`: all of them),
    within our limits, or UnusableImage. What the first bytes cannot tell is None."""
    content_type = sniff(data)
    if content_type is None:
        raise UnusableImage("The file is not a JPEG, PNG, WebP or GIF image.")
    if content_type == "image/webp":
        header = _webp_header(data)
        if header is None:
            raise UnusableImage("The file is not a readable WebP image.")
        width, height, animated = header
        frames: int | None = None if animated else 1
        if complete and animated:
            frames = getattr(_open(data, content_type), "n_frames", 1)
        facts = ImageFacts(content_type, width, height, frames)
        check_limits(facts)
        return facts
    try:
        image = _open(data, content_type)
        width, height = image.size
        frames = None
        # PNG (APNG's acTL) says its frame count up front; GIF must be walked.
        if complete or content_type == "image/png":
            frames = getattr(image, "n_frames", 1)
    except UnusableImage:
        raise
    except (UnidentifiedImageError, SyntaxError, OSError, EOFError, ValueError):
        if complete:
            raise UnusableImage(
                f"The file starts like a {FORMATS[content_type]} image but cannot be read as one."
            ) from None
        # The header lies beyond the first bytes (a JPEG with large metadata):
        # the worker reads it from the whole file.
        return ImageFacts(content_type, None, None, None)
    facts = ImageFacts(content_type, width, height, frames)
    check_limits(facts)
    return facts


def _fit(width: int, height: int, side: int) -> tuple[int, int]:
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in {"RGBA", "LA", "PA"} or (
        image.mode == "P" and "transparency" in image.info
    )


def _encode(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/png":
        image.save(out, "PNG", optimize=False)
    else:
        image.save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def render(data: bytes) -> Renditions:
    """The large rendition, the thumbnail and the placeholder of a whole file: JPEG,
    or PNG where the image has transparency; animations give their first frame."""
    facts = inspect(data, complete=True)
    image = _open(data, facts.content_type)
    if facts.content_type == "image/jpeg":
        # Decodes at 1/2, 1/4 or 1/8 scale straight from the DCT when that is
        # still at least the large size: a 12-megapixel photo at a quarter the work.
        image.draft("RGB", _fit(image.width, image.height, LARGE_SIDE))
    try:
        image.load()
        # Upright as the camera meant it, before the orientation tag is dropped.
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UnusableImage(
            "The image is incomplete or damaged (the file may have been cut short); "
            "upload it again."
        ) from None
    alpha = _has_alpha(upright)
    content_type = "image/png" if alpha else "image/jpeg"
    # A new image from the pixels alone: nothing of the file's metadata follows.
    pixels = upright.convert("RGBA" if alpha else "RGB")
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    large = clean.resize(_fit(*clean.size, LARGE_SIDE), Image.Resampling.LANCZOS, reducing_gap=3)
    thumbnail = large.resize(_fit(*large.size, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    tiny = thumbnail.convert("RGB").resize(_fit(*thumbnail.size, _PLACEHOLDER_SIDE))
    return Renditions(
        content_type=content_type,
        large=_encode(large, content_type),
        thumbnail=_encode(thumbnail, content_type),
        width=large.width,
        height=large.height,
        placeholder=placeholder(tiny),
    )


def placeholder(image: Image.Image) -> str:
    """A BlurHash of a small RGB image, with more components along its longer side."""
    ratio = image.width / image.height
    x = max(1, min(9, round(4 * math.sqrt(ratio))))
    y = max(1, min(9, round(4 / math.sqrt(ratio))))
    raw = image.tobytes()
    stride = image.width * 3
    rows = [
        [list(raw[at : at + 3]) for at in range(row, row + stride, 3)]
        for row in range(0, len(raw), stride)
    ]
    return str(blurhash.encode(rows, x, y))
