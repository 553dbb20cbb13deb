//! Language-neutral field maps for commands and events: the shape of the test vectors
//! in `protocol/vectors/`, which the Python codec reads too. Fields have the names and
//! values of the spec's tables (`flags`, not a post-only boolean; `0xFFFFFFFF` for every
//! instrument); enums are their wire numbers; "type" is the message name.

use ringex_core::*;
use ringex_protocol::command_codec::{ALL_INSTRUMENTS, FLAG_POST_ONLY};
use serde_json::{json, Map, Value};

/// The `flags` byte of an order: the spec's name and layout for the post-only flag.
fn flags(post_only: bool) -> u8 {
    if post_only {
        FLAG_POST_ONLY
    } else {
        0
    }
}

/// An instrument's rules, as AddInstrument and InstrumentAdded carry them.
fn spec_fields(kind: &str, s: &InstrumentSpec) -> Value {
    json!({"type": kind, "instrument": s.instrument, "tick_size": s.tick_size,
        "lot_size": s.lot_size, "reference_price": s.reference_price,
        "price_band_bps": s.price_band_bps})
}

pub fn command_to_fields(cmd: &Command) -> Value {
    match cmd {
        Command::NewOrder(c) => json!({"type": "NewOrder", "account": c.account,
            "client_order_id": c.client_order_id, "instrument": c.instrument,
            "side": c.side as u8, "order_type": c.order_type as u8,
            "time_in_force": c.time_in_force as u8, "flags": flags(c.post_only),
            "price": c.price, "qty": c.qty}),
        Command::Cancel(c) => json!({"type": "Cancel", "account": c.account,
            "client_order_id": c.client_order_id}),
        Command::Replace(c) => json!({"type": "Replace", "account": c.account,
            "orig_client_order_id": c.orig_client_order_id,
            "client_order_id": c.client_order_id, "price": c.price, "qty": c.qty}),
        Command::MassCancel(c) => json!({"type": "MassCancel", "account": c.account,
            "instrument": c.instrument.unwrap_or(ALL_INSTRUMENTS)}),
        Command::EndOfDay => json!({"type": "EndOfDay"}),
        Command::AddInstrument(s) => spec_fields("AddInstrument", s),
        Command::AddAccount(s) => json!({"type": "AddAccount", "account": s.account,
            "max_order_qty": s.limits.max_order_qty,
            "max_order_notional": s.limits.max_order_notional.to_string(),
            "max_open_orders": s.limits.max_open_orders}),
        Command::SetHalted { instrument, halted } => json!({"type": "SetHalted",
            "instrument": instrument, "halted": halted}),
    }
}

pub fn event_to_fields(event: &Event) -> Value {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    match event {
        Event::Accepted {
            order_id,
            account,
            instrument,
            client_order_id,
            side,
            order_type,
            time_in_force,
            post_only,
            price,
            qty,
        } => {
            put("type", json!("Accepted"));
            put("order_id", json!(order_id));
            put("account", json!(account));
            put("instrument", json!(instrument));
            put("client_order_id", json!(client_order_id));
            put("side", json!(*side as u8));
            put("order_type", json!(*order_type as u8));
            put("time_in_force", json!(*time_in_force as u8));
            put("flags", json!(flags(*post_only)));
            put("price", json!(price));
            put("qty", json!(qty));
        }
        Event::Rejected {
            command,
            account,
            client_order_id,
            reason,
        } => {
            put("type", json!("Rejected"));
            put("command", json!(*command as u8));
            put("reason", json!(*reason as u8));
            put("account", json!(account));
            put("client_order_id", json!(client_order_id));
        }
        Event::Trade(t) => {
            put("type", json!("Trade"));
            put("match_id", json!(t.match_id));
            put("instrument", json!(t.instrument));
            put("aggressor_side", json!(t.aggressor_side as u8));
            put("price", json!(t.price));
            put("qty", json!(t.qty));
            put("maker_order_id", json!(t.maker_order_id));
            put("maker_account", json!(t.maker_account));
            put("maker_client_order_id", json!(t.maker_client_order_id));
            put("maker_leaves", json!(t.maker_leaves));
            put("taker_order_id", json!(t.taker_order_id));
            put("taker_account", json!(t.taker_account));
            put("taker_client_order_id", json!(t.taker_client_order_id));
            put("taker_leaves", json!(t.taker_leaves));
        }
        Event::Cancelled {
            order_id,
            account,
            instrument,
            client_order_id,
            qty,
            reason,
        } => {
            put("type", json!("Cancelled"));
            put("order_id", json!(order_id));
            put("account", json!(account));
            put("instrument", json!(instrument));
            put("client_order_id", json!(client_order_id));
            put("qty", json!(qty));
            put("reason", json!(*reason as u8));
        }
        Event::Replaced {
            order_id,
            account,
            instrument,
            orig_client_order_id,
            client_order_id,
            price,
            qty,
            priority_kept,
        } => {
            put("type", json!("Replaced"));
            put("order_id", json!(order_id));
            put("account", json!(account));
            put("instrument", json!(instrument));
            put("orig_client_order_id", json!(orig_client_order_id));
            put("client_order_id", json!(client_order_id));
            put("price", json!(price));
            put("qty", json!(qty));
            put("priority_kept", json!(priority_kept));
        }
        Event::Expired {
            order_id,
            account,
            instrument,
            client_order_id,
            qty,
        } => {
            put("type", json!("Expired"));
            put("order_id", json!(order_id));
            put("account", json!(account));
            put("instrument", json!(instrument));
            put("client_order_id", json!(client_order_id));
            put("qty", json!(qty));
        }
        Event::MassCancelled {
            account,
            instrument,
            count,
        } => {
            put("type", json!("MassCancelled"));
            put("account", json!(account));
            put("instrument", json!(instrument.unwrap_or(ALL_INSTRUMENTS)));
            put("count", json!(count));
        }
        Event::DayEnded { expired } => {
            put("type", json!("DayEnded"));
            put("expired", json!(expired));
        }
        Event::InstrumentAdded { spec } => return spec_fields("InstrumentAdded", spec),
        Event::AccountAdded { account } => {
            put("type", json!("AccountAdded"));
            put("account", json!(account));
        }
        Event::HaltChanged { instrument, halted } => {
            put("type", json!("HaltChanged"));
            put("instrument", json!(instrument));
            put("halted", json!(halted));
        }
    }
    Value::Object(m)
}
