"""Creating accounts and signing in, with a fake store and a fake hasher."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from builders import NOW, a_clock, admin, carrier, customs
from fakes import FakeAccountsUnitOfWork, FakeHasher

from silkway.accounts.handlers import BadCredentials, CreateAccount, create_account
from silkway.accounts.handlers import authenticate as authenticate_with
from silkway.accounts.model import Account, FailedSignIns, LockOut
from silkway.shared.actors import SYSTEM, Actor, Role
from silkway.shared.errors import InvalidInput, NotPermitted


@pytest.fixture
def uow() -> FakeAccountsUnitOfWork:
    return FakeAccountsUnitOfWork()


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


class Strangers:
    """Failed sign-ins with unknown usernames, in memory (`UnknownUsernames`)."""

    def __init__(self) -> None:
        self.failures: dict[str, FailedSignIns] = {}

    def failed_sign_ins(self, username: str) -> FailedSignIns:
        return self.failures.get(username, FailedSignIns())

    def count_failed_sign_in(self, username: str, *, at: datetime, forget_after: timedelta) -> FailedSignIns:
        counted = self.failed_sign_ins(username).plus_one(at, LockOut(duration=forget_after))
        self.failures[username] = counted
        return counted


def authenticate(username: str, password: str, *, uow: FakeAccountsUnitOfWork, hasher: FakeHasher) -> Actor:
    """Signing in at `NOW` under the default lock-out (tests/security/test_limits.py tries the lock-out itself)."""
    return authenticate_with(
        username, password, uow=uow, hasher=hasher, clock=a_clock(), lock_out=LockOut(), unknown=Strangers()
    )


def create(
    uow: FakeAccountsUnitOfWork,
    hasher: FakeHasher,
    *,
    actor: Actor,
    username: str = "officer-kz",
    password: str = "correct horse",
    role: Role = Role.CUSTOMS,
    country: str = "KZ",
) -> Account:
    cmd = CreateAccount(actor=actor, username=username, password=password, role=role, country=country)
    return create_account(cmd, uow=uow, clock=a_clock(), hasher=hasher)


def test_an_admin_creates_an_account_of_its_own_state(uow: FakeAccountsUnitOfWork, hasher: FakeHasher) -> None:
    account = create(uow, hasher, actor=admin("KZ"), username="officer-kz", country="KZ")

    assert uow.committed
    assert uow.accounts.stored["officer-kz"] == account
    assert (account.role, account.country, account.display_name) == (Role.CUSTOMS, "KZ", "officer-kz")
    assert account.created_at == NOW
    assert account.password_hash == hasher.hash("correct horse")
    assert account.password_hash != "correct horse"


def test_the_system_creates_accounts_of_any_state(uow: FakeAccountsUnitOfWork, hasher: FakeHasher) -> None:
    create(uow, hasher, actor=SYSTEM, username="admin-uz", role=Role.ADMIN, country="UZ")

    assert uow.accounts.stored["admin-uz"].country == "UZ"


def test_an_admin_cannot_create_an_account_of_another_state(uow: FakeAccountsUnitOfWork, hasher: FakeHasher) -> None:
    with pytest.raises(NotPermitted, match="an admin of KZ creates accounts of KZ only"):
        create(uow, hasher, actor=admin("KZ"), username="officer-uz", country="UZ")

    assert uow.accounts.stored == {}


@pytest.mark.parametrize("actor", [carrier(), customs("KZ")])
def test_only_an_admin_creates_accounts(uow: FakeAccountsUnitOfWork, hasher: FakeHasher, actor: Actor) -> None:
    with pytest.raises(NotPermitted, match="only an admin creates accounts"):
        create(uow, hasher, actor=actor, country="KZ")

    assert uow.accounts.stored == {}


def test_a_taken_username_is_refused(uow: FakeAccountsUnitOfWork, hasher: FakeHasher) -> None:
    first = create(uow, hasher, actor=admin("KZ"), username="officer-kz", password="first password")

    with pytest.raises(InvalidInput, match="is taken") as caught:
        create(uow, hasher, actor=admin("KZ"), username="officer-kz", password="second password")

    assert caught.value.fields == {"username": "taken"}
    assert uow.accounts.stored == {"officer-kz": first}


@pytest.mark.parametrize("username", ["ab", "Officer", "officer kz", "-officer", "x" * 65])
def test_a_malformed_username_is_refused(uow: FakeAccountsUnitOfWork, hasher: FakeHasher, username: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        create(uow, hasher, actor=admin("KZ"), username=username)

    assert caught.value.fields == {"username": "malformed"}
    assert uow.accounts.stored == {}


def test_a_username_with_a_trailing_newline_is_refused(uow: FakeAccountsUnitOfWork, hasher: FakeHasher) -> None:
    # a pattern ending in `$` would also accept it, since `$` matches just before a final newline
    with pytest.raises(InvalidInput):
        create(uow, hasher, actor=admin("KZ"), username="officer-kz\n")

    assert uow.accounts.stored == {}


@pytest.mark.parametrize("password", ["abc", "x" * 257])
def test_a_password_of_the_wrong_length_is_refused(
    uow: FakeAccountsUnitOfWork, hasher: FakeHasher, password: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        create(uow, hasher, actor=admin("KZ"), password=password)

    assert caught.value.fields == {"password": "length"}


# --- signing in -------------------------------------------------------------------------------------


def test_the_right_password_gives_the_account_s_actor(uow: FakeAccountsUnitOfWork, hasher: FakeHasher) -> None:
    create(uow, hasher, actor=admin("KZ"), username="officer-kz", password="correct horse")

    actor = authenticate(" Officer-KZ ", "correct horse", uow=uow, hasher=hasher)

    assert actor == Actor(username="officer-kz", role=Role.CUSTOMS, country="KZ")


def test_a_wrong_password_is_refused(uow: FakeAccountsUnitOfWork, hasher: FakeHasher) -> None:
    create(uow, hasher, actor=admin("KZ"), username="officer-kz", password="correct horse")

    with pytest.raises(BadCredentials, match="wrong username or password"):
        authenticate("officer-kz", "battery staple", uow=uow, hasher=hasher)


def test_an_unknown_user_is_refused_the_same_way_after_as_long_a_wait(
    uow: FakeAccountsUnitOfWork, hasher: FakeHasher
) -> None:
    with pytest.raises(BadCredentials, match="wrong username or password"):
        authenticate("nobody", "correct horse", uow=uow, hasher=hasher)

    assert hasher.burnt == ["correct horse"]


def test_an_inactive_account_cannot_sign_in(uow: FakeAccountsUnitOfWork, hasher: FakeHasher) -> None:
    account = create(uow, hasher, actor=admin("KZ"), username="officer-kz", password="correct horse")
    account.active = False
    with uow:
        uow.accounts.update(account)
        uow.commit()

    with pytest.raises(BadCredentials):
        authenticate("officer-kz", "correct horse", uow=uow, hasher=hasher)


def test_bad_credentials_are_not_permitted_errors() -> None:
    assert issubclass(BadCredentials, NotPermitted)
    assert BadCredentials.code == "bad_credentials"


# --- the system actor -------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["system", " System "])
def test_the_username_system_is_reserved(uow: FakeAccountsUnitOfWork, hasher: FakeHasher, username: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        create(uow, hasher, actor=admin("KZ"), username=username, role=Role.ADMIN, country="KZ")

    assert caught.value.fields == {"username": "reserved"}
    assert uow.accounts.stored == {}


def test_an_account_named_system_does_not_get_the_system_actor_s_rights(
    uow: FakeAccountsUnitOfWork, hasher: FakeHasher
) -> None:
    # an account of that name from before the name was reserved, say: rights go by identity, not by name
    uow.accounts.stored["system"] = Account(
        username="system",
        role=Role.ADMIN,
        country="KZ",
        display_name="system",
        password_hash=hasher.hash("pass word"),
        created_at=NOW,
    )
    signed_in = authenticate("system", "pass word", uow=uow, hasher=hasher)

    with pytest.raises(NotPermitted, match="an admin of KZ creates accounts of KZ only"):
        create(uow, hasher, actor=signed_in, username="officer-uz", country="UZ")
    assert "officer-uz" not in uow.accounts.stored
