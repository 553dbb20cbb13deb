//! The account stream's order responses as FIX 4.4 application messages: Accepted,
//! Executed, Cancelled, Replaced → ExecutionReport (8); Rejected → ExecutionReport
//! (rejected), OrderCancelReject (9) or OrderMassCancelReport (r); CancelRejected →
//! OrderCancelReject; MassCancelled → OrderMassCancelReport. Each response first updates
//! the tracked orders and the pending requests of [`FixOrders`]; a report's fields are
//! written straight into bytes ([`FixBody`]), as they go on the wire.

use ringex_core::{CommandKind, OrderType, RejectReason, Side, TimeInForce};
use ringex_protocol::client::ServerMessage;
use ringex_protocol::session::{GatewayRejectReason, CANCEL_REASON_EXPIRED};

use crate::fix_body::FixBody;
use crate::fix_codec::decimal_str;
use crate::fix_orders::{ord_status, OrderTracker, PendingRequests};
use crate::fix_price::units_to_price;
use crate::fix_symbols::FixSymbols;
use crate::fix_tracked_order::TrackedOrder;

/// FIX fields in order (tag, value).
pub type Fields = Vec<(u32, String)>;

/// MsgType of a FIX application message.
pub type MsgType = &'static str;

const EXECUTION_REPORT: MsgType = "8";
const ORDER_CANCEL_REJECT: MsgType = "9";
const ORDER_MASS_CANCEL_REPORT: MsgType = "r";
/// Digits AvgPx keeps past the decimal point when the average does not divide exactly.
const AVG_PX_DECIMALS: u32 = 12;

/// ExecID (17) of an ExecutionReport.
#[derive(Clone, Copy)]
pub enum ExecId<'a> {
    /// `E` and the account stream number of the response reported.
    Stream(u64),
    /// Given by the request answered.
    Text(&'a str),
}

/// The request an ExecutionReport answers, when it is not the order's own: its
/// ClOrdID (11) and the OrigClOrdID (41) it names.
#[derive(Clone, Copy)]
pub struct RequestIds<'a> {
    pub cl_ord_id: &'a str,
    pub orig: &'a str,
}

/// One FIX session's view of the account's orders and of its own pending requests.
pub struct FixOrders {
    pub symbols: FixSymbols,
    pub tracker: OrderTracker,
    pub pending: PendingRequests,
}

impl FixOrders {
    pub fn new(symbols: FixSymbols, max_orders: usize) -> FixOrders {
        FixOrders {
            symbols,
            tracker: OrderTracker::new(max_orders),
            pending: PendingRequests::default(),
        }
    }

    /// Whether `m` is an order response this module reports.
    pub fn handles(m: &ServerMessage) -> bool {
        use ServerMessage as S;
        matches!(
            m,
            S::Accepted { .. }
                | S::Executed { .. }
                | S::Cancelled { .. }
                | S::Replaced { .. }
                | S::CancelRejected { .. }
                | S::MassCancelled { .. }
                | S::Rejected { .. }
        )
    }

    /// Applies an order response; if this session reports one, appends the report's
    /// fields to `body` and returns its MsgType.
    pub fn response(&mut self, m: &ServerMessage, body: &mut Vec<u8>) -> Option<MsgType> {
        use ServerMessage as S;
        match *m {
            S::Accepted {
                stamp,
                client_order_id,
                order_id,
                instrument,
                side,
                order_type,
                time_in_force,
                price,
                qty,
                ..
            } => {
                let order = self.tracker.accepted(TrackedOrder {
                    client_order_id,
                    order_id,
                    instrument,
                    side,
                    order_type,
                    time_in_force,
                    price,
                    order_qty: qty,
                    cum_qty: 0,
                    notional: 0,
                    leaves: qty,
                    status: ord_status::NEW,
                });
                self.pending.new.take(client_order_id);
                self.execution(&order, b'0', ExecId::Stream(stamp.seq), None, body);
                Some(EXECUTION_REPORT)
            }
            S::Executed {
                stamp,
                client_order_id,
                price,
                qty,
                leaves,
                ..
            } => {
                let order = self.tracker.executed(client_order_id, price, qty, leaves)?;
                let decimals = self.symbols.by_instrument(order.instrument).decimals;
                self.execution(&order, b'F', ExecId::Stream(stamp.seq), None, body);
                FixBody(body).price(31, price, decimals).number(32, qty);
                Some(EXECUTION_REPORT)
            }
            S::Cancelled {
                stamp,
                client_order_id,
                reason,
                ..
            } => {
                let status = if reason == CANCEL_REASON_EXPIRED {
                    ord_status::EXPIRED
                } else {
                    ord_status::CANCELED
                };
                let order = self.tracker.cancelled(client_order_id, status)?;
                let cancel_id = self.pending.cancels.take(client_order_id);
                let mut digits = [0; 20];
                let ids = cancel_id.as_deref().map(|cl_ord_id| RequestIds {
                    cl_ord_id,
                    orig: decimal_str(client_order_id, &mut digits),
                });
                self.execution(&order, status, ExecId::Stream(stamp.seq), ids, body);
                Some(EXECUTION_REPORT)
            }
            S::Replaced {
                stamp,
                orig_client_order_id,
                client_order_id,
                price,
                qty,
                ..
            } => {
                let replaced =
                    self.tracker
                        .replaced(orig_client_order_id, client_order_id, price, qty);
                self.pending.replaces.take(client_order_id);
                let (mut new_digits, mut orig_digits) = ([0; 20], [0; 20]);
                let ids = RequestIds {
                    cl_ord_id: decimal_str(client_order_id, &mut new_digits),
                    orig: decimal_str(orig_client_order_id, &mut orig_digits),
                };
                self.execution(&replaced?, b'5', ExecId::Stream(stamp.seq), Some(ids), body);
                Some(EXECUTION_REPORT)
            }
            S::CancelRejected {
                client_order_id,
                reason,
                ..
            } => {
                let cancel_id = self.pending.cancels.take(client_order_id)?;
                let mut digits = [0; 20];
                let ids = RequestIds {
                    cl_ord_id: &cancel_id,
                    orig: decimal_str(client_order_id, &mut digits),
                };
                let text = reject_reason_name(reason);
                Some(self.cancel_reject(ids, b'1', cxl_rej_reason(reason), &text, body))
            }
            S::MassCancelled { stamp, count, .. } => {
                self.mass_cancel_report(stamp.seq, Ok(count), body)
            }
            S::Rejected {
                stamp,
                command,
                reason,
                client_order_id,
            } => self.rejected(stamp.seq, command, reason, client_order_id, body),
            _ => None,
        }
    }

    /// Appends the fields of an ExecutionReport about `order` to `body`; `ids` name the
    /// request it answers when that is not the order's own.
    pub fn execution(
        &self,
        order: &TrackedOrder,
        exec_type: u8,
        exec_id: ExecId<'_>,
        ids: Option<RequestIds<'_>>,
        body: &mut Vec<u8>,
    ) {
        let symbol = self.symbols.by_instrument(order.instrument);
        let mut body = FixBody(body);
        body.number(37, order.order_id);
        match ids {
            Some(ids) => body.text(11, ids.cl_ord_id).text(41, ids.orig),
            None => body.number(11, order.client_order_id),
        };
        match exec_id {
            ExecId::Stream(seq) => body.prefixed(17, "E", seq),
            ExecId::Text(text) => body.text(17, text),
        };
        body.code(150, exec_type)
            .code(39, order.status)
            .text(55, &symbol.name)
            .code(54, fix_side(order.side))
            .number(38, order.order_qty)
            .code(40, fix_ord_type(order.order_type))
            .code(59, fix_time_in_force(order.time_in_force))
            .number(151, order.leaves)
            .number(14, order.cum_qty);
        if order.cum_qty == 0 {
            body.number(6, 0);
        } else {
            body.text(6, &average_price(order, symbol.decimals));
        }
        if order.order_type == OrderType::Limit {
            body.price(44, order.price, symbol.decimals);
        }
    }

    /// Appends the fields of an OrderCancelReject of request `ids` saying `text` to
    /// `body`; returns its MsgType.
    pub fn cancel_reject(
        &self,
        ids: RequestIds<'_>,
        response_to: u8,
        reason: &str,
        text: &str,
        body: &mut Vec<u8>,
    ) -> MsgType {
        let order = ids
            .orig
            .parse::<u64>()
            .ok()
            .and_then(|id| self.tracker.get(id));
        let mut body = FixBody(body);
        match order {
            Some(order) => body.number(37, order.order_id),
            None => body.text(37, "NONE"),
        };
        body.text(11, ids.cl_ord_id)
            .text(41, ids.orig)
            .code(39, order.map_or(ord_status::REJECTED, |o| o.status))
            .code(434, response_to)
            .text(102, reason)
            .text(58, text);
        ORDER_CANCEL_REJECT
    }

    /// The OrderMassCancelReport of this session's oldest mass cancel: `count` orders
    /// cancelled, or refused saying why.
    fn mass_cancel_report(
        &mut self,
        seq: u64,
        count: Result<u32, String>,
        body: &mut Vec<u8>,
    ) -> Option<MsgType> {
        // Another session's mass cancel: its orders' reports say it all.
        let (cl_ord_id, kind) = self.pending.mass_cancels.pop_front()?;
        let mut body = FixBody(body);
        body.text(11, &cl_ord_id)
            .prefixed(37, "M", seq)
            .text(530, &kind);
        match count {
            Ok(count) => body.text(531, &kind).number(533, u64::from(count)),
            Err(text) => body.code(531, b'0').text(532, "99").text(58, &text),
        };
        Some(ORDER_MASS_CANCEL_REPORT)
    }

    fn rejected(
        &mut self,
        seq: u64,
        command: CommandKind,
        reason: u8,
        coid: u64,
        body: &mut Vec<u8>,
    ) -> Option<MsgType> {
        let text = reject_reason_name(reason);
        match command {
            CommandKind::Replace => {
                let orig = self.pending.replaces.take(coid)?;
                let mut digits = [0; 20];
                let ids = RequestIds {
                    cl_ord_id: decimal_str(coid, &mut digits),
                    orig: &orig,
                };
                Some(self.cancel_reject(ids, b'2', cxl_rej_reason(reason), &text, body))
            }
            CommandKind::MassCancel => self.mass_cancel_report(seq, Err(text), body),
            _ => {
                // Another session's order when not pending here: it never existed.
                let pending = self.pending.new.take(coid)?;
                let symbol = self.symbols.by_instrument(pending.instrument);
                FixBody(body)
                    .text(37, "NONE")
                    .number(11, coid)
                    .text(17, &format!("J{seq}-{coid}"))
                    .code(150, b'8')
                    .code(39, ord_status::REJECTED)
                    .text(103, ord_rej_reason(reason))
                    .text(55, &symbol.name)
                    .code(54, fix_side(pending.side))
                    .number(151, 0)
                    .number(14, 0)
                    .number(6, 0)
                    .text(58, &text);
                Some(EXECUTION_REPORT)
            }
        }
    }
}

/// AvgPx: the fills' notional over their quantity, exact when it divides, else rounded
/// half to even at [`AVG_PX_DECIMALS`] places, without exponent or trailing zeros.
pub fn average_price(order: &TrackedOrder, decimals: u32) -> String {
    if order.cum_qty == 0 {
        return "0".to_owned();
    }
    let qty = i128::from(order.cum_qty);
    let whole = || {
        let units = i64::try_from(order.notional / qty).expect("an average of i64 prices");
        units_to_price(units, decimals)
    };
    if order.notional % qty == 0 {
        return whole();
    }
    // The average in units of 10^-AVG_PX_DECIMALS is numerator / denominator.
    let (numerator, denominator) = if decimals <= AVG_PX_DECIMALS {
        let scale = 10i128.pow(AVG_PX_DECIMALS - decimals);
        (order.notional.checked_mul(scale), Some(qty))
    } else {
        let scale = 10i128.pow(decimals - AVG_PX_DECIMALS);
        (Some(order.notional), qty.checked_mul(scale))
    };
    let (Some(numerator), Some(denominator)) = (numerator, denominator) else {
        return whole(); // beyond i128: the average to the price unit
    };
    let (quotient, rest) = (
        numerator.div_euclid(denominator),
        numerator.rem_euclid(denominator),
    );
    let up = 2 * rest > denominator || (2 * rest == denominator && quotient % 2 != 0);
    let text = decimal_text(quotient + i128::from(up), AVG_PX_DECIMALS);
    let text = text.trim_end_matches('0');
    text.strip_suffix('.').unwrap_or(text).to_owned()
}

/// `units` of `10^-places` as a decimal with all `places` digits.
fn decimal_text(units: i128, places: u32) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let digits = format!(
        "{:0width$}",
        units.unsigned_abs(),
        width = places as usize + 1
    );
    let (whole, fraction) = digits.split_at(digits.len() - places as usize);
    format!("{sign}{whole}.{fraction}")
}

fn fix_side(side: Side) -> u8 {
    match side {
        Side::Buy => b'1',
        Side::Sell => b'2',
    }
}

fn fix_ord_type(order_type: OrderType) -> u8 {
    match order_type {
        OrderType::Market => b'1',
        OrderType::Limit => b'2',
    }
}

fn fix_time_in_force(tif: TimeInForce) -> u8 {
    match tif {
        TimeInForce::Day => b'0',
        TimeInForce::Gtc => b'1',
        TimeInForce::Ioc => b'3',
        TimeInForce::Fok => b'4',
    }
}

/// OrdRejReason (103) for an engine or gateway reject reason.
fn ord_rej_reason(reason: u8) -> &'static str {
    use RejectReason as R;
    match RejectReason::try_from(reason) {
        Ok(R::UnknownInstrument) => "1",
        Ok(R::InstrumentHalted) => "2",
        Ok(R::MaxOrderQty | R::MaxOrderNotional | R::MaxOpenOrders | R::PositionLimit) => "3",
        Ok(R::UnknownOrder) => "5",
        Ok(R::DuplicateClientOrderId) => "6",
        Ok(R::InvalidQuantity | R::QtyNotOnLot) => "13",
        Ok(R::UnknownAccount) => "15",
        _ => "99",
    }
}

/// CxlRejReason (102) for an engine or gateway reject reason.
fn cxl_rej_reason(reason: u8) -> &'static str {
    match RejectReason::try_from(reason) {
        Ok(RejectReason::TooLateToCancel) => "0",
        Ok(RejectReason::UnknownOrder) => "1",
        Ok(RejectReason::DuplicateClientOrderId) => "6",
        _ => "99",
    }
}

/// The reason's name as the protocol's enums spell it (`UNKNOWN_ORDER`), for Text.
pub fn reject_reason_name(reason: u8) -> String {
    let name = match (
        RejectReason::try_from(reason),
        GatewayRejectReason::try_from(reason),
    ) {
        (Ok(r), _) => format!("{r:?}"),
        (_, Ok(r)) => format!("{r:?}"),
        _ => return reason.to_string(),
    };
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(notional: i128, cum_qty: u64) -> TrackedOrder {
        TrackedOrder {
            client_order_id: 1,
            order_id: 1,
            instrument: 1,
            side: Side::Buy,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            price: 0,
            order_qty: cum_qty,
            cum_qty,
            notional,
            leaves: 0,
            status: ord_status::FILLED,
        }
    }

    #[test]
    fn average_price_is_exact_or_rounded_half_even_at_twelve_places() {
        assert_eq!(average_price(&filled(0, 0), 2), "0");
        assert_eq!(average_price(&filled(300_075, 3), 2), "1000.25");
        assert_eq!(average_price(&filled(200_051, 2), 2), "1000.255");
        assert_eq!(average_price(&filled(100, 3), 2), "0.333333333333");
        assert_eq!(average_price(&filled(200, 3), 0), "66.666666666667");
        assert_eq!(average_price(&filled(-200, 3), 0), "-66.666666666667");
        assert_eq!(average_price(&filled(1, 2), 14), "0");
        assert_eq!(average_price(&filled(15, 2), 13), "0.000000000001");
    }

    #[test]
    fn reason_names_are_spelled_as_the_protocol_enums() {
        assert_eq!(reject_reason_name(9), "UNKNOWN_ORDER");
        assert_eq!(reject_reason_name(100), "RATE_LIMITED");
    }
}
