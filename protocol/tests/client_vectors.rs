//! The client session test vectors: bytes and fields of every message a client and the
//! gateway exchange, the fields under the specification's names. The file is the
//! contract; the Python client codec checks the same file. Regenerate it deliberately with
//! `RINGEX_WRITE_VECTORS=1 cargo test -p ringex-protocol --test client_vectors`.

mod common;

use common::wire_fields::wire_fields;
use ringex_core::market_data::{LevelAction, RemoveReason};
use ringex_core::*;
use ringex_protocol::client::*;
use ringex_protocol::command_codec::ALL_INSTRUMENTS;
use ringex_protocol::feed::{FeedKind, FeedRejectReason};
use ringex_protocol::reference::{DefinitionUpdate, InstrumentState};
use ringex_protocol::session::*;
use serde_json::{json, Value};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/client.json");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn client_samples() -> Vec<(&'static str, ClientMessage)> {
    let order = |side, order_type, time_in_force, price| ClientMessage::NewOrder {
        client_order_id: 1001,
        instrument: 3,
        side,
        order_type,
        time_in_force,
        post_only: false,
        price,
        qty: 25,
    };
    vec![
        (
            "login",
            ClientMessage::Login {
                username: encode_text("alice").unwrap(),
                password: encode_text("correct horse").unwrap(),
                next_seq: 1,
            },
        ),
        (
            "login_live_full_width",
            ClientMessage::Login {
                username: encode_text("0123456789abcdef").unwrap(),
                password: encode_text(" ~!pass word~ ").unwrap(),
                next_seq: 0,
            },
        ),
        ("logout", ClientMessage::Logout {}),
        ("heartbeat", ClientMessage::Heartbeat {}),
        (
            "new_order_limit_gtc",
            order(Side::Buy, OrderType::Limit, TimeInForce::Gtc, 10_050),
        ),
        (
            "new_order_market_ioc",
            order(Side::Sell, OrderType::Market, TimeInForce::Ioc, 0),
        ),
        (
            "new_order_fok",
            order(Side::Buy, OrderType::Limit, TimeInForce::Fok, 10_050),
        ),
        (
            "new_order_post_only_day_extremes",
            ClientMessage::NewOrder {
                instrument: u32::MAX - 1,
                client_order_id: u64::MAX,
                side: Side::Buy,
                order_type: OrderType::Limit,
                time_in_force: TimeInForce::Day,
                post_only: true,
                price: i64::MIN,
                qty: u64::MAX,
            },
        ),
        (
            "cancel",
            ClientMessage::Cancel {
                client_order_id: 1001,
            },
        ),
        (
            "replace",
            ClientMessage::Replace {
                orig_client_order_id: 1001,
                client_order_id: 1002,
                price: 10_040,
                qty: 20,
            },
        ),
        (
            "mass_cancel_instrument",
            ClientMessage::MassCancel { instrument: 3 },
        ),
        (
            "mass_cancel_all",
            ClientMessage::MassCancel {
                instrument: ALL_INSTRUMENTS,
            },
        ),
        (
            "subscribe",
            ClientMessage::Subscribe {
                instrument: 3,
                subscribe: true,
            },
        ),
        (
            "unsubscribe",
            ClientMessage::Subscribe {
                instrument: 3,
                subscribe: false,
            },
        ),
        (
            "feed_subscribe_l2_all",
            ClientMessage::FeedSubscribe {
                instrument: ALL_INSTRUMENTS,
                feed: FeedKind::L2,
                depth: 10,
                subscribe: true,
            },
        ),
        (
            "feed_unsubscribe_l3",
            ClientMessage::FeedSubscribe {
                instrument: 3,
                feed: FeedKind::L3,
                depth: 0,
                subscribe: false,
            },
        ),
        (
            "resend_request",
            ClientMessage::ResendRequest {
                instrument: 3,
                feed: FeedKind::L3,
                depth: 0,
                from_seq: 41,
                to_seq: 57,
            },
        ),
        ("end_of_day", ClientMessage::EndOfDay { request_id: 41 }),
        (
            "set_halted",
            ClientMessage::SetHalted {
                request_id: 42,
                instrument: 3,
                halted: true,
            },
        ),
        (
            "instrument_request_all",
            ClientMessage::InstrumentRequest {
                instrument: ALL_INSTRUMENTS,
            },
        ),
    ]
}

fn server_samples() -> Vec<(&'static str, ServerMessage)> {
    let stamp = Stamp {
        seq: 17,
        timestamp_ns: 1_763_800_000_123_456_789,
    };
    let at = FeedStamp {
        instrument: 3,
        feed_seq: 58,
        timestamp_ns: stamp.timestamp_ns,
    };
    vec![
        (
            "login_accepted",
            ServerMessage::LoginAccepted {
                account: 7,
                role: Role::Trader,
                epoch: 1_763_800_000_000_000_000,
                next_seq: 1,
                replay_end: 12,
            },
        ),
        (
            "session_parameters_defaults",
            ServerMessage::SessionParameters {
                heartbeat_ms: 1_000,
                idle_timeout_ms: 10_000,
                frame_timeout_ms: 2_000,
                login_timeout_ms: 5_000,
                answer_timeout_ms: 1_000,
                order_rate_per_s: 1_000,
                order_burst: 100,
                backlog_messages_max: 50_000,
                unsequenced_bytes_max: 1 << 20,
            },
        ),
        (
            "instrument_definition_halted",
            ServerMessage::InstrumentDefinition {
                stamp,
                instrument: 3,
                symbol: encode_text("BTC-USD").unwrap(),
                tick_size: 5,
                lot_size: 10,
                min_qty: 10,
                max_qty: ringex_protocol::reference::max_qty(10),
                reference_price: 10_000,
                price_band_bps: 500,
                state: InstrumentState::Halted,
                update: DefinitionUpdate::Halted,
            },
        ),
        (
            "instruments_end",
            ServerMessage::InstrumentsEnd {
                instrument: ALL_INSTRUMENTS,
                count: 4,
            },
        ),
        (
            "admin_result_done",
            ServerMessage::AdminResult {
                timestamp_ns: stamp.timestamp_ns,
                request_id: 42,
                command: CommandKind::SetHalted,
                reason: 0,
            },
        ),
        (
            "login_rejected",
            ServerMessage::LoginRejected {
                reason: LoginRejectReason::NotAuthorized,
            },
        ),
        ("heartbeat", ServerMessage::Heartbeat {}),
        (
            "goodbye_bad_input",
            ServerMessage::Goodbye {
                reason: SessionEndReason::BadInput,
                detail: 3,
            },
        ),
        (
            "accepted",
            ServerMessage::Accepted {
                stamp,
                client_order_id: 1001,
                order_id: 42,
                instrument: 3,
                side: Side::Buy,
                order_type: OrderType::Limit,
                time_in_force: TimeInForce::Day,
                post_only: true,
                price: 10_050,
                qty: 25,
            },
        ),
        (
            "rejected_engine",
            ServerMessage::Rejected {
                stamp,
                command: CommandKind::NewOrder,
                reason: RejectReason::DuplicateClientOrderId as u8,
                client_order_id: 1001,
            },
        ),
        (
            "rejected_gateway_unsequenced",
            ServerMessage::Rejected {
                stamp: Stamp {
                    seq: 0,
                    timestamp_ns: 0,
                },
                command: CommandKind::Replace,
                reason: GatewayRejectReason::RateLimited as u8,
                client_order_id: 1002,
            },
        ),
        (
            "executed_maker",
            ServerMessage::Executed {
                stamp,
                client_order_id: 1001,
                match_id: 9,
                instrument: 3,
                side: Side::Sell,
                price: 10_050,
                qty: 10,
                leaves: 15,
                liquidity: Liquidity::Maker,
            },
        ),
        (
            "executed_taker_extremes",
            ServerMessage::Executed {
                stamp: Stamp {
                    seq: u64::MAX,
                    timestamp_ns: u64::MAX,
                },
                client_order_id: u64::MAX,
                match_id: u64::MAX,
                instrument: u32::MAX,
                side: Side::Buy,
                price: i64::MIN,
                qty: u64::MAX,
                leaves: 0,
                liquidity: Liquidity::Taker,
            },
        ),
        (
            "cancelled",
            ServerMessage::Cancelled {
                stamp,
                client_order_id: 1001,
                instrument: 3,
                qty: 15,
                reason: CancelReason::Requested as u8,
            },
        ),
        (
            "cancelled_expired",
            ServerMessage::Cancelled {
                stamp,
                client_order_id: 1001,
                instrument: 3,
                qty: 15,
                reason: CANCEL_REASON_EXPIRED,
            },
        ),
        (
            "replaced",
            ServerMessage::Replaced {
                stamp,
                orig_client_order_id: 1001,
                client_order_id: 1002,
                instrument: 3,
                price: 10_040,
                qty: 20,
                priority_kept: false,
            },
        ),
        (
            "cancel_rejected",
            ServerMessage::CancelRejected {
                stamp,
                client_order_id: 1001,
                reason: RejectReason::UnknownOrder as u8,
            },
        ),
        (
            "mass_cancelled_all",
            ServerMessage::MassCancelled {
                stamp,
                instrument: ALL_INSTRUMENTS,
                count: 4,
            },
        ),
        (
            "top_of_book",
            ServerMessage::TopOfBook {
                timestamp_ns: stamp.timestamp_ns,
                instrument: 3,
                bid_price: 10_040,
                bid_qty: 30,
                ask_price: 10_060,
                ask_qty: 5,
            },
        ),
        (
            "top_of_book_one_sided",
            ServerMessage::TopOfBook {
                timestamp_ns: stamp.timestamp_ns,
                instrument: 3,
                bid_price: 0,
                bid_qty: 0,
                ask_price: 10_060,
                ask_qty: 5,
            },
        ),
        (
            "trade_report",
            ServerMessage::TradeReport {
                timestamp_ns: stamp.timestamp_ns,
                instrument: 3,
                match_id: 9,
                price: 10_050,
                qty: 10,
                aggressor_side: Side::Sell,
            },
        ),
        (
            "order_added",
            ServerMessage::OrderAdded {
                at,
                order_id: 42,
                side: Side::Buy,
                price: 10_050,
                qty: 25,
            },
        ),
        (
            "order_reduced",
            ServerMessage::OrderReduced {
                at,
                order_id: 42,
                side: Side::Buy,
                price: 10_050,
                qty: 10,
                remaining_qty: 15,
            },
        ),
        (
            "order_removed_expired",
            ServerMessage::OrderRemoved {
                at,
                order_id: 42,
                side: Side::Sell,
                price: -5,
                qty: 15,
                reason: RemoveReason::Expired,
            },
        ),
        (
            "order_replaced_priority_lost",
            ServerMessage::OrderReplaced {
                at,
                order_id: 42,
                side: Side::Buy,
                old_price: 10_050,
                old_qty: 15,
                price: 10_060,
                qty: 30,
                priority_kept: false,
            },
        ),
        (
            "trade",
            ServerMessage::Trade {
                at,
                match_id: 9,
                price: 10_050,
                qty: 10,
                aggressor_side: Side::Sell,
                maker_order_id: 42,
            },
        ),
        (
            "trading_status_halted",
            ServerMessage::TradingStatus { at, halted: true },
        ),
        (
            "level_update_delete",
            ServerMessage::LevelUpdate {
                instrument: 3,
                depth: 10,
                level_seq: 77,
                feed_seq: 58,
                timestamp_ns: stamp.timestamp_ns,
                side: Side::Sell,
                action: LevelAction::Delete,
                price: 10_060,
                qty: 0,
                order_count: 0,
            },
        ),
        (
            "level_update_add",
            ServerMessage::LevelUpdate {
                instrument: 3,
                depth: 1,
                level_seq: u64::MAX,
                feed_seq: u64::MAX,
                timestamp_ns: u64::MAX,
                side: Side::Buy,
                action: LevelAction::Add,
                price: i64::MIN,
                qty: u64::MAX,
                order_count: u32::MAX,
            },
        ),
        (
            "snapshot_begin_l3",
            ServerMessage::SnapshotBegin {
                instrument: 3,
                feed: FeedKind::L3,
                depth: 0,
                feed_seq: 58,
                level_seq: 0,
                halted: false,
                count: 3,
                checksum: 0xD362_3341,
            },
        ),
        (
            "snapshot_order",
            ServerMessage::SnapshotOrder {
                instrument: 3,
                side: Side::Buy,
                price: 100,
                order_id: 7,
                qty: 5,
            },
        ),
        (
            "snapshot_level",
            ServerMessage::SnapshotLevel {
                instrument: 3,
                side: Side::Sell,
                price: 101,
                qty: 2,
                order_count: 1,
            },
        ),
        (
            "snapshot_end_l2",
            ServerMessage::SnapshotEnd {
                instrument: 3,
                feed: FeedKind::L2,
                depth: 10,
                feed_seq: 58,
                level_seq: 77,
            },
        ),
        (
            "feed_rejected_resend_out_of_window",
            ServerMessage::FeedRejected {
                instrument: 3,
                feed: Some(FeedKind::L3),
                depth: 0,
                reason: FeedRejectReason::ResendOutOfWindow,
            },
        ),
        (
            "feed_rejected_subscribe_unknown_instrument",
            ServerMessage::FeedRejected {
                instrument: 99,
                feed: None,
                depth: 0,
                reason: FeedRejectReason::UnknownInstrument,
            },
        ),
    ]
}

fn build() -> Value {
    let client: Vec<Value> = client_samples()
        .iter()
        .map(|(name, m)| {
            let mut buf = Vec::new();
            encode_client(m, &mut buf);
            json!({"name": name, "hex": hex(&buf), "fields": wire_fields(CLIENT_MESSAGES, &buf)})
        })
        .collect();
    let server: Vec<Value> = server_samples()
        .iter()
        .map(|(name, m)| {
            let mut buf = Vec::new();
            encode_server(m, &mut buf);
            json!({"name": name, "hex": hex(&buf), "fields": wire_fields(SERVER_MESSAGES, &buf)})
        })
        .collect();
    json!({"client": client, "server": server})
}

#[test]
fn vectors_file_matches_the_codec() {
    let built = build();
    if std::env::var_os("RINGEX_WRITE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&built).unwrap() + "\n";
        std::fs::write(PATH, text).unwrap();
    }
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    for v in stored["client"].as_array().unwrap() {
        let bytes = unhex(v["hex"].as_str().unwrap());
        let message = decode_client(&bytes).unwrap();
        assert_eq!(
            wire_fields(CLIENT_MESSAGES, &bytes),
            v["fields"],
            "{}",
            v["name"]
        );
        let mut again = Vec::new();
        encode_client(&message, &mut again);
        assert_eq!(again, bytes, "{}", v["name"]);
    }
    for v in stored["server"].as_array().unwrap() {
        let bytes = unhex(v["hex"].as_str().unwrap());
        let message = decode_server(&bytes).unwrap();
        assert_eq!(
            wire_fields(SERVER_MESSAGES, &bytes),
            v["fields"],
            "{}",
            v["name"]
        );
        let mut again = Vec::new();
        encode_server(&message, &mut again);
        assert_eq!(again, bytes, "{}", v["name"]);
    }
    assert_eq!(stored, built, "samples and the stored vectors differ");
}

#[test]
fn stamped_order_messages_are_engine_inputs_with_the_account() {
    use ringex_protocol::command_codec::decode_command;
    for (name, message) in client_samples() {
        let Some(cmd) = message.command() else {
            continue;
        };
        let mut body = Vec::new();
        encode_client(&message, &mut body);
        let mut input = Vec::new();
        stamp(&body, 7, &mut input);
        let stamped = decode_command(&input).unwrap();
        if is_order_entry(body[0]) {
            assert_eq!(stamped.account(), 7, "{name}");
        }
        let mut unstamped = Vec::new();
        stamp(&body, 0, &mut unstamped);
        assert_eq!(decode_command(&unstamped).unwrap(), cmd, "{name}");
    }
}

#[test]
fn every_type_byte_has_a_sample() {
    let client: Vec<u8> = client_samples()
        .iter()
        .map(|(_, m)| {
            let mut b = Vec::new();
            encode_client(m, &mut b);
            b[0]
        })
        .collect();
    let server: Vec<u8> = server_samples()
        .iter()
        .map(|(_, m)| {
            let mut b = Vec::new();
            encode_server(m, &mut b);
            b[0]
        })
        .collect();
    for kind in 0..=u8::MAX {
        assert_eq!(client_len(kind).is_some(), client.contains(&kind), "{kind}");
        assert_eq!(server_len(kind).is_some(), server.contains(&kind), "{kind}");
    }
}
