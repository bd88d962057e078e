"""Review users: argon2id password hashes, roles and workgroups, and a login
check that is rate-limited per user name from the audit trail itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from schemas.review_db import ROLES, audit_events, user_workgroups, users
from transforms.review.queue import Reviewer, ReviewError, record_event, utcnow

_HASHER = PasswordHasher()  # argon2id with the library's current parameters
MIN_PASSWORD_CHARS = 12
# Five failed logins for a name within 15 minutes lock that name for the rest of
# the window: slow enough to stop guessing, short enough not to need an admin.
MAX_FAILURES, FAILURE_WINDOW = 5, timedelta(minutes=15)
# Verified against when the name is unknown, so a wrong name takes as long as a
# wrong password and the timing does not say which names exist.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class LoginThrottledError(ReviewError):
    status = 429


def add_user(
    engine: sa.Engine, username: str, password: str, *, role: str, workgroups: Sequence[str]
) -> int:
    username = username.strip()
    if not username or len(username) > 64:
        raise ReviewError("a user name has 1 to 64 characters")
    if role not in ROLES:
        raise ReviewError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ReviewError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    groups = sorted({w.strip() for w in workgroups if w.strip()})
    if role != "admin" and not groups:
        raise ReviewError("a coder or lead needs at least one --workgroup")
    with engine.begin() as connection:
        taken = connection.execute(
            sa.select(users.c.user_id).where(users.c.username == username)
        ).first()
        if taken:
            raise ReviewError(f"user {username} exists already")
        user_id = connection.execute(
            users.insert()
            .values(
                username=username,
                password_hash=_HASHER.hash(password),
                role=role,
                active=True,
                created_at=utcnow(),
            )
            .returning(users.c.user_id)
        ).scalar_one()
        if groups:
            connection.execute(
                user_workgroups.insert(), [{"user_id": user_id, "workgroup": g} for g in groups]
            )
        record_event(connection, "user_add", username=username, role=role, workgroups=groups)
        return user_id


def reviewer_by_id(connection: sa.Connection, user_id: int) -> Reviewer | None:
    row = connection.execute(
        sa.select(users).where(users.c.user_id == user_id, users.c.active.is_(True))
    ).first()
    if row is None:
        return None
    groups = connection.execute(
        sa.select(user_workgroups.c.workgroup)
        .where(user_workgroups.c.user_id == user_id)
        .order_by(user_workgroups.c.workgroup)
    ).scalars()
    return Reviewer(row.user_id, row.username, row.role, tuple(groups))


def authenticate(engine: sa.Engine, username: str, password: str) -> Reviewer | None:
    """The user for a right name and password; None otherwise. Every attempt is audited."""
    username = username.strip()[:64]
    with engine.begin() as connection:
        since = utcnow() - FAILURE_WINDOW
        failures = connection.execute(
            sa.select(sa.func.count())
            .select_from(audit_events)
            .where(
                audit_events.c.action == "login_failed",
                audit_events.c.username == username,
                audit_events.c.at >= since,
            )
        ).scalar_one()
        if failures >= MAX_FAILURES:
            record_event(connection, "login_throttled", username=username)
            raise LoginThrottledError(
                "too many failed logins for this user: try again in 15 minutes"
            )
        row = connection.execute(
            sa.select(users).where(users.c.username == username, users.c.active.is_(True))
        ).first()
        try:
            _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
            ok = row is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            record_event(connection, "login_failed", username=username)
            return None
        reviewer = reviewer_by_id(connection, row.user_id)
        record_event(connection, "login", reviewer=reviewer)
        return reviewer
