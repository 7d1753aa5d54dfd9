"""Photos on posts, against a real S3 server (versitygw): the upload flow, every
bad input refused with nothing stored, private URLs, metadata stripped, deletion
and the sweep of what nothing refers to."""

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.app.conftest import Api
from tests.app.scenario import DELETE, befriend
from tests.conftest import ObjectServer, eventually
from tests.graphs import ON_BOTH_GRAPHS
from tests.images import long_gif, photo, png, png_bomb
from tests.needs import unavailable
from tidings.app import components
from tidings.app.settings import Settings
from tidings.app.stores import Stores
from tidings.feed.keys import Keys
from tidings.feed.media import PREFIX_BYTES, original_name
from tidings.feed.media_processor import MediaProcessor
from tidings.feed.posts import PostService
from tidings.stores.media import Attachment, MediaState
from tidings.stores.objects import ObjectMissing, ObjectStore
from tidings_tools import object_storage

UPLOAD = """mutation($type: String!, $size: Int!) {
  createUpload(input: {contentType: $type, byteSize: $size}) {
    upload { id url expiresAt headers { name value } } } }"""
CREATE = """mutation($body: String!, $media: [MediaInput!], $key: String) {
  createPost(input: {body: $body, media: $media, idempotencyKey: $key}) {
    post { id body media { id status alt } } } }"""
MEDIA = """query($id: ID!) { post(id: $id) { id media {
  id status failure contentType width height placeholder alt
  large: url thumbnail: url(size: THUMBNAIL) } } }"""
TIMELINE_MEDIA = """{ timeline(first: 10) { edges { node { id media { id status } } } } }"""
MY_POSTS = "query($id: ID!) { post(id: $id) { id } }"


@pytest.fixture(autouse=True)
def _needs_object_storage(object_server: ObjectServer | None) -> None:
    if object_server is None:
        unavailable(
            f"needs the S3 server: {object_storage.unavailable()}",
            required_by="TIDINGS_REQUIRE_S3",
        )


@pytest.fixture
def overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "quota" in request.node.name:
        return {"upload_bytes_per_day": 100_000, "upload_rate": 3}
    if "expired" in request.node.name:
        return {"media_url_seconds": 1}
    if "hanging" in request.node.name:
        return {"s3_endpoint_url": "http://127.0.0.1:9", "store_timeout_seconds": 1.0}
    return {}


async def upload(
    api: Api,
    user: str,
    data: bytes,
    content_type: str = "image/jpeg",
    *,
    declared: int | None = None,
) -> str:
    """createUpload, then the PUT a client makes straight to object storage."""
    made = await api.data(user, UPLOAD, {"type": content_type, "size": declared or len(data)})
    ticket = made["createUpload"]["upload"]
    headers = {header["name"]: header["value"] for header in ticket["headers"]}
    async with httpx.AsyncClient() as http:
        answer = await http.put(ticket["url"], content=data, headers=headers)
    assert answer.status_code == 200, answer.text
    upload_id: str = ticket["id"]
    return upload_id


async def post_with(
    api: Api, user: str, upload_ids: list[str], body: str = "", **extra: Any
) -> dict[str, Any]:
    media = [{"uploadId": upload_id, "alt": f"photo {n}"} for n, upload_id in enumerate(upload_ids)]
    return await api.call(user, CREATE, {"body": body, "media": media, **extra})


async def settled(api: Api, user: str, post_id: str) -> list[dict[str, Any]]:
    """The post's media once every item is READY or FAILED."""
    found: list[dict[str, Any]] = []

    async def done() -> bool:
        nonlocal found
        found = (await api.data(user, MEDIA, {"id": post_id}))["post"]["media"]
        return all(item["status"] != "PROCESSING" for item in found)

    await eventually(done, within=20)
    return found


async def fetch(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.get(url)


def objects_of(api: Api) -> ObjectStore:
    assert api.stores.objects is not None
    return api.stores.objects


async def object_names(stores: Stores) -> set[str]:
    assert stores.objects is not None
    return {item.key async for page in stores.objects.listing() for item in page}


async def test_a_photo_post_is_processed_into_private_renditions_without_metadata(
    api: Api,
) -> None:
    await befriend(api, "ann", "bob")
    first = await upload(api, "ann", photo(3000, 2000))
    second = await upload(api, "ann", png(400, 300, alpha=True), "image/png")
    created = await post_with(api, "ann", [first, second])
    post = created["data"]["createPost"]["post"]
    assert post["body"] == ""
    assert [item["id"] for item in post["media"]] == [first, second]
    assert {item["status"] for item in post["media"]} <= {"PROCESSING", "READY"}

    # A friend's timeline has it at once, whatever processing has reached.
    async def in_timeline() -> bool:
        edges = (await api.data("bob", TIMELINE_MEDIA))["timeline"]["edges"]
        return [edge["node"]["id"] for edge in edges] == [post["id"]]

    await eventually(in_timeline)

    jpeg, transparent = await settled(api, "bob", post["id"])
    assert jpeg["status"] == "READY", jpeg
    assert (jpeg["contentType"], jpeg["width"], jpeg["height"]) == ("image/jpeg", 1600, 1067)
    assert jpeg["alt"] == "photo 0"
    assert jpeg["failure"] is None
    assert jpeg["placeholder"]
    assert len(jpeg["placeholder"]) >= 6
    assert transparent["contentType"] == "image/png"

    for url, longest in ((jpeg["large"], 1600), (jpeg["thumbnail"], 320)):
        served = await fetch(url)
        assert served.status_code == 200
        image = Image.open(io.BytesIO(served.content))
        assert max(image.size) == longest
        assert dict(image.getexif()) == {}  # no GPS, no camera, nothing
        assert "exif" not in image.info
        assert "icc_profile" not in image.info
    thumbnail = Image.open(io.BytesIO((await fetch(transparent["thumbnail"])).content))
    assert thumbnail.mode == "RGBA"

    # The original, with its GPS position, is gone once processed.
    with pytest.raises(ObjectMissing):
        await objects_of(api).size(original_name(first))

    # Nobody reaches an object without a signature: not by key, not by listing.
    bucket = f"{api.settings.s3_endpoint_url}/{api.settings.s3_bucket}"
    key = objects_of(api).key(f"{first}/large")
    assert (await fetch(f"{bucket}/{key}")).status_code == 403
    assert (await fetch(f"{bucket}?list-type=2")).status_code == 403


@ON_BOTH_GRAPHS
async def test_who_may_not_see_the_post_gets_no_media_at_all(api: Api) -> None:
    await befriend(api, "ann", "bob")
    photo_id = await upload(api, "ann", photo(200, 100))
    post_id = (await post_with(api, "ann", [photo_id], "friends only"))["data"]["createPost"][
        "post"
    ]["id"]
    await settled(api, "bob", post_id)
    for stranger in ("eve", "mallory"):
        answer = await api.data(stranger, MEDIA, {"id": post_id})
        assert answer == {"post": None}
    # A friend who blocks or is blocked, or who is no friend any more, sees nothing.
    await api.data("ann", 'mutation { blockUser(userId: "bob") { id } }')
    assert await api.data("bob", MEDIA, {"id": post_id}) == {"post": None}


async def test_an_expired_url_is_refused_by_the_storage_server_itself(api: Api) -> None:
    photo_id = await upload(api, "ann", photo(100, 100))
    post_id = (await post_with(api, "ann", [photo_id]))["data"]["createPost"]["post"]["id"]
    [item] = await settled(api, "ann", post_id)
    assert (await fetch(item["large"])).status_code == 200
    # Signed for one second (S3 counts whole seconds): past it by a margin.
    await asyncio.sleep(2.5)
    refused = await fetch(item["large"])
    assert refused.status_code == 403
    assert b"expired" in refused.content.lower()


BAD_UPLOADS = [
    ("image/tiff", 100, "contentType"),
    ("text/plain", 100, "contentType"),
    ("image/jpeg", 0, "byteSize"),
    ("image/jpeg", 10 * 1024 * 1024 + 1, "byteSize"),
]


@pytest.mark.parametrize(("content_type", "size", "field"), BAD_UPLOADS)
async def test_an_upload_of_what_we_do_not_take_is_refused(
    api: Api, content_type: str, size: int, field: str
) -> None:
    answer = await api.call("ann", UPLOAD, {"type": content_type, "size": size})
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    # Refused before anything is recorded or counted against the quota.
    assert await api.stores.mongo[api.settings.namespace]["media"].count_documents({}) == 0


async def test_the_presigned_url_takes_exactly_the_declared_bytes_and_type(api: Api) -> None:
    data = photo(64, 64)
    made = await api.data("ann", UPLOAD, {"type": "image/jpeg", "size": len(data) - 10})
    ticket = made["createUpload"]["upload"]
    headers = {header["name"]: header["value"] for header in ticket["headers"]}
    async with httpx.AsyncClient() as http:
        more = await http.put(ticket["url"], content=data, headers={"Content-Type": "image/jpeg"})
        assert more.status_code == 403  # more bytes than declared
        other = {**headers, "Content-Type": "image/png"}
        assert (await http.put(ticket["url"], content=data[:-10], headers=other)).status_code == 403
    assert await object_names(api.stores) == set()


def _refusals() -> list[tuple[str, bytes, str, str]]:
    return [
        ("not an image", b"hello, this is text" * 10, "image/png", "not a JPEG, PNG"),
        ("another type", png(), "image/jpeg", "but its bytes are image/png"),
        ("a bomb", png_bomb(), "image/png", "too large"),
        ("a long animation", long_gif(150), "image/gif", "animation is too long"),
        ("a broken header", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "image/png", "cannot be read"),
    ]


@pytest.mark.parametrize(
    ("data", "content_type", "says"),
    [case[1:] for case in _refusals()],
    ids=[case[0] for case in _refusals()],
)
async def test_a_bad_file_is_refused_at_create_post_and_nothing_is_stored(
    api: Api, data: bytes, content_type: str, says: str
) -> None:
    upload_id = await upload(api, "ann", data, content_type)
    started = time.monotonic()
    answer = await post_with(api, "ann", [upload_id], "look")
    assert time.monotonic() - started < 5
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert says in error["message"]
    assert await _posts_by(api, "ann") == 0
    # The upload is untouched: still the owner's, unattached, swept after a day.
    [stored] = (await api.stores.media.get_many([upload_id])).values()
    assert (stored.state.value, stored.post_id) == ("pending", None)


async def _posts_by(api: Api, author: str) -> int:
    database = api.stores.mongo[api.settings.namespace]
    return await database["posts"].count_documents({"author_id": author})


async def test_uploads_that_are_not_the_viewers_to_attach_are_refused(api: Api) -> None:
    bobs = await upload(api, "bob", photo(50, 50))
    answer = await post_with(api, "ann", [bobs])
    assert "There is no upload" in answer["errors"][0]["message"]
    missing = await post_with(api, "ann", ["no-such-upload"])
    assert missing["errors"][0]["message"] == answer["errors"][0]["message"].replace(
        bobs, "no-such-upload"
    )  # another's upload answers as a missing one

    never_put = (await api.data("ann", UPLOAD, {"type": "image/jpeg", "size": 100}))[
        "createUpload"
    ]["upload"]["id"]
    answer = await post_with(api, "ann", [never_put])
    assert "no bytes yet" in answer["errors"][0]["message"]

    five = [await upload(api, "ann", photo(20, 20)) for _ in range(5)]
    answer = await post_with(api, "ann", five)
    assert "at most 4" in answer["errors"][0]["message"]
    answer = await post_with(api, "ann", [five[0], five[0]])
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    used = await post_with(api, "ann", five[:1], "first")
    assert "errors" not in used
    again = await post_with(api, "ann", five[:1], "second")
    assert "already used" in again["errors"][0]["message"]
    assert await _posts_by(api, "ann") == 1
    assert await _posts_by(api, "bob") == 0


async def test_a_retry_with_the_same_key_returns_the_first_post(api: Api) -> None:
    photo_id = await upload(api, "ann", photo(80, 60))
    first = await post_with(api, "ann", [photo_id], "once", key="k-1")
    retry = await post_with(api, "ann", [photo_id], "once", key="k-1")
    assert retry["data"]["createPost"]["post"]["id"] == first["data"]["createPost"]["post"]["id"]
    assert await _posts_by(api, "ann") == 1


async def test_two_posts_racing_for_one_upload_store_one(api: Api) -> None:
    photo_id = await upload(api, "ann", photo(80, 60))
    answers = await asyncio.gather(
        *(post_with(api, "ann", [photo_id], f"race {n}") for n in range(4))
    )
    accepted = [answer for answer in answers if "errors" not in answer]
    assert len(accepted) == 1
    assert all("already used" in a["errors"][0]["message"] for a in answers if "errors" in a)
    assert await _posts_by(api, "ann") == 1


async def test_a_truncated_image_fails_in_processing_with_a_reason(api: Api) -> None:
    whole = photo(2400, 1800)
    assert len(whole) > 20_000
    cut = whole[: len(whole) // 2]
    upload_id = await upload(api, "ann", cut)
    post_id = (await post_with(api, "ann", [upload_id]))["data"]["createPost"]["post"]["id"]
    [item] = await settled(api, "ann", post_id)
    assert item["status"] == "FAILED"
    assert "incomplete" in item["failure"]
    assert item["large"] is None
    assert item["width"] is None


async def test_a_large_header_is_checked_by_the_worker(api: Api) -> None:
    """A JPEG whose metadata pushes its frame header past the bytes createPost
    reads is accepted, and the worker reads its size from the whole file."""
    image = Image.new("RGB", (500, 300), (1, 2, 3))
    out = io.BytesIO()
    comment = b"x" * 60_000
    image.save(out, "JPEG", comment=comment, icc_profile=b"\x00" * (PREFIX_BYTES + 10))
    upload_id = await upload(api, "ann", out.getvalue())
    post_id = (await post_with(api, "ann", [upload_id]))["data"]["createPost"]["post"]["id"]
    [item] = await settled(api, "ann", post_id)
    assert (item["status"], item["width"], item["height"]) == ("READY", 500, 300)


async def test_deleting_a_post_deletes_its_objects(api: Api) -> None:
    photo_id = await upload(api, "ann", photo(300, 200))
    post_id = (await post_with(api, "ann", [photo_id]))["data"]["createPost"]["post"]["id"]
    [item] = await settled(api, "ann", post_id)
    assert {f"{photo_id}/large", f"{photo_id}/thumbnail"} <= await object_names(api.stores)
    await api.data("ann", DELETE, {"id": post_id})
    assert await object_names(api.stores) == set()
    assert await api.stores.media.get_many([photo_id]) == {}
    assert (await fetch(item["large"])).status_code in {403, 404}


async def test_the_sweep_removes_unattached_uploads_and_stray_objects(api: Api) -> None:
    kept = await upload(api, "ann", photo(40, 40))
    post_id = (await post_with(api, "ann", [kept]))["data"]["createPost"]["post"]["id"]
    await settled(api, "ann", post_id)
    forgotten = await upload(api, "ann", photo(40, 40))
    stray = "no-record-names-this"
    await objects_of(api).write(f"{stray}/large", b"left over", "image/jpeg")
    names = await object_names(api.stores)
    assert f"{forgotten}/original" in names
    assert f"{stray}/large" in names

    def sweeper(now: datetime, stray_seconds: int) -> MediaProcessor:
        return MediaProcessor(
            api.stores.media,
            objects_of(api),
            concurrency=1,
            claim_seconds=60,
            poll_seconds=1,
            sweep_seconds=60,
            stray_seconds=stray_seconds,
            clock=lambda: now,
        )

    # Within the day, the upload waits for its post, and a fresh object is no stray.
    assert await sweeper(datetime.now(UTC), 3_600).sweep() == 0
    assert await sweeper(datetime.now(UTC) + timedelta(days=1, minutes=1), 3_600).sweep() == 2
    names = await object_names(api.stores)
    assert f"{forgotten}/original" not in names
    assert f"{stray}/large" not in names
    assert names == {f"{kept}/large", f"{kept}/thumbnail"}
    assert set(await api.stores.media.get_many([kept, forgotten])) == {kept}

    # The bucket is listed at most hourly, however often the sweep runs.
    daily = sweeper(datetime.now(UTC) + timedelta(days=1), 0)
    assert await daily.sweep() == 0
    await objects_of(api).write(f"{stray}/large", b"left over again", "image/jpeg")
    assert await daily.sweep() == 0
    assert f"{stray}/large" in await object_names(api.stores)


async def test_uploads_are_limited_by_the_daily_quota(api: Api) -> None:
    await api.data("ann", UPLOAD, {"type": "image/jpeg", "size": 60_000})
    answer = await api.call("ann", UPLOAD, {"type": "image/jpeg", "size": 60_000})
    [error] = answer["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 86_400
    await api.data("bob", UPLOAD, {"type": "image/jpeg", "size": 60_000})  # per user
    # However small, uploads are counted too.
    await api.data("bob", UPLOAD, {"type": "image/jpeg", "size": 1})
    await api.data("bob", UPLOAD, {"type": "image/jpeg", "size": 1})
    answer = await api.call("bob", UPLOAD, {"type": "image/jpeg", "size": 1})
    assert answer["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "uploads" in answer["errors"][0]["message"]


async def test_a_hanging_object_store_answers_unavailable_fast(api: Api) -> None:
    # Signing needs no call: the upload is made, and the post finds storage down.
    made = await api.data("ann", UPLOAD, {"type": "image/jpeg", "size": 100})
    upload_id = made["createUpload"]["upload"]["id"]
    started = time.monotonic()
    answer = await post_with(api, "ann", [upload_id])
    assert time.monotonic() - started < 3
    assert answer["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert await _posts_by(api, "ann") == 0


async def test_a_photo_whose_worker_died_is_claimed_again_and_fails_after_three_tries(
    stores: Stores, settings: Settings, keys: Keys, posting: PostService
) -> None:
    """No worker runs here: claims are taken by hand, as dead workers leave them."""
    objects = stores.objects
    assert objects is not None
    library = components.media_library(stores, settings, keys)

    async def attached_photo() -> str:
        data = photo(60, 40)
        ticket = await library.create_upload("ann", "image/jpeg", len(data))
        await objects.write(original_name(ticket.id), data, "image/jpeg")
        await posting.create("ann", "", None, None, [Attachment(ticket.id, None)])
        return ticket.id

    def processor_at(now: datetime) -> MediaProcessor:
        return MediaProcessor(
            stores.media,
            objects,
            concurrency=1,
            claim_seconds=60,
            poll_seconds=1,
            sweep_seconds=60,
            stray_seconds=60,
            clock=lambda: now,
        )

    revived = await attached_photo()
    now = datetime.now(UTC)
    dead = await stores.media.claim(now, now + timedelta(seconds=60))  # and then it dies
    assert dead is not None
    assert (dead.id, dead.attempts) == (revived, 1)
    assert await processor_at(now).process_next() is False  # its lease still holds
    assert await processor_at(now + timedelta(seconds=61)).process_next() is True
    ready = (await stores.media.get_many([revived]))[revived]
    assert (ready.state, ready.attempts) == (MediaState.READY, 2)

    doomed = await attached_photo()
    for attempt in range(3):  # three workers die on it in turn
        at = now + timedelta(minutes=2 * (attempt + 1))
        claimed = await stores.media.claim(at, at + timedelta(seconds=60))
        assert claimed is not None
        assert claimed.id == doomed
    assert await processor_at(now + timedelta(minutes=10)).process_next() is True
    failed = (await stores.media.get_many([doomed]))[doomed]
    assert failed.state is MediaState.FAILED
    assert failed.failure is not None
    assert "could not be processed" in failed.failure
    with pytest.raises(ObjectMissing):  # nothing of it is kept
        await objects.size(original_name(doomed))
