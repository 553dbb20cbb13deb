//! An input as one JSON object, for `journal dump --format json`: every field is a
//! number, a boolean or a fixed name, so no escaping is ever needed.

use ringex_core::{Command, Side, TimeInForce};
use ringex_protocol::Input;

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn time_in_force_name(tif: TimeInForce) -> &'static str {
    match tif {
        TimeInForce::Gtc => "gtc",
        TimeInForce::Ioc => "ioc",
        TimeInForce::Fok => "fok",
        TimeInForce::Day => "day",
    }
}

/// An input as a JSON object; every field is a number, a boolean or a fixed name.
pub fn input_json(input: &Input) -> String {
    let cmd = match input {
        Input::TakeSnapshot => return "{\"type\":\"take_snapshot\"}".to_owned(),
        Input::Shutdown => return "{\"type\":\"shutdown\"}".to_owned(),
        Input::Command(cmd) => cmd,
    };
    match cmd {
        Command::NewOrder(c) => format!(
            "{{\"type\":\"new_order\",\"account\":{},\"instrument\":{},\"client_order_id\":{},\
             \"side\":\"{}\",\"order_type\":\"{}\",\"time_in_force\":\"{}\",\"post_only\":{},\
             \"price\":{},\"qty\":{}}}",
            c.account,
            c.instrument,
            c.client_order_id,
            side_name(c.side),
            match c.order_type {
                ringex_core::OrderType::Limit => "limit",
                ringex_core::OrderType::Market => "market",
            },
            time_in_force_name(c.time_in_force),
            c.post_only,
            c.price,
            c.qty
        ),
        Command::Cancel(c) => format!(
            "{{\"type\":\"cancel\",\"account\":{},\"client_order_id\":{}}}",
            c.account, c.client_order_id
        ),
        Command::Replace(c) => format!(
            "{{\"type\":\"replace\",\"account\":{},\"orig_client_order_id\":{},\
             \"client_order_id\":{},\"price\":{},\"qty\":{}}}",
            c.account, c.orig_client_order_id, c.client_order_id, c.price, c.qty
        ),
        Command::MassCancel(c) => format!(
            "{{\"type\":\"mass_cancel\",\"account\":{},\"instrument\":{}}}",
            c.account,
            c.instrument.map_or("null".to_owned(), |i| i.to_string())
        ),
        Command::EndOfDay => "{\"type\":\"end_of_day\"}".to_owned(),
        Command::AddInstrument(s) => format!(
            "{{\"type\":\"add_instrument\",\"instrument\":{},\"tick_size\":{},\"lot_size\":{},\
             \"reference_price\":{},\"price_band_bps\":{}}}",
            s.instrument, s.tick_size, s.lot_size, s.reference_price, s.price_band_bps
        ),
        Command::AddAccount(s) => format!(
            "{{\"type\":\"add_account\",\"account\":{},\"max_order_qty\":{},\
             \"max_order_notional\":{},\"max_open_orders\":{}}}",
            s.account,
            s.limits.max_order_qty,
            s.limits.max_order_notional,
            s.limits.max_open_orders
        ),
        Command::SetHalted { instrument, halted } => {
            format!("{{\"type\":\"set_halted\",\"instrument\":{instrument},\"halted\":{halted}}}")
        }
    }
}
