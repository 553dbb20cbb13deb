//! Client session messages (gateway ⇄ client), one type byte then fixed-width
//! little-endian fields, carried in `u16`-prefixed frames (see [`crate::session`]).
//! Every message is declared once below; the encoders, decoders, sizes, the tables of
//! `protocol/SPEC.md` and the Python codec of the client library come from these
//! declarations (see `protocol/README.md`, "Adding a message").
//!
//! A client's order message is the engine input body without the account: the gateway
//! [`stamp`]s the session's account behind the type byte and forwards the bytes.

use ringex_core::market_data::{BookChange, BookEvent, LevelAction, RemoveReason};
use ringex_core::*;

use crate::command_codec::ALL_INSTRUMENTS;
use crate::declare::Family;
use crate::declare_messages;
use crate::feed::{FeedKind, FeedRejectReason};
pub use crate::field_codec::{valid_cancel_reason, valid_reject_reason, FeedStamp, Stamp};
use crate::field_codec::{AdminCode, CancelCode, PostOnlyFlags, RejectCode, RejectedFeed};
use crate::reference::{DefinitionUpdate, InstrumentState, SYMBOL_LEN};
use crate::session::{
    Liquidity, LoginRejectReason, Role, SessionEndReason, PASSWORD_LEN, USERNAME_LEN,
};

declare_messages! {
    /// A message a client sends to the gateway.
    pub enum ClientMessage;
    table CLIENT_MESSAGES, len client_len, family client_family,
    encode encode_client, decode decode_client;

    /// First message of a session. `next_seq` is the next stream sequence number the
    /// client expects (1 for everything held; 0 for no replay).
    LOGIN = b'L' => Login(Session) {
        username: [u8; USERNAME_LEN],
        password: [u8; PASSWORD_LEN],
        next_seq: u64 = "0",
    },
    /// Ends the session; the gateway answers Goodbye(Logout) and closes.
    LOGOUT = b'O' => Logout(Session) {},
    /// Nothing to say, still alive (both directions).
    CLIENT_HEARTBEAT = b'H' => Heartbeat(Session) {},
    /// Enter an order. Market orders carry price 0 and time in force IOC or FOK.
    NEW_ORDER = b'N' => NewOrder(OrderEntry) {
        client_order_id: ClientOrderId,
        instrument: InstrumentId,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        post_only: bool as PostOnlyFlags,
        price: Price,
        qty: Qty,
    },
    /// Cancel the open order with this client order id.
    CANCEL = b'X' => Cancel(OrderEntry) {
        client_order_id: ClientOrderId,
    },
    /// Cancel/replace: new price and open quantity; the order takes `client_order_id`
    /// (which may equal `orig_client_order_id`).
    REPLACE = b'U' => Replace(OrderEntry) {
        orig_client_order_id: ClientOrderId,
        client_order_id: ClientOrderId,
        price: Price,
        qty: Qty,
    },
    /// Cancel every open order of the account on `instrument` (`ALL_INSTRUMENTS`: on all).
    MASS_CANCEL = b'M' => MassCancel(OrderEntry) {
        instrument: u32 = "ALL_INSTRUMENTS",
    },
    /// Start (or stop) top-of-book and trade messages for an instrument.
    SUBSCRIBE = b'S' => Subscribe(MarketDataRequest) {
        instrument: InstrumentId,
        subscribe: bool = "True",
    },
    /// Admin only: close the trading day (DAY orders expire). Answered by AdminResult
    /// with the same `request_id`.
    END_OF_DAY = b'D' => EndOfDay(Admin) {
        request_id: u64,
    },
    /// Admin only: halt or resume trading in an instrument. Answered by AdminResult with
    /// the same `request_id`.
    SET_HALTED = b'T' => SetHalted(Admin) {
        request_id: u64,
        instrument: InstrumentId,
        halted: bool,
    },
    /// Start (a snapshot, then incrementals) or stop one feed of an instrument, or of
    /// every instrument with `ALL_INSTRUMENTS`. `depth` is the L2 depth, else 0.
    FEED_SUBSCRIBE = b'F' => FeedSubscribe(MarketDataRequest) {
        instrument: u32,
        feed: FeedKind,
        depth: u8 = "0",
        subscribe: bool = "True",
    },
    /// Ask for the definition of one instrument, or of every instrument with
    /// `ALL_INSTRUMENTS`: answered by InstrumentDefinitions, then InstrumentsEnd.
    INSTRUMENT_REQUEST = b'R' => InstrumentRequest(ReferenceRequest) {
        instrument: u32 = "ALL_INSTRUMENTS",
    },
    /// Ask for a feed's incrementals `from_seq..=to_seq` again (L2: level_seq).
    RESEND_REQUEST = b'G' => ResendRequest(MarketDataRequest) {
        instrument: InstrumentId,
        feed: FeedKind,
        depth: u8,
        from_seq: u64,
        to_seq: u64,
    },
}

declare_messages! {
    /// A message the gateway sends to a client.
    pub enum ServerMessage;
    table SERVER_MESSAGES, len server_len, family server_family,
    encode encode_server, decode decode_server;

    /// Login succeeded. Sequenced messages from `next_seq` up to `replay_end` are the
    /// replay; later ones are live. A new `epoch` means the numbering restarted.
    LOGIN_ACCEPTED = b'L' => LoginAccepted(Session) {
        account: AccountId,
        role: Role,
        epoch: u64,
        next_seq: u64,
        replay_end: u64,
    },
    /// Sent right after LoginAccepted: the session's limits and timers in force.
    SESSION_PARAMETERS = b'P' => SessionParameters(Session) {
        heartbeat_ms: u32,
        idle_timeout_ms: u32,
        frame_timeout_ms: u32,
        login_timeout_ms: u32,
        answer_timeout_ms: u32,
        order_rate_per_s: u32,
        order_burst: u32,
        backlog_messages_max: u32,
        unsequenced_bytes_max: u32,
    },
    /// Login refused; the gateway closes the connection.
    LOGIN_REJECTED = b'R' => LoginRejected(Session) {
        reason: LoginRejectReason,
    },
    /// Nothing to say, still alive (both directions).
    SERVER_HEARTBEAT = b'H' => Heartbeat(Session) {},
    /// The gateway ends the session, saying why; `detail` is the decode error code for
    /// `BAD_INPUT`.
    GOODBYE = b'Z' => Goodbye(Session) {
        reason: SessionEndReason,
        detail: u8 = "0",
    },
    /// The engine accepted a new order.
    ACCEPTED = b'A' => Accepted(OrderResponse) {
        stamp: Stamp,
        client_order_id: ClientOrderId,
        order_id: OrderId,
        instrument: InstrumentId,
        side: Side,
        order_type: OrderType,
        time_in_force: TimeInForce,
        post_only: bool as PostOnlyFlags,
        price: Price,
        qty: Qty,
    },
    /// A new order, replace or mass cancel was refused (an engine reason, 1 to 25, or a
    /// gateway one, 100 to 103).
    REJECTED = b'J' => Rejected(OrderResponse) {
        stamp: Stamp,
        command: CommandKind,
        reason: u8 as RejectCode,
        client_order_id: ClientOrderId,
    },
    /// A fill: `leaves` is the order's open quantity after it.
    EXECUTED = b'E' => Executed(OrderResponse) {
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
    /// An order's open quantity `qty` left the book (or never rested).
    CANCELLED = b'C' => Cancelled(OrderResponse) {
        stamp: Stamp,
        client_order_id: ClientOrderId,
        instrument: InstrumentId,
        qty: Qty,
        reason: u8 as CancelCode,
    },
    /// A cancel/replace took effect.
    REPLACED = b'U' => Replaced(OrderResponse) {
        stamp: Stamp,
        orig_client_order_id: ClientOrderId,
        client_order_id: ClientOrderId,
        instrument: InstrumentId,
        price: Price,
        qty: Qty,
        priority_kept: bool,
    },
    /// A cancel was refused.
    CANCEL_REJECTED = b'I' => CancelRejected(OrderResponse) {
        stamp: Stamp,
        client_order_id: ClientOrderId,
        reason: u8 as RejectCode,
    },
    /// A mass cancel took effect on `count` orders (`instrument` `ALL_INSTRUMENTS`: all).
    MASS_CANCELLED = b'M' => MassCancelled(OrderResponse) {
        stamp: Stamp,
        instrument: u32,
        count: u32,
    },
    /// An instrument's trading rules and state. `min_qty` is one lot; prices are
    /// positive multiples of `tick_size` within the price band (`price_band_bps` around
    /// the last trade price, or `reference_price` before the first trade; 0: no band).
    INSTRUMENT_DEFINITION = b'Y' => InstrumentDefinition(Reference) {
        stamp: Stamp,
        instrument: InstrumentId,
        symbol: [u8; SYMBOL_LEN],
        tick_size: Price,
        lot_size: Qty,
        min_qty: Qty,
        max_qty: Qty,
        reference_price: Price,
        price_band_bps: u32,
        state: InstrumentState,
        update: DefinitionUpdate,
    },
    /// Closes the answer to an InstrumentRequest: `count` definitions came before it
    /// (0: the instrument asked for is not listed).
    INSTRUMENTS_END = b'W' => InstrumentsEnd(Answer) {
        instrument: u32,
        count: u32,
    },
    /// The answer to an admin command: `reason` 0 when it took effect, else why it was
    /// refused (a reject reason).
    ADMIN_RESULT = b'K' => AdminResult(Answer) {
        timestamp_ns: u64,
        request_id: u64,
        command: CommandKind,
        reason: u8 as AdminCode,
    },
    /// Best bid and offer of a subscribed instrument; 0 and 0 for an empty side.
    TOP_OF_BOOK = b'Q' => TopOfBook(TopOfBook) {
        timestamp_ns: u64,
        instrument: InstrumentId,
        bid_price: Price,
        bid_qty: Qty,
        ask_price: Price,
        ask_qty: Qty,
    },
    /// A trade in a subscribed instrument.
    TRADE_REPORT = b'T' => TradeReport(TopOfBook) {
        timestamp_ns: u64,
        instrument: InstrumentId,
        match_id: MatchId,
        price: Price,
        qty: Qty,
        aggressor_side: Side,
    },
    /// L3: an order joined the back of the queue at `price`.
    ORDER_ADDED = b'a' => OrderAdded(BookEvent) {
        at: FeedStamp,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
    },
    /// L3: a resting order traded `qty` and keeps its place with `remaining_qty`.
    ORDER_REDUCED = b'r' => OrderReduced(BookEvent) {
        at: FeedStamp,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
        remaining_qty: Qty,
    },
    /// L3: a resting order left the book with `qty` open.
    ORDER_REMOVED = b'x' => OrderRemoved(BookEvent) {
        at: FeedStamp,
        order_id: OrderId,
        side: Side,
        price: Price,
        qty: Qty,
        reason: RemoveReason,
    },
    /// L3: a resting order now rests at `price` with `qty`; at the back of the level
    /// unless `priority_kept`.
    ORDER_REPLACED = b'u' => OrderReplaced(BookEvent) {
        at: FeedStamp,
        order_id: OrderId,
        side: Side,
        old_price: Price,
        old_qty: Qty,
        price: Price,
        qty: Qty,
        priority_kept: bool,
    },
    /// L3 and trades feeds: a match against the resting `maker_order_id`.
    TRADE = b't' => Trade(BookEvent) {
        at: FeedStamp,
        match_id: MatchId,
        price: Price,
        qty: Qty,
        aggressor_side: Side,
        maker_order_id: OrderId,
    },
    /// L3 and trades feeds: listed (not halted), halted or resumed.
    TRADING_STATUS = b's' => TradingStatus(BookEvent) {
        at: FeedStamp,
        halted: bool,
    },
    /// L2: one change to the best `depth` levels of a side (a Delete reads 0, 0);
    /// `feed_seq` is the L3 book event that caused it.
    LEVEL_UPDATE = b'l' => LevelUpdate(LevelUpdate) {
        instrument: InstrumentId,
        depth: u8,
        level_seq: u64,
        feed_seq: u64,
        timestamp_ns: u64,
        side: Side,
        action: LevelAction,
        price: Price,
        qty: Qty,
        order_count: u32,
    },
    /// Opens a snapshot of `count` entries covering the feed up to `feed_seq` (and
    /// `level_seq` for L2); `checksum` is the CRC-32C book checksum of the entries.
    SNAPSHOT_BEGIN = b'b' => SnapshotBegin(FeedControl) {
        instrument: InstrumentId,
        feed: FeedKind,
        depth: u8,
        feed_seq: u64,
        level_seq: u64,
        halted: bool,
        count: u32,
        checksum: u32,
    },
    /// One resting order of an L3 snapshot, in queue order.
    SNAPSHOT_ORDER = b'o' => SnapshotOrder(FeedControl) {
        instrument: InstrumentId,
        side: Side,
        price: Price,
        order_id: OrderId,
        qty: Qty,
    },
    /// One price level of an L2 snapshot.
    SNAPSHOT_LEVEL = b'v' => SnapshotLevel(FeedControl) {
        instrument: InstrumentId,
        side: Side,
        price: Price,
        qty: Qty,
        order_count: u32,
    },
    /// Closes a snapshot; the incrementals after it continue from `feed_seq`.
    SNAPSHOT_END = b'e' => SnapshotEnd(FeedControl) {
        instrument: InstrumentId,
        feed: FeedKind,
        depth: u8,
        feed_seq: u64,
        level_seq: u64,
    },
    /// A Subscribe (`feed` TOP_OF_BOOK, 0), FeedSubscribe or ResendRequest refused.
    FEED_REJECTED = b'f' => FeedRejected(FeedControl) {
        instrument: u32,
        feed: Option<FeedKind> as RejectedFeed,
        depth: u8,
        reason: FeedRejectReason,
    },
}

/// Whether a client message of this type is an order message, which the gateway
/// forwards with the session's account stamped in.
pub fn is_order_entry(kind: u8) -> bool {
    client_family(kind) == Some(Family::OrderEntry)
}

/// Whether a client message of this type is an administrative command (admin role).
pub fn is_admin(kind: u8) -> bool {
    client_family(kind) == Some(Family::Admin)
}

/// Whether a server message of this type belongs to the account's sequenced stream
/// (when its `seq` is not 0).
pub fn is_sequenced(kind: u8) -> bool {
    server_family(kind) == Some(Family::OrderResponse)
}

/// Writes the engine input for a client's order or admin message: order messages get
/// `account` behind the type byte, admin messages lose their `request_id` (the gateway
/// keeps it to answer with). The caller has checked `body` with [`decode_client`].
pub fn stamp(body: &[u8], account: AccountId, out: &mut Vec<u8>) {
    out.push(body[0]);
    if is_order_entry(body[0]) {
        out.extend_from_slice(&account.to_le_bytes());
        out.extend_from_slice(&body[1..]);
    } else {
        debug_assert!(is_admin(body[0]));
        out.extend_from_slice(&body[1 + ADMIN_REQUEST_ID_LEN..]);
    }
}

/// Width of the `request_id` that opens every admin message.
const ADMIN_REQUEST_ID_LEN: usize = 8;

/// The `request_id` of an admin message.
pub fn admin_request_id(message: &ClientMessage) -> Option<u64> {
    match *message {
        ClientMessage::EndOfDay { request_id } | ClientMessage::SetHalted { request_id, .. } => {
            Some(request_id)
        }
        _ => None,
    }
}

impl ClientMessage {
    /// The engine command an order or admin message asks for, with account 0 (the
    /// gateway stamps the session's); `None` for session and market data messages.
    pub fn command(&self) -> Option<Command> {
        Some(match *self {
            ClientMessage::NewOrder {
                client_order_id,
                instrument,
                side,
                order_type,
                time_in_force,
                post_only,
                price,
                qty,
            } => Command::NewOrder(NewOrder {
                account: 0,
                instrument,
                client_order_id,
                side,
                order_type,
                time_in_force,
                post_only,
                price,
                qty,
            }),
            ClientMessage::Cancel { client_order_id } => Command::Cancel(Cancel {
                account: 0,
                client_order_id,
            }),
            ClientMessage::Replace {
                orig_client_order_id,
                client_order_id,
                price,
                qty,
            } => Command::Replace(Replace {
                account: 0,
                orig_client_order_id,
                client_order_id,
                price,
                qty,
            }),
            ClientMessage::MassCancel { instrument } => Command::MassCancel(MassCancel {
                account: 0,
                instrument: (instrument != ALL_INSTRUMENTS).then_some(instrument),
            }),
            ClientMessage::EndOfDay { .. } => Command::EndOfDay,
            ClientMessage::SetHalted {
                instrument, halted, ..
            } => Command::SetHalted { instrument, halted },
            _ => return None,
        })
    }
}

/// Maps each book change onto the feed message of the same name and fields.
macro_rules! feed_message {
    ($change:expr, $at:ident; $($variant:ident { $($field:ident),* }),+ $(,)?) => {
        match $change {
            $(BookChange::$variant { $($field),* } => ServerMessage::$variant { $at, $($field),* },)+
        }
    };
}

impl ServerMessage {
    /// The L3 feed message of a book event.
    pub fn from_book_event(e: &BookEvent) -> ServerMessage {
        let at = FeedStamp {
            instrument: e.instrument,
            feed_seq: e.feed_seq,
            timestamp_ns: e.timestamp_ns,
        };
        feed_message!(e.change, at;
            OrderAdded { order_id, side, price, qty },
            OrderReduced { order_id, side, price, qty, remaining_qty },
            OrderRemoved { order_id, side, price, qty, reason },
            OrderReplaced { order_id, side, old_price, old_qty, price, qty, priority_kept },
            Trade { match_id, price, qty, aggressor_side, maker_order_id },
            TradingStatus { halted },
        )
    }
}
