"""The bounded, fair queue of password checks.

Password hashes cost tens of milliseconds of CPU each by design, so the gateway runs
them on a small fixed pool of worker threads and lets only a bounded number wait: past
``max_waiting`` in all, or ``max_waiting_per_source`` from one source address, a login
is refused at once rather than queued. Waiting checks are started round-robin across
source addresses, so a login from one address waits behind at most one check per other
address, however many one address sent. A check whose connection closed (or timed out)
while waiting is skipped, not hashed.
"""

import asyncio
import concurrent.futures
import functools
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Check:
    run: Callable[[], bool]
    alive: Callable[[], bool]
    done: asyncio.Future[bool | None] = field(repr=False)


class LoginQueue:
    """Runs password checks on ``workers`` threads, fairly across source addresses."""

    def __init__(self, *, workers: int, max_waiting: int, max_waiting_per_source: int) -> None:
        self.workers = workers
        self.max_waiting = max_waiting
        self.max_waiting_per_source = max_waiting_per_source
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, "login-check")
        self._waiting: OrderedDict[str, deque[_Check]] = OrderedDict()
        self.waiting = 0
        self.running = 0

    def submit(
        self, source: str, run: Callable[[], bool], alive: Callable[[], bool]
    ) -> asyncio.Future[bool | None] | None:
        """Queues a check; None when the queue (or the source's share) is full. The
        future gives the check's result, or None if it was skipped (connection gone)."""
        queue = self._waiting.get(source)
        if self.waiting >= self.max_waiting or (
            queue is not None and len(queue) >= self.max_waiting_per_source
        ):
            return None
        check = _Check(run, alive, asyncio.get_running_loop().create_future())
        self._waiting.setdefault(source, deque()).append(check)
        self.waiting += 1
        self._start()
        return check.done

    def _next(self) -> _Check | None:
        """The oldest check of the source whose turn it is; the source goes last."""
        while self._waiting:
            source, queue = next(iter(self._waiting.items()))
            check = queue.popleft()
            self.waiting -= 1
            if queue:
                self._waiting.move_to_end(source)
            else:
                del self._waiting[source]
            if check.done.done():
                continue  # its login gave up waiting
            if check.alive():
                return check
            check.done.set_result(None)
        return None

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        while self.running < self.workers:
            check = self._next()
            if check is None:
                return
            self.running += 1
            hashed = loop.run_in_executor(self._pool, check.run)
            hashed.add_done_callback(functools.partial(self._finished, check))

    def _finished(self, check: _Check, hashed: asyncio.Future[bool]) -> None:
        self.running -= 1
        if not check.done.done():
            if hashed.cancelled():
                check.done.set_result(None)
            elif (error := hashed.exception()) is not None:
                check.done.set_exception(error)
            else:
                check.done.set_result(hashed.result())
        self._start()

    def close(self) -> None:
        """Drops waiting checks and stops the workers (running checks finish alone)."""
        for queue in self._waiting.values():
            for check in queue:
                if not check.done.done():
                    check.done.set_result(None)
        self._waiting.clear()
        self.waiting = 0
        self._pool.shutdown(wait=False, cancel_futures=True)
