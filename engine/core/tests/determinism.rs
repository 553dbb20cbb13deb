//! Determinism: the core is a pure function of its stamped input. Two engines fed the
//! same stream say the same things and reach the same state hash; and the hash sees every
//! part of the state that affects the future, so changing any one field of the input
//! that reaches the state changes it.

#[path = "support/arbitrary.rs"]
mod arbitrary;
#[path = "support/generator.rs"]
mod generator;
#[path = "support/market_model.rs"]
mod market_model;
#[path = "support/rng.rs"]
mod rng;
#[path = "support/stamps.rs"]
mod stamps;
#[path = "support/values.rs"]
mod values;

use std::collections::BTreeMap;

use ringex_core::*;

use generator::{Generator, Profile};
use stamps::Sequencer;

fn profile() -> Profile {
    Profile {
        config: EngineConfig {
            max_orders: 256,
            max_instruments: 4,
            max_accounts: 6,
            max_client_ids_per_day: 4096,
            levels_per_side: 8,
        },
        instruments: 3,
        accounts: 5,
        client_ids: 500,
        huge: false,
        chaos_per_mille: 10,
        end_of_day_per_mille: 2,
        cancel_per_mille: 80,
        tight_limits_per_mille: 100,
    }
}

/// Feeds one generated stream to an engine built with each configuration, in lockstep,
/// and asserts that every command produces the same events and the same state hash.
fn assert_engines_agree(configs: &[EngineConfig], commands: usize) {
    let mut generator = Generator::new(profile(), 42);
    let mut sequencer = Sequencer::default();
    let mut engines: Vec<Engine> = configs.iter().map(|&c| Engine::new(c).unwrap()).collect();
    let mut outs: Vec<Vec<Event>> = vec![Vec::new(); engines.len()];
    for i in 0..commands {
        let step = generator.next_step();
        let (seq, timestamp_ns) = sequencer.stamp(step.stamp);
        for (engine, out) in engines.iter_mut().zip(&mut outs) {
            out.clear();
            engine.apply(seq, timestamp_ns, &step.command, out);
        }
        let hash = engines[0].state_hash();
        for (k, engine) in engines.iter().enumerate().skip(1) {
            assert_eq!(outs[0], outs[k], "command {i}: {:?}", step.command);
            assert_eq!(hash, engine.state_hash(), "command {i}");
        }
        generator.observe(&outs[0]);
    }
    assert!(
        engines[0].resting_orders() > 0,
        "the stream should leave orders resting"
    );
}

#[test]
fn two_engines_fed_the_same_stream_agree_on_every_event_and_hash() {
    let config = profile().config;
    assert_engines_agree(&[config, config], 100_000);
}

/// The levels reserved per book side are a capacity hint: they change memory, never
/// what the engine does.
#[test]
fn reserved_level_capacity_does_not_change_behaviour() {
    let base = profile().config;
    let with_levels = |levels_per_side| EngineConfig {
        levels_per_side,
        ..base
    };
    assert_engines_agree(&[base, with_levels(1), with_levels(4096)], 50_000);
}

const INST: InstrumentId = 3;
const OTHER_INST: InstrumentId = 5;
const ALICE: AccountId = 1;
const BOB: AccountId = 2;

fn limit(
    account: AccountId,
    instrument: InstrumentId,
    client_order_id: ClientOrderId,
    side: Side,
    time_in_force: TimeInForce,
    price: Price,
    qty: Qty,
) -> Command {
    Command::NewOrder(NewOrder {
        account,
        instrument,
        client_order_id,
        side,
        order_type: OrderType::Limit,
        time_in_force,
        post_only: false,
        price,
        qty,
    })
}

/// A small day touching every kind of state: two instruments, two accounts, orders
/// resting at one level in time order, a post-only order, a trade (positions, last price,
/// match id), an IOC that leaves only its id behind, a halt flag.
fn base_stream() -> Vec<(TimestampNs, Command)> {
    let limits = AccountLimits {
        max_order_qty: 1_000,
        max_order_notional: 1_000_000,
        max_open_orders: 10,
    };
    let commands = vec![
        Command::AddInstrument(InstrumentSpec {
            instrument: INST,
            tick_size: 5,
            lot_size: 10,
            reference_price: 1_000,
            price_band_bps: 1_000,
        }),
        Command::AddInstrument(InstrumentSpec {
            instrument: OTHER_INST,
            tick_size: 1,
            lot_size: 1,
            reference_price: 500,
            price_band_bps: 0,
        }),
        Command::AddAccount(AccountSpec {
            account: ALICE,
            limits,
        }),
        Command::AddAccount(AccountSpec {
            account: BOB,
            limits,
        }),
        limit(ALICE, INST, 11, Side::Buy, TimeInForce::Gtc, 990, 20),
        limit(ALICE, INST, 12, Side::Buy, TimeInForce::Day, 990, 10),
        Command::NewOrder(NewOrder {
            account: BOB,
            instrument: INST,
            client_order_id: 21,
            side: Side::Sell,
            order_type: OrderType::Limit,
            time_in_force: TimeInForce::Gtc,
            post_only: true,
            price: 1_010,
            qty: 30,
        }),
        limit(BOB, INST, 22, Side::Sell, TimeInForce::Ioc, 990, 10),
        limit(BOB, INST, 23, Side::Sell, TimeInForce::Ioc, 1_050, 10),
        limit(BOB, OTHER_INST, 31, Side::Buy, TimeInForce::Gtc, 480, 7),
        Command::SetHalted {
            instrument: OTHER_INST,
            halted: false,
        },
    ];
    commands
        .into_iter()
        .enumerate()
        .map(|(i, c)| (1_000 * (i as u64 + 1), c))
        .collect()
}

fn hash_of(stream: &[(TimestampNs, Command)]) -> u64 {
    let mut engine = Engine::new(EngineConfig {
        max_orders: 16,
        max_instruments: 8,
        max_accounts: 4,
        max_client_ids_per_day: 64,
        levels_per_side: 4,
    })
    .unwrap();
    let mut out = Vec::new();
    for (i, (timestamp_ns, command)) in stream.iter().enumerate() {
        out.clear();
        engine.apply(i as Seq + 1, *timestamp_ns, command, &mut out);
        assert!(
            !matches!(out[..], [Event::Rejected { .. }]),
            "every command of these streams is meant to apply: {command:?} -> {out:?}"
        );
    }
    engine.check_invariants().unwrap();
    engine.state_hash()
}

/// The base stream with one field of one command changed.
fn with(change: impl FnOnce(&mut Vec<(TimestampNs, Command)>)) -> Vec<(TimestampNs, Command)> {
    let mut stream = base_stream();
    change(&mut stream);
    stream
}

fn new_order(stream: &mut [(TimestampNs, Command)], index: usize) -> &mut NewOrder {
    match &mut stream[index].1 {
        Command::NewOrder(order) => order,
        other => panic!("command {index} is {other:?}"),
    }
}

fn instrument(stream: &mut [(TimestampNs, Command)]) -> &mut InstrumentSpec {
    match &mut stream[0].1 {
        Command::AddInstrument(spec) => spec,
        other => panic!("{other:?}"),
    }
}

fn alice(stream: &mut [(TimestampNs, Command)]) -> &mut AccountLimits {
    match &mut stream[2].1 {
        Command::AddAccount(spec) => &mut spec.limits,
        other => panic!("{other:?}"),
    }
}

#[test]
fn changing_any_one_field_that_reaches_the_state_changes_the_hash() {
    let last = base_stream().len() - 1;
    let variants: Vec<(&str, Vec<(TimestampNs, Command)>)> = vec![
        ("base", base_stream()),
        ("last timestamp", with(|s| s[last].0 += 1)),
        (
            "one command more",
            with(|s| s.push((1_000_000, Command::EndOfDay))),
        ),
        ("tick size", with(|s| instrument(s).tick_size = 1)),
        ("lot size", with(|s| instrument(s).lot_size = 5)),
        (
            "reference price",
            with(|s| instrument(s).reference_price = 995),
        ),
        ("price band", with(|s| instrument(s).price_band_bps = 999)),
        ("max order qty", with(|s| alice(s).max_order_qty += 1)),
        (
            "max notional, low word",
            with(|s| alice(s).max_order_notional += 1),
        ),
        (
            "max notional, high word",
            with(|s| alice(s).max_order_notional += 1 << 64),
        ),
        ("max open orders", with(|s| alice(s).max_open_orders += 1)),
        (
            "resting client id",
            with(|s| new_order(s, 4).client_order_id = 13),
        ),
        ("resting price", with(|s| new_order(s, 4).price = 985)),
        ("resting qty", with(|s| new_order(s, 4).qty = 30)),
        (
            "time in force",
            with(|s| new_order(s, 4).time_in_force = TimeInForce::Day),
        ),
        ("post only", with(|s| new_order(s, 6).post_only = false)),
        ("side", with(|s| new_order(s, 9).side = Side::Sell)),
        ("owner", with(|s| new_order(s, 9).account = ALICE)),
        (
            "time priority",
            with(|s| {
                let first = s[4].1;
                s[4].1 = s[5].1;
                s[5].1 = first;
            }),
        ),
        ("traded qty", with(|s| new_order(s, 7).qty = 20)),
        ("trade price", with(|s| new_order(s, 4).price = 995)),
        (
            "finished client id",
            with(|s| new_order(s, 8).client_order_id = 24),
        ),
        (
            "halted",
            with(|s| {
                s[last].1 = Command::SetHalted {
                    instrument: OTHER_INST,
                    halted: true,
                }
            }),
        ),
    ];
    let mut seen: BTreeMap<u64, &str> = BTreeMap::new();
    for (name, stream) in &variants {
        if let Some(clash) = seen.insert(hash_of(stream), name) {
            panic!("{name} and {clash} hash the same");
        }
    }
}
