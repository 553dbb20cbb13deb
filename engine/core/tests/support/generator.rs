//! Seeded random command streams aimed at the core's edges: prices around the reference
//! and just off it, quantities around the limits, client order ids from a small range so
//! that duplicates, reuse and cancels of finished orders are common, replaces of recent
//! orders at the same and other prices, admin commands mid-stream, bad stamps, and a share
//! of commands with fully arbitrary fields.
//!
//! The generator keeps only a rough model (the specs it created, and the orders resting
//! as far as the events it is shown tell); it steers inputs towards interesting states,
//! and is never an oracle.

use std::collections::{BTreeMap, VecDeque};

use ringex_core::*;

use crate::arbitrary::{arbitrary_command, arbitrary_limits, arbitrary_side, arbitrary_spec};
use crate::rng::Rng;
use crate::stamps::{Stamp, Step};

/// The shape of one stream.
#[derive(Clone, Copy, Debug)]
pub struct Profile {
    pub config: EngineConfig,
    /// Instruments and accounts created before trading starts, with ids `0..n`.
    pub instruments: u32,
    pub accounts: u32,
    /// Client order ids are drawn from `0..client_ids`, so they collide.
    pub client_ids: u64,
    /// Specs and limits near the core's maxima instead of everyday values.
    pub huge: bool,
    /// Per mille of commands whose fields are fully arbitrary.
    pub chaos_per_mille: u32,
    pub end_of_day_per_mille: u32,
    /// Per mille of commands that cancel one order; fewer make deeper books.
    pub cancel_per_mille: u32,
    /// Per mille of accounts whose limits are tight enough to reject often.
    pub tight_limits_per_mille: u32,
}

/// A resting order, kept so that cancels, replaces and duplicates can aim at it.
#[derive(Clone, Copy)]
struct LiveOrder {
    account: AccountId,
    client_order_id: ClientOrderId,
    spec: InstrumentSpec,
    price: Price,
    leaves: Qty,
}

pub struct Generator {
    rng: Rng,
    profile: Profile,
    /// Instruments this generator created with valid specs.
    specs: Vec<InstrumentSpec>,
    setup: VecDeque<Command>,
    live: Vec<LiveOrder>,
    /// The last trade price seen per instrument: where new prices gather.
    last_trade: BTreeMap<InstrumentId, Price>,
}

impl Generator {
    pub fn new(profile: Profile, seed: u64) -> Generator {
        let mut g = Generator {
            rng: Rng::new(seed),
            profile,
            specs: Vec::new(),
            setup: VecDeque::new(),
            live: Vec::new(),
            last_trade: BTreeMap::new(),
        };
        for instrument in 0..profile.instruments {
            let spec = g.valid_spec(instrument);
            g.specs.push(spec);
            g.setup.push_back(Command::AddInstrument(spec));
        }
        for account in 0..profile.accounts {
            let limits = g.limits();
            g.setup
                .push_back(Command::AddAccount(AccountSpec { account, limits }));
        }
        g
    }

    pub fn next_step(&mut self) -> Step {
        let command = match self.setup.pop_front() {
            Some(command) => command,
            None => self.command(),
        };
        Step {
            stamp: self.stamp(),
            command,
        }
    }

    /// Follows the events of the last step, to know which orders rest.
    pub fn observe(&mut self, events: &[Event]) {
        for event in events {
            match *event {
                Event::Accepted {
                    account,
                    instrument,
                    client_order_id,
                    order_type: OrderType::Limit,
                    time_in_force: TimeInForce::Gtc | TimeInForce::Day,
                    price,
                    qty,
                    ..
                } => {
                    if let Some(&spec) = self.specs.iter().find(|s| s.instrument == instrument) {
                        self.live.push(LiveOrder {
                            account,
                            client_order_id,
                            spec,
                            price,
                            leaves: qty,
                        });
                    }
                }
                Event::Trade(t) => {
                    self.last_trade.insert(t.instrument, t.price);
                    self.set_leaves(t.maker_account, t.maker_client_order_id, t.maker_leaves);
                    self.set_leaves(t.taker_account, t.taker_client_order_id, t.taker_leaves);
                }
                Event::Replaced {
                    account,
                    orig_client_order_id,
                    client_order_id,
                    price,
                    qty,
                    ..
                } => {
                    if let Some(o) = self.live_mut(account, orig_client_order_id) {
                        o.client_order_id = client_order_id;
                        o.price = price;
                        o.leaves = qty;
                    }
                }
                Event::Cancelled {
                    account,
                    client_order_id,
                    ..
                }
                | Event::Expired {
                    account,
                    client_order_id,
                    ..
                } => self.set_leaves(account, client_order_id, 0),
                _ => {}
            }
        }
    }

    fn live_mut(&mut self, account: AccountId, id: ClientOrderId) -> Option<&mut LiveOrder> {
        self.live
            .iter_mut()
            .find(|o| o.account == account && o.client_order_id == id)
    }

    fn set_leaves(&mut self, account: AccountId, id: ClientOrderId, leaves: Qty) {
        if leaves == 0 {
            self.live
                .retain(|o| o.account != account || o.client_order_id != id);
        } else if let Some(o) = self.live_mut(account, id) {
            o.leaves = leaves;
        }
    }

    fn stamp(&mut self) -> Stamp {
        let rng = &mut self.rng;
        match rng.below(1000) {
            0..=4 => Stamp::SeqOff {
                error: rng.edgy_u64().max(1),
            },
            5..=9 => Stamp::TimeBack {
                by_ns: rng.edgy_u64().max(1),
            },
            10 => Stamp::InOrder {
                advance_ns: rng.edgy_u64(),
            },
            11..=200 => Stamp::InOrder { advance_ns: 0 },
            _ => Stamp::InOrder {
                advance_ns: rng.below(1000),
            },
        }
    }

    fn command(&mut self) -> Command {
        let p = self.profile;
        let roll = self.rng.below(1000) as u32;
        let chaos = p.chaos_per_mille;
        let end_of_day = chaos + p.end_of_day_per_mille;
        let admin = end_of_day + 12;
        let cancel = admin + 6 + p.cancel_per_mille;
        match roll {
            r if r < chaos => arbitrary_command(&mut self.rng),
            r if r < end_of_day => Command::EndOfDay,
            r if r < end_of_day + 6 => self.set_halted(),
            r if r < end_of_day + 9 => self.add_instrument(),
            r if r < admin => self.add_account(),
            r if r < admin + 6 => self.mass_cancel(),
            r if r < cancel => self.cancel(),
            r if r < cancel + 150 => self.replace(),
            _ => self.new_order(),
        }
    }

    fn valid_spec(&mut self, instrument: InstrumentId) -> InstrumentSpec {
        let rng = &mut self.rng;
        if self.profile.huge {
            let tick = rng.pick(&[1, 1 << 10, 1 << 40, PRICE_MAX / 4, PRICE_MAX]);
            let top = PRICE_MAX - PRICE_MAX % tick;
            let reference = (top - tick * rng.between(0, 3)).max(tick);
            InstrumentSpec {
                instrument,
                tick_size: tick,
                lot_size: rng.pick(&[1, 1 << 20, QTY_MAX / 4, QTY_MAX]),
                reference_price: reference,
                price_band_bps: rng.between(0, i64::from(BPS_ONE)) as u32,
            }
        } else {
            let tick = rng.pick(&[1, 5, 25, 100]);
            InstrumentSpec {
                instrument,
                tick_size: tick,
                lot_size: rng.pick(&[1, 10, 100]),
                reference_price: tick * rng.between(20, 400),
                price_band_bps: rng.pick(&[0, 50, 500, 1000, 1000, 2000, BPS_ONE]),
            }
        }
    }

    fn limits(&mut self) -> AccountLimits {
        let rng = &mut self.rng;
        if rng.chance(self.profile.tight_limits_per_mille) {
            return AccountLimits {
                max_order_qty: rng.pick(&[0, 1, 10, 50, 100, 1000]),
                max_order_notional: rng.pick(&[0, 1_000, 50_000, 200_000, 5_000_000]),
                max_open_orders: rng.between(0, 4) as u32,
            };
        }
        if self.profile.huge {
            return AccountLimits {
                max_order_qty: rng.pick(&[QTY_MAX, u64::MAX]),
                max_order_notional: rng.pick(&[u128::MAX, 1 << 89, 1 << 90]),
                max_open_orders: rng.pick(&[64, u32::MAX]),
            };
        }
        AccountLimits {
            max_order_qty: rng.pick(&[5_000, 100_000, u64::MAX]),
            max_order_notional: rng.pick(&[10_000_000, 1_000_000_000, u128::MAX]),
            max_open_orders: rng.pick(&[8, 32, u32::MAX]),
        }
    }

    /// An instrument id: mostly one with a known spec, sometimes any.
    fn instrument(&mut self) -> (InstrumentId, Option<InstrumentSpec>) {
        if !self.specs.is_empty() && !self.rng.chance(60) {
            let spec = self.specs[self.rng.below(self.specs.len() as u64) as usize];
            return (spec.instrument, Some(spec));
        }
        let id = if self.rng.flip() {
            self.rng
                .below(u64::from(self.profile.config.max_instruments) + 2) as u32
        } else {
            self.rng.edgy_u32()
        };
        (id, self.specs.iter().find(|s| s.instrument == id).copied())
    }

    fn account(&mut self) -> AccountId {
        match self.rng.below(100) {
            0..=95 => self.rng.below(u64::from(self.profile.accounts.max(1))) as u32,
            96..=97 => {
                self.rng
                    .below(u64::from(self.profile.config.max_accounts) + 2) as u32
            }
            _ => self.rng.edgy_u32(),
        }
    }

    fn client_order_id(&mut self) -> ClientOrderId {
        if self.rng.chance(10) {
            return self.rng.edgy_u64();
        }
        self.rng.below(self.profile.client_ids)
    }

    /// A price for `spec`: mostly on tick near the last trade, sometimes off tick, far
    /// away or at the edges of the type. For a `side`, mostly on the passive side of the
    /// last trade, so that books grow deep and the rest sweep them.
    fn price(&mut self, spec: Option<InstrumentSpec>, side: Option<Side>) -> Price {
        let Some(spec) = spec else {
            return self.rng.edgy_i64();
        };
        let tick = spec.tick_size;
        let centre = self
            .last_trade
            .get(&spec.instrument)
            .copied()
            .unwrap_or(spec.reference_price);
        // Mostly inside the band (one tick either side of it too), never far beyond.
        let band_ticks = match spec.price_band_bps {
            0 => 12,
            bps => i128::from(centre) * i128::from(bps) / i128::from(BPS_ONE) / i128::from(tick),
        };
        let spread = (band_ticks + 1).clamp(2, 12) as i64;
        let ticks = match side {
            Some(Side::Buy) if self.rng.chance(700) => self.rng.between(-spread, 0),
            Some(Side::Sell) if self.rng.chance(700) => self.rng.between(0, spread),
            _ => self.rng.between(-spread, spread),
        };
        let near = centre.saturating_add(tick.saturating_mul(ticks));
        match self.rng.below(100) {
            0..=81 => near,
            82..=87 => near.saturating_add(1),
            88..=93 => spec
                .reference_price
                .saturating_add(tick.saturating_mul(self.rng.between(-1000, 1000))),
            _ => self.rng.pick(&[
                0,
                -1,
                -tick,
                i64::MIN,
                i64::MAX,
                tick,
                PRICE_MAX,
                PRICE_MAX + 1,
                PRICE_MAX - PRICE_MAX % tick,
            ]),
        }
    }

    fn qty(&mut self, spec: Option<InstrumentSpec>) -> Qty {
        let Some(spec) = spec else {
            return self.rng.edgy_u64();
        };
        let lot = spec.lot_size;
        let lots = match self.rng.below(100) {
            0..=79 => self.rng.between(1, 6),
            80..=89 => self.rng.between(7, 60),
            _ => 0,
        };
        let on_lot = lot.saturating_mul(lots as u64);
        if lots > 0 {
            return on_lot;
        }
        self.rng.pick(&[
            0,
            lot.saturating_add(1),
            QTY_MAX,
            QTY_MAX + 1,
            QTY_MAX - QTY_MAX % lot,
            u64::MAX,
        ])
    }

    fn new_order(&mut self) -> Command {
        let (instrument, spec) = self.instrument();
        let (account, client_order_id) = match self.live_order() {
            // The id of a resting order: a duplicate.
            Some(o) if self.rng.chance(50) => (o.account, o.client_order_id),
            _ => (self.account(), self.client_order_id()),
        };
        let market = self.rng.chance(120);
        let time_in_force = match self.rng.below(100) {
            _ if market && self.rng.chance(950) => {
                self.rng.pick(&[TimeInForce::Ioc, TimeInForce::Fok])
            }
            0..=39 => TimeInForce::Gtc,
            40..=69 => TimeInForce::Day,
            70..=84 => TimeInForce::Ioc,
            _ => TimeInForce::Fok,
        };
        let side = arbitrary_side(&mut self.rng);
        let price = if market && self.rng.chance(950) {
            0
        } else {
            self.price(spec, Some(side))
        };
        let qty = self.qty(spec);
        Command::NewOrder(NewOrder {
            account,
            instrument,
            client_order_id,
            side,
            order_type: if market {
                OrderType::Market
            } else {
                OrderType::Limit
            },
            time_in_force,
            post_only: self.rng.chance(100),
            price,
            qty,
        })
    }

    fn live_order(&mut self) -> Option<LiveOrder> {
        if self.live.is_empty() || self.rng.chance(150) {
            return None;
        }
        Some(self.live[self.rng.below(self.live.len() as u64) as usize])
    }

    fn cancel(&mut self) -> Command {
        let (account, client_order_id) = match self.live_order() {
            Some(o) => (o.account, o.client_order_id),
            None => (self.account(), self.client_order_id()),
        };
        Command::Cancel(Cancel {
            account,
            client_order_id,
        })
    }

    fn replace(&mut self) -> Command {
        let Some(o) = self.live_order() else {
            let (_, spec) = self.instrument();
            return Command::Replace(Replace {
                account: self.account(),
                orig_client_order_id: self.client_order_id(),
                client_order_id: self.client_order_id(),
                price: self.price(spec, None),
                qty: self.qty(spec),
            });
        };
        let client_order_id = if self.rng.flip() {
            o.client_order_id
        } else {
            self.client_order_id()
        };
        let tick = o.spec.tick_size;
        let price = match self.rng.below(100) {
            0..=39 => o.price,
            40..=74 => o
                .price
                .saturating_add(tick.saturating_mul(self.rng.between(-3, 3))),
            _ => self.price(Some(o.spec), None),
        };
        let lot = o.spec.lot_size;
        let qty = match self.rng.below(100) {
            0..=19 => o.leaves,
            20..=49 => o
                .leaves
                .saturating_sub(lot.saturating_mul(self.rng.between(1, 3) as u64)),
            50..=79 => o
                .leaves
                .saturating_add(lot.saturating_mul(self.rng.between(1, 3) as u64)),
            _ => self.qty(Some(o.spec)),
        };
        Command::Replace(Replace {
            account: o.account,
            orig_client_order_id: o.client_order_id,
            client_order_id,
            price,
            qty,
        })
    }

    fn mass_cancel(&mut self) -> Command {
        let account = self.account();
        let instrument = match self.rng.below(10) {
            0..=4 => None,
            5..=8 => Some(self.instrument().0),
            _ => Some(self.rng.edgy_u32()),
        };
        Command::MassCancel(MassCancel {
            account,
            instrument,
        })
    }

    fn set_halted(&mut self) -> Command {
        Command::SetHalted {
            instrument: self.instrument().0,
            // Mostly lifting halts, so instruments are seldom halted for long.
            halted: self.rng.chance(80),
        }
    }

    fn add_instrument(&mut self) -> Command {
        let id = self
            .rng
            .below(u64::from(self.profile.config.max_instruments) + 2) as u32;
        if self.rng.flip() {
            return Command::AddInstrument(arbitrary_spec(&mut self.rng, id));
        }
        let spec = self.valid_spec(id);
        if id < self.profile.config.max_instruments && self.specs.iter().all(|s| s.instrument != id)
        {
            self.specs.push(spec);
        }
        Command::AddInstrument(spec)
    }

    fn add_account(&mut self) -> Command {
        let account = self
            .rng
            .below(u64::from(self.profile.config.max_accounts) + 2) as u32;
        let limits = if self.rng.chance(200) {
            arbitrary_limits(&mut self.rng)
        } else {
            self.limits()
        };
        Command::AddAccount(AccountSpec { account, limits })
    }
}
