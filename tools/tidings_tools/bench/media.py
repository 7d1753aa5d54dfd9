"""The media figures: how fast the running worker turns 12-megapixel photos into
renditions, and what a first page of posts with four photos each costs."""

import asyncio
import io
import time
from typing import Any

import httpx
from PIL import Image, ImageFilter

from tidings.feed.media import MediaSize, rendition_name
from tidings.stores.media import MediaState
from tidings_tools.bench.documents import MEDIA_PAGE
from tidings_tools.bench.measure import latency_summary, load, ratio
from tidings_tools.bench.parts import Parts
from tidings_tools.bench.sizes import BenchSize
from tidings_tools.client import GraphQLClient

UPLOAD = """mutation($type: String!, $size: Int!) {
  createUpload(input: {contentType: $type, byteSize: $size}) {
    upload { id url headers { name value } } } }"""
POST = """mutation($media: [MediaInput!]) {
  createPost(input: {body: "", media: $media}) { post { id } } }"""
PHOTOS_PER_POST = 4


def synthetic_photo(width: int, height: int, seed: int = 0) -> bytes:
    """A camera-like JPEG: smooth gradients with sensor noise, at quality 90 (a
    12-megapixel one is about 3 MB, as phones make them)."""
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 12 + seed % 5).filter(ImageFilter.BoxBlur(1))
    red = Image.blend(gradient, noise, 0.35)
    green = Image.blend(gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), noise, 0.25)
    blue = Image.blend(gradient.rotate(180), noise, 0.3)
    out = io.BytesIO()
    Image.merge("RGB", (red, green, blue)).save(out, "JPEG", quality=90)
    return out.getvalue()


async def upload(api: GraphQLClient, http: httpx.AsyncClient, user: str, data: bytes) -> str:
    made = await api.data(user, UPLOAD, {"type": "image/jpeg", "size": len(data)})
    ticket = made["createUpload"]["upload"]
    headers = {header["name"]: header["value"] for header in ticket["headers"]}
    response = await http.put(ticket["url"], content=data, headers=headers)
    response.raise_for_status()
    upload_id: str = ticket["id"]
    return upload_id


async def post_photos(
    api: GraphQLClient, http: httpx.AsyncClient, user: str, photos: list[bytes]
) -> list[str]:
    ids = [await upload(api, http, user, data) for data in photos]
    media = [{"uploadId": upload_id, "alt": "bench"} for upload_id in ids]
    await api.data(user, POST, {"media": media})
    return ids


async def settled_at(parts: Parts, media_ids: list[str], within: float) -> dict[str, float]:
    """When each photo was seen READY or FAILED (perf_counter), polling its record."""
    seen: dict[str, float] = {}
    deadline = time.perf_counter() + within
    while len(seen) < len(media_ids) and time.perf_counter() < deadline:
        found = await parts.stores.media.get_many([i for i in media_ids if i not in seen])
        now = time.perf_counter()
        for media_id, media in found.items():
            if media.state in {MediaState.READY, MediaState.FAILED}:
                seen[media_id] = now
        await asyncio.sleep(0.02)
    return seen


async def process(
    parts: Parts,
    api: GraphQLClient,
    http: httpx.AsyncClient,
    user: str,
    size: BenchSize,
) -> Any:
    """Photos (12 megapixels at the default size) through the running worker: from
    each post's creation to each photo READY, and photos a second from the first
    post to the last READY."""
    width, height = size.process_photo
    photo = synthetic_photo(width, height)
    posted: dict[str, float] = {}
    uploads = [
        [await upload(api, http, user, photo) for _ in range(PHOTOS_PER_POST)]
        for _ in range(size.process_posts)
    ]
    for ids in uploads:
        media = [{"uploadId": upload_id} for upload_id in ids]
        await api.data(user, POST, {"media": media})
        at = time.perf_counter()
        posted.update(dict.fromkeys(ids, at))
    all_ids = [upload_id for ids in uploads for upload_id in ids]
    settled = await settled_at(parts, all_ids, within=120)
    states = await parts.stores.media.get_many(all_ids)
    ready = [i for i in all_ids if states[i].state is MediaState.READY]
    elapsed = max(settled.values(), default=0) - min(posted.values())
    stored: dict[str, int] = {}
    if ready and parts.stores.objects is not None:
        for rendition in MediaSize:
            name = rendition_name(ready[0], rendition)
            stored[f"{rendition.value}_bytes"] = await parts.stores.objects.size(name)
    return {
        "photos": len(all_ids),
        "ready": len(ready),
        "photo_bytes": len(photo),
        "megapixels": round(width * height / 1e6, 1),
        "images_per_s": round(len(ready) / elapsed, 2) if elapsed > 0 else 0.0,
        **latency_summary([(settled[i] - posted[i]) * 1000 for i in ready]),
        "concurrency_per_worker": parts.settings.media_concurrency,
        **stored,
    }


async def media(
    parts: Parts,
    api: GraphQLClient,
    http: httpx.AsyncClient,
    readers: list[str],
    authors: list[str],
    size: BenchSize,
    ceiling: Any,
) -> dict[str, Any]:
    figures: dict[str, Any] = {"process": await process(parts, api, http, authors[0], size)}
    photo = synthetic_photo(1_200, 900)
    ids: list[str] = []
    for author in authors:
        ids += await post_photos(api, http, author, [photo] * PHOTOS_PER_POST)
    settled = await settled_at(parts, ids, within=120)
    page = figures["first_page_media"] = {"photos_ready": len(settled), "photos": len(ids)}

    async def first_page() -> None:
        reader = readers[int(time.perf_counter() * 1000) % len(readers)]
        await api.data(reader, MEDIA_PAGE)

    page.update(await load(size.read_seconds, size.concurrency, first_page))
    static = await ceiling({"media": MEDIA_PAGE})
    figures["ceiling_a_media"] = static["media"]
    page["ratio_to_a"] = ratio(page["rps"], static["media"]["rps"])
    return figures
