"""Creating accounts and signing in."""

from __future__ import annotations

from dataclasses import dataclass

from silkway.accounts.model import Account
from silkway.accounts.ports import AccountsUnitOfWork, PasswordHasher
from silkway.shared.actors import SYSTEM, Actor, Role
from silkway.shared.clock import Clock
from silkway.shared.errors import InvalidInput, NotPermitted

MIN_PASSWORD = 4
MAX_PASSWORD = 256


class BadCredentials(NotPermitted):
    """The username or password is wrong (never says which)."""

    code = "bad_credentials"
    title = "Wrong username or password"


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
        uow.commit()
    return account


def authenticate(username: str, password: str, *, uow: AccountsUnitOfWork, hasher: PasswordHasher) -> Actor:
    """The actor for valid credentials; raises `BadCredentials` otherwise (also for inactive accounts)."""
    with uow:
        account = uow.accounts.get(username.strip().lower())
    if account is None:
        hasher.burn(password)
        raise BadCredentials("wrong username or password")
    if not hasher.verify(account.password_hash, password) or not account.active:
        raise BadCredentials("wrong username or password")
    return account.as_actor()
