"""Every Redis key and pub/sub channel Tidings uses, and nothing else (Mastodon's
`FeedManager#key`): one place to read the layout, one place to change it.

All names start with the namespace, so deployments and test runs can share a
server. Per-user names end with the user id as a Redis Cluster hash tag
(`{user}`), so one user's timeline, last-read time, locks, cache and channel live
in one slot and one script call may touch them together. The fan-out script
builds a reader's channel as `user_channel_prefix` plus the tag of the reader's
timeline key; `user_channel` is defined the same way, here, so the two agree.

The queue's three keys share the tag `{fanout}`: moving a message to the dead
letters is one MULTI across them, which a cluster allows only within a slot.
"""

from dataclasses import dataclass


def hash_tag(user_id: str) -> str:
    return f"{{{user_id}}}"


@dataclass(frozen=True, slots=True)
class Keys:
    namespace: str

    # -- one user's (hash-tagged) ------------------------------------------------------

    def timeline(self, user_id: str) -> str:
        """Sorted set of post ids, scored by id, with a sentinel once built."""
        return f"{self.namespace}:tl:{hash_tag(user_id)}"

    def last_read(self, user_id: str) -> str:
        return f"{self.namespace}:read:{hash_tag(user_id)}"

    def rebuild_lock(self, user_id: str) -> str:
        return f"{self.namespace}:rebuild:{hash_tag(user_id)}"

    def celebrity_friends(self, user_id: str) -> str:
        """The cached list of the user's friends who are celebrities."""
        return f"{self.namespace}:celebs:{hash_tag(user_id)}"

    def friend_set(self, user_id: str, *, building: str | None = None) -> str:
        """The user's friends, cached; `building` names a set being filled to replace it."""
        suffix = f":new:{building}" if building else ""
        return f"{self.namespace}:friends{suffix}:{hash_tag(user_id)}"

    def mute_set(self, user_id: str, *, building: str | None = None) -> str:
        """Whom the user muted, cached beside `friend_set`."""
        suffix = f":new:{building}" if building else ""
        return f"{self.namespace}:mutes{suffix}:{hash_tag(user_id)}"

    def ties_generation(self, user_id: str) -> str:
        """Bumped by every change of the user's ties: a build that raced one is dropped."""
        return f"{self.namespace}:ties-gen:{hash_tag(user_id)}"

    def live_mark(self, user_id: str) -> str:
        """Set while the user has a live subscription on some API process."""
        return f"{self.namespace}:live:{hash_tag(user_id)}"

    def affinity(self, user_id: str, bucket: int) -> str:
        """What the user gave each author in one 30-day bucket (feed/affinity.py)."""
        return f"{self.namespace}:aff:{bucket}:{hash_tag(user_id)}"

    def ranked_session(self, user_id: str, session_id: int) -> str:
        """A reading session's frozen order of post ids (feed/ranked_sessions.py)."""
        return f"{self.namespace}:rank:{session_id}:{hash_tag(user_id)}"

    def ranked_sessions(self, user_id: str) -> str:
        """The user's reading sessions, by when they started."""
        return f"{self.namespace}:ranks:{hash_tag(user_id)}"

    def rate(self, family: str, user_id: str) -> str:
        return f"{self.namespace}:rate:{family}:{hash_tag(user_id)}"

    def upload_bytes(self, user_id: str, day: int) -> str:
        """Bytes the user declared for uploads on one UTC day (feed/media.py)."""
        return f"{self.namespace}:upq:{day}:{hash_tag(user_id)}"

    def post_heat(self, post_id: int) -> str:
        """Likes and comments on the post in the current second."""
        return f"{self.namespace}:heat:{post_id}"

    # -- channels ----------------------------------------------------------------------

    @property
    def user_channel_prefix(self) -> str:
        return f"{self.namespace}:posts:"

    def user_channel(self, user_id: str) -> str:
        """Post ids entering this user's timeline."""
        return self.user_channel_prefix + hash_tag(user_id)

    def celebrity_channel(self, author_id: str) -> str:
        """A celebrity's new posts, published once for all their subscribed friends."""
        return f"{self.namespace}:celebrity:{hash_tag(author_id)}"

    def notification_channel(self, user_id: str) -> str:
        """Keys of the user's notifications as they are created or updated."""
        return f"{self.namespace}:notify:{hash_tag(user_id)}"

    @property
    def deleted_posts_channel(self) -> str:
        """Ids of deleted posts, for every API process to drop from its post cache."""
        return f"{self.namespace}:deleted"

    # -- process-wide ------------------------------------------------------------------

    @property
    def stream(self) -> str:
        return f"{self.namespace}:{{fanout}}"

    @property
    def dead_letters(self) -> str:
        return f"{self.namespace}:{{fanout}}:dead"

    @property
    def failures(self) -> str:
        """Last error of each message that failed, by message id."""
        return f"{self.namespace}:{{fanout}}:failures"

    @property
    def durability_marker(self) -> str:
        """Written before WAITAOF, so the wait covers every write before it."""
        return f"{self.namespace}:{{fanout}}:disk"

    @property
    def changed_groups(self) -> str:
        """Notification groups changed since last written, scored by when first changed."""
        return f"{self.namespace}:{{notify}}:changed"

    @property
    def claimed_groups(self) -> str:
        """Groups a notifier is writing, scored by when its claim runs out."""
        return f"{self.namespace}:{{notify}}:claimed"

    @property
    def outbox_sweep_lock(self) -> str:
        return f"{self.namespace}:outbox-sweep"

    @property
    def id_node_counter(self) -> str:
        """Leases post-id node numbers to processes."""
        return f"{self.namespace}:id-node"

    @property
    def everything(self) -> str:
        """A SCAN pattern matching every key of this namespace, for tear-down."""
        return f"{self.namespace}:*"
