//! One or more samples of every engine input and event, extremes included: the source
//! of the test vectors and of the fuzz seeds.

use ringex_core::*;
use ringex_protocol::Input;

pub fn inputs() -> Vec<(&'static str, Input)> {
    let order = NewOrder {
        account: 7,
        instrument: 3,
        client_order_id: 1001,
        side: Side::Buy,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        post_only: false,
        price: 10_050,
        qty: 25,
    };
    let c = Input::Command;
    vec![
        ("new_order_limit_gtc", c(Command::NewOrder(order))),
        (
            "new_order_market_ioc",
            c(Command::NewOrder(NewOrder {
                side: Side::Sell,
                order_type: OrderType::Market,
                time_in_force: TimeInForce::Ioc,
                price: 0,
                ..order
            })),
        ),
        (
            "new_order_post_only_day_extremes",
            c(Command::NewOrder(NewOrder {
                account: u32::MAX,
                instrument: u32::MAX - 1,
                client_order_id: u64::MAX,
                time_in_force: TimeInForce::Day,
                post_only: true,
                price: i64::MIN,
                qty: u64::MAX,
                ..order
            })),
        ),
        (
            "new_order_fok",
            c(Command::NewOrder(NewOrder {
                time_in_force: TimeInForce::Fok,
                ..order
            })),
        ),
        (
            "cancel",
            c(Command::Cancel(Cancel {
                account: 7,
                client_order_id: 1001,
            })),
        ),
        (
            "replace",
            c(Command::Replace(Replace {
                account: 7,
                orig_client_order_id: 1001,
                client_order_id: 1002,
                price: 10_040,
                qty: 20,
            })),
        ),
        (
            "mass_cancel_all",
            c(Command::MassCancel(MassCancel {
                account: 7,
                instrument: None,
            })),
        ),
        (
            "mass_cancel_instrument",
            c(Command::MassCancel(MassCancel {
                account: 7,
                instrument: Some(3),
            })),
        ),
        ("end_of_day", c(Command::EndOfDay)),
        (
            "add_instrument",
            c(Command::AddInstrument(InstrumentSpec {
                instrument: 3,
                tick_size: 5,
                lot_size: 1,
                reference_price: 10_000,
                price_band_bps: 500,
            })),
        ),
        (
            "add_account",
            c(Command::AddAccount(AccountSpec {
                account: 7,
                limits: AccountLimits {
                    max_order_qty: 1_000_000,
                    max_order_notional: u128::MAX,
                    max_open_orders: 10_000,
                },
            })),
        ),
        (
            "halt",
            c(Command::SetHalted {
                instrument: 3,
                halted: true,
            }),
        ),
        (
            "resume",
            c(Command::SetHalted {
                instrument: 3,
                halted: false,
            }),
        ),
        ("take_snapshot", Input::TakeSnapshot),
        ("shutdown", Input::Shutdown),
    ]
}

pub fn events() -> Vec<(&'static str, Event)> {
    vec![
        (
            "accepted",
            Event::Accepted {
                order_id: 42,
                account: 7,
                instrument: 3,
                client_order_id: 1001,
                side: Side::Buy,
                order_type: OrderType::Limit,
                time_in_force: TimeInForce::Day,
                post_only: true,
                price: 10_050,
                qty: 25,
            },
        ),
        (
            "rejected",
            Event::Rejected {
                command: CommandKind::Replace,
                account: 7,
                client_order_id: 1002,
                reason: RejectReason::PriceBand,
            },
        ),
        (
            "trade",
            Event::Trade(Trade {
                instrument: 3,
                match_id: 9,
                price: 10_045,
                qty: 5,
                aggressor_side: Side::Sell,
                maker_order_id: 40,
                maker_account: 8,
                maker_client_order_id: 77,
                maker_leaves: 0,
                taker_order_id: 42,
                taker_account: 7,
                taker_client_order_id: 1001,
                taker_leaves: 20,
            }),
        ),
        (
            "cancelled",
            Event::Cancelled {
                order_id: 42,
                account: 7,
                instrument: 3,
                client_order_id: 1001,
                qty: 20,
                reason: CancelReason::Requested,
            },
        ),
        (
            "replaced",
            Event::Replaced {
                order_id: 42,
                account: 7,
                instrument: 3,
                orig_client_order_id: 1001,
                client_order_id: 1002,
                price: 10_040,
                qty: 20,
                priority_kept: false,
            },
        ),
        (
            "expired",
            Event::Expired {
                order_id: 42,
                account: 7,
                instrument: 3,
                client_order_id: 1002,
                qty: 20,
            },
        ),
        (
            "mass_cancelled",
            Event::MassCancelled {
                account: 7,
                instrument: None,
                count: 12,
            },
        ),
        ("day_ended", Event::DayEnded { expired: 3 }),
        (
            "instrument_added",
            Event::InstrumentAdded {
                spec: InstrumentSpec {
                    instrument: 3,
                    tick_size: 5,
                    lot_size: 10,
                    reference_price: 10_000,
                    price_band_bps: 500,
                },
            },
        ),
        ("account_added", Event::AccountAdded { account: 7 }),
        (
            "halt_changed",
            Event::HaltChanged {
                instrument: 3,
                halted: true,
            },
        ),
    ]
}
