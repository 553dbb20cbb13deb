"""Numeric codes of the client session protocol the gateway itself uses (SPEC.md)."""

from enum import IntEnum


class Role(IntEnum):
    """What a logged-in session may do."""

    TRADER = 1
    READ_ONLY = 2
    ADMIN = 3


class LoginRejectReason(IntEnum):
    """Why a login was refused."""

    NOT_AUTHORIZED = 1
    SESSION_LIMIT = 2
    UNAVAILABLE = 3


class SessionEndReason(IntEnum):
    """Why the gateway ended a session (the Goodbye message's reason)."""

    LOGOUT = 1
    BAD_INPUT = 2
    IDLE_TIMEOUT = 3
    SLOW_CONSUMER = 4
    SHUTDOWN = 5
    LOGIN_TIMEOUT = 6
    NOT_LOGGED_IN = 7
    FRAME_TIMEOUT = 8
