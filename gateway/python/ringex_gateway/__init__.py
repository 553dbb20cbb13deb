"""The ringex gateway: client sessions in front of the engine daemon.

One asyncio (uvloop) process serves many client sessions over the binary session
protocol of ``protocol/SPEC.md``. Python owns sockets, timers and credentials; the
per-message work runs in the native module ``ringex_gateway._native`` over whole
batches of bytes.
"""

from ringex_gateway.config import AccountConfig, GatewayConfig, Settings, UserConfig
from ringex_gateway.credentials import hash_password, verify_password
from ringex_gateway.server import Gateway

__all__ = [
    "AccountConfig",
    "Gateway",
    "GatewayConfig",
    "Settings",
    "UserConfig",
    "hash_password",
    "verify_password",
]
