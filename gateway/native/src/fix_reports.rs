//! The account stream's order responses as FIX 4.4 application messages: Accepted,
//! Executed, Cancelled, Replaced → ExecutionReport (8); Rejected → ExecutionReport
//! (rejected), OrderCancelReject (9) or OrderMassCancelReport (r); CancelRejected →
//! OrderCancelReject; MassCancelled → OrderMassCancelReport. Each response first updates
//! the tracked orders and the pending requests of [`FixOrders`].

use ringex_core::{CommandKind, OrderType, RejectReason, Side, TimeInForce};
use ringex_protocol::client::ServerMessage;
use ringex_protocol::session::{GatewayRejectReason, CANCEL_REASON_EXPIRED};

use crate::fix_orders::{ord_status, OrderTracker, PendingRequests, TrackedOrder};
use crate::fix_price::units_to_price;
use crate::fix_symbols::FixSymbols;

/// FIX fields in order (tag, value).
pub type Fields = Vec<(u32, String)>;

/// A FIX application message to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Report {
    pub msg_type: &'static str,
    pub body: Fields,
}

const EXECUTION_REPORT: &str = "8";
const ORDER_CANCEL_REJECT: &str = "9";
const ORDER_MASS_CANCEL_REPORT: &str = "r";
/// Digits AvgPx keeps past the decimal point when the average does not divide exactly.
const AVG_PX_DECIMALS: u32 = 12;

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

    /// Applies an order response; the FIX report for it, if this session reports one.
    pub fn response(&mut self, m: &ServerMessage) -> Option<Report> {
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
                Some(self.execution_report(&order, '0', stamp.seq, Vec::new()))
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
                let last = vec![(31, units_to_price(price, decimals)), (32, qty.to_string())];
                Some(self.execution_report(&order, 'F', stamp.seq, last))
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
                let mut report =
                    self.execution_report(&order, char::from(status), stamp.seq, Vec::new());
                if let Some(cancel_id) = self.pending.cancels.take(client_order_id) {
                    with_ids(&mut report.body, cancel_id, client_order_id.to_string());
                }
                Some(report)
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
                let mut report = self.execution_report(&replaced?, '5', stamp.seq, Vec::new());
                let orig = orig_client_order_id.to_string();
                with_ids(&mut report.body, client_order_id.to_string(), orig);
                Some(report)
            }
            S::CancelRejected {
                client_order_id,
                reason,
                ..
            } => {
                let cancel_id = self.pending.cancels.take(client_order_id)?;
                let orig = client_order_id.to_string();
                Some(self.cancel_rejected(cancel_id, orig, '1', cxl_rej_reason(reason), reason))
            }
            S::MassCancelled { stamp, count, .. } => self.mass_cancel_report(stamp.seq, Ok(count)),
            S::Rejected {
                stamp,
                command,
                reason,
                client_order_id,
            } => self.rejected(stamp.seq, command, reason, client_order_id),
            _ => None,
        }
    }

    /// An ExecutionReport about `order`; `extra` follows its fields.
    pub fn execution_report(
        &self,
        order: &TrackedOrder,
        exec_type: char,
        seq: u64,
        extra: Fields,
    ) -> Report {
        let mut body = self.execution(order, exec_type, format!("E{seq}"));
        body.extend(extra);
        Report {
            msg_type: EXECUTION_REPORT,
            body,
        }
    }

    /// The fields of an ExecutionReport about `order`.
    pub fn execution(&self, order: &TrackedOrder, exec_type: char, exec_id: String) -> Fields {
        let symbol = self.symbols.by_instrument(order.instrument);
        let mut body = vec![
            (37, order.order_id.to_string()),
            (11, order.client_order_id.to_string()),
            (17, exec_id),
            (150, exec_type.to_string()),
            (39, char::from(order.status).to_string()),
            (55, symbol.name.clone()),
            (54, fix_side(order.side).to_owned()),
            (38, order.order_qty.to_string()),
            (40, fix_ord_type(order.order_type).to_owned()),
            (59, fix_time_in_force(order.time_in_force).to_owned()),
            (151, order.leaves.to_string()),
            (14, order.cum_qty.to_string()),
            (6, average_price(order, symbol.decimals)),
        ];
        if order.order_type == OrderType::Limit {
            body.push((44, units_to_price(order.price, symbol.decimals)));
        }
        body
    }

    /// An OrderCancelReject of request `cl_ord_id` about order `orig`.
    pub fn cancel_rejected(
        &self,
        cl_ord_id: String,
        orig: String,
        response_to: char,
        reason: &str,
        reject: u8,
    ) -> Report {
        self.cancel_reject(
            cl_ord_id,
            orig,
            response_to,
            reason,
            reject_reason_name(reject),
        )
    }

    /// An OrderCancelReject saying `text`.
    pub fn cancel_reject(
        &self,
        cl_ord_id: String,
        orig: String,
        response_to: char,
        reason: &str,
        text: String,
    ) -> Report {
        let order = orig.parse::<u64>().ok().and_then(|id| self.tracker.get(id));
        let order_id = order.map_or("NONE".to_owned(), |o| o.order_id.to_string());
        let status = order.map_or(ord_status::REJECTED, |o| o.status);
        Report {
            msg_type: ORDER_CANCEL_REJECT,
            body: vec![
                (37, order_id),
                (11, cl_ord_id),
                (41, orig),
                (39, char::from(status).to_string()),
                (434, response_to.to_string()),
                (102, reason.to_owned()),
                (58, text),
            ],
        }
    }

    /// The OrderMassCancelReport of this session's oldest mass cancel: `count` orders
    /// cancelled, or refused saying why.
    fn mass_cancel_report(&mut self, seq: u64, count: Result<u32, String>) -> Option<Report> {
        // Another session's mass cancel: its orders' reports say it all.
        let (cl_ord_id, kind) = self.pending.mass_cancels.pop_front()?;
        let response = if count.is_ok() {
            kind.clone()
        } else {
            "0".to_owned()
        };
        let mut body = vec![
            (11, cl_ord_id),
            (37, format!("M{seq}")),
            (530, kind),
            (531, response),
        ];
        match count {
            Ok(count) => body.push((533, count.to_string())),
            Err(text) => body.extend([(532, "99".to_owned()), (58, text)]),
        }
        Some(Report {
            msg_type: ORDER_MASS_CANCEL_REPORT,
            body,
        })
    }

    fn rejected(
        &mut self,
        seq: u64,
        command: CommandKind,
        reason: u8,
        coid: u64,
    ) -> Option<Report> {
        let text = reject_reason_name(reason);
        match command {
            CommandKind::Replace => {
                let orig = self.pending.replaces.take(coid)?;
                let cxl = cxl_rej_reason(reason);
                Some(self.cancel_reject(coid.to_string(), orig, '2', cxl, text))
            }
            CommandKind::MassCancel => self.mass_cancel_report(seq, Err(text)),
            _ => {
                // Another session's order when not pending here: it never existed.
                let pending = self.pending.new.take(coid)?;
                Some(Report {
                    msg_type: EXECUTION_REPORT,
                    body: vec![
                        (37, "NONE".to_owned()),
                        (11, coid.to_string()),
                        (17, format!("J{seq}-{coid}")),
                        (150, "8".to_owned()),
                        (39, "8".to_owned()),
                        (103, ord_rej_reason(reason).to_owned()),
                        (55, pending.symbol),
                        (54, fix_side(pending.side).to_owned()),
                        (151, "0".to_owned()),
                        (14, "0".to_owned()),
                        (6, "0".to_owned()),
                        (58, text),
                    ],
                })
            }
        }
    }
}

/// `body` answering request `cl_ord_id` about order `orig` (OrigClOrdID third).
fn with_ids(body: &mut Fields, cl_ord_id: String, orig: String) {
    for field in body.iter_mut().filter(|(tag, _)| *tag == 11) {
        field.1 = cl_ord_id.clone();
    }
    body.insert(2, (41, orig));
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

pub fn fix_side(side: Side) -> &'static str {
    match side {
        Side::Buy => "1",
        Side::Sell => "2",
    }
}

fn fix_ord_type(order_type: OrderType) -> &'static str {
    match order_type {
        OrderType::Market => "1",
        OrderType::Limit => "2",
    }
}

fn fix_time_in_force(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Day => "0",
        TimeInForce::Gtc => "1",
        TimeInForce::Ioc => "3",
        TimeInForce::Fok => "4",
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
