"""Image files as tests need them: a phone's photo with GPS, PNGs, a bomb, a long GIF."""

import io
import struct
import zlib

from PIL import Image

GPS = 0x8825


def photo(width: int = 1200, height: int = 900, *, gps: bool = True) -> bytes:
    """A JPEG as a phone makes it: EXIF with a GPS position and an orientation."""
    image = Image.new("RGB", (width, height), (30, 120, 200))
    image.paste((250, 200, 20), (0, 0, width // 2, height // 3))
    exif = image.getexif()
    if gps:
        exif[GPS] = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}
    exif[0x010F] = "PhoneMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif.tobytes())
    return out.getvalue()


def png(width: int = 64, height: int = 48, *, alpha: bool = False) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA" if alpha else "RGB", (width, height), (10, 20, 30, 128)).save(out, "PNG")
    return out.getvalue()


def png_bomb(side: int = 30_000) -> bytes:
    """A 30,000 x 30,000 PNG of about 100 KB: 900 megapixels once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    squeeze = zlib.compressobj(9)
    row = b"\x00" * (1 + side // 8)
    pixels = b"".join(squeeze.compress(row) for _ in range(side)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def long_gif(frames: int) -> bytes:
    out = io.BytesIO()
    images = [Image.new("RGB", (16, 16), (i % 256, (i * 7) % 256, 0)) for i in range(frames)]
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], optimize=False)
    return out.getvalue()
