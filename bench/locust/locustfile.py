"""Locust load test of the gateway: every simulated user is one trading session of the
blocking ``ringex_client.Client`` (locust's gevent makes its plain sockets cooperative),
sending orders in a closed loop and reporting each order's round trip to locust as a
request, so locust's statistics are order latency and throughput.

The tasks, by weight:

- ``IOC buy``: an IOC buy below every sell, answered by Accepted (its remainder is then
  cancelled);
- ``rest`` then ``cancel``: a buy below every sell rests (Accepted), then is cancelled
  (Cancelled);
- ``trade``: a sell at the reference price rests, then an IOC buy at that price crosses
  it or another user's sell (Executed), or finds none left (Cancelled).

A Rejected or CancelRejected answer is a failure, as is a lost session or no answer in
``ANSWER_TIMEOUT_S``. Against a running gateway (users and password as its
configuration has them)::

    RINGEX_PASSWORD=... locust -f bench/locust/locustfile.py --headless \\
        --host 127.0.0.1:7701 --ringex-users alice,bob -u 8 -r 8 -t 30s

``make bench-locust`` starts a daemon and a gateway on loopback, runs this headless and
writes bench/results/locust.json.
"""

import itertools
import time
from urllib.parse import urlsplit

from locust import User, constant, events, task
from locust.argument_parser import LocustArgumentParser

from ringex_client import (
    ALL_INSTRUMENTS,
    Accepted,
    Cancelled,
    CancelRejected,
    Client,
    Executed,
    MassCancelled,
    Message,
    Rejected,
    TimeInForce,
)

INSTRUMENT = 1
PRICE = 100_000
BID = PRICE - 500
ANSWER_TIMEOUT_S = 10.0

# Each user's client order ids: its slot in the top 12 bits, then the microseconds since
# the epoch when it logged in, so users sharing an account never collide, nor do
# later runs with earlier ones (the client's default ids are slot 0).
_SLOT_SHIFT = 52
_slots = itertools.count(1)


class OrderRefusedError(Exception):
    """The gateway or the engine refused an order message."""


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _add_options(parser: LocustArgumentParser) -> None:
    parser.add_argument(
        "--ringex-users",
        env_var="RINGEX_USERS",
        default="alice",
        help="usernames the simulated users log in as, taken in turn (comma-separated)",
    )
    parser.add_argument(
        "--ringex-password",
        env_var="RINGEX_PASSWORD",
        default="",
        help="their password (the same for all; the environment variable keeps it off "
        "the command line)",
    )


class Trader(User):
    """One logged-in session sending orders one at a time."""

    wait_time = constant(0)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        assert options is not None, "run with the locust command"
        usernames = options.ringex_users.split(",")
        slot = next(_slots)
        now_us = time.time_ns() // 1000
        assert slot < 1 << (64 - _SLOT_SHIFT), "too many users"
        assert now_us < 1 << _SLOT_SHIFT
        host = str(self.host)
        address = urlsplit(host if "://" in host else f"tcp://{host}")
        assert address.hostname is not None, host
        assert address.port is not None, host
        self.client = Client(
            address.hostname,
            address.port,
            usernames[slot % len(usernames)],
            options.ringex_password,
            reconnect=False,
            timeout_s=ANSWER_TIMEOUT_S,
            first_client_order_id=(slot << _SLOT_SHIFT) + now_us,
        )
        self.client.connect()  # a failed login stops this user: locust counts an error

    def on_stop(self) -> None:
        """Leaves nothing resting on the book."""
        try:
            self.client.mass_cancel(ALL_INSTRUMENTS)
            self.client.wait_for(lambda m: isinstance(m, MassCancelled | Rejected), 5)
        except (OSError, TimeoutError):
            pass
        self.client.close()

    def _report(self, name: str, started: float, exception: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type="ringex",
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exception,
            context={},
        )

    def _answer(self, coid: int, *ok: type[Message]) -> Exception | None:
        """Waits for the answer to ``coid``: None if it is one of ``ok``, else why not."""

        def answers(m: Message) -> bool:
            return isinstance(m, (*ok, Rejected, CancelRejected)) and (
                getattr(m, "client_order_id", None) == coid
            )

        try:
            reply = self.client.wait_for(answers, ANSWER_TIMEOUT_S)
        except Exception as e:
            return e
        if isinstance(reply, Rejected | CancelRejected):
            return OrderRefusedError(f"{type(reply).__name__}: {reply.reason.name}")
        return None

    @task(4)
    def ioc_buy(self) -> None:
        started = time.perf_counter()
        coid = self.client.buy(INSTRUMENT, 1, BID, time_in_force=TimeInForce.IOC)
        self._report("IOC buy", started, self._answer(coid, Accepted))

    @task(2)
    def rest_and_cancel(self) -> None:
        started = time.perf_counter()
        coid = self.client.buy(INSTRUMENT, 1, BID)
        refused = self._answer(coid, Accepted)
        self._report("rest", started, refused)
        if refused is None:
            started = time.perf_counter()
            self.client.cancel(coid)
            self._report("cancel", started, self._answer(coid, Cancelled))

    @task(1)
    def trade(self) -> None:
        started = time.perf_counter()
        refused = self._answer(self.client.sell(INSTRUMENT, 1, PRICE), Accepted)
        if refused is None:
            coid = self.client.buy(INSTRUMENT, 1, PRICE, time_in_force=TimeInForce.IOC)
            refused = self._answer(coid, Executed, Cancelled)
        self._report("trade", started, refused)
