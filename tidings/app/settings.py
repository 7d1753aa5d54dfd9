"""Settings, read from `TIDINGS_*` environment variables."""

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIDINGS_", frozen=True)

    mongo_uri: str = "mongodb://127.0.0.1:27017/tidings"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # TIDINGS_REDIS_URL names one node of a Redis Cluster.
    redis_cluster: bool = False
    graph_url: str = "falkordb://127.0.0.1:6379/tidings"
    # Every store call's deadline; a store that fails this many calls in a row is
    # left alone (calls fail at once, UNAVAILABLE) for the cool-down, then probed.
    store_timeout_seconds: float = Field(default=2.0, gt=0)
    breaker_failures: int = Field(default=3, gt=0)
    breaker_cool_down_seconds: float = Field(default=2.0, gt=0)
    # A process starting while a store is down retries this long, then gives up.
    startup_seconds: float = Field(default=60, gt=0)
    # Bulk loads by tools (seed, bench) and schema set-up get this much instead.
    bulk_timeout_seconds: float = Field(default=120.0, gt=0)
    # Prefixes every Redis key and names the MongoDB database and the graph when
    # their URLs do not, so several deployments (or test runs) can share servers.
    namespace: str = Field(default="tidings", pattern=r"^[A-Za-z0-9_-]{1,32}$")

    jwt_secret: SecretStr | None = None
    # PEM public key: tokens signed RS256 by an identity provider are accepted too.
    jwt_public_key: str | None = None
    # Signs pagination cursors; defaults to the JWT secret.
    cursor_secret: SecretStr | None = None
    jwt_leeway_seconds: int = Field(default=10, ge=0)
    token_ttl_seconds: int = Field(default=86_400, gt=0)

    celebrity_threshold: int = Field(default=5_000, gt=0)
    # A celebrity is pushed again only below threshold x this: a friendship toggled
    # at the threshold must not make the worker backfill every time.
    celebrity_hysteresis: float = Field(default=0.8, gt=0, le=1)
    celebrity_cache_seconds: int = Field(default=60, gt=0)
    # Posts kept per API process (posts never change; deletes evict everywhere).
    post_cache_entries: int = Field(default=50_000, ge=0)
    post_cache_seconds: float = Field(default=600, gt=0)
    # Friend counts kept per API process; another process's change shows within this.
    friend_count_cache_seconds: float = Field(default=5, ge=0)
    # How long a user's cached friend and mute sets live; any change drops them at once.
    ties_cache_seconds: int = Field(default=3_600, gt=0)
    timeline_max: int = Field(default=800, gt=0)
    active_days: int = Field(default=7, gt=0)
    retention_days: int = Field(default=1_095, gt=0)
    # Posts copied into each side's timeline when a friendship starts.
    backfill_posts: int = Field(default=100, gt=0)
    rebuild_lock_ms: int = Field(default=30_000, gt=0)
    # A page with cached posts waits this long for older ones from MongoDB, then
    # answers with what Redis holds (a timeline Redis holds whole never asks).
    timeline_history_wait_ms: int = Field(default=300, gt=0)

    ranking_url: str | None = None
    ranking_timeout_ms: int = Field(default=150, gt=0)
    # A ranked reading session: how many posts it orders, how long it lives after
    # its last page, and how many one user keeps (a new one evicts the oldest).
    ranked_candidates: int = Field(default=500, gt=0, le=5_000)
    ranked_session_seconds: int = Field(default=1_800, gt=0)
    ranked_sessions_per_user: int = Field(default=5, gt=0)

    fanout_chunk: int = Field(default=1_000, gt=0)
    # Messages a worker reads at once; new posts among them are fanned out together.
    fanout_batch: int = Field(default=64, gt=0)
    fanout_claim_idle_ms: int = Field(default=30_000, gt=0)
    # How long an idle worker's read of the stream blocks (at most half the store
    # deadline); a stopping worker waits for it to return.
    fanout_block_ms: int = Field(default=1_000, gt=0)
    fanout_max_attempts: int = Field(default=5, gt=0)
    # Clear a post's outbox mark only once Redis has its deliveries on disk
    # (WAITAOF). Needs appendonly; switch off for a Redis without an AOF.
    fanout_wait_for_disk: bool = True
    # A post not fanned out this long after it was accepted is enqueued again.
    outbox_deadline_seconds: float = Field(default=60, gt=0)
    outbox_sweep_seconds: float = Field(default=10, gt=0)
    shutdown_grace_seconds: float = Field(default=10, gt=0)
    # Where a worker, and the API, serve /metrics (Prometheus), off the public
    # listener; 0 switches it off.
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    api_metrics_port: int = Field(default=0, ge=0, le=65535)

    # Per-user limits on each family of mutations, as sliding windows.
    post_rate: int = Field(default=30, gt=0)
    post_rate_window_seconds: int = Field(default=60, gt=0)
    friend_rate: int = Field(default=60, gt=0)  # addFriend and removeFriend
    friend_rate_window_seconds: int = Field(default=3_600, gt=0)
    block_rate: int = Field(default=60, gt=0)  # block, unblock, mute, unmute
    block_rate_window_seconds: int = Field(default=3_600, gt=0)
    like_rate: int = Field(default=300, gt=0)  # likePost and unlikePost
    like_rate_window_seconds: int = Field(default=300, gt=0)
    comment_rate: int = Field(default=60, gt=0)  # addComment and deleteComment
    comment_rate_window_seconds: int = Field(default=300, gt=0)
    mark_read_rate: int = Field(default=120, gt=0)  # markNotificationsRead
    mark_read_rate_window_seconds: int = Field(default=300, gt=0)
    upload_rate: int = Field(default=120, gt=0)  # createUpload, besides its bytes a day
    upload_rate_window_seconds: int = Field(default=3_600, gt=0)
    delete_rate: int = Field(default=60, gt=0)
    delete_rate_window_seconds: int = Field(default=3_600, gt=0)
    # Likes and comments a second past which a post's counts spread over shards.
    hot_post_changes_per_second: int = Field(default=10, gt=0)
    # Each user keeps their newest notifications, each for this long after it last moved.
    notifications_kept: int = Field(default=300, gt=0)
    notification_days: int = Field(default=120, gt=0)
    # How long a notifier may take to write the groups it claimed before another
    # takes them over.
    notifier_claim_seconds: float = Field(default=30, gt=0)
    # Friend requests one user may have waiting for an answer.
    max_pending_friend_requests: int = Field(default=1_000, gt=0)

    # Photos: a private S3-compatible bucket. Without a bucket, media is off and
    # createUpload answers UNAVAILABLE. The endpoint is left out for AWS S3 itself;
    # the keys may come from the environment's usual AWS chain instead.
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    # Where clients reach the same server, when not at s3_endpoint_url (a server on
    # a private network behind a public name): the URLs handed out are signed for it.
    s3_public_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    # Create the bucket at start-up if it is missing (a compose stack, a test
    # server); production creates its bucket, with its CORS and lifecycle rules.
    s3_create_bucket: bool = False
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    # How long a presigned PUT (an upload) and a signed GET (Media.url) stay valid.
    upload_url_seconds: int = Field(default=600, ge=1, le=604_800)
    media_url_seconds: int = Field(default=300, ge=1, le=604_800)
    # Signed GET URLs kept per API process (a page of photos signs none twice).
    media_url_cache_entries: int = Field(default=50_000, ge=0)
    upload_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    # Bytes one user may declare for uploads per UTC day.
    upload_bytes_per_day: int = Field(default=200 * 1024 * 1024, gt=0)
    # An upload never attached to a post is removed, with its object, after this.
    upload_keep_seconds: int = Field(default=86_400, gt=0)
    # Images one worker process decodes at once (each on a thread of its own).
    media_concurrency: int = Field(default=2, gt=0, le=32)
    # An image whose processing has not finished this long after it was claimed
    # (its worker died) is claimed again; after three tries it is FAILED.
    media_claim_seconds: float = Field(default=120, gt=0)
    media_poll_seconds: float = Field(default=0.25, gt=0)
    # How often the worker removes expired uploads and objects nothing refers to,
    # and how old such an object must be before it counts as a stray.
    media_sweep_seconds: float = Field(default=600, gt=0)
    media_stray_seconds: int = Field(default=86_400, ge=0)

    # Live timelines over WebSocket.
    ws_max_subscriptions: int = Field(default=5, gt=0)
    # A socket must sign in (`connection_init` with a token) this soon...
    ws_init_timeout_seconds: float = Field(default=3, gt=0)
    # ... and at most this many from one client address may be waiting to.
    ws_max_pending_per_address: int = Field(default=16, gt=0)
    # Largest frame accepted, `connection_init` included; larger ones close the socket.
    ws_max_message_bytes: int = Field(default=65_536, gt=0)
    ws_ping_interval_seconds: float = Field(default=20, gt=0)
    # A peer that has not answered a ping by then is disconnected.
    ws_ping_timeout_seconds: float = Field(default=20, gt=0)
    ws_max_sockets_per_user: int = Field(default=5, gt=0)
    # A socket with no subscription running for this long is closed (4408).
    ws_idle_seconds: float = Field(default=60, gt=0)
    live_buffer: int = Field(default=100, gt=0)
    live_presence_seconds: int = Field(default=60, ge=3)

    query_max_depth: int = Field(default=10, gt=0)
    query_max_aliases: int = Field(default=15, ge=0)
    query_max_tokens: int = Field(default=2_000, gt=0)
    # Fields a query may return, counting list sizes: see schema/limits.py.
    query_max_cost: int = Field(default=5_000, gt=0)
    # Both off unless asked for (`tidings dev` asks): a production API serves
    # clients that know its schema, and needs no explorer on its public port.
    introspection: bool = False
    # GraphiQL for browsers at /graphql; it reads the schema, so needs introspection.
    graphiql: bool = False
    max_body_bytes: int = Field(default=65_536, gt=0)
    # Each signed-in user's budget over time, in points of query cost (a timeline
    # page with authors costs about 220), per API process: a token bucket.
    query_points_per_second: float = Field(default=5_000, gt=0)
    query_points_burst: float = Field(default=50_000, gt=0)
    # A request's whole body must arrive within this, or it is answered 408 and
    # closed, before it is counted against anything.
    body_deadline_seconds: float = Field(default=10, gt=0)
    # GraphQL requests one API process works on at once; past that, 503 at once.
    max_requests_in_flight: int = Field(default=64, gt=0)
    # Of those, how many may come without a token.
    max_anonymous_requests_in_flight: int = Field(default=8, gt=0)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # API processes `tidings api` runs on the port (one per core is the rule).
    api_workers: int = Field(default=1, ge=1, le=64)
    data_dir: Path = Path(".tidings")
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"

    @model_validator(mode="after")
    def _graphiql_reads_the_schema(self) -> "Settings":
        if self.graphiql and not self.introspection:
            raise ValueError("TIDINGS_GRAPHIQL=true needs TIDINGS_INTROSPECTION=true")
        return self

    @property
    def celebrity_demote_below(self) -> int:
        return max(
            1,
            min(
                self.celebrity_threshold,
                round(self.celebrity_threshold * self.celebrity_hysteresis),
            ),
        )

    def in_namespace(self, namespace: str) -> "Settings":
        """These settings for another namespace: its own keys, graph and database."""
        graph_url = self.graph_url
        # A FalkorDB URL's path names the graph; a Neo4j URL's names the database,
        # where the namespace is a label instead (see stores/neo4j_graph.py).
        if urlsplit(graph_url).scheme.split("+")[0] not in {"neo4j", "bolt"}:
            graph_url = _with_path(graph_url, namespace)
        return self.model_copy(
            update={
                "namespace": namespace,
                "graph_url": graph_url,
                "mongo_uri": _with_path(self.mongo_uri, namespace),
            }
        )

    def as_environment(self) -> dict[str, str]:
        """The TIDINGS_* variables that give a child process these same settings."""
        environment = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, bool):
                value = "true" if value else "false"
            environment[f"TIDINGS_{name.upper()}"] = str(value)
        return environment

    def hs256_secret(self) -> str | None:
        return self.jwt_secret.get_secret_value() if self.jwt_secret else None

    def require_cursor_secret(self) -> str:
        secret = self.cursor_secret or self.jwt_secret
        if secret is None or not secret.get_secret_value():
            raise RuntimeError("Set TIDINGS_CURSOR_SECRET or TIDINGS_JWT_SECRET")
        return secret.get_secret_value()


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{path}", parts.query, ""))
