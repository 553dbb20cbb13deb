//! What a generated stream turned out to be: its mix, how often commands traded or
//! were rejected, and the book's shape, so a report can show the workload it measured.

use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandClass {
    /// Adds the instrument or an account.
    Setup,
    Gtc,
    Ioc,
    Cancel,
    Move,
}

#[derive(Clone, Debug, Default)]
pub struct WorkloadStats {
    pub gtc: u64,
    pub ioc: u64,
    pub cancel: u64,
    pub moves: u64,
    pub setup: u64,
    /// Commands that produced at least one trade.
    pub trading_commands: u64,
    pub trades: u64,
    pub rejected_commands: u64,
    book_samples: u64,
    resting_orders_sum: u64,
    levels_sum: u64,
}

impl WorkloadStats {
    pub fn record(&mut self, class: CommandClass, traded: bool, rejected: bool) {
        let counter = match class {
            CommandClass::Setup => &mut self.setup,
            CommandClass::Gtc => &mut self.gtc,
            CommandClass::Ioc => &mut self.ioc,
            CommandClass::Cancel => &mut self.cancel,
            CommandClass::Move => &mut self.moves,
        };
        *counter += 1;
        self.trading_commands += u64::from(traded);
        self.rejected_commands += u64::from(rejected);
    }

    pub fn sample_book(&mut self, resting_orders: u64, levels: u64) {
        self.book_samples += 1;
        self.resting_orders_sum += resting_orders;
        self.levels_sum += levels;
    }

    pub fn merge(&mut self, other: &WorkloadStats) {
        self.gtc += other.gtc;
        self.ioc += other.ioc;
        self.cancel += other.cancel;
        self.moves += other.moves;
        self.setup += other.setup;
        self.trading_commands += other.trading_commands;
        self.trades += other.trades;
        self.rejected_commands += other.rejected_commands;
        self.book_samples += other.book_samples;
        self.resting_orders_sum += other.resting_orders_sum;
        self.levels_sum += other.levels_sum;
    }

    /// Order commands (everything but setup).
    pub fn commands(&self) -> u64 {
        self.gtc + self.ioc + self.cancel + self.moves
    }

    fn share(&self, count: u64) -> f64 {
        count as f64 / self.commands().max(1) as f64
    }

    pub fn trade_ratio(&self) -> f64 {
        self.share(self.trading_commands)
    }

    pub fn reject_ratio(&self) -> f64 {
        self.share(self.rejected_commands)
    }

    pub fn mean_resting_orders(&self) -> f64 {
        self.resting_orders_sum as f64 / self.book_samples.max(1) as f64
    }

    pub fn mean_levels(&self) -> f64 {
        self.levels_sum as f64 / self.book_samples.max(1) as f64
    }

    /// The figures a results file reports about its workload.
    pub fn to_json(&self) -> Value {
        let round4 = |x: f64| (x * 1e4).round() / 1e4;
        json!({
            "commands": self.commands(),
            "gtc_ratio": round4(self.share(self.gtc)),
            "ioc_ratio": round4(self.share(self.ioc)),
            "cancel_ratio": round4(self.share(self.cancel)),
            "move_ratio": round4(self.share(self.moves)),
            "trade_ratio": round4(self.trade_ratio()),
            "reject_ratio": round4(self.reject_ratio()),
            "trades_per_command": round4(self.share(self.trades)),
            "resting_orders_mean": self.mean_resting_orders().round(),
            "levels_mean": self.mean_levels().round(),
        })
    }
}
