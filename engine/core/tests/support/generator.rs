//! Seeded random command streams aimed at the core's edges: prices around the last
//! trade and just off the rules, quantities around the limits, client order ids from a
//! small range so that duplicates, reuse and cancels of finished orders are common,
//! replaces of resting orders at the same and other prices, admin commands mid-stream,
//! bad stamps, and a share of commands with fully arbitrary fields.

use std::collections::VecDeque;

use ringex_core::*;

use crate::arbitrary::{arbitrary_command, arbitrary_limits, arbitrary_side, arbitrary_spec};
use crate::market_model::{LiveOrder, MarketModel};
use crate::rng::Rng;
use crate::stamps::{Stamp, Step};
use crate::values;

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

pub struct Generator {
    rng: Rng,
    profile: Profile,
    setup: VecDeque<Command>,
    model: MarketModel,
}

impl Generator {
    pub fn new(profile: Profile, seed: u64) -> Generator {
        let mut g = Generator {
            rng: Rng::new(seed),
            profile,
            setup: VecDeque::new(),
            model: MarketModel::default(),
        };
        for instrument in 0..profile.instruments {
            let spec = values::valid_spec(&mut g.rng, instrument, profile.huge);
            g.model.add_instrument(spec);
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

    /// Follows the events of the last step, to aim later commands at resting orders.
    pub fn observe(&mut self, events: &[Event]) {
        self.model.observe(events);
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
        let end_of_day = p.chaos_per_mille + p.end_of_day_per_mille;
        let admin = end_of_day + 12;
        let cancel = admin + 6 + p.cancel_per_mille;
        match roll {
            r if r < p.chaos_per_mille => arbitrary_command(&mut self.rng),
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

    fn limits(&mut self) -> AccountLimits {
        let tight = self.rng.chance(self.profile.tight_limits_per_mille);
        values::limits(&mut self.rng, tight, self.profile.huge)
    }

    /// An instrument id: mostly one with a known spec, sometimes any.
    fn instrument(&mut self) -> (InstrumentId, Option<InstrumentSpec>) {
        if !self.rng.chance(60) {
            if let Some(spec) = self.model.any_spec(&mut self.rng) {
                return (spec.instrument, Some(spec));
            }
        }
        let id = if self.rng.flip() {
            self.rng
                .below(u64::from(self.profile.config.max_instruments) + 2) as u32
        } else {
            self.rng.edgy_u32()
        };
        (id, self.model.spec(id))
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

    fn price(&mut self, spec: Option<InstrumentSpec>, side: Option<Side>) -> Price {
        match spec {
            Some(spec) => {
                let centre = self.model.centre(&spec);
                values::price(&mut self.rng, &spec, centre, side)
            }
            None => self.rng.edgy_i64(),
        }
    }

    fn qty(&mut self, spec: Option<InstrumentSpec>) -> Qty {
        match spec {
            Some(spec) => values::qty(&mut self.rng, &spec),
            None => self.rng.edgy_u64(),
        }
    }

    /// A resting order to aim at, most of the time when there is one.
    fn live_order(&mut self) -> Option<LiveOrder> {
        if self.rng.chance(150) {
            return None;
        }
        self.model.any_live_order(&mut self.rng)
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
            qty: self.qty(spec),
        })
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
        let lots = |rng: &mut Rng| o.spec.lot_size.saturating_mul(rng.between(1, 3) as u64);
        let qty = match self.rng.below(100) {
            0..=19 => o.leaves,
            20..=49 => o.leaves.saturating_sub(lots(&mut self.rng)),
            50..=79 => o.leaves.saturating_add(lots(&mut self.rng)),
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
        let max = self.profile.config.max_instruments;
        let id = self.rng.below(u64::from(max) + 2) as u32;
        if self.rng.flip() {
            return Command::AddInstrument(arbitrary_spec(&mut self.rng, id));
        }
        let spec = values::valid_spec(&mut self.rng, id, self.profile.huge);
        if id < max {
            self.model.add_instrument(spec);
        }
        Command::AddInstrument(spec)
    }

    fn add_account(&mut self) -> Command {
        let max = self.profile.config.max_accounts;
        let account = self.rng.below(u64::from(max) + 2) as u32;
        let limits = if self.rng.chance(200) {
            arbitrary_limits(&mut self.rng)
        } else {
            self.limits()
        };
        Command::AddAccount(AccountSpec { account, limits })
    }
}
