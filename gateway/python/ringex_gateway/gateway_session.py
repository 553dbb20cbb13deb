"""A session as the gateway sees it, whatever its peer speaks outside.

The gateway's native core speaks the binary protocol to every session: a binary client's
bytes go to it as they are, a FIX connection translates both ways. The gateway itself
only ever uses the interface below, so it never asks which protocol a session speaks;
and a session reaches the gateway only through :class:`SessionHost`, never through the
gateway's native core.
"""

from collections.abc import Mapping
from typing import Protocol

from ringex_client.enums import SessionEndReason
from ringex_gateway.config import Settings
from ringex_gateway.instrument_terms import InstrumentTerms


class GatewaySession(Protocol):
    """One connection the gateway serves."""

    @property
    def sid(self) -> int:
        """The session's id in the gateway's core."""

    def source(self) -> str:
        """The peer's address, for the per-source login limits ("" if unknown)."""

    def write(self, data: bytes) -> None:
        """Server messages the core wrote for this session, as binary protocol frames."""

    def close_with(self, last: bytes, abort_after: float) -> None:
        """Sends ``last`` (a Goodbye or LoginRejected frame) in the session's own
        protocol, then closes; a peer that does not read it within ``abort_after``
        seconds is cut off."""

    def abort(self) -> None:
        """Drops the connection at once (refused before it was served)."""

    def writer_socket(self) -> int | None:
        """The socket's descriptor, for the core's socket writer to take over every
        later write of the session; None while bytes written here wait in the transport,
        and always for a session whose peer speaks another protocol than the core's."""

    def pause_reading(self, paused: bool) -> None:
        """Stops (or resumes) reading from the peer: back-pressure from the engine link."""

    def is_open(self) -> bool:
        """Whether the connection is still open and not closing."""


class SessionHost(Protocol):
    """What a session calls on the gateway that serves it."""

    @property
    def settings(self) -> Settings:
        """The gateway's settings."""

    @property
    def sessions(self) -> Mapping[int, GatewaySession]:
        """The sessions the gateway serves, by id."""

    def session_opened(self, session: GatewaySession) -> None:
        """A peer connected (the gateway may refuse it at once)."""

    def session_data(self, session: GatewaySession, data: bytes) -> None:
        """Binary protocol bytes from the session for the core."""

    def session_paused(self, session: GatewaySession, paused: bool) -> None:
        """The session's write buffer filled (or drained)."""

    def session_lost(self, session: GatewaySession) -> None:
        """The session's connection closed, by either side."""

    def end_session(
        self, session: GatewaySession, reason: SessionEndReason, detail: int = 0
    ) -> None:
        """Ends a session with a Goodbye saying why."""

    def instrument_listing(self, instrument: int) -> InstrumentTerms | None:
        """The engine's terms for ``instrument``: (tick_size, lot_size, halted), or None
        while the engine has not listed it."""
