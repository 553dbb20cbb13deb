//! No input may crash the core: commands whose every field is arbitrary, stamped with
//! arbitrary sequence numbers and timestamps, against engines of every small size.
//! Every command must produce at least one event and leave the state consistent.

#[path = "support/arbitrary.rs"]
mod arbitrary;
#[path = "support/rng.rs"]
mod rng;

use ringex_core::*;

use arbitrary::{arbitrary_command, arbitrary_limits};
use rng::Rng;

const SEEDS: u64 = 40;
const COMMANDS_PER_SEED: usize = 25_000;

/// A small world already set up, so that arbitrary commands, whose ids are mostly small,
/// reach orders, books and trades rather than stopping at the first lookup.
fn small_engine(rng: &mut Rng) -> (Engine, Seq) {
    let max_orders = rng.between(1, 8) as u32;
    let config = EngineConfig {
        max_orders,
        max_instruments: rng.between(1, 4) as u32,
        max_accounts: rng.between(1, 4) as u32,
        max_client_ids_per_day: max_orders + rng.between(0, 16) as u32,
        levels_per_side: 1,
    };
    let mut engine = Engine::new(config).unwrap();
    let mut setup: Vec<Command> = (0..config.max_instruments)
        .map(|instrument| {
            Command::AddInstrument(InstrumentSpec {
                instrument,
                tick_size: 1,
                lot_size: 1,
                reference_price: rng.between(1, 8),
                price_band_bps: rng.pick(&[0, 5_000, BPS_ONE]),
            })
        })
        .collect();
    for account in 0..config.max_accounts {
        let limits = if rng.flip() {
            arbitrary_limits(rng)
        } else {
            AccountLimits {
                max_order_qty: u64::MAX,
                max_order_notional: u128::MAX,
                max_open_orders: u32::MAX,
            }
        };
        setup.push(Command::AddAccount(AccountSpec { account, limits }));
    }
    let mut out = Vec::new();
    for (i, command) in setup.iter().enumerate() {
        engine.apply(i as Seq + 1, 0, command, &mut out);
    }
    let seq = setup.len() as Seq;
    assert_eq!(engine.last_seq(), seq);
    (engine, seq)
}

/// Folds the ids of a command into the configured ranges (client ids into a few),
/// mostly lifts halts, and half the time folds prices and quantities into a few ticks
/// and lots, keeping its other fields arbitrary: most commands then find what they name
/// and many get past the checks to the book.
fn aim(command: &mut Command, config: &EngineConfig, rng: &mut Rng) {
    let account = |id: AccountId| id % config.max_accounts;
    let instrument = |id: InstrumentId| id % config.max_instruments;
    let client = |id: ClientOrderId| id % 16;
    let tradable = rng.flip();
    let price = |p: Price| if tradable { 1 + p.rem_euclid(16) } else { p };
    let qty = |q: Qty| if tradable { 1 + q % 16 } else { q };
    match command {
        Command::NewOrder(c) => {
            c.account = account(c.account);
            c.instrument = instrument(c.instrument);
            c.client_order_id = client(c.client_order_id);
            c.qty = qty(c.qty);
            c.price = match c.order_type {
                OrderType::Limit => price(c.price),
                OrderType::Market if tradable => 0,
                OrderType::Market => c.price,
            };
        }
        Command::Cancel(c) => {
            c.account = account(c.account);
            c.client_order_id = client(c.client_order_id);
        }
        Command::Replace(c) => {
            c.account = account(c.account);
            c.orig_client_order_id = client(c.orig_client_order_id);
            c.client_order_id = client(c.client_order_id);
            c.price = price(c.price);
            c.qty = qty(c.qty);
        }
        Command::MassCancel(c) => {
            c.account = account(c.account);
            c.instrument = c.instrument.map(instrument);
        }
        Command::AddInstrument(spec) => spec.instrument = instrument(spec.instrument),
        Command::AddAccount(spec) => spec.account = account(spec.account),
        Command::SetHalted {
            instrument: id,
            halted,
        } => {
            *id = instrument(*id);
            *halted = *halted && rng.chance(100);
        }
        Command::EndOfDay => {}
    }
}

#[test]
fn arbitrary_commands_never_panic_and_keep_the_state_consistent() {
    for seed in 0..SEEDS {
        let mut rng = Rng::new(seed);
        let (mut engine, mut last_seq) = small_engine(&mut rng);
        let mut last_timestamp_ns: TimestampNs = 0;
        let mut out = Vec::new();
        for i in 0..COMMANDS_PER_SEED {
            let mut command = arbitrary_command(&mut rng);
            if rng.chance(700) {
                aim(&mut command, engine.config(), &mut rng);
            }
            let (seq, timestamp_ns) = if rng.chance(900) {
                (last_seq + 1, last_timestamp_ns.saturating_add(rng.below(3)))
            } else {
                (rng.edgy_u64(), rng.edgy_u64())
            };
            out.clear();
            engine.apply(seq, timestamp_ns, &command, &mut out);
            assert!(
                !out.is_empty(),
                "seed {seed}, command {i}: {command:?} said nothing"
            );
            if engine.last_seq() != last_seq {
                last_seq = seq;
                last_timestamp_ns = timestamp_ns;
            }
            if i % 16 == 0 {
                if let Err(e) = engine.check_invariants() {
                    panic!("seed {seed}, command {i}: {command:?}: {e}");
                }
            }
        }
        engine.check_invariants().unwrap();
    }
}

/// Any configuration is either refused with a reason or builds an engine; none panics.
#[test]
fn arbitrary_configurations_are_refused_or_built() {
    let mut rng = Rng::new(7);
    let edges = [
        0,
        1,
        2,
        3,
        4096,
        1 << 20,
        (1 << 20) + 1,
        1 << 24,
        (1 << 24) + 1,
        u32::MAX,
    ];
    for _ in 0..2_000 {
        let config = EngineConfig {
            max_orders: rng.pick(&edges),
            max_instruments: rng.pick(&edges),
            max_accounts: rng.pick(&edges),
            max_client_ids_per_day: rng.pick(&edges),
            levels_per_side: rng.pick(&edges),
        };
        let small = [
            config.max_orders,
            config.max_instruments,
            config.max_accounts,
            config.max_client_ids_per_day,
            config.levels_per_side,
        ]
        .iter()
        .all(|&n| n <= 4096);
        match config.validate() {
            Err(_) => assert!(Engine::new(config).is_err()),
            // Only small valid configurations are built: the big ones reserve gigabytes.
            Ok(()) if small => assert!(Engine::new(config).is_ok()),
            Ok(()) => {}
        }
    }
}
