//! Seeded engine workloads for the storage tests, and Raft entries that carry them.
#![allow(dead_code)] // each test file uses its own part of this

use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId};
use ringex_core::*;
use ringex_daemon::apply_input::apply_input;
use ringex_daemon::replication::input_batch::{InputBatch, StampedInput};
use ringex_daemon::replication::type_config::RingexRaft;
use ringex_protocol::Input;

/// splitmix64: small and the same everywhere.
#[derive(Clone)]
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

pub const INSTRUMENTS: u32 = 3;
pub const ACCOUNTS: u32 = 6;

pub fn engine_config() -> EngineConfig {
    EngineConfig {
        max_orders: 4096,
        max_instruments: 8,
        max_accounts: 16,
        max_client_ids_per_day: 1 << 16,
        levels_per_side: 64,
    }
}

/// A stream of inputs that trades a lot: setup first, then orders around a reference
/// price from a few accounts, cancels, replaces, mass cancels, halts, ends of day and
/// snapshot points.
#[derive(Clone)]
pub struct Workload {
    rng: Rng,
    emitted: u64,
    next_client_id: u64,
    /// Orders sent lately, `(account, client_order_id)`, for cancels and replaces to
    /// aim at; a fixed-size ring.
    recent: Vec<(AccountId, ClientOrderId)>,
}

/// Orders remembered for cancels and replaces.
const RECENT_ORDERS: usize = 64;

impl Workload {
    pub fn new(seed: u64) -> Workload {
        Workload {
            rng: Rng(seed),
            emitted: 0,
            next_client_id: 1,
            recent: Vec::with_capacity(RECENT_ORDERS),
        }
    }

    pub fn next_input(&mut self) -> Input {
        let n = self.emitted;
        self.emitted += 1;
        let setup = u64::from(INSTRUMENTS + ACCOUNTS);
        if n < u64::from(INSTRUMENTS) {
            return Input::Command(Command::AddInstrument(InstrumentSpec {
                instrument: n as u32,
                tick_size: 5,
                lot_size: 10,
                reference_price: 10_000,
                price_band_bps: 2_000,
            }));
        }
        if n < setup {
            return Input::Command(Command::AddAccount(AccountSpec {
                account: (n - u64::from(INSTRUMENTS)) as u32,
                limits: AccountLimits {
                    max_order_qty: 5_000,
                    max_order_notional: 100_000_000,
                    max_open_orders: 400,
                },
            }));
        }
        let r = &mut self.rng;
        let mut account = r.below(u64::from(ACCOUNTS)) as u32;
        let instrument = r.below(u64::from(INSTRUMENTS)) as u32;
        // A recent order, so cancels and replaces mostly find live ones.
        let mut recent = 1;
        if !self.recent.is_empty() {
            (account, recent) = self.recent[r.below(self.recent.len() as u64) as usize];
        }
        let roll = r.below(1000);
        let cmd = match roll {
            0..=679 => {
                let id = self.next_client_id;
                self.next_client_id += 1;
                let slot = (id as usize) % RECENT_ORDERS;
                if self.recent.len() < RECENT_ORDERS {
                    self.recent.push((account, id));
                } else {
                    self.recent[slot] = (account, id);
                }
                let side = if r.below(2) == 0 {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let market = r.below(20) == 0;
                let time_in_force = match r.below(10) {
                    0 => TimeInForce::Ioc,
                    1 => TimeInForce::Fok,
                    2 | 3 => TimeInForce::Day,
                    _ if market => TimeInForce::Ioc,
                    _ => TimeInForce::Gtc,
                };
                let time_in_force = if market && time_in_force.may_rest() {
                    TimeInForce::Ioc
                } else {
                    time_in_force
                };
                Command::NewOrder(NewOrder {
                    account,
                    instrument,
                    client_order_id: id,
                    side,
                    order_type: if market {
                        OrderType::Market
                    } else {
                        OrderType::Limit
                    },
                    time_in_force,
                    post_only: !market && r.below(10) == 0,
                    price: if market { 0 } else { limit_price(r, side) },
                    qty: 10 * (1 + r.below(50)),
                })
            }
            680..=799 => Command::Cancel(Cancel {
                account,
                client_order_id: recent,
            }),
            800..=949 => {
                let keep_id = r.below(2) == 0;
                let client_order_id = if keep_id {
                    recent
                } else {
                    let id = self.next_client_id;
                    self.next_client_id += 1;
                    id
                };
                let side = random_side(r);
                Command::Replace(Replace {
                    account,
                    orig_client_order_id: recent,
                    client_order_id,
                    price: limit_price(r, side),
                    qty: 10 * (1 + r.below(50)),
                })
            }
            950..=959 => Command::MassCancel(MassCancel {
                account,
                instrument: (r.below(2) == 0).then_some(instrument),
            }),
            960..=973 => Command::SetHalted {
                instrument,
                // Mostly resuming: a halt rejects a lot while it lasts.
                halted: r.below(8) == 0,
            },
            974..=975 => Command::EndOfDay,
            _ => return Input::TakeSnapshot,
        };
        Input::Command(cmd)
    }
}

fn random_side(r: &mut Rng) -> Side {
    if r.below(2) == 0 {
        Side::Buy
    } else {
        Side::Sell
    }
}

/// Bids mostly below the reference and asks mostly above, overlapping a little: books
/// grow deep and still trade.
fn limit_price(r: &mut Rng, side: Side) -> Price {
    let away = 5 * r.below(40) as i64 - 5 * r.below(6) as i64;
    match side {
        Side::Buy => 10_000 - away,
        Side::Sell => 10_000 + away,
    }
}

/// Events per input, in sequence order.
pub type EventLog = Vec<(Seq, Vec<Event>)>;

/// The Raft entry at `index`, written by term `term`'s leader (node 1): the next
/// `inputs` inputs of the workload, sequenced `(index - 1) * inputs + 1` on.
pub fn raft_entry(
    workload: &mut Workload,
    index: u64,
    term: u64,
    inputs: u64,
) -> Entry<RingexRaft> {
    let mut batch = InputBatch::default();
    for i in 0..inputs {
        let seq = (index - 1) * inputs + i + 1;
        batch.push(&StampedInput {
            seq,
            timestamp_ns: timestamp_ns_at(seq),
            input: workload.next_input(),
        });
    }
    Entry {
        log_id: LogId::new(CommittedLeaderId::new(term, 1), index),
        payload: EntryPayload::Normal(batch),
    }
}

/// Applies inputs to an engine without a journal; returns their events.
pub fn apply_more(engine: &mut Engine, workload: &mut Workload, inputs: u64) -> EventLog {
    let mut log = Vec::new();
    for _ in 0..inputs {
        let seq = engine.last_seq() + 1;
        let input = workload.next_input();
        let mut events = Vec::new();
        apply_input(engine, seq, 1_000_000_000 + seq, &input, &mut events);
        assert_eq!(engine.last_seq(), seq);
        log.push((seq, events));
    }
    log
}

/// The sequencer clock of every run here: a fixed function of the seq, never
/// decreasing, often equal for neighbours.
pub fn timestamp_ns_at(seq: Seq) -> TimestampNs {
    let (q, r) = (seq / 3, seq % 3);
    1_000 + 3 * q + u64::from(r >= 1) + 2 * u64::from(r >= 2)
}

/// The oracle: the first `upto` inputs of the seeded workload applied straight to an
/// engine, with the inputs and the events of each.
pub fn reference(seed: u64, upto: Seq) -> (Engine, Vec<Input>, EventLog) {
    let mut engine = Engine::new(engine_config()).unwrap();
    let mut workload = Workload::new(seed);
    let mut inputs = Vec::new();
    let mut log = Vec::new();
    for seq in 1..=upto {
        let input = workload.next_input();
        let mut events = Vec::new();
        apply_input(&mut engine, seq, timestamp_ns_at(seq), &input, &mut events);
        assert_eq!(engine.last_seq(), seq);
        inputs.push(input);
        log.push((seq, events));
    }
    (engine, inputs, log)
}

/// For decoder fuzzing: random bytes (up to `random_len_max`), or one of `seeds` with a
/// few bytes changed, cut short or grown.
pub fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], random_len_max: usize) -> Vec<u8> {
    if rng.below(4) == 0 {
        let len = rng.below(random_len_max as u64) as usize;
        return (0..len).map(|_| rng.next_u64() as u8).collect();
    }
    let mut bytes = seeds[rng.below(seeds.len() as u64) as usize].clone();
    for _ in 0..1 + rng.below(4) {
        match rng.below(3) {
            0 => {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] = rng.next_u64() as u8;
            }
            1 => bytes.truncate(rng.below(bytes.len() as u64 + 1) as usize),
            _ => bytes.push(rng.next_u64() as u8),
        }
        if bytes.is_empty() {
            break;
        }
    }
    bytes
}
