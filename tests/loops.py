"""Running a coroutine from a test, whatever the thread's state: Playwright's sync API (the browser tests) leaves
an event loop running in a worker's main thread, where `asyncio.run` refuses; a fresh thread has none."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
