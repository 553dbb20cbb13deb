//! The client session layer (gateway ⇄ client): frame limit, login text fields and the
//! numeric codes a session speaks — roles, login rejects, session-end reasons, the
//! gateway's own reject reasons and the liquidity flag. Modelled on SoupBinTCP.

use crate::error::DecodeError;
use crate::frame::LengthPrefix;

/// Client sessions use `u16` length prefixes.
pub const CLIENT_PREFIX: LengthPrefix = LengthPrefix::U16;
/// Largest frame body on a client session.
pub const CLIENT_FRAME_MAX: usize = 256;

/// Login username: printable ASCII, right-padded with spaces.
pub const USERNAME_LEN: usize = 16;
/// Login password: printable ASCII, right-padded with spaces.
pub const PASSWORD_LEN: usize = 32;

/// Login's `next_seq` value asking for no replay: start at the stream's current end.
pub const NEXT_SEQ_LIVE: u64 = 0;

/// What a logged-in session may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Role {
    /// Enters and cancels orders for its own account.
    Trader = 1,
    /// Sees its account's stream and market data; order entry is refused.
    ReadOnly = 2,
    /// A trader that may also end the day and halt instruments.
    Admin = 3,
}

/// Why a login was refused (the gateway closes the connection after it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LoginRejectReason {
    /// Unknown username or wrong password.
    NotAuthorized = 1,
    /// The gateway holds its maximum of sessions.
    SessionLimit = 2,
    /// The gateway is shutting down.
    Unavailable = 3,
    /// Too many failed logins from this address or for this user, or too many logins
    /// waiting to be checked: try again later (no password was checked).
    Throttled = 4,
}

/// Why the gateway ended a session: the `reason` of a Goodbye message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SessionEndReason {
    /// The client logged out.
    Logout = 1,
    /// The client sent bytes that do not decode; the detail is the decode error code.
    BadInput = 2,
    /// Nothing arrived from the client for longer than the idle timeout.
    IdleTimeout = 3,
    /// The client did not read its messages fast enough.
    SlowConsumer = 4,
    /// The gateway is shutting down.
    Shutdown = 5,
    /// No login arrived in time after connecting.
    LoginTimeout = 6,
    /// A message other than Login or Heartbeat before login, or a second Login.
    NotLoggedIn = 7,
    /// A frame stayed incomplete for longer than the frame timeout.
    FrameTimeout = 8,
}

/// Reject reasons the gateway gives itself (the engine's are 1–25). These rejects are
/// unsequenced: they are not part of the account's replayable stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum GatewayRejectReason {
    /// The session sent orders faster than its rate limit.
    RateLimited = 100,
    /// The engine is unreachable; nothing was queued.
    EngineUnavailable = 101,
    /// The session's role may not send this message.
    NotPermitted = 102,
    /// The engine came back behind what this gateway had already seen (it lost
    /// acknowledged history); order entry stays closed until an engine that has it.
    EngineBehind = 103,
}

/// Which side of a trade an order was on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Liquidity {
    /// The order was resting: it added liquidity.
    Maker = 1,
    /// The order arrived and traded: it removed liquidity.
    Taker = 2,
}

/// Cancelled reason for a DAY order expired at the end of the day (the engine's cancel
/// reasons are 1–5).
pub const CANCEL_REASON_EXPIRED: u8 = 6;

macro_rules! u8_codes {
    ($t:ty { $($v:ident),+ }) => {
        impl TryFrom<u8> for $t {
            type Error = u8;
            fn try_from(v: u8) -> Result<Self, u8> {
                $(if v == <$t>::$v as u8 { return Ok(<$t>::$v); })+
                Err(v)
            }
        }
    };
}
pub(crate) use u8_codes;
u8_codes!(Role {
    Trader,
    ReadOnly,
    Admin
});
u8_codes!(LoginRejectReason {
    NotAuthorized,
    SessionLimit,
    Unavailable,
    Throttled
});
u8_codes!(SessionEndReason {
    Logout,
    BadInput,
    IdleTimeout,
    SlowConsumer,
    Shutdown,
    LoginTimeout,
    NotLoggedIn,
    FrameTimeout
});
u8_codes!(GatewayRejectReason {
    RateLimited,
    EngineUnavailable,
    NotPermitted,
    EngineBehind
});
u8_codes!(Liquidity { Maker, Taker });

/// A fixed-width text field: printable ASCII (0x20–0x7E), right-padded with spaces.
/// The value is the field without its trailing spaces.
pub fn decode_text(bytes: &[u8]) -> Result<&str, DecodeError> {
    if !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return Err(DecodeError::BadEnum);
    }
    let end = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
    std::str::from_utf8(&bytes[..end]).map_err(|_| DecodeError::BadEnum)
}

/// Pads `text` with spaces to `N` bytes. `None` if it is too long or not printable ASCII.
pub fn encode_text<const N: usize>(text: &str) -> Option<[u8; N]> {
    let bytes = text.as_bytes();
    if bytes.len() > N || !bytes.iter().all(|b| (0x20..=0x7e).contains(b)) {
        return None;
    }
    let mut out = [b' '; N];
    out[..bytes.len()].copy_from_slice(bytes);
    Some(out)
}
