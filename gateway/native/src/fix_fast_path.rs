//! The FIX hot path over whole batches: in-sequence, valid NewOrderSingles become binary
//! NewOrder frames for the gateway core, and order responses from the core become
//! ExecutionReports with their header, BodyLength and CheckSum, ready to write and to
//! record for resending. Anything else (session messages, out-of-sequence or invalid
//! messages, other requests) is left to the session layer, which gives the same answer
//! for a message whichever path takes it.

use ringex_core::{OrderType, Side, TimeInForce};
use ringex_protocol::client::{decode_server, encode_client, ClientMessage};
use ringex_protocol::frame::{split_frame, write_frame};
use ringex_protocol::session::{CLIENT_FRAME_MAX, CLIENT_PREFIX};

use crate::fix_codec;
use crate::fix_codec::decimal_str;
use crate::fix_groups::FixFields;
use crate::fix_orders::NewRequest;
use crate::fix_price::price_to_units;
use crate::fix_reports::{FixOrders, MsgType};

/// The session's identity and position, as the session layer holds them.
pub struct SessionHeader<'a> {
    pub comp_id: &'a str,
    pub peer_comp_id: &'a str,
}

fn value<'a>(fields: &FixFields<'a>, tag: u32) -> Option<&'a str> {
    fields
        .fields
        .iter()
        .find(|(t, _)| *t == tag)
        .map(|(_, v)| *v)
}

/// Digits only, 1 to 2^64-1 (what a ClOrdID and an OrderQty must be).
fn positive_u64(text: &str) -> Option<u64> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&n| n > 0)
}

/// Whether `fields` is NewOrderSingle `seq`, from the peer, with a valid header.
fn in_sequence_new_order(fields: &FixFields<'_>, header: &SessionHeader<'_>, seq: u64) -> bool {
    fields.groups.is_empty()
        && fields
            .fields
            .first()
            .is_some_and(|&(t, v)| t == 35 && v == "D")
        && value(fields, 34).and_then(|s| s.parse::<u64>().ok()) == Some(seq)
        && value(fields, 49) == Some(header.peer_comp_id)
        && value(fields, 56) == Some(header.comp_id)
        && value(fields, 52).is_some()
        && value(fields, 43) != Some("Y")
}

/// The NewOrder a valid NewOrderSingle asks for; `None` for anything the session layer
/// must answer (a missing or bad field, an unknown symbol, a price off the tick).
fn new_order(fields: &FixFields<'_>, orders: &FixOrders) -> Option<ClientMessage> {
    let client_order_id = positive_u64(value(fields, 11)?)?;
    let side = match value(fields, 54)? {
        "1" => Side::Buy,
        "2" => Side::Sell,
        _ => return None,
    };
    let order_type = match value(fields, 40)? {
        "1" => OrderType::Market,
        "2" => OrderType::Limit,
        _ => return None,
    };
    let time_in_force = match value(fields, 59).unwrap_or("0") {
        "0" => TimeInForce::Day,
        "1" => TimeInForce::Gtc,
        "3" => TimeInForce::Ioc,
        "4" => TimeInForce::Fok,
        _ => return None,
    };
    let qty = positive_u64(value(fields, 38)?)?;
    let post_only = match value(fields, 18) {
        None => false,
        Some("6") => true,
        Some(_) => return None,
    };
    value(fields, 60)?;
    let symbol = orders.symbols.by_name(value(fields, 55)?)?;
    let price = match order_type {
        OrderType::Limit => price_to_units(value(fields, 44)?, symbol.decimals).ok()?,
        OrderType::Market => 0,
    };
    Some(ClientMessage::NewOrder {
        client_order_id,
        instrument: symbol.instrument,
        side,
        order_type,
        time_in_force,
        post_only,
        price,
        qty,
    })
}

/// Takes `fields` as NewOrderSingle `seq` if it is one the gateway forwards as it is:
/// appends its NewOrder frame to `out` and remembers the request. False leaves it to the
/// session layer.
pub fn take_new_order(
    fields: &FixFields<'_>,
    header: &SessionHeader<'_>,
    seq: u64,
    orders: &mut FixOrders,
    out: &mut Vec<u8>,
) -> bool {
    if !in_sequence_new_order(fields, header, seq) {
        return false;
    }
    let Some(message) = new_order(fields, orders) else {
        return false;
    };
    let ClientMessage::NewOrder {
        client_order_id,
        instrument,
        side,
        ..
    } = message
    else {
        unreachable!("new_order builds a NewOrder");
    };
    orders
        .pending
        .new
        .put(client_order_id, NewRequest { instrument, side });
    write_frame(out, CLIENT_PREFIX, CLIENT_FRAME_MAX, |b| {
        encode_client(&message, b)
    });
    true
}

/// Room for one report's fields after the header, made once per batch.
const REPORT_BODY_BYTES: usize = 256;

/// ExecutionReports and other order reports of one batch, encoded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReportBatch {
    /// The messages, one after the other, as they go on the wire.
    pub wire: Vec<u8>,
    /// For the resend store, per message: u32 length, u64 MsgSeqNum, u64 stream number
    /// (little-endian), the message.
    pub records: Vec<u8>,
    /// Messages encoded (numbered from the `next_out` given).
    pub count: u64,
    /// The highest account stream number of the messages encoded.
    pub reported_seq: u64,
    /// The highest account stream number reported or passed over without a report.
    pub stream_seq: u64,
    /// Bytes of the input taken: it stops before a frame that is not an order response.
    pub consumed: usize,
}

/// Where a batch of reports goes: the session's header, its next outbound MsgSeqNum,
/// the SendingTime of the batch and how far the account stream was reported already.
pub struct ReportTarget<'a> {
    pub header: SessionHeader<'a>,
    pub next_out: u64,
    pub sending_time: &'a str,
    /// Responses numbered up to this were reported before (a reconnect): they update
    /// the orders and are not reported again.
    pub reported_to: u64,
    /// False while the session may not send application messages: nothing is encoded.
    pub sending: bool,
}

/// Turns the leading order responses of `frames` (the core's binary frames for the
/// session) into FIX messages.
///
/// `batch` is emptied first and filled: its buffers are reused from one batch to the
/// next, since allocating and freeing buffers this large made the allocator hand memory
/// back to the system and fault it in again, batch after batch.
pub fn report_batch(
    frames: &[u8],
    orders: &mut FixOrders,
    target: &ReportTarget<'_>,
    batch: &mut ReportBatch,
) {
    let (mut wire, mut records) = (
        std::mem::take(&mut batch.wire),
        std::mem::take(&mut batch.records),
    );
    wire.clear();
    records.clear();
    *batch = ReportBatch {
        wire,
        records,
        ..ReportBatch::default()
    };
    let mut body = Vec::with_capacity(REPORT_BODY_BYTES);
    while let Ok(Some((frame, len))) =
        split_frame(&frames[batch.consumed..], CLIENT_PREFIX, CLIENT_FRAME_MAX)
    {
        let Ok(message) = decode_server(frame) else {
            break;
        };
        if !FixOrders::handles(&message) {
            break;
        }
        batch.consumed += len;
        let seq = stream_seq(&message);
        let fresh = seq == 0 || seq > target.reported_to;
        body.clear();
        let msg_type = orders.response(&message, &mut body).filter(|_| fresh);
        match msg_type {
            Some(msg_type) if target.sending => {
                encode_report(msg_type, &body, seq, target, batch);
                batch.reported_seq = batch.reported_seq.max(seq);
                batch.stream_seq = batch.stream_seq.max(seq);
            }
            Some(_) => {}
            None if seq > target.reported_to => batch.stream_seq = batch.stream_seq.max(seq),
            None => {}
        }
    }
}

fn stream_seq(m: &ringex_protocol::client::ServerMessage) -> u64 {
    use ringex_protocol::client::ServerMessage as S;
    match *m {
        S::Accepted { stamp, .. }
        | S::Executed { stamp, .. }
        | S::Cancelled { stamp, .. }
        | S::Replaced { stamp, .. }
        | S::CancelRejected { stamp, .. }
        | S::MassCancelled { stamp, .. }
        | S::Rejected { stamp, .. } => stamp.seq,
        _ => 0,
    }
}

fn encode_report(
    msg_type: MsgType,
    body: &[u8],
    stream_seq: u64,
    target: &ReportTarget<'_>,
    batch: &mut ReportBatch,
) {
    let msg_seq = target.next_out + batch.count;
    let mut digits = [0; 20];
    let header = [
        (35, msg_type),
        (49, target.header.comp_id),
        (56, target.header.peer_comp_id),
        (34, decimal_str(msg_seq, &mut digits)),
        (52, target.sending_time),
    ];
    let start = batch.wire.len();
    fix_codec::encode_with_body(&header, body, &mut batch.wire)
        .expect("the session's CompIDs and SendingTime are printable");
    let message = &batch.wire[start..];
    let length = u32::try_from(message.len()).expect("a message is far below 4 GiB");
    batch.records.extend_from_slice(&length.to_le_bytes());
    batch.records.extend_from_slice(&msg_seq.to_le_bytes());
    batch.records.extend_from_slice(&stream_seq.to_le_bytes());
    batch.records.extend_from_slice(message);
    batch.count += 1;
}
