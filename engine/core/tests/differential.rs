//! Differential tests: seeded random command streams through the fast engine and the
//! reference matcher, compared command by command (events), by state hash, by the core's
//! invariants and by every read-only view. A failure prints the profile and seed to
//! replay, and the stream shrunk to a few commands.
//!
//! `RINGEX_DIFF_SEED=<n>` starts the seeds at `n` and `RINGEX_DIFF_RUNS=<k>` runs `k`
//! seeds per profile, to replay one failure or to explore more streams.

#[path = "support/arbitrary.rs"]
mod arbitrary;
#[path = "support/generator.rs"]
mod generator;
#[path = "support/lockstep.rs"]
mod lockstep;
#[path = "support/market_model.rs"]
mod market_model;
mod reference;
#[path = "support/rng.rs"]
mod rng;
#[path = "support/stamps.rs"]
mod stamps;
#[path = "support/values.rs"]
mod values;

use std::time::Duration;

use ringex_core::*;

use generator::{Generator, Profile};
use lockstep::{replay, shrink, Coverage, Lockstep};
use stamps::Step;

fn env_u64(name: &str) -> Option<u64> {
    let value = std::env::var(name).ok()?;
    Some(
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number")),
    )
}

/// Outcomes every profile must produce, so that a generator that drifts away from an
/// edge fails loudly instead of testing less.
const SEEN_EVERYWHERE: &[&str] = &[
    "Accepted",
    "Trade",
    "Replaced(priority_kept: true)",
    "Replaced(priority_kept: false)",
    "Expired",
    "DayEnded",
    "MassCancelled",
    "HaltChanged",
    "InstrumentAdded",
    "AccountAdded",
    "Cancelled(Requested)",
    "Cancelled(MassCancel)",
    "Cancelled(ImmediateRemainder)",
    "Cancelled(FillOrKill)",
    "Cancelled(NoLiquidity)",
    "Rejected(UnknownInstrument)",
    "Rejected(UnknownAccount)",
    "Rejected(InvalidQuantity)",
    "Rejected(InvalidPrice)",
    "Rejected(PriceNotOnTick)",
    "Rejected(QtyNotOnLot)",
    "Rejected(InvalidOrderType)",
    "Rejected(DuplicateClientOrderId)",
    "Rejected(UnknownOrder)",
    "Rejected(TooLateToCancel)",
    "Rejected(MaxOrderQty)",
    "Rejected(MaxOrderNotional)",
    "Rejected(PriceBand)",
    "Rejected(PostOnlyWouldCross)",
    "Rejected(InstrumentHalted)",
    "Rejected(DuplicateInstrument)",
    "Rejected(DuplicateAccount)",
    "Rejected(InvalidInstrument)",
    "Rejected(InvalidAccount)",
    "Rejected(SequenceGap)",
    "Rejected(TimestampRegressed)",
];

/// Runs `runs` seeds of a profile (which may depend on the seed), `steps` commands each;
/// with the default seeds, checks that the streams produced every outcome expected.
fn run(name: &str, runs: u64, steps: usize, also_seen: &[&str], profile: impl Fn(u64) -> Profile) {
    let chosen_seed = env_u64("RINGEX_DIFF_SEED");
    let chosen_runs = env_u64("RINGEX_DIFF_RUNS");
    let first = chosen_seed.unwrap_or(1);
    let runs = chosen_runs.unwrap_or(runs);
    let mut coverage = Coverage::new();
    for seed in first..first + runs {
        let profile = profile(seed);
        let mut generator = Generator::new(profile, seed);
        let mut lockstep = Lockstep::new(profile.config);
        let mut stream: Vec<Step> = Vec::with_capacity(steps);
        let mut outcome = Ok(());
        while stream.len() < steps && outcome.is_ok() {
            let step = generator.next_step();
            stream.push(step);
            outcome = lockstep
                .apply(&step)
                .map(|events| generator.observe(events));
        }
        let Err(divergence) = outcome.and_then(|()| lockstep.finish()) else {
            for (what, count) in lockstep.coverage {
                *coverage.entry(what).or_default() += count;
            }
            continue;
        };
        let failing = stream[..=divergence.step].to_vec();
        let shrunk = shrink(profile.config, failing, Duration::from_secs(30));
        let shrunk_divergence = replay(profile.config, &shrunk).expect_err("still fails");
        panic!(
            "profile {name}, seed {seed}: diverged at command {} of {steps}: {}\n\
             replay: RINGEX_DIFF_SEED={seed} RINGEX_DIFF_RUNS=1\n\
             shrunk to {} commands, failing with: {}\n{}",
            divergence.step,
            divergence.what,
            shrunk.len(),
            shrunk_divergence.what,
            shrunk
                .iter()
                .map(|step| format!("{step:?}\n"))
                .collect::<String>(),
        );
    }
    println!("{name}: {coverage:#?}");
    if chosen_seed.is_none() && chosen_runs.is_none() {
        for outcome in SEEN_EVERYWHERE.iter().chain(also_seen) {
            assert!(
                coverage.contains_key(*outcome),
                "profile {name} never produced {outcome}"
            );
        }
    }
}

fn config(max_orders: u32, max_client_ids_per_day: u32) -> EngineConfig {
    EngineConfig {
        max_orders,
        max_instruments: 6,
        max_accounts: 8,
        max_client_ids_per_day,
        levels_per_side: 4,
    }
}

/// Everyday values: several instruments and accounts, some tight limits, a little chaos.
#[test]
fn everyday_streams_match_the_reference() {
    run("everyday", 24, 15_000, &["Rejected(MaxOpenOrders)"], |_| {
        Profile {
            config: config(512, 1 << 14),
            instruments: 4,
            accounts: 6,
            client_ids: 1_000,
            huge: false,
            chaos_per_mille: 5,
            end_of_day_per_mille: 2,
            cancel_per_mille: 80,
            tight_limits_per_mille: 150,
        }
    });
}

/// Capacities of a few orders and ids, so book-full and the daily id limit are common.
#[test]
fn tiny_capacities_match_the_reference() {
    let capacity = [
        "Rejected(BookFull)",
        "Rejected(DailyOrderLimit)",
        "Rejected(MaxOpenOrders)",
    ];
    run("tiny", 60, 4_000, &capacity, |seed| {
        let max_orders = 1 + (seed % 12) as u32;
        Profile {
            config: config(max_orders, max_orders + (seed % 24) as u32),
            instruments: 2,
            accounts: 4,
            client_ids: 24,
            huge: false,
            chaos_per_mille: 5,
            end_of_day_per_mille: 15,
            cancel_per_mille: 80,
            tight_limits_per_mille: 100,
        }
    });
}

/// Prices, ticks, lots and limits at the top of their ranges.
#[test]
fn huge_values_match_the_reference() {
    run("huge", 20, 10_000, &[], |_| Profile {
        config: config(128, 1 << 12),
        instruments: 4,
        accounts: 4,
        client_ids: 48,
        huge: true,
        chaos_per_mille: 20,
        end_of_day_per_mille: 3,
        cancel_per_mille: 80,
        tight_limits_per_mille: 50,
    });
}

/// Deep books on one instrument: sweeps across many levels and long queues.
#[test]
fn deep_books_match_the_reference() {
    run("deep", 8, 15_000, &["Rejected(MaxOpenOrders)"], |_| {
        Profile {
            config: EngineConfig {
                max_orders: 2048,
                max_instruments: 2,
                max_accounts: 4,
                max_client_ids_per_day: 1 << 16,
                levels_per_side: 2,
            },
            instruments: 1,
            accounts: 3,
            client_ids: 2_000,
            huge: false,
            chaos_per_mille: 2,
            end_of_day_per_mille: 1,
            cancel_per_mille: 30,
            tight_limits_per_mille: 0,
        }
    });
}

/// Four commands in ten with fully arbitrary fields, the rest aimed at a small world.
#[test]
fn chaotic_streams_match_the_reference() {
    run("chaos", 20, 10_000, &[], |_| Profile {
        config: EngineConfig {
            max_orders: 32,
            max_instruments: 3,
            max_accounts: 3,
            max_client_ids_per_day: 64,
            levels_per_side: 1,
        },
        instruments: 3,
        accounts: 3,
        client_ids: 16,
        huge: false,
        chaos_per_mille: 400,
        end_of_day_per_mille: 5,
        cancel_per_mille: 80,
        tight_limits_per_mille: 100,
    });
}
