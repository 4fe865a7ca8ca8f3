"""Several national nodes in one process for the federation tests: each its own database, keys and app, joined
by an in-process bus with JetStream's delivery rules, on one shared clock (or, to test skew, a clock per node)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from loops import run
from silkway import bootstrap
from silkway.demo import load_demo
from silkway.exchange.memory import InProcessBus, InProcessServer
from silkway.exchange.relay import consume_once, relay_once
from silkway.services import Services
from silkway.settings import Settings
from silkway.shared.clock import Clock, FixedClock
from silkway.web.app import create_app


@dataclass
class Node:
    state: str
    services: Services
    client: TestClient
    bus: InProcessBus

    def auth(self, username: str) -> dict[str, str]:
        response = self.client.post("/api/v1/auth/token", data={"username": username, "password": "demo"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, path: str, who: str) -> Any:
        response = self.client.get(f"/api/v1{path}", headers=self.auth(who))
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any], who: str, expect: int = 200) -> Any:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.auth(who))
        assert response.status_code == expect, response.text
        return response.json()

    def conflicts(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.get("/exchange/conflicts", f"admin-{self.state.lower()}")
        return result

    def status(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/exchange/status", f"admin-{self.state.lower()}")
        return result


class Region:
    def __init__(self, nodes: dict[str, Node], server: InProcessServer) -> None:
        self.nodes = nodes
        self.server = server

    def __getitem__(self, state: str) -> Node:
        return self.nodes[state]

    def pump(self, rounds: int = 40) -> int:
        """Relay and consume on every node whose link is up until nothing moves; how many events moved."""
        total = 0
        for _ in range(rounds):
            moved = 0
            for node in self.nodes.values():
                if not node.bus.online:
                    continue
                s = node.services
                prefix = s.settings.bus_prefix
                moved += run(relay_once(s.exchange, node.bus, prefix=prefix, now=s.clock.now))
                moved += run(consume_once(node.bus, s.receiver))
            total += moved
            if not moved:
                return total
        raise AssertionError("the exchange did not settle")


@contextmanager
def region(
    tmp_path: Path,
    clock: FixedClock,
    states: tuple[str, ...] = ("KZ", "UZ", "TJ"),
    clocks: Mapping[str, Clock] | None = None,
) -> Iterator[Region]:
    """Nodes for `states`, each having pinned every other's root (the key ceremony), exchange settled. Every node
    reads `clock`, but those given their own in `clocks`."""
    server = InProcessServer()
    nodes: dict[str, Node] = {}
    clients = []
    try:
        for state in states:
            settings = Settings(
                env="test",
                database_url=f"sqlite:///{tmp_path / f'{state.lower()}.db'}",
                node_state=state,
                nats_url="nats://in-process",
                demo_history=False,
            )
            bootstrap.migrate(settings.database_url)
            own = clock if clocks is None else clocks.get(state, clock)
            services = bootstrap.build(settings, clock=own, fast_hashing=True)
            services.establish_trust()
            load_demo(services)
            bus = InProcessBus(server)
            run(bus.open(state))
            client = TestClient(create_app(services))
            clients.append(client)
            nodes[state] = Node(state, services, client, bus)
        roots = {state: node.services.own_root() for state, node in nodes.items()}
        for state, node in nodes.items():
            for peer, root in roots.items():
                if peer != state:
                    node.services.pin_peer(peer, root)
        built = Region(nodes, server)
        built.pump()
        yield built
    finally:
        for client in clients:
            client.close()
        for node in nodes.values():
            node.services.close()
