"""Creating accounts and signing in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from silkway.accounts.model import Account, FailedSignIns, LockOut
from silkway.accounts.ports import AccountsUnitOfWork, PasswordHasher, UnknownUsernames
from silkway.shared.actors import SYSTEM, Actor, Role
from silkway.shared.audit import AuditEvent
from silkway.shared.clock import Clock
from silkway.shared.errors import InvalidInput, NotFound, NotPermitted

MIN_PASSWORD = 4
MAX_PASSWORD = 256


class BadCredentials(NotPermitted):
    """The username or password is wrong (never says which)."""

    code = "bad_credentials"
    title = "Wrong username or password"


class SignInLocked(NotPermitted):
    """Too many failed sign-ins in a row with this username: it is refused until `until`, whatever the password
    (which is then not even checked). Said alike of a username that names no account."""

    code = "sign_in_locked"
    title = "Sign-in locked after too many failed attempts"

    def __init__(self, until: datetime) -> None:
        super().__init__(
            f"too many failed sign-ins with this username: it is locked until {until:%Y-%m-%d %H:%M} UTC; "
            "try again then, or ask your administrator to unlock it"
        )
        self.until = until


class AccountLockedOut(SignInLocked):
    """This very failure locked an account out: raised once per lock-out, by the transaction that locked it.
    Its answer is `SignInLocked`'s; only the audit trail tells the two apart."""

    def __init__(self, until: datetime, *, username: str) -> None:
        super().__init__(until)
        self.username = username


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateAccount:
    actor: Actor
    username: str
    password: str
    role: Role
    country: str
    display_name: str = ""


def create_account(cmd: CreateAccount, *, uow: AccountsUnitOfWork, clock: Clock, hasher: PasswordHasher) -> Account:
    """Create an account. An admin creates accounts of its own state only; the system actor any.

    Raises `NotPermitted` and `InvalidInput` (malformed or taken username, short password).
    """
    if cmd.actor.role is not Role.ADMIN:
        raise NotPermitted("only an admin creates accounts")
    if cmd.actor != SYSTEM and cmd.country != cmd.actor.country:
        raise NotPermitted(f"an admin of {cmd.actor.country} creates accounts of {cmd.actor.country} only")
    if not MIN_PASSWORD <= len(cmd.password) <= MAX_PASSWORD:
        raise InvalidInput(f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters", fields={"password": "length"})
    if cmd.username.strip().lower() == SYSTEM.username:
        raise InvalidInput("the username 'system' is reserved for the node itself", fields={"username": "reserved"})
    account = Account(
        username=cmd.username,
        role=cmd.role,
        country=cmd.country,
        display_name=cmd.display_name or cmd.username,
        password_hash=hasher.hash(cmd.password),
        created_at=clock.now(),
    )
    with uow:
        if uow.accounts.get(account.username) is not None:
            raise InvalidInput(f"the username {account.username!r} is taken", fields={"username": "taken"})
        uow.accounts.add(account)
        uow.audit.record(
            AuditEvent(
                type="AccountCreated",
                state=account.country,
                subject=f"account:{account.username}",
                actor=cmd.actor,
                at=account.created_at,
                details={"username": account.username, "role": account.role.value, "country": account.country},
            )
        )
        uow.commit()
    return account


def authenticate(
    username: str,
    password: str,
    *,
    uow: AccountsUnitOfWork,
    hasher: PasswordHasher,
    clock: Clock,
    lock_out: LockOut,
    unknown: UnknownUsernames,
) -> Actor:
    """The actor for valid credentials of an active account; a success forgets the account's failed sign-ins.

    Raises `BadCredentials` for a wrong password, an inactive account and an unknown username alike, after as long
    a wait (the hasher burns as long for an unknown one). `lock_out.after` failures in a row lock the username:
    then `SignInLocked` until the lock-out ends, without checking the password, and `AccountLockedOut` (a
    `SignInLocked`) for the failure that locked an account. Failures with unknown usernames are counted in
    `unknown` and lock out the same way, so no answer tells whether a username exists.
    """
    name = username.strip().lower()
    now = clock.now()
    with uow:
        account = uow.accounts.get(name)
    if account is None:
        _refuse_if_locked(unknown.failed_sign_ins(name), now, lock_out)
        hasher.burn(password)
        failures = unknown.count_failed_sign_in(name, at=now, forget_after=lock_out.duration)
        _refuse_if_locked(failures, now, lock_out)
        raise BadCredentials("wrong username or password")
    _refuse_if_locked(account.failed_sign_ins, now, lock_out)
    if hasher.verify(account.password_hash, password) and account.active:
        _admit(name, uow=uow, now=now, lock_out=lock_out)
        return account.as_actor()
    _count_failure(name, uow=uow, now=now, lock_out=lock_out)
    raise BadCredentials("wrong username or password")


def _refuse_if_locked(failures: FailedSignIns, now: datetime, lock_out: LockOut) -> None:
    until = failures.locked_until(now, lock_out)
    if until is not None:
        raise SignInLocked(until)


def _count_failure(name: str, *, uow: AccountsUnitOfWork, now: datetime, lock_out: LockOut) -> None:
    """One more failed sign-in of the account `name`; raises `AccountLockedOut` when it locks the account."""
    with uow:
        account = uow.accounts.get(name)  # again, locked now: a parallel failure counts after this one, not over it
        if account is None:
            return
        _refuse_if_locked(account.failed_sign_ins, now, lock_out)  # a parallel failure locked it meanwhile
        account.failed_sign_ins = account.failed_sign_ins.plus_one(now, lock_out)
        uow.accounts.update(account)
        until = account.failed_sign_ins.locked_until(now, lock_out)
        if until is not None:  # this failure locked the account out: its signed record is in the same transaction
            uow.audit.record(
                AuditEvent(
                    type="AccountLockedOut",
                    state=account.country,
                    subject=f"account:{account.username}",
                    actor=SYSTEM,  # the node locks it: the failures came from whoever knew the username
                    at=now,
                    details={"failures": account.failed_sign_ins.count, "until": until.isoformat()},
                )
            )
        uow.commit()
    if until is not None:
        raise AccountLockedOut(until, username=name)


def _admit(name: str, *, uow: AccountsUnitOfWork, now: datetime, lock_out: LockOut) -> None:
    """A right password: refused still if failures sent in parallel locked the account while it was checked
    (read again under the account's lock), else its failures are forgotten."""
    with uow:
        account = uow.accounts.get(name)
        if account is None or account.failed_sign_ins == FailedSignIns():
            return
        _refuse_if_locked(account.failed_sign_ins, now, lock_out)
        account.failed_sign_ins = FailedSignIns()
        uow.accounts.update(account)
        uow.commit()


@dataclass(frozen=True, slots=True, kw_only=True)
class UnlockAccount:
    actor: Actor
    username: str


def unlock_account(cmd: UnlockAccount, *, uow: AccountsUnitOfWork, clock: Clock) -> Account:
    """Lift an account's lock-out and forget its failed sign-ins. An admin unlocks accounts of its own state
    only; the system actor any.

    Raises `NotPermitted` (not an admin) and `NotFound` (no such account in the admin's state)."""
    if cmd.actor.role is not Role.ADMIN:
        raise NotPermitted("only an admin unlocks accounts")
    name = cmd.username.strip().lower()
    with uow:
        account = uow.accounts.get(name)
        if account is None or (cmd.actor != SYSTEM and account.country != cmd.actor.country):
            raise NotFound(f"no account {name[:64]!r} of {cmd.actor.country}")
        account.failed_sign_ins = FailedSignIns()
        uow.accounts.update(account)
        uow.audit.record(
            AuditEvent(
                type="AccountUnlocked",
                state=account.country,
                subject=f"account:{account.username}",
                actor=cmd.actor,
                at=clock.now(),
                details={"username": account.username},
            )
        )
        uow.commit()
    return account
