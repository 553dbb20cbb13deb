//! Client session messages (gateway ⇄ client), one type byte then fixed-width
//! little-endian fields, carried in `u16`-prefixed frames (see [`crate::session`]).
//!
//! A client's order message is the engine input body without the account: the gateway
//! [`stamp`]s the session's account behind the type byte and forwards the bytes.

use ringex_core::*;

use crate::command_codec::{decode_command, encode_command, FLAG_POST_ONLY};
use crate::error::DecodeError;
use crate::feed::{decode_level_action, decode_remove_reason, FeedKind, FeedRejectReason};
use crate::session::{
    GatewayRejectReason, Liquidity, LoginRejectReason, Role, SessionEndReason,
    CANCEL_REASON_EXPIRED, PASSWORD_LEN, USERNAME_LEN,
};
use crate::wire::{Reader, Writer};
use ringex_core::market_data::{LevelAction, RemoveReason};

// Client to gateway.
pub const LOGIN: u8 = b'L';
pub const LOGOUT: u8 = b'O';
pub const CLIENT_HEARTBEAT: u8 = b'H';
pub const NEW_ORDER: u8 = b'N';
pub const CANCEL: u8 = b'X';
pub const REPLACE: u8 = b'U';
pub const MASS_CANCEL: u8 = b'M';
pub const SUBSCRIBE: u8 = b'S';
pub const END_OF_DAY: u8 = b'D';
pub const SET_HALTED: u8 = b'T';
pub const FEED_SUBSCRIBE: u8 = b'F';
pub const RESEND_REQUEST: u8 = b'G';

// Gateway to client.
pub const LOGIN_ACCEPTED: u8 = b'L';
pub const LOGIN_REJECTED: u8 = b'R';
pub const SERVER_HEARTBEAT: u8 = b'H';
pub const GOODBYE: u8 = b'Z';
pub const ACCEPTED: u8 = b'A';
pub const REJECTED: u8 = b'J';
pub const EXECUTED: u8 = b'E';
pub const CANCELLED: u8 = b'C';
pub const REPLACED: u8 = b'U';
pub const CANCEL_REJECTED: u8 = b'I';
pub const MASS_CANCELLED: u8 = b'M';
pub const TOP_OF_BOOK: u8 = b'Q';
pub const TRADE_REPORT: u8 = b'T';
pub const ORDER_ADDED: u8 = b'a';
pub const ORDER_REDUCED: u8 = b'r';
pub const ORDER_REMOVED: u8 = b'x';
pub const ORDER_REPLACED: u8 = b'u';
pub const TRADE: u8 = b't';
pub const TRADING_STATUS: u8 = b's';
pub const LEVEL_UPDATE: u8 = b'l';
pub const SNAPSHOT_BEGIN: u8 = b'b';
pub const SNAPSHOT_ORDER: u8 = b'o';
pub const SNAPSHOT_LEVEL: u8 = b'v';
pub const SNAPSHOT_END: u8 = b'e';
pub const FEED_REJECTED: u8 = b'f';

/// Size of a client message of this type, or `None` for an unknown type.
pub fn client_len(kind: u8) -> Option<usize> {
    Some(match kind {
        LOGIN => 1 + USERNAME_LEN + PASSWORD_LEN + 8,
        LOGOUT | CLIENT_HEARTBEAT | END_OF_DAY => 1,
        NEW_ORDER | REPLACE => 1 + 32,
        CANCEL => 1 + 8,
        MASS_CANCEL => 1 + 4,
        SUBSCRIBE | SET_HALTED => 1 + 4 + 1,
        FEED_SUBSCRIBE => 1 + 4 + 1 + 1 + 1,
        RESEND_REQUEST => 1 + 4 + 1 + 1 + 8 + 8,
        _ => return None,
    })
}

/// Whether a client message of this type is an order message, which the gateway
/// forwards with the session's account stamped in.
pub fn is_order_entry(kind: u8) -> bool {
    matches!(kind, NEW_ORDER | CANCEL | REPLACE | MASS_CANCEL)
}

/// Whether a client message of this type is an administrative command (admin role).
pub fn is_admin(kind: u8) -> bool {
    matches!(kind, END_OF_DAY | SET_HALTED)
}

/// Writes the engine input for a client's order or admin message: order messages get
/// `account` behind the type byte, admin messages are already engine inputs. The caller
/// has checked `body` with [`decode_client`].
pub fn stamp(body: &[u8], account: AccountId, out: &mut Vec<u8>) {
    if is_order_entry(body[0]) {
        out.push(body[0]);
        out.extend_from_slice(&account.to_le_bytes());
        out.extend_from_slice(&body[1..]);
    } else {
        out.extend_from_slice(body);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientMessage {
    Login {
        username: [u8; USERNAME_LEN],
        password: [u8; PASSWORD_LEN],
        /// The next stream sequence number the client expects; 0 for no replay.
        next_seq: u64,
    },
    Logout,
    Heartbeat,
    /// NewOrder, Cancel, Replace and MassCancel with account 0 (the gateway stamps the
    /// session's), or the admin commands EndOfDay and SetHalted.
    Command(Command),
    Subscribe {
        instrument: InstrumentId,
        subscribe: bool,
    },
    /// Starts (a snapshot, then the incrementals) or stops one feed of an instrument, or
    /// of every instrument with `ALL_INSTRUMENTS`. `depth` is the L2 depth; 0 otherwise.
    FeedSubscribe {
        instrument: u32,
        feed: FeedKind,
        depth: u8,
        subscribe: bool,
    },
    /// Asks for the feed's incrementals numbered `from_seq..=to_seq` again.
    ResendRequest {
        instrument: InstrumentId,
        feed: FeedKind,
        depth: u8,
        from_seq: u64,
        to_seq: u64,
    },
}

/// Decodes exactly one client message occupying all of `body`.
pub fn decode_client(body: &[u8]) -> Result<ClientMessage, DecodeError> {
    let kind = *body.first().ok_or(DecodeError::Truncated)?;
    let len = client_len(kind).ok_or(DecodeError::UnknownType)?;
    if body.len() < len {
        return Err(DecodeError::Truncated);
    }
    if body.len() > len {
        return Err(DecodeError::TrailingBytes);
    }
    let mut r = Reader::new(&body[1..]);
    let message = match kind {
        LOGIN => {
            let username = r.bytes::<USERNAME_LEN>()?;
            let password = r.bytes::<PASSWORD_LEN>()?;
            crate::session::decode_text(&username)?;
            crate::session::decode_text(&password)?;
            ClientMessage::Login {
                username,
                password,
                next_seq: r.u64()?,
            }
        }
        LOGOUT => ClientMessage::Logout,
        CLIENT_HEARTBEAT => ClientMessage::Heartbeat,
        SUBSCRIBE => ClientMessage::Subscribe {
            instrument: r.u32()?,
            subscribe: r.bool()?,
        },
        FEED_SUBSCRIBE => ClientMessage::FeedSubscribe {
            instrument: r.u32()?,
            feed: r.enum_u8()?,
            depth: r.u8()?,
            subscribe: r.bool()?,
        },
        RESEND_REQUEST => ClientMessage::ResendRequest {
            instrument: r.u32()?,
            feed: r.enum_u8()?,
            depth: r.u8()?,
            from_seq: r.u64()?,
            to_seq: r.u64()?,
        },
        _ => {
            let mut input = Vec::with_capacity(len + 4);
            stamp(body, 0, &mut input);
            return decode_command(&input).map(ClientMessage::Command);
        }
    };
    r.finish()?;
    Ok(message)
}

/// Appends a client message. Panics on a command clients cannot send (AddInstrument,
/// AddAccount): that is a bug in the caller.
pub fn encode_client(message: &ClientMessage, buf: &mut Vec<u8>) {
    let mut w = Writer::new(buf);
    match message {
        ClientMessage::Login {
            username,
            password,
            next_seq,
        } => {
            w.u8(LOGIN).bytes(username).bytes(password).u64(*next_seq);
        }
        ClientMessage::Logout => {
            w.u8(LOGOUT);
        }
        ClientMessage::Heartbeat => {
            w.u8(CLIENT_HEARTBEAT);
        }
        ClientMessage::Subscribe {
            instrument,
            subscribe,
        } => {
            w.u8(SUBSCRIBE).u32(*instrument).bool(*subscribe);
        }
        ClientMessage::FeedSubscribe {
            instrument,
            feed,
            depth,
            subscribe,
        } => {
            w.u8(FEED_SUBSCRIBE).u32(*instrument).u8(*feed as u8);
            w.u8(*depth).bool(*subscribe);
        }
        ClientMessage::ResendRequest {
            instrument,
            feed,
            depth,
            from_seq,
            to_seq,
        } => {
            w.u8(RESEND_REQUEST).u32(*instrument).u8(*feed as u8);
            w.u8(*depth).u64(*from_seq).u64(*to_seq);
        }
        ClientMessage::Command(cmd) => {
            let mut input = Vec::with_capacity(64);
            encode_command(cmd, &mut input);
            let kind = input[0];
            assert!(
                is_order_entry(kind) || is_admin(kind),
                "not a client command"
            );
            if is_order_entry(kind) {
                buf.push(kind);
                buf.extend_from_slice(&input[5..]);
            } else {
                buf.extend_from_slice(&input);
            }
        }
    }
}

/// The engine's stamp on an order response: where it sits in the account's stream
/// (`seq`, 0 for an unsequenced gateway reject) and when the engine sequenced it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub seq: u64,
    pub timestamp_ns: u64,
}

/// Where an L3 incremental sits in its instrument's feed, and when the engine
/// sequenced the command that caused it (Unix-epoch nanoseconds, the engine's clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedStamp {
    pub instrument: InstrumentId,
    pub feed_seq: u64,
    pub timestamp_ns: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerMessage {
    LoginAccepted {
        account: AccountId,
        role: Role,
        /// Identifies the stream numbering; a new value means the numbering restarted.
        epoch: u64,
        /// The sequence number of the first sequenced message that follows.
        next_seq: u64,
        /// The stream's next sequence number at login: messages from `next_seq` up to
        /// here are the replay, the ones after are live.
        replay_end: u64,
    },
    LoginRejected {
        reason: LoginRejectReason,
    },
    Heartbeat,
    Goodbye {
        reason: SessionEndReason,
        detail: u8,
    },
    Accepted {
        stamp: Stamp,
        client_order_id: ClientOrderId,
        order_id: OrderId,
        instrument: InstrumentId,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        post_only: bool,
        price: Price,
        qty: Qty,
    },
    Rejected {
        stamp: Stamp,
        command: CommandKind,
        /// An engine reject reason (1–25) or a gateway one (100–103).
        reason: u8,
        client_order_id: ClientOrderId,
    },
    Executed {
        stamp: Stamp,
        client_order_id: ClientOrderId,
        match_id: MatchId,
        instrument: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
        leaves: Qty,
        liquidity: Liquidity,
    },
    Cancelled {
        stamp: Stamp,
        client_order_id: ClientOrderId,
        instrument: InstrumentId,
        qty: Qty,
        /// An engine cancel reason (1–5) or 6, expired at the end of the day.
        reason: u8,
    },
    Replaced {
        stamp: Stamp,
        orig_client_order_id: ClientOrderId,
        client_order_id: ClientOrderId,
        instrument: InstrumentId,
        price: Price,
        qty: Qty,
        priority_kept: bool,
    },
    CancelRejected {
        stamp: Stamp,
        client_order_id: ClientOrderId,
        reason: u8,
    },
    MassCancelled {
        stamp: Stamp,
        /// `ALL_INSTRUMENTS` for every instrument.
        instrument: u32,
        count: u32,
    },
    TopOfBook {
        timestamp_ns: u64,
        instrument: InstrumentId,
        bid_price: Price,
        bid_qty: Qty,
        ask_price: Price,
        ask_qty: Qty,
    },
    TradeReport {
        timestamp_ns: u64,
        instrument: InstrumentId,
        match_id: MatchId,
        price: Price,
        qty: Qty,
        aggressor_side: Side,
    },
    OrderAdded {
        at: FeedStamp,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    },
    OrderReduced {
        at: FeedStamp,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
        remaining_qty: Qty,
    },
    OrderRemoved {
        at: FeedStamp,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
        reason: RemoveReason,
    },
    OrderReplaced {
        at: FeedStamp,
        order_id: OrderId,
        side: Side,
        old_price: Price,
        old_qty: Qty,
        price: Price,
        qty: Qty,
        priority_kept: bool,
    },
    Trade {
        at: FeedStamp,
        match_id: MatchId,
        price: Price,
        qty: Qty,
        aggressor_side: Side,
        maker_order_id: OrderId,
    },
    TradingStatus {
        at: FeedStamp,
        halted: bool,
    },
    /// One change to the best `depth` levels of one side (`qty` and `order_count` read 0
    /// for a Delete).
    LevelUpdate {
        instrument: InstrumentId,
        depth: u8,
        level_seq: u64,
        /// The L3 book event that caused it.
        feed_seq: u64,
        timestamp_ns: u64,
        side: Side,
        action: LevelAction,
        price: Price,
        qty: Qty,
        order_count: u32,
    },
    /// Opens a snapshot of `count` SnapshotOrder (L3) or SnapshotLevel (L2) entries,
    /// bids best first then asks best first, closed by SnapshotEnd. It covers the feed up
    /// to `feed_seq` (L3) and `level_seq` (L2, else 0); `checksum` is the CRC-32C book
    /// checksum of the entries.
    SnapshotBegin {
        instrument: InstrumentId,
        feed: FeedKind,
        depth: u8,
        feed_seq: u64,
        level_seq: u64,
        halted: bool,
        count: u32,
        checksum: u32,
    },
    SnapshotOrder {
        instrument: InstrumentId,
        side: Side,
        price: Price,
        order_id: OrderId,
        qty: Qty,
    },
    SnapshotLevel {
        instrument: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
        order_count: u32,
    },
    SnapshotEnd {
        instrument: InstrumentId,
        feed: FeedKind,
        depth: u8,
        feed_seq: u64,
        level_seq: u64,
    },
    /// A feed request refused; `feed` is `None` for the top-of-book Subscribe.
    FeedRejected {
        instrument: u32,
        feed: Option<FeedKind>,
        depth: u8,
        reason: FeedRejectReason,
    },
}

/// Size of a server message of this type, or `None` for an unknown type.
pub fn server_len(kind: u8) -> Option<usize> {
    const STAMP: usize = 16;
    const FEED_STAMP: usize = 4 + 8 + 8;
    Some(match kind {
        LOGIN_ACCEPTED => 1 + 4 + 1 + 8 + 8 + 8,
        LOGIN_REJECTED => 1 + 1,
        SERVER_HEARTBEAT => 1,
        GOODBYE => 1 + 1 + 1,
        ACCEPTED => 1 + STAMP + 8 + 8 + 4 + 4 + 8 + 8,
        REJECTED => 1 + STAMP + 1 + 1 + 8,
        EXECUTED => 1 + STAMP + 8 + 8 + 4 + 1 + 8 + 8 + 8 + 1,
        CANCELLED => 1 + STAMP + 8 + 4 + 8 + 1,
        REPLACED => 1 + STAMP + 8 + 8 + 4 + 8 + 8 + 1,
        CANCEL_REJECTED => 1 + STAMP + 8 + 1,
        MASS_CANCELLED => 1 + STAMP + 4 + 4,
        TOP_OF_BOOK => 1 + 8 + 4 + 8 * 4,
        TRADE_REPORT => 1 + 8 + 4 + 8 + 8 + 8 + 1,
        ORDER_ADDED => 1 + FEED_STAMP + 8 + 1 + 8 + 8,
        ORDER_REDUCED => 1 + FEED_STAMP + 8 + 1 + 8 + 8 + 8,
        ORDER_REMOVED => 1 + FEED_STAMP + 8 + 1 + 8 + 8 + 1,
        ORDER_REPLACED => 1 + FEED_STAMP + 8 + 1 + 8 + 8 + 8 + 8 + 1,
        TRADE => 1 + FEED_STAMP + 8 + 8 + 8 + 1 + 8,
        TRADING_STATUS => 1 + FEED_STAMP + 1,
        LEVEL_UPDATE => 1 + 4 + 1 + 8 + 8 + 8 + 1 + 1 + 8 + 8 + 4,
        SNAPSHOT_BEGIN => 1 + 4 + 1 + 1 + 8 + 8 + 1 + 4 + 4,
        SNAPSHOT_ORDER => 1 + 4 + 1 + 8 + 8 + 8,
        SNAPSHOT_LEVEL => 1 + 4 + 1 + 8 + 8 + 4,
        SNAPSHOT_END => 1 + 4 + 1 + 1 + 8 + 8,
        FEED_REJECTED => 1 + 4 + 1 + 1 + 1,
        _ => return None,
    })
}

/// Whether a server message of this type belongs to the account's sequenced stream
/// (when its `seq` is not 0).
pub fn is_sequenced(kind: u8) -> bool {
    matches!(
        kind,
        ACCEPTED | REJECTED | EXECUTED | CANCELLED | REPLACED | CANCEL_REJECTED | MASS_CANCELLED
    )
}

/// Whether `reason` is a reject reason a Rejected or CancelRejected may carry.
pub fn valid_reject_reason(reason: u8) -> bool {
    RejectReason::try_from(reason).is_ok() || GatewayRejectReason::try_from(reason).is_ok()
}

/// Whether `reason` is a reason a Cancelled may carry.
pub fn valid_cancel_reason(reason: u8) -> bool {
    CancelReason::try_from(reason).is_ok() || reason == CANCEL_REASON_EXPIRED
}

pub fn encode_server(message: &ServerMessage, buf: &mut Vec<u8>) {
    let start = buf.len();
    let mut w = Writer::new(buf);
    let stamp = |w: &mut Writer<'_>, s: &Stamp| {
        w.u64(s.seq).u64(s.timestamp_ns);
    };
    let feed_stamp = |w: &mut Writer<'_>, kind: u8, at: &FeedStamp| {
        w.u8(kind)
            .u32(at.instrument)
            .u64(at.feed_seq)
            .u64(at.timestamp_ns);
    };
    match message {
        ServerMessage::LoginAccepted {
            account,
            role,
            epoch,
            next_seq,
            replay_end,
        } => {
            w.u8(LOGIN_ACCEPTED).u32(*account).u8(*role as u8);
            w.u64(*epoch).u64(*next_seq).u64(*replay_end);
        }
        ServerMessage::LoginRejected { reason } => {
            w.u8(LOGIN_REJECTED).u8(*reason as u8);
        }
        ServerMessage::Heartbeat => {
            w.u8(SERVER_HEARTBEAT);
        }
        ServerMessage::Goodbye { reason, detail } => {
            w.u8(GOODBYE).u8(*reason as u8).u8(*detail);
        }
        ServerMessage::Accepted {
            stamp: s,
            client_order_id,
            order_id,
            instrument,
            side,
            order_type,
            time_in_force,
            post_only,
            price,
            qty,
        } => {
            w.u8(ACCEPTED);
            stamp(&mut w, s);
            w.u64(*client_order_id).u64(*order_id).u32(*instrument);
            w.u8(*side as u8)
                .u8(*order_type as u8)
                .u8(*time_in_force as u8);
            w.u8(if *post_only { FLAG_POST_ONLY } else { 0 });
            w.i64(*price).u64(*qty);
        }
        ServerMessage::Rejected {
            stamp: s,
            command,
            reason,
            client_order_id,
        } => {
            w.u8(REJECTED);
            stamp(&mut w, s);
            w.u8(*command as u8).u8(*reason).u64(*client_order_id);
        }
        ServerMessage::Executed {
            stamp: s,
            client_order_id,
            match_id,
            instrument,
            side,
            price,
            qty,
            leaves,
            liquidity,
        } => {
            w.u8(EXECUTED);
            stamp(&mut w, s);
            w.u64(*client_order_id).u64(*match_id).u32(*instrument);
            w.u8(*side as u8).i64(*price).u64(*qty).u64(*leaves);
            w.u8(*liquidity as u8);
        }
        ServerMessage::Cancelled {
            stamp: s,
            client_order_id,
            instrument,
            qty,
            reason,
        } => {
            w.u8(CANCELLED);
            stamp(&mut w, s);
            w.u64(*client_order_id)
                .u32(*instrument)
                .u64(*qty)
                .u8(*reason);
        }
        ServerMessage::Replaced {
            stamp: s,
            orig_client_order_id,
            client_order_id,
            instrument,
            price,
            qty,
            priority_kept,
        } => {
            w.u8(REPLACED);
            stamp(&mut w, s);
            w.u64(*orig_client_order_id).u64(*client_order_id);
            w.u32(*instrument)
                .i64(*price)
                .u64(*qty)
                .bool(*priority_kept);
        }
        ServerMessage::CancelRejected {
            stamp: s,
            client_order_id,
            reason,
        } => {
            w.u8(CANCEL_REJECTED);
            stamp(&mut w, s);
            w.u64(*client_order_id).u8(*reason);
        }
        ServerMessage::MassCancelled {
            stamp: s,
            instrument,
            count,
        } => {
            w.u8(MASS_CANCELLED);
            stamp(&mut w, s);
            w.u32(*instrument).u32(*count);
        }
        ServerMessage::TopOfBook {
            timestamp_ns,
            instrument,
            bid_price,
            bid_qty,
            ask_price,
            ask_qty,
        } => {
            w.u8(TOP_OF_BOOK).u64(*timestamp_ns).u32(*instrument);
            w.i64(*bid_price)
                .u64(*bid_qty)
                .i64(*ask_price)
                .u64(*ask_qty);
        }
        ServerMessage::TradeReport {
            timestamp_ns,
            instrument,
            match_id,
            price,
            qty,
            aggressor_side,
        } => {
            w.u8(TRADE_REPORT).u64(*timestamp_ns).u32(*instrument);
            w.u64(*match_id)
                .i64(*price)
                .u64(*qty)
                .u8(*aggressor_side as u8);
        }
        ServerMessage::OrderAdded {
            at,
            order_id,
            side,
            price,
            qty,
        } => {
            feed_stamp(&mut w, ORDER_ADDED, at);
            w.u64(*order_id).u8(*side as u8).i64(*price).u64(*qty);
        }
        ServerMessage::OrderReduced {
            at,
            order_id,
            side,
            price,
            qty,
            remaining_qty,
        } => {
            feed_stamp(&mut w, ORDER_REDUCED, at);
            w.u64(*order_id).u8(*side as u8).i64(*price).u64(*qty);
            w.u64(*remaining_qty);
        }
        ServerMessage::OrderRemoved {
            at,
            order_id,
            side,
            price,
            qty,
            reason,
        } => {
            feed_stamp(&mut w, ORDER_REMOVED, at);
            w.u64(*order_id).u8(*side as u8).i64(*price).u64(*qty);
            w.u8(*reason as u8);
        }
        ServerMessage::OrderReplaced {
            at,
            order_id,
            side,
            old_price,
            old_qty,
            price,
            qty,
            priority_kept,
        } => {
            feed_stamp(&mut w, ORDER_REPLACED, at);
            w.u64(*order_id)
                .u8(*side as u8)
                .i64(*old_price)
                .u64(*old_qty);
            w.i64(*price).u64(*qty).bool(*priority_kept);
        }
        ServerMessage::Trade {
            at,
            match_id,
            price,
            qty,
            aggressor_side,
            maker_order_id,
        } => {
            feed_stamp(&mut w, TRADE, at);
            w.u64(*match_id)
                .i64(*price)
                .u64(*qty)
                .u8(*aggressor_side as u8);
            w.u64(*maker_order_id);
        }
        ServerMessage::TradingStatus { at, halted } => {
            feed_stamp(&mut w, TRADING_STATUS, at);
            w.bool(*halted);
        }
        ServerMessage::LevelUpdate {
            instrument,
            depth,
            level_seq,
            feed_seq,
            timestamp_ns,
            side,
            action,
            price,
            qty,
            order_count,
        } => {
            w.u8(LEVEL_UPDATE).u32(*instrument).u8(*depth);
            w.u64(*level_seq).u64(*feed_seq).u64(*timestamp_ns);
            w.u8(*side as u8).u8(*action as u8).i64(*price).u64(*qty);
            w.u32(*order_count);
        }
        ServerMessage::SnapshotBegin {
            instrument,
            feed,
            depth,
            feed_seq,
            level_seq,
            halted,
            count,
            checksum,
        } => {
            w.u8(SNAPSHOT_BEGIN)
                .u32(*instrument)
                .u8(*feed as u8)
                .u8(*depth);
            w.u64(*feed_seq).u64(*level_seq).bool(*halted);
            w.u32(*count).u32(*checksum);
        }
        ServerMessage::SnapshotOrder {
            instrument,
            side,
            price,
            order_id,
            qty,
        } => {
            w.u8(SNAPSHOT_ORDER).u32(*instrument).u8(*side as u8);
            w.i64(*price).u64(*order_id).u64(*qty);
        }
        ServerMessage::SnapshotLevel {
            instrument,
            side,
            price,
            qty,
            order_count,
        } => {
            w.u8(SNAPSHOT_LEVEL).u32(*instrument).u8(*side as u8);
            w.i64(*price).u64(*qty).u32(*order_count);
        }
        ServerMessage::SnapshotEnd {
            instrument,
            feed,
            depth,
            feed_seq,
            level_seq,
        } => {
            w.u8(SNAPSHOT_END)
                .u32(*instrument)
                .u8(*feed as u8)
                .u8(*depth);
            w.u64(*feed_seq).u64(*level_seq);
        }
        ServerMessage::FeedRejected {
            instrument,
            feed,
            depth,
            reason,
        } => {
            w.u8(FEED_REJECTED).u32(*instrument);
            w.u8(feed.map_or(0, |f| f as u8))
                .u8(*depth)
                .u8(*reason as u8);
        }
    }
    assert_eq!(Some(buf.len() - start), server_len(buf[start]));
}

fn checked(value: u8, valid: fn(u8) -> bool) -> Result<u8, DecodeError> {
    if valid(value) {
        Ok(value)
    } else {
        Err(DecodeError::BadEnum)
    }
}

/// Decodes exactly one server message occupying all of `body`.
pub fn decode_server(body: &[u8]) -> Result<ServerMessage, DecodeError> {
    let kind = *body.first().ok_or(DecodeError::Truncated)?;
    let len = server_len(kind).ok_or(DecodeError::UnknownType)?;
    if body.len() < len {
        return Err(DecodeError::Truncated);
    }
    if body.len() > len {
        return Err(DecodeError::TrailingBytes);
    }
    let mut r = Reader::new(&body[1..]);
    let stamp = |r: &mut Reader<'_>| -> Result<Stamp, DecodeError> {
        Ok(Stamp {
            seq: r.u64()?,
            timestamp_ns: r.u64()?,
        })
    };
    let feed_stamp = |r: &mut Reader<'_>| -> Result<FeedStamp, DecodeError> {
        Ok(FeedStamp {
            instrument: r.u32()?,
            feed_seq: r.u64()?,
            timestamp_ns: r.u64()?,
        })
    };
    let message = match kind {
        LOGIN_ACCEPTED => ServerMessage::LoginAccepted {
            account: r.u32()?,
            role: r.enum_u8()?,
            epoch: r.u64()?,
            next_seq: r.u64()?,
            replay_end: r.u64()?,
        },
        LOGIN_REJECTED => ServerMessage::LoginRejected {
            reason: r.enum_u8()?,
        },
        SERVER_HEARTBEAT => ServerMessage::Heartbeat,
        GOODBYE => ServerMessage::Goodbye {
            reason: r.enum_u8()?,
            detail: r.u8()?,
        },
        ACCEPTED => {
            let stamp = stamp(&mut r)?;
            let client_order_id = r.u64()?;
            let order_id = r.u64()?;
            let instrument = r.u32()?;
            let side = r.enum_u8()?;
            let order_type = r.enum_u8()?;
            let time_in_force = r.enum_u8()?;
            let flags = r.u8()?;
            if flags & !FLAG_POST_ONLY != 0 {
                return Err(DecodeError::BadFlags);
            }
            ServerMessage::Accepted {
                stamp,
                client_order_id,
                order_id,
                instrument,
                side,
                order_type,
                time_in_force,
                post_only: flags != 0,
                price: r.i64()?,
                qty: r.u64()?,
            }
        }
        REJECTED => ServerMessage::Rejected {
            stamp: stamp(&mut r)?,
            command: r.enum_u8()?,
            reason: checked(r.u8()?, valid_reject_reason)?,
            client_order_id: r.u64()?,
        },
        EXECUTED => ServerMessage::Executed {
            stamp: stamp(&mut r)?,
            client_order_id: r.u64()?,
            match_id: r.u64()?,
            instrument: r.u32()?,
            side: r.enum_u8()?,
            price: r.i64()?,
            qty: r.u64()?,
            leaves: r.u64()?,
            liquidity: r.enum_u8()?,
        },
        CANCELLED => ServerMessage::Cancelled {
            stamp: stamp(&mut r)?,
            client_order_id: r.u64()?,
            instrument: r.u32()?,
            qty: r.u64()?,
            reason: checked(r.u8()?, valid_cancel_reason)?,
        },
        REPLACED => ServerMessage::Replaced {
            stamp: stamp(&mut r)?,
            orig_client_order_id: r.u64()?,
            client_order_id: r.u64()?,
            instrument: r.u32()?,
            price: r.i64()?,
            qty: r.u64()?,
            priority_kept: r.bool()?,
        },
        CANCEL_REJECTED => ServerMessage::CancelRejected {
            stamp: stamp(&mut r)?,
            client_order_id: r.u64()?,
            reason: checked(r.u8()?, valid_reject_reason)?,
        },
        MASS_CANCELLED => ServerMessage::MassCancelled {
            stamp: stamp(&mut r)?,
            instrument: r.u32()?,
            count: r.u32()?,
        },
        TOP_OF_BOOK => ServerMessage::TopOfBook {
            timestamp_ns: r.u64()?,
            instrument: r.u32()?,
            bid_price: r.i64()?,
            bid_qty: r.u64()?,
            ask_price: r.i64()?,
            ask_qty: r.u64()?,
        },
        TRADE_REPORT => ServerMessage::TradeReport {
            timestamp_ns: r.u64()?,
            instrument: r.u32()?,
            match_id: r.u64()?,
            price: r.i64()?,
            qty: r.u64()?,
            aggressor_side: r.enum_u8()?,
        },
        ORDER_ADDED => ServerMessage::OrderAdded {
            at: feed_stamp(&mut r)?,
            order_id: r.u64()?,
            side: r.enum_u8()?,
            price: r.i64()?,
            qty: r.u64()?,
        },
        ORDER_REDUCED => ServerMessage::OrderReduced {
            at: feed_stamp(&mut r)?,
            order_id: r.u64()?,
            side: r.enum_u8()?,
            price: r.i64()?,
            qty: r.u64()?,
            remaining_qty: r.u64()?,
        },
        ORDER_REMOVED => ServerMessage::OrderRemoved {
            at: feed_stamp(&mut r)?,
            order_id: r.u64()?,
            side: r.enum_u8()?,
            price: r.i64()?,
            qty: r.u64()?,
            reason: decode_remove_reason(r.u8()?).ok_or(DecodeError::BadEnum)?,
        },
        ORDER_REPLACED => ServerMessage::OrderReplaced {
            at: feed_stamp(&mut r)?,
            order_id: r.u64()?,
            side: r.enum_u8()?,
            old_price: r.i64()?,
            old_qty: r.u64()?,
            price: r.i64()?,
            qty: r.u64()?,
            priority_kept: r.bool()?,
        },
        TRADE => ServerMessage::Trade {
            at: feed_stamp(&mut r)?,
            match_id: r.u64()?,
            price: r.i64()?,
            qty: r.u64()?,
            aggressor_side: r.enum_u8()?,
            maker_order_id: r.u64()?,
        },
        TRADING_STATUS => ServerMessage::TradingStatus {
            at: feed_stamp(&mut r)?,
            halted: r.bool()?,
        },
        LEVEL_UPDATE => ServerMessage::LevelUpdate {
            instrument: r.u32()?,
            depth: r.u8()?,
            level_seq: r.u64()?,
            feed_seq: r.u64()?,
            timestamp_ns: r.u64()?,
            side: r.enum_u8()?,
            action: decode_level_action(r.u8()?).ok_or(DecodeError::BadEnum)?,
            price: r.i64()?,
            qty: r.u64()?,
            order_count: r.u32()?,
        },
        SNAPSHOT_BEGIN => ServerMessage::SnapshotBegin {
            instrument: r.u32()?,
            feed: r.enum_u8()?,
            depth: r.u8()?,
            feed_seq: r.u64()?,
            level_seq: r.u64()?,
            halted: r.bool()?,
            count: r.u32()?,
            checksum: r.u32()?,
        },
        SNAPSHOT_ORDER => ServerMessage::SnapshotOrder {
            instrument: r.u32()?,
            side: r.enum_u8()?,
            price: r.i64()?,
            order_id: r.u64()?,
            qty: r.u64()?,
        },
        SNAPSHOT_LEVEL => ServerMessage::SnapshotLevel {
            instrument: r.u32()?,
            side: r.enum_u8()?,
            price: r.i64()?,
            qty: r.u64()?,
            order_count: r.u32()?,
        },
        SNAPSHOT_END => ServerMessage::SnapshotEnd {
            instrument: r.u32()?,
            feed: r.enum_u8()?,
            depth: r.u8()?,
            feed_seq: r.u64()?,
            level_seq: r.u64()?,
        },
        FEED_REJECTED => ServerMessage::FeedRejected {
            instrument: r.u32()?,
            feed: match r.u8()? {
                0 => None,
                f => Some(FeedKind::try_from(f).map_err(|_| DecodeError::BadEnum)?),
            },
            depth: r.u8()?,
            reason: r.enum_u8()?,
        },
        _ => return Err(DecodeError::UnknownType),
    };
    r.finish()?;
    Ok(message)
}
