"""Users, workspaces, members and roles, Public API tokens, the audit trail."""

import hashlib

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone

from segapp.ids import new_id


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        return self.create_user(email, password, is_staff=True, is_superuser=True, **extra)


class User(AbstractUser):
    """A person who signs in with an email address."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self):
        return self.email


class Plan(models.TextChoices):
    FREE = "free", "Free"
    TEAM = "team", "Team"
    BUSINESS = "business", "Business"


class Workspace(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=100)
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.FREE)
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Days the event archive keeps; empty: the server's default",
    )
    # HIPAA eligibility follows a signed agreement, so only support staff set it (Django admin).
    hipaa_eligible = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MEMBER = "member", "Member"
    READ_ONLY = "read_only", "Read-only"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def allows(self, needed: "Role") -> bool:
        """Owners may do what members may, members what read-only users may."""
        return self.rank >= Role(needed).rank


_ROLE_RANK = {Role.READ_ONLY: 0, Role.MEMBER: 1, Role.OWNER: 2}


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="one_membership_per_user")
        ]
        ordering = ["workspace", "user__email"]

    def __str__(self):
        return f"{self.user} in {self.workspace} ({self.get_role_display()})"

    def allows(self, needed: Role) -> bool:
        return Role(self.role).allows(needed)


TOKEN_PREFIX = "sgp_"


def hash_token(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A Public API token. Only its SHA-256 is stored; the token is shown once, at creation."""

    # Read-only tokens serve dashboards and audits: they read everything and change nothing.
    ROLES = [
        (Role.OWNER.value, Role.OWNER.label),
        (Role.MEMBER.value, Role.MEMBER.label),
        (Role.READ_ONLY.value, Role.READ_ONLY.label),
    ]

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    description = models.CharField(max_length=200)
    role = models.CharField(max_length=16, choices=ROLES, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(
        max_length=16, editable=False, help_text="Last characters, to tell tokens apart"
    )
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.description} (…{self.hint})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Invitation(models.Model):
    """A one-time link for a person whose account a workspace owner created, to choose a password.

    Only the token's SHA-256 is stored; the link is shown once, to the owner who invited them. A
    newer invitation for the same person supersedes this one, and choosing a password spends it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} to {self.workspace}"

    def is_usable(self, now) -> bool:
        return self.accepted_at is None and self.superseded_at is None and now < self.expires_at


class ApiRateWindow(models.Model):
    """A token's request count in the current fixed window of the Public API rate limit.

    One row per token, rewritten by one UPSERT per request (``segapp/api/ratelimit.py``), so every
    web process on every machine counts against the same limit.
    """

    token = models.OneToOneField(
        ApiToken, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    window_index = models.BigIntegerField(help_text="Unix time divided by the window length")
    hits = models.PositiveIntegerField()

    def __str__(self):
        return f"{self.hits} requests in window {self.window_index}"


class SignInFailures(models.Model):
    """Recent failed sign-ins of one account ("account:<email>") or one client address
    ("address:<ip>"), counted by one UPSERT per attempt (``segapp/signin_throttle.py``), so every
    web process on every machine counts against the same limit."""

    key = models.CharField(primary_key=True, max_length=300)
    failures = models.PositiveIntegerField()
    # Unix time: the raw UPSERT compares it in SQL the same way on PostgreSQL and SQLite.
    last_failure_time = models.FloatField()

    class Meta:
        verbose_name_plural = "sign-in failures"

    def __str__(self):
        return f"{self.key}: {self.failures}"


class AuditEntry(models.Model):
    """One configuration change: who, what, when, before and after."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="audit_entries")
    actor_user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    actor_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL)
    actor_label = models.CharField(
        max_length=200, help_text="Who, kept even if the user or token goes"
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=200, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        # The audit trail page lists a workspace's entries newest first, optionally filtered by
        # object, object type, actor or action, a page at a time from a (created_at, id) cursor:
        # each filter has an index that ends in that order, so a page reads ~50 index entries
        # however long the trail is.
        indexes = [
            models.Index(fields=["workspace", "created_at", "id"], name="audit_trail"),
            models.Index(
                fields=["workspace", "object_type", "object_id", "created_at", "id"],
                name="audit_trail_object",
            ),
            models.Index(
                fields=["workspace", "object_type", "created_at", "id"], name="audit_trail_type"
            ),
            models.Index(
                fields=["workspace", "actor_label", "created_at", "id"], name="audit_trail_actor"
            ),
            models.Index(
                fields=["workspace", "action", "created_at", "id"], name="audit_trail_action"
            ),
        ]

    def __str__(self):
        return f"{self.actor_label} {self.action} {self.object_type} {self.object_label}"


class WorkerPing(models.Model):
    """A round trip through the broker to a worker, so an operator can see the worker is alive."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="worker_pings")
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by_pid = models.IntegerField()
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by_pid = models.IntegerField(null=True, blank=True)
    handled_by_host = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"ping {self.pk} from pid {self.requested_by_pid}"


class Sweep(models.Model):
    """One periodic sweep's state, shared by every process: who may send its task next, and the
    lease of the run in progress (``segapp/sweeps.py``)."""

    name = models.CharField(primary_key=True, max_length=200, help_text="The sweep's task name")
    queued_at = models.DateTimeField(null=True, blank=True, help_text="Its task was last sent")
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A run holds it until")
    holder = models.CharField(max_length=200, blank=True, help_text="host:pid of the last run")

    def __str__(self):
        return self.name


class WorkerHeartbeat(models.Model):
    """A Celery worker's latest sign of life, written by its sweep ticker."""

    hostname = models.CharField(primary_key=True, max_length=200)
    pid = models.IntegerField()
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self):
        return self.hostname
