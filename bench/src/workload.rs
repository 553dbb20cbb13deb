//! The exchange-core style workload: one instrument, a book of about a thousand resting
//! orders, and a stream of GTC limits, IOCs, cancels and moves (cancel/replace to a new
//! price) aimed at the oldest live orders.
//!
//! The stream is pre-generated from a seed. To know which orders are live (so that no
//! cancel or move misses) the generator applies every command it makes to its own
//! engine, the same core the benchmark drives, and reads the events. A stream is meant
//! to be applied with consecutive sequence numbers from 1 and `timestamp_ns` equal to
//! the sequence number; an engine fed it that way ends in the generator's state.

use ringex_core::{
    AccountLimits, AccountSpec, Cancel, ClientOrderId, Command, Engine, EngineConfig, Event,
    InstrumentId, InstrumentSpec, NewOrder, OrderType, Price, Qty, Replace, Side, TimeInForce,
};
use rustc_hash::FxHashMap;

use crate::age_index::AgeIndex;
use crate::rng::Rng;
use crate::workload_stats::{CommandClass, WorkloadStats};

pub const INSTRUMENT: InstrumentId = 1;

/// Commands between two looks at the book's shape for the statistics.
const BOOK_SAMPLE_EVERY: usize = 1024;

/// Shares of each command in percent; moves take what the others leave.
#[derive(Clone, Copy, Debug)]
pub struct CommandMix {
    pub gtc_percent: u64,
    pub ioc_percent: u64,
    pub cancel_percent: u64,
}

#[derive(Clone, Copy, Debug)]
pub struct WorkloadConfig {
    pub seed: u64,
    /// Owners of the orders, drawn uniformly.
    pub accounts: u32,
    /// The book is filled to this many resting orders and held near it: a cancel drawn
    /// while the book is short places a GTC instead, and the reverse while it is long.
    pub target_resting_orders: u32,
    /// Where prices start; they then follow the last trade.
    pub start_price: Price,
    /// Widest distance of a new GTC from the last trade.
    pub price_deviation: Price,
    /// Cancels and moves pick uniformly among this many oldest live orders.
    pub oldest_window: u32,
    /// A move takes an order this share (in percent) of its way to the last trade.
    pub move_pull_percent: i64,
    pub mix: CommandMix,
}

impl Default for WorkloadConfig {
    /// Calibrated to the exchange-core single-symbol figures: about 1,000 resting
    /// orders over about 750 levels, 9% GTC, 3% IOC, 6% cancel, 82% move. About 6
    /// trades happen per 100 commands, from about 3 commands in 100 (mostly the IOCs):
    /// every trade retires a resting order, so with cancels at 6% and GTCs at 9% the
    /// book only stays near its size if fills retire about 3% of commands' worth.
    fn default() -> Self {
        WorkloadConfig {
            seed: 1,
            accounts: 1000,
            target_resting_orders: 1000,
            start_price: 100_000,
            price_deviation: 5000,
            oldest_window: 512,
            move_pull_percent: 1,
            mix: CommandMix {
                gtc_percent: 9,
                ioc_percent: 3,
                cancel_percent: 6,
            },
        }
    }
}

/// What the generator knows about one live order.
#[derive(Clone, Copy, Debug)]
struct LiveOrder {
    account: u32,
    price: Price,
    leaves: Qty,
}

pub struct Workload {
    config: WorkloadConfig,
    rng: Rng,
    engine: Engine,
    events: Vec<Event>,
    seq: u64,
    /// Keyed by client order id, which is also the order's placement number.
    live: FxHashMap<ClientOrderId, LiveOrder>,
    by_age: AgeIndex,
    next_client_order_id: ClientOrderId,
    last_trade_price: Price,
    stats: WorkloadStats,
}

impl Workload {
    pub fn new(config: WorkloadConfig, engine_config: EngineConfig) -> Workload {
        assert!(config.accounts > 0 && config.target_resting_orders > 0);
        assert!(config.start_price > 6 * config.price_deviation && config.price_deviation > 0);
        Workload {
            config,
            rng: Rng::new(config.seed),
            engine: Engine::new(engine_config).expect("valid engine config"),
            events: Vec::new(),
            seq: 0,
            live: FxHashMap::default(),
            by_age: AgeIndex::new(),
            next_client_order_id: 1,
            last_trade_price: config.start_price,
            stats: WorkloadStats::default(),
        }
    }

    /// Commands that add the instrument and the accounts, then GTC orders until the
    /// book holds the target number of resting orders.
    pub fn preamble(&mut self) -> Vec<Command> {
        let mut commands = Vec::new();
        self.push(
            &mut commands,
            Command::AddInstrument(InstrumentSpec {
                instrument: INSTRUMENT,
                tick_size: 1,
                lot_size: 1,
                reference_price: self.config.start_price,
                price_band_bps: 0,
            }),
            CommandClass::Setup,
        );
        for account in 1..=self.config.accounts {
            let spec = AccountSpec {
                account,
                limits: AccountLimits {
                    max_order_qty: 1 << 30,
                    max_order_notional: u128::MAX,
                    max_open_orders: u32::MAX,
                },
            };
            self.push(
                &mut commands,
                Command::AddAccount(spec),
                CommandClass::Setup,
            );
        }
        while self.by_age.len() < self.config.target_resting_orders {
            let cmd = self.gtc();
            self.push(&mut commands, cmd, CommandClass::Gtc);
        }
        commands
    }

    /// The next `n` commands of the measured mix.
    pub fn next_commands(&mut self, n: usize) -> Vec<Command> {
        let mut commands = Vec::with_capacity(n);
        while commands.len() < n {
            let (cmd, class) = self.next_command();
            self.push(&mut commands, cmd, class);
            if commands.len().is_multiple_of(BOOK_SAMPLE_EVERY) {
                self.sample_book();
            }
        }
        commands
    }

    /// Counts since the last `take_stats`.
    pub fn take_stats(&mut self) -> WorkloadStats {
        std::mem::take(&mut self.stats)
    }

    /// The generator's own engine, in the state a replay of its stream reaches.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn resting_orders(&self) -> u32 {
        self.by_age.len()
    }

    fn next_command(&mut self) -> (Command, CommandClass) {
        let mix = self.config.mix;
        let roll = self.rng.below(100);
        let live = self.by_age.len();
        let target = self.config.target_resting_orders;
        let class = if roll < mix.gtc_percent {
            if live > target {
                CommandClass::Cancel
            } else {
                CommandClass::Gtc
            }
        } else if roll < mix.gtc_percent + mix.ioc_percent {
            CommandClass::Ioc
        } else if roll < mix.gtc_percent + mix.ioc_percent + mix.cancel_percent {
            if live < target {
                CommandClass::Gtc
            } else {
                CommandClass::Cancel
            }
        } else {
            CommandClass::Move
        };
        let class = match class {
            CommandClass::Cancel | CommandClass::Move if live == 0 => CommandClass::Gtc,
            other => other,
        };
        let cmd = match class {
            CommandClass::Gtc => self.gtc(),
            CommandClass::Ioc => self.ioc(),
            CommandClass::Cancel => self.cancel(),
            CommandClass::Move => self.move_order(),
            CommandClass::Setup => unreachable!("setup commands come from the preamble"),
        };
        (cmd, class)
    }

    /// `1 + a*b*c` with each factor uniform in 0..=5: mostly small, sometimes 126.
    fn size(&mut self) -> Qty {
        1 + self.rng.below(6) * self.rng.below(6) * self.rng.below(6)
    }

    fn side(&mut self) -> Side {
        if self.rng.below(2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        }
    }

    fn new_order(&mut self, side: Side, tif: TimeInForce, price: Price) -> Command {
        let client_order_id = self.next_client_order_id;
        self.next_client_order_id += 1;
        Command::NewOrder(NewOrder {
            account: 1 + self.rng.below(u64::from(self.config.accounts)) as u32,
            instrument: INSTRUMENT,
            client_order_id,
            side,
            order_type: OrderType::Limit,
            time_in_force: tif,
            post_only: false,
            price,
            qty: self.size(),
        })
    }

    /// A resting order near the last trade: the distance is the mean of four uniform
    /// draws in a range that is itself usually narrow (its width is squared), so most
    /// orders sit close to the touch and a few far away; bids go below, asks above.
    fn gtc(&mut self) -> Command {
        let side = self.side();
        let price = self.passive_price(side);
        self.new_order(side, TimeInForce::Gtc, price)
    }

    /// How far from the last trade a new price goes.
    fn distance(&mut self) -> Price {
        let deviation = self.config.price_deviation as u64;
        let u = self.rng.below(1 << 16);
        let range = 1 + ((u * u * deviation) >> 32);
        let sum: u64 = (0..4).map(|_| self.rng.below(range)).sum();
        ((sum / 4) as i64 * 2 - range as i64).abs()
    }

    /// A price on the resting side of the last trade: bids below, asks above.
    fn passive_price(&mut self, side: Side) -> Price {
        let distance = self.distance();
        match side {
            Side::Buy => (self.last_trade_price - distance).max(1),
            Side::Sell => self.last_trade_price + distance,
        }
    }

    /// An IOC that may sweep to the edge of the price range.
    fn ioc(&mut self) -> Command {
        let side = self.side();
        let (low, high) = self.price_range();
        let price = match side {
            Side::Buy => high,
            Side::Sell => low,
        };
        self.new_order(side, TimeInForce::Ioc, price)
    }

    fn price_range(&self) -> (Price, Price) {
        let reach = 5 * self.config.price_deviation;
        (
            self.config.start_price - reach,
            self.config.start_price + reach,
        )
    }

    /// One of the oldest live orders, by client order id.
    fn pick_old_order(&mut self) -> (ClientOrderId, LiveOrder) {
        let window = self.by_age.len().min(self.config.oldest_window);
        let k = self.rng.below(u64::from(window)) as u32;
        let id = self.by_age.nth_oldest(k) as ClientOrderId;
        (id, self.live[&id])
    }

    fn cancel(&mut self) -> Command {
        let (id, order) = self.pick_old_order();
        Command::Cancel(Cancel {
            account: order.account,
            client_order_id: id,
        })
    }

    /// Moves an old order part of the way towards the last trade (at least one tick),
    /// keeping its client order id and its open quantity.
    fn move_order(&mut self) -> Command {
        let (id, order) = self.pick_old_order();
        let price = self.pulled_price(order.price);
        Command::Replace(Replace {
            account: order.account,
            orig_client_order_id: id,
            client_order_id: id,
            price,
            qty: order.leaves,
        })
    }

    /// Part of the way from `price` towards the last trade, at least one tick.
    fn pulled_price(&mut self, price: Price) -> Price {
        let gap = self.last_trade_price - price;
        let pull = self.config.move_pull_percent;
        let step = if gap > 0 {
            (gap * pull + 99) / 100
        } else if gap < 0 {
            -((-gap * pull + 99) / 100)
        } else if self.rng.below(2) == 0 {
            1
        } else {
            -1
        };
        (price + step).max(1)
    }

    /// Applies `cmd` to the generator's engine, learns from its events and keeps it.
    fn push(&mut self, commands: &mut Vec<Command>, cmd: Command, class: CommandClass) {
        self.seq += 1;
        self.events.clear();
        self.engine
            .apply(self.seq, self.seq, &cmd, &mut self.events);
        let mut traded = false;
        let mut rejected = false;
        for i in 0..self.events.len() {
            match self.events[i] {
                Event::Accepted {
                    client_order_id,
                    account,
                    time_in_force: TimeInForce::Gtc,
                    price,
                    qty,
                    ..
                } => {
                    let order = LiveOrder {
                        account,
                        price,
                        leaves: qty,
                    };
                    self.live.insert(client_order_id, order);
                    self.by_age.insert(client_order_id as usize);
                }
                Event::Trade(t) => {
                    traded = true;
                    self.stats.trades += 1;
                    self.update_leaves(t.maker_client_order_id, t.maker_leaves);
                    self.update_leaves(t.taker_client_order_id, t.taker_leaves);
                    let (low, high) = self.price_range();
                    self.last_trade_price = t.price.clamp(low, high);
                }
                Event::Replaced {
                    client_order_id,
                    price,
                    ..
                } => {
                    if let Some(order) = self.live.get_mut(&client_order_id) {
                        order.price = price;
                    }
                }
                Event::Cancelled {
                    client_order_id, ..
                } => self.forget(client_order_id),
                Event::Rejected { .. } => rejected = true,
                _ => {}
            }
        }
        self.stats.record(class, traded, rejected);
        commands.push(cmd);
    }

    fn update_leaves(&mut self, id: ClientOrderId, leaves: Qty) {
        if leaves == 0 {
            self.forget(id);
        } else if let Some(order) = self.live.get_mut(&id) {
            order.leaves = leaves;
        }
    }

    fn forget(&mut self, id: ClientOrderId) {
        if self.live.remove(&id).is_some() {
            self.by_age.remove(id as usize);
        }
    }

    fn sample_book(&mut self) {
        if let Some(book) = self.engine.book_view(INSTRUMENT) {
            let levels = book.bids.len() + book.asks.len();
            self.stats
                .sample_book(self.by_age.len() as u64, levels as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> (WorkloadConfig, EngineConfig) {
        let workload = WorkloadConfig {
            accounts: 20,
            target_resting_orders: 200,
            ..WorkloadConfig::default()
        };
        let engine = EngineConfig {
            max_orders: 4096,
            max_accounts: 64,
            max_instruments: 4,
            max_client_ids_per_day: 1 << 16,
            levels_per_side: 256,
        };
        (workload, engine)
    }

    #[test]
    fn stream_has_the_mix_and_never_misses_an_order() {
        let (config, engine_config) = small();
        let mut workload = Workload::new(config, engine_config);
        workload.preamble();
        workload.take_stats();
        workload.next_commands(20_000);
        let stats = workload.take_stats();
        assert_eq!(stats.rejected_commands, 0);
        assert!((0.80..0.84).contains(&(stats.moves as f64 / 20_000.0)));
        assert!((0.02..0.04).contains(&(stats.ioc as f64 / 20_000.0)));
        assert!(stats.trade_ratio() > 0.02);
        let resting = workload.resting_orders();
        assert!((150..=250).contains(&resting), "{resting}");
        assert_eq!(workload.engine().resting_orders(), resting);
    }

    #[test]
    fn replaying_the_stream_reaches_the_generators_state() {
        let (config, engine_config) = small();
        let mut workload = Workload::new(config, engine_config);
        let mut commands = workload.preamble();
        commands.extend(workload.next_commands(5_000));
        let mut engine = Engine::new(engine_config).unwrap();
        let mut events = Vec::new();
        for (i, cmd) in commands.iter().enumerate() {
            let seq = i as u64 + 1;
            engine.apply(seq, seq, cmd, &mut events);
        }
        assert_eq!(engine.state_hash(), workload.engine().state_hash());
    }

    #[test]
    fn same_seed_same_stream() {
        let (config, engine_config) = small();
        let mut a = Workload::new(config, engine_config);
        let mut b = Workload::new(config, engine_config);
        a.preamble();
        b.preamble();
        assert_eq!(a.next_commands(1000), b.next_commands(1000));
    }
}
