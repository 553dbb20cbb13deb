"""The heartbeat interval and silence timeout a client keeps: the ones the gateway
states in SessionParameters at login, unless the caller chose its own."""

from ringex_client.protocol import ClientProtocol

DEFAULT_HEARTBEAT_S = 1.0
"""The heartbeat interval before the gateway has stated its own (SPEC.md default)."""
DEFAULT_TIMEOUT_S = 10.0
"""The silence timeout before the gateway has stated its idle timeout (SPEC.md default)."""


class SessionTimers:
    """Mixin: ``heartbeat_s`` and ``timeout_s`` from the session's parameters."""

    protocol: ClientProtocol
    _heartbeat_s_chosen: float | None
    _timeout_s_chosen: float | None

    @property
    def heartbeat_s(self) -> float:
        """Seconds of silence after which the client sends a Heartbeat."""
        if self._heartbeat_s_chosen is not None:
            return self._heartbeat_s_chosen
        p = self.protocol.parameters
        return DEFAULT_HEARTBEAT_S if p is None else p.heartbeat_ms / 1000

    @property
    def timeout_s(self) -> float:
        """Seconds of silence from the gateway after which the client reconnects: the
        gateway's own idle timeout, which it holds the client to."""
        if self._timeout_s_chosen is not None:
            return self._timeout_s_chosen
        p = self.protocol.parameters
        return DEFAULT_TIMEOUT_S if p is None else p.idle_timeout_ms / 1000
