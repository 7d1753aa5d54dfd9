"""The assembled schema: root types and the extensions every operation runs through."""

import re
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any, cast

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import DEFAULT_ALLOWED_OPERATION_TYPES
from strawberry.types import ExecutionContext, ExecutionResult, Info
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from tidings.feed.errors import BadUserInput, TidingsError
from tidings.feed.read_model import PostView
from tidings.resolvers import (
    comments,
    likes,
    media,
    mutations,
    notifications,
    queries,
    subscriptions,
    timeline,
)
from tidings.resolvers.context import Context
from tidings.resolvers.page_builder import BatchStep, PageBuilder, PageFacts
from tidings.schema.budget import QueryBudget
from tidings.schema.errors import assign_code
from tidings.schema.limits import CostModel, limit_extensions
from tidings.schema.persisted import PersistedQueries
from tidings.schema.post_features import POST_STEPS
from tidings.schema.types import (
    BOUNDED_LISTS,
    AddCommentInput,
    AddCommentPayload,
    Comment,
    CreatePostInput,
    CreatePostPayload,
    CreateUploadInput,
    CreateUploadPayload,
    DeleteCommentPayload,
    DeletePostPayload,
    Notification,
    Post,
    PostConnection,
    TimelineMarker,
    TimelineOrder,
    Upload,
    User,
)
from tidings.stores.media import Attachment


async def page_facts(
    info: Info[Context, None], at: Sequence[str], posts: Sequence[PostView | None]
) -> PageFacts:
    """What the features' batch steps load for these posts, as the query below `at`
    (field names below this root field) asks: before any field resolves, so the
    page's fields are plain values, with nothing to await per post."""
    builder = cast(TidingsSchema, info.schema).post_page
    selections = [selection for root in info.selected_fields for selection in root.selections]
    shown = [post for post in posts if post is not None]
    return await builder.facts(info.context, selections, at, shown)


@strawberry.type
class Query:
    @strawberry.field
    def viewer(self, info: Info[Context, None]) -> User:
        return User(id=strawberry.ID(info.context.require_viewer()))

    @strawberry.field(
        description="The viewer's home timeline. LATEST (default): newest first; `last` "
        "with a LATEST cursor in `before` gives the posts nearest above it, newest first. "
        "RANKED: the first page starts a reading session whose order is frozen; `after` "
        "continues it. `first` or `last` (20 when neither), `after` or `before`."
    )
    async def timeline(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        order: TimelineOrder = TimelineOrder.LATEST,
    ) -> PostConnection:
        page = await timeline.timeline(
            info.context,
            first=first,
            after=after,
            last=last,
            before=before,
            ranked=order is TimelineOrder.RANKED,
        )
        facts = await page_facts(info, ("edges", "node"), [post for _, post in page.edges])
        return PostConnection.of(page, facts)

    @strawberry.field(
        description="Posts above a cursor, without fetching them (at most 1,000): above "
        "its post (LATEST), or above its session's newest candidate (RANKED)."
    )
    async def new_post_count(self, info: Info[Context, None], since: str) -> int:
        return await timeline.new_post_count(info.context, since)

    @strawberry.field
    async def post(self, info: Info[Context, None], id: strawberry.ID) -> Post | None:
        found = await queries.post(info.context, id)
        return None if found is None else Post.of(found, await page_facts(info, (), [found]))

    @strawberry.field(description="Posts by id, in the order asked; null where missing.")
    async def posts(self, info: Info[Context, None], ids: list[strawberry.ID]) -> list[Post | None]:
        found = await queries.posts(info.context, list(ids))
        facts = await page_facts(info, (), found)
        return [None if post is None else Post.of(post, facts) for post in found]

    @strawberry.field(description="Any well-formed id: a user nobody has seen looks the same.")
    async def user(self, info: Info[Context, None], id: strawberry.ID) -> User | None:
        return User(id=strawberry.ID(await queries.user(info.context, id)))


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def create_post(
        self, info: Info[Context, None], input: CreatePostInput
    ) -> CreatePostPayload:
        post = await mutations.create_post(
            info.context,
            input.body,
            input.client,
            input.idempotency_key,
            [Attachment(str(item.upload_id), item.alt) for item in input.media or ()],
        )
        return CreatePostPayload(post=Post.of(post, await page_facts(info, ("post",), [post])))

    @strawberry.mutation(
        description="A presigned URL to PUT one photo to, for the viewer's next post."
    )
    async def create_upload(
        self, info: Info[Context, None], input: CreateUploadInput
    ) -> CreateUploadPayload:
        ticket = await media.create_upload(info.context, input.content_type, input.byte_size)
        return CreateUploadPayload(upload=Upload.of(ticket))

    @strawberry.mutation(description="Likes a post the viewer can see; liking twice is one like.")
    async def like_post(self, info: Info[Context, None], post_id: strawberry.ID) -> Post:
        post = await likes.like_post(info.context, post_id)
        return Post.of(post, await page_facts(info, (), [post]))

    @strawberry.mutation(description="Takes the viewer's like back; idempotent.")
    async def unlike_post(self, info: Info[Context, None], post_id: strawberry.ID) -> Post:
        post = await likes.unlike_post(info.context, post_id)
        return Post.of(post, await page_facts(info, (), [post]))

    @strawberry.mutation(description="Comments on a post the viewer can see.")
    async def add_comment(
        self, info: Info[Context, None], input: AddCommentInput
    ) -> AddCommentPayload:
        comment = await comments.add_comment(
            info.context, input.post_id, input.body, input.idempotency_key
        )
        return AddCommentPayload(comment=Comment.of(comment))

    @strawberry.mutation(description="By the comment's author or the post's author.")
    async def delete_comment(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeleteCommentPayload:
        comment_id = await comments.delete_comment(info.context, id)
        return DeleteCommentPayload(deleted_comment_id=strawberry.ID(str(comment_id)))

    @strawberry.mutation(description="Moves the viewer's marker forward to a post; never back.")
    async def mark_timeline_read(
        self, info: Info[Context, None], post_id: strawberry.ID
    ) -> TimelineMarker:
        return TimelineMarker.of(info.context, await timeline.mark_read(info.context, post_id))

    @strawberry.mutation(description="The viewer's own; all of them when ids is omitted.")
    async def mark_notifications_read(
        self, info: Info[Context, None], ids: list[strawberry.ID] | None = None
    ) -> User:
        viewer_id = await notifications.mark_read(info.context, ids)
        return User(id=strawberry.ID(viewer_id))

    @strawberry.mutation(
        description="Sends a friend request, or accepts theirs: friends once both asked."
    )
    async def add_friend(self, info: Info[Context, None], user_id: strawberry.ID) -> User:
        return User(id=strawberry.ID(await mutations.add_friend(info.context, user_id)))

    @strawberry.mutation(description="Deletes one of the viewer's own posts, everywhere.")
    async def delete_post(self, info: Info[Context, None], id: strawberry.ID) -> DeletePostPayload:
        post_id = await mutations.delete_post(info.context, id)
        return DeletePostPayload(deleted_post_id=strawberry.ID(str(post_id)))

    @strawberry.mutation(description="Unfriends, withdraws a request or declines one.")
    async def remove_friend(self, info: Info[Context, None], user_id: strawberry.ID) -> User:
        return User(id=strawberry.ID(await mutations.remove_friend(info.context, user_id)))

    @strawberry.mutation(
        description="Ends any friendship and requests both ways; they cannot ask again."
    )
    async def block_user(self, info: Info[Context, None], user_id: strawberry.ID) -> User:
        return User(id=strawberry.ID(await mutations.block_user(info.context, user_id)))

    @strawberry.mutation(description="Lifts a block; it does not restore a friendship.")
    async def unblock_user(self, info: Info[Context, None], user_id: strawberry.ID) -> User:
        return User(id=strawberry.ID(await mutations.unblock_user(info.context, user_id)))

    @strawberry.mutation(description="Keeps their posts out of the viewer's timeline.")
    async def mute_user(self, info: Info[Context, None], user_id: strawberry.ID) -> User:
        return User(id=strawberry.ID(await mutations.mute_user(info.context, user_id)))

    @strawberry.mutation
    async def unmute_user(self, info: Info[Context, None], user_id: strawberry.ID) -> User:
        return User(id=strawberry.ID(await mutations.unmute_user(info.context, user_id)))


_SUGGESTION = re.compile(r" Did you mean [^?]*\?")

SUBSCRIPTION_OVER_HTTP = (
    "A subscription cannot run over HTTP: open a WebSocket to /graphql "
    "with the graphql-transport-ws protocol."
)


class TidingsSchema(strawberry.Schema):
    def __init__(
        self,
        *args: Any,
        post_steps: Sequence[BatchStep[Any, Any]] = POST_STEPS,
        cost_model: CostModel | None = None,
        suggests_fields: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.post_page = PageBuilder(post_steps)
        # The limits' model, handed to them before this schema existed: it learns
        # which fields are lists now that there is a schema to read.
        self.cost_model = cost_model or CostModel()
        self.cost_model.learn(self._schema)
        # Validation messages name similar fields only where the schema is public.
        self.suggests_fields = suggests_fields
        # Errors answered, by code, for the process's metrics.
        self.codes: Counter[str] = Counter()
        self.persisted = PersistedQueries()

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Queries and mutations; subscriptions run through `subscribe`, over WebSocket.

        Strawberry would otherwise run a subscription sent by POST as a query, and
        its resolver, a stream, would fail as INTERNAL.
        """
        allowed = set(allowed_operation_types or DEFAULT_ALLOWED_OPERATION_TYPES)
        signed_in = getattr(context_value, "viewer_id", None) is not None
        try:
            query = self.persisted.resolve(query, operation_extensions, may_register=signed_in)
        except TidingsError as refused:
            return self._refused(refused)
        try:
            return await super().execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed - {OperationType.SUBSCRIPTION},
                operation_extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                # A GraphQL error in the negotiated media type, not text/plain:
                # clients parse JSON.
                return self._refused(BadUserInput(SUBSCRIPTION_OVER_HTTP))
            raise

    def _refused(self, refused: TidingsError) -> PreExecutionError:
        """A request refused before it ran, answered as a request error with its code."""
        error = GraphQLError(refused.message, original_error=refused)
        self.process_errors([error])
        return PreExecutionError(data=None, errors=[error])

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Every path (parse, validation, execution, subscriptions) passes here
        # before a result is sent, which an extension's hooks do not all see.
        for error in errors:
            if not self.suggests_fields:
                # "Did you mean 'friendRequests'?" would list the schema piece by
                # piece where introspection is off.
                error.message = _SUGGESTION.sub("", error.message)
            assign_code(error)
            self.codes[(error.extensions or {}).get("code", "INTERNAL")] += 1


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Posts as they arrive in the viewer's timeline.")
    async def timeline_post(self, info: Info[Context, None]) -> AsyncIterator[Post]:
        async for post in subscriptions.timeline_posts(info.context):
            yield Post.of(post, await page_facts(info, (), [post]))

    @strawberry.subscription(
        description="The viewer's notifications, as they are created or updated."
    )
    async def notification(self, info: Info[Context, None]) -> AsyncIterator[Notification]:
        async for found in notifications.follow(info.context):
            yield Notification.of(found)


def build_schema(
    *,
    max_depth: int = 10,
    max_aliases: int = 15,
    max_tokens: int = 2_000,
    max_cost: int = 5_000,
    introspection: bool = True,
    post_steps: Sequence[BatchStep[Any, Any]] = POST_STEPS,
    budget: QueryBudget | None = None,
) -> TidingsSchema:
    # Filled by the schema once it is built: the limits read which fields are lists.
    cost_model = CostModel(bounded=BOUNDED_LISTS)
    limits = limit_extensions(
        max_depth=max_depth,
        max_aliases=max_aliases,
        max_tokens=max_tokens,
        max_cost=max_cost,
        introspection=introspection,
        model=cost_model,
        budget=budget,
    )
    return TidingsSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        post_steps=post_steps,
        cost_model=cost_model,
        suggests_fields=introspection,
        extensions=[
            *limits,
            # Factories, not instances: the caches behind them are shared per maxsize.
            lambda: ParserCache(maxsize=1_000),
            lambda: ValidationCache(maxsize=1_000),
        ],
    )
