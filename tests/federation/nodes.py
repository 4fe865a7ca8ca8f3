"""National nodes as separate processes for the federation tests over real services: `silkway node` per state,
each with its own PostgreSQL database, exchanging over the machine's NATS JetStream through a TCP proxy that a
test can cut and restore (so one node loses the bus while the shared NATS server keeps running for the others).

Each federation uses a bus prefix of its own and databases named after the xdist worker, and removes its
streams and databases when it stops, so test runs and workers never see each other's traffic.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import httpx2 as httpx
import nats
import nats.js.errors
import pytest
from nats.js import JetStreamContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from loops import run
from silkway.storage.engine import normalise_url

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_NATS = "nats://127.0.0.1:4222"
REQUIRED = os.environ.get("SILKWAY_REQUIRE_SERVICES") == "1"
CLOCK_START = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
"""Where the nodes' shared clock starts: the visa dates of the tests are worked out from this day."""
DEADLINE = 45.0
"""Seconds any one wait for the exchange may take before the test fails; generous, never a speed claim."""

T = TypeVar("T")

# --- the services ----------------------------------------------------------------------------------------


def _unavailable(message: str, hint: str) -> NoReturn:
    if REQUIRED:
        pytest.fail(f"{message} — SILKWAY_REQUIRE_SERVICES=1 makes it mandatory")
    pytest.skip(f"{message}; {hint}")


def postgres_admin_url() -> str:
    """The PostgreSQL server the nodes' databases go on (as tests/conftest.py finds it); skips or fails without."""
    url = normalise_url(os.environ.get("SILKWAY_TEST_DATABASE_URL", DEFAULT_POSTGRES))
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return url
    except Exception as exc:  # any failure to connect means "not reachable"
        shown = make_url(url).render_as_string()
        _unavailable(
            f"PostgreSQL not reachable at {shown}: {exc.__class__.__name__}",
            "set SILKWAY_TEST_DATABASE_URL to run the node tests",
        )
    finally:
        engine.dispose()


def nats_server_url() -> str:
    """The NATS server with JetStream the nodes exchange over; skips (or fails, in CI) when it is unreachable."""
    url = os.environ.get("SILKWAY_TEST_NATS_URL", DEFAULT_NATS)

    async def probe(js: JetStreamContext) -> None:
        await js.account_info()  # fails unless JetStream is enabled on the server

    try:
        jetstream(url, probe)
    except Exception as exc:
        _unavailable(
            f"NATS JetStream not reachable at {url}: {exc.__class__.__name__} {exc}",
            "run nats-server -js, or set SILKWAY_TEST_NATS_URL, to run the node tests",
        )
    return url


def jetstream(url: str, action: Callable[[JetStreamContext], Coroutine[Any, Any, T]]) -> T:
    """Run `action` on a JetStream context of a short-lived connection of the test's own (not a node's)."""

    async def quiet(exc: Exception) -> None:
        pass  # nats-py prints every failed attempt; the exception that ends them is what is reported

    async def session() -> T:
        # max_reconnect_attempts=0 would mean "forever" to nats-py: 1 gives up after a second attempt
        nc = await nats.connect(url, connect_timeout=3, allow_reconnect=False, max_reconnect_attempts=1, error_cb=quiet)
        try:
            return await asyncio.wait_for(action(nc.jetstream(timeout=5)), timeout=30)
        finally:
            await nc.close()

    return run(session())


def host_port(url: str) -> tuple[str, int]:
    found = re.fullmatch(r"nats://([^:/]+)(?::(\d+))?/?", url)
    if found is None:
        raise ValueError(f"a nats:// URL with a host, not {url!r}")
    return found.group(1), int(found.group(2) or 4222)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- a link that can be cut ------------------------------------------------------------------------------


class _Pair:
    """One proxied connection: the node's socket and the upstream one, closed once both directions end."""

    def __init__(self, near: socket.socket, far: socket.socket) -> None:
        self.near, self.far = near, far
        self._ended = 0
        self._lock = threading.Lock()

    def shut(self) -> None:
        for sock in (self.near, self.far):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def ended(self) -> None:
        with self._lock:
            self._ended += 1
            last = self._ended == 2
        if last:
            self.near.close()
            self.far.close()


class LinkProxy:
    """A TCP proxy between one node and the NATS server. `cut()` drops every connection through it and closes
    each new one as soon as it is accepted (the node sees its link lost and its reconnects fail); `restore()`
    lets connections through again. The shared NATS server is never touched."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._threads: list[threading.Thread] = []
        self._cut = False
        self.refused = 0
        """How many connections were turned away while cut: the node's attempts to get its link back."""
        self._stopping = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, name=f"link-proxy-{self.port}", daemon=True)
        self._acceptor.start()

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def is_cut(self) -> bool:
        return self._cut

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            self.refused = 0
            pairs = list(self._pairs)
        for pair in pairs:
            pair.shut()

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self._stopping.set()
        self.cut()
        self._acceptor.join(timeout=5)
        self._listener.close()
        for thread in list(self._threads):
            thread.join(timeout=5)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                near, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                refused = self._cut or self._stopping.is_set()
            if refused:
                near.close()
                self.refused += 1
                continue
            try:
                far = socket.create_connection(self._upstream, timeout=3)
            except OSError:
                near.close()
                continue
            near.settimeout(None)
            far.settimeout(None)
            pair = _Pair(near, far)
            with self._lock:
                self._pairs.add(pair)
                self._threads = [t for t in self._threads if t.is_alive()]
                for src, dst in ((near, far), (far, near)):
                    thread = threading.Thread(target=self._pump, args=(pair, src, dst), daemon=True)
                    self._threads.append(thread)
                    thread.start()

    def _pump(self, pair: _Pair, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            pair.shut()
            with self._lock:
                self._pairs.discard(pair)
            pair.ended()


# --- a node ----------------------------------------------------------------------------------------------


def silkway_command() -> list[str]:
    """`silkway` as installed in this interpreter's environment (silkway.cli.main has no __main__ guard)."""
    beside = Path(sys.executable).parent / "silkway"
    found = str(beside) if beside.exists() else shutil.which("silkway")
    if found is None:
        pytest.fail("the `silkway` command is not installed in this environment (pip install -e .)")
    return [found]


class NodeProcess:
    """One `silkway node` process, its database and its API, spoken to as its officers would."""

    def __init__(self, state: str, *, database_url: str, nats_url: str, env: dict[str, str], logs: Path) -> None:
        self.state = state
        self.database_url = database_url
        self.nats_url = nats_url
        self.port = free_port()
        self.root = ""
        self.peers: dict[str, str] = {}
        self._env = env
        self._logs = logs
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._starts = 0
        self._tokens: dict[str, str] = {}
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=15)

    # -- the process --

    def command(self, *extra: str) -> list[str]:
        args = [*silkway_command(), "node", "--country", self.state, "--database-url", self.database_url]
        args += ["--nats", self.nats_url, "--port", str(self.port)]
        for peer, root in sorted(self.peers.items()):
            args += ["--peer", f"{peer}={root}"]
        return [*args, *extra]

    def initialise(self, clock_start: datetime) -> subprocess.Popen[str]:
        """Start the key ceremony's first step (`--init-only`); `read_root` collects what it printed."""
        return subprocess.Popen(
            self.command("--init-only"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self._environment(clock_start),
        )

    def read_root(self, proc: subprocess.Popen[str]) -> str:
        stdout, stderr = proc.communicate(timeout=120)
        found = re.search(rf"^root {self.state} ([0-9a-f]{{32}})$", stdout, re.MULTILINE)
        failed = f"{self.state} --init-only failed ({proc.returncode}):\n{stdout}{stderr}"
        assert proc.returncode == 0, failed
        assert found, failed
        self.root = found.group(1)
        return self.root

    def start(self, clock_start: datetime) -> None:
        """Start serving (with the peers pinned); `wait_ready` waits for it."""
        assert not self.alive, f"{self.state} is already running"
        self._starts += 1
        self._close_log()
        self._log = (self._logs / f"{self.state.lower()}-{self._starts}.log").open("wb")
        self._tokens.clear()
        self._proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, env=self._environment(clock_start)
        )

    def wait_ready(self, deadline: float = DEADLINE) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise AssertionError(f"node {self.state} exited with {self._proc.returncode}:\n{self.log_tail()}")
            with suppress(httpx.TransportError):
                if self.http.get("/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"node {self.state} did not answer /healthz within {deadline} s:\n{self.log_tail()}")

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed or acknowledged on the way out."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM: uvicorn shuts down gracefully, the exchange worker closes its NATS connection."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=30)

    def close(self) -> None:
        self.stop()
        self._close_log()
        self.http.close()

    def log_tail(self, lines: int = 40) -> str:
        path = self._logs / f"{self.state.lower()}-{self._starts}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def _environment(self, clock_start: datetime) -> dict[str, str]:
        return {**self._env, "SILKWAY_CLOCK_START": clock_start.isoformat()}

    # -- the API --

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = self.http.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
            assert response.status_code == 200, f"{self.state} sign-in of {username}: {response.text}"
            self._tokens[username] = response.json()["access_token"]
        return self._tokens[username]

    def call(
        self, method: str, path: str, who: str | None = None, *, body: Any = None, params: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(who)}"} if who else {}
        # no retry: a read racing the exchange worker's commits must still agree with itself (one snapshot)
        return self.http.request(method, f"/api/v1{path}", json=body, params=params, headers=headers)

    def get(self, path: str, who: str | None = None, **params: Any) -> Any:
        response = self.call("GET", path, who, params=params or None)
        assert response.status_code == 200, f"{self.state} GET {path}: {response.status_code} {response.text}"
        return response.json()

    def post(self, path: str, body: dict[str, Any], who: str | None = None, expect: int = 200) -> Any:
        response = self.call("POST", path, who, body=body)
        assert response.status_code == expect, f"{self.state} POST {path}: {response.status_code} {response.text}"
        return response.json()

    @property
    def admin(self) -> str:
        return f"admin-{self.state.lower()}"

    @property
    def customs(self) -> str:
        return f"customs-{self.state.lower()}"

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/exchange/status", self.admin)
        return result

    def conflicts(self, subject: str | None = None) -> list[dict[str, Any]]:
        params = {} if subject is None else {"subject": subject}
        result: list[dict[str, Any]] = self.get("/exchange/conflicts", self.admin, **params)
        return result

    def rejections(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get("/exchange/rejections", self.admin)
        return result

    def transit(self, mrn: str) -> dict[str, Any] | None:
        """The transit as this node's customs see it, or None when the node does not hold it."""
        response = self.call("GET", f"/transits/{mrn}", self.customs)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, f"{self.state} GET transit {mrn}: {response.text}"
        result: dict[str, Any] = response.json()
        return result

    def outbox_empty(self) -> bool:
        """Whether everything this node recorded has been stored by the peers' streams."""
        return not self.status()["undelivered"]

    def hashes(self, mrn: str) -> list[str]:
        """The record hashes of the transit's history held here ([] when none)."""
        transit = self.transit(mrn)
        return [] if transit is None else [e["record"]["hash"] for e in transit["events"]]


def trusts_its_peers(node: NodeProcess) -> bool:
    """Whether `node` has applied a trust section from each of its peers (before which it must set their
    records aside for later: a test waits for this, so that its first events are not held back)."""
    return int(node.status()["received"].get("applied", 0)) >= len(node.peers)


# --- the federation --------------------------------------------------------------------------------------


class Federation:
    """Three (or more) nodes, each behind its own `LinkProxy`, pinned to one another at a key ceremony, all on
    one clock: a node (re)started later is started at the instant the others' clocks have reached."""

    def __init__(self, states: tuple[str, ...], *, admin_url: str, nats_url: str, logs: Path) -> None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"t{uuid.uuid4().hex[:8]}"
        self.nats_url = nats_url
        self._admin_url = admin_url
        self._began = time.monotonic()
        self.databases = {state: f"silkway_node_{worker}_{state.lower()}" for state in states}
        self.proxies = {state: LinkProxy(host_port(nats_url)) for state in states}
        env = {k: v for k, v in os.environ.items() if not k.startswith("SILKWAY_") and k != "PORT"}
        env |= {
            "SILKWAY_ENV": "test",
            "SILKWAY_BUS_PREFIX": self.prefix,
            "SILKWAY_KEY_PASSPHRASE": "federation-test-keys",
            "SILKWAY_SECRET_KEY": f"federation-test-secret-{uuid.uuid4().hex}",
        }
        self.nodes = {
            state: NodeProcess(
                state,
                database_url=make_url(admin_url).set(database=name).render_as_string(hide_password=False),
                nats_url=self.proxies[state].url,
                env=env,
                logs=logs,
            )
            for state, name in self.databases.items()
        }

    def __getitem__(self, state: str) -> NodeProcess:
        return self.nodes[state]

    def now(self) -> datetime:
        """Where the shared clock stands: CLOCK_START plus the time since the federation began."""
        return CLOCK_START + timedelta(seconds=time.monotonic() - self._began)

    def streams(self) -> list[str]:
        return [f"{self.prefix.upper()}_{state}" for state in self.nodes]

    def begin(self) -> None:
        """Fresh databases, the key ceremony (each node once with --init-only, its root read out and pinned by
        the others), then every node serving; returns once each has applied both peers' trust sections."""
        self._drop_databases(create=True)
        started = {state: node.initialise(self.now()) for state, node in self.nodes.items()}
        roots = {state: self.nodes[state].read_root(proc) for state, proc in started.items()}
        for state, node in self.nodes.items():
            node.peers = {peer: root for peer, root in roots.items() if peer != state}
            node.start(self.now())
        for node in self.nodes.values():
            node.wait_ready()
        for node in self.nodes.values():
            self.wait(partial(trusts_its_peers, node), f"{node.state} to apply its peers' trust sections")

    def restart(self, state: str) -> None:
        """Start `state`'s node again on the same database with the same peers (after a kill or a stop)."""
        node = self.nodes[state]
        node.start(self.now())
        node.wait_ready()

    def wait(self, condition: Callable[[], object], what: str, deadline: float = DEADLINE) -> None:
        """Poll `condition` until it holds; fail naming `what` (and the nodes' last log lines) at the deadline."""
        end = time.monotonic() + deadline
        while True:
            if condition():
                return
            if time.monotonic() > end:
                tails = "\n".join(f"--- {s} ---\n{n.log_tail(15)}" for s, n in self.nodes.items())
                raise AssertionError(f"waited {deadline} s for {what}\n{tails}")
            time.sleep(0.2)

    def heal(self) -> None:
        """Every link up and every node serving, whatever a failed test left behind."""
        for state, proxy in self.proxies.items():
            proxy.restore()
            if not self.nodes[state].alive:
                self.restart(state)

    def close(self) -> None:
        for node in self.nodes.values():
            node.terminate()  # all at once: each then shuts down while the others do
        for node in self.nodes.values():
            with suppress(Exception):
                node.close()
        for proxy in self.proxies.values():
            proxy.close()

        async def delete(js: JetStreamContext) -> None:
            for name in self.streams():
                with suppress(nats.js.errors.NotFoundError):
                    await js.delete_stream(name)

        try:
            jetstream(self.nats_url, delete)
        finally:
            self._drop_databases(create=False)

    def _drop_databases(self, *, create: bool) -> None:
        engine = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for name in self.databases.values():
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    if create:
                        conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()


@contextmanager
def federation(states: tuple[str, ...], logs: Path) -> Iterator[Federation]:
    """Running nodes for `states` on this machine's PostgreSQL and NATS; everything removed afterwards."""
    admin_url = postgres_admin_url()
    nats_url = nats_server_url()
    built = Federation(states, admin_url=admin_url, nats_url=nats_url, logs=logs)
    try:
        built.begin()
        yield built
    finally:
        built.close()
