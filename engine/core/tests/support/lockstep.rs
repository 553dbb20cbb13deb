//! Drives the fast engine and the reference matcher in lockstep over one stream and
//! reports the first difference: in the events of a command, in the state hash, in the
//! core's own invariants, or in any read-only view. Also shrinks a failing stream.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ringex_core::*;

use crate::reference::Reference;
use crate::stamps::{Sequencer, Step};

/// Where and how two models first disagreed.
#[derive(Debug)]
pub struct Divergence {
    pub step: usize,
    pub what: String,
}

/// How often the (costly) full comparison of every view runs, in commands.
const VIEWS_EVERY: usize = 64;

/// How often each outcome (event kind, reject reason, cancel reason) occurred.
pub type Coverage = BTreeMap<String, u64>;

fn outcome(event: &Event) -> String {
    match event {
        Event::Rejected { reason, .. } => format!("Rejected({reason:?})"),
        Event::Cancelled { reason, .. } => format!("Cancelled({reason:?})"),
        Event::Replaced { priority_kept, .. } => {
            format!("Replaced(priority_kept: {priority_kept})")
        }
        other => format!("{other:?}")
            .split([' ', '('])
            .next()
            .unwrap()
            .to_string(),
    }
}

/// Shapes of a whole command's events worth counting: sweeps through several price
/// levels, and replaces that trade.
fn command_shapes(events: &[Event]) -> Vec<&'static str> {
    let mut prices: Vec<Price> = events
        .iter()
        .filter_map(|e| match e {
            Event::Trade(t) => Some(t.price),
            _ => None,
        })
        .collect();
    prices.dedup();
    let mut shapes = Vec::new();
    if prices.len() >= 3 {
        shapes.push("Sweep(3+ levels)");
    }
    if matches!(events.first(), Some(Event::Replaced { .. })) && !prices.is_empty() {
        shapes.push("Replaced(traded)");
    }
    shapes
}

/// The fast engine and the reference, fed the same steps.
pub struct Lockstep {
    config: EngineConfig,
    engine: Engine,
    reference: Reference,
    sequencer: Sequencer,
    out: Vec<Event>,
    applied: usize,
    pub coverage: Coverage,
}

impl Lockstep {
    pub fn new(config: EngineConfig) -> Lockstep {
        Lockstep {
            config,
            engine: Engine::new(config).expect("valid test configuration"),
            reference: Reference::new(config),
            sequencer: Sequencer::default(),
            out: Vec::new(),
            applied: 0,
            coverage: Coverage::new(),
        }
    }

    /// Applies one step to both models; their (equal) events, or where they part.
    pub fn apply(&mut self, step: &Step) -> Result<&[Event], Divergence> {
        let index = self.applied;
        self.applied += 1;
        let fail = |what: String| Divergence { step: index, what };
        let (seq, timestamp_ns) = self.sequencer.stamp(step.stamp);
        self.out.clear();
        self.engine
            .apply(seq, timestamp_ns, &step.command, &mut self.out);
        let expected = self.reference.apply(seq, timestamp_ns, &step.command);
        if self.out != expected {
            return Err(fail(format!(
                "events differ for ({seq}, {timestamp_ns}, {:?})\n  engine:    {:?}\n  reference: {expected:?}",
                step.command, self.out
            )));
        }
        self.engine
            .check_invariants()
            .map_err(|e| fail(format!("engine invariant broken: {e}")))?;
        if self.engine.state_hash() != self.reference.state_hash() {
            return Err(fail("state hashes differ".to_string()));
        }
        if index.is_multiple_of(VIEWS_EVERY) {
            compare_views(self.config, &self.engine, &self.reference).map_err(fail)?;
        }
        for event in &self.out {
            *self.coverage.entry(outcome(event)).or_default() += 1;
        }
        for shape in command_shapes(&self.out) {
            *self.coverage.entry(shape.to_string()).or_default() += 1;
        }
        Ok(&self.out)
    }

    /// The closing comparison of every view.
    pub fn finish(&self) -> Result<(), Divergence> {
        compare_views(self.config, &self.engine, &self.reference).map_err(|what| Divergence {
            step: self.applied.saturating_sub(1),
            what,
        })
    }
}

/// Runs `steps` through both models from empty; the first divergence, if any, or how
/// often each outcome occurred.
pub fn replay(config: EngineConfig, steps: &[Step]) -> Result<Coverage, Divergence> {
    let mut lockstep = Lockstep::new(config);
    for step in steps {
        lockstep.apply(step)?;
    }
    lockstep.finish()?;
    Ok(lockstep.coverage)
}

/// Every view of every instrument and account the configuration allows, plus one past.
fn compare_views(
    config: EngineConfig,
    engine: &Engine,
    reference: &Reference,
) -> Result<(), String> {
    fn same<T: PartialEq + std::fmt::Debug>(
        what: &str,
        engine: T,
        reference: T,
    ) -> Result<(), String> {
        if engine == reference {
            Ok(())
        } else {
            Err(format!(
                "{what} differs\n  engine:    {engine:?}\n  reference: {reference:?}"
            ))
        }
    }
    same("last_seq", engine.last_seq(), reference.last_seq())?;
    same(
        "resting_orders",
        engine.resting_orders(),
        reference.resting_orders(),
    )?;
    for instrument in 0..=config.max_instruments {
        let what = format!("instrument {instrument}");
        same(
            &what,
            engine.book_view(instrument),
            reference.book_view(instrument),
        )?;
        same(
            &what,
            engine.top_of_book(instrument),
            reference.top_of_book(instrument),
        )?;
        same(
            &what,
            engine.instrument_view(instrument),
            reference.instrument_view(instrument),
        )?;
    }
    for account in 0..=config.max_accounts {
        let what = format!("account {account}");
        let open = reference.open_orders(account);
        same(&what, engine.open_orders(account), open.clone())?;
        for order in open.iter().flatten() {
            let id = order.client_order_id;
            same(
                &what,
                engine.open_order_view(account, id),
                reference.open_order_view(account, id),
            )?;
        }
        for instrument in 0..=config.max_instruments {
            same(
                &what,
                engine.position(account, instrument),
                reference.position(account, instrument),
            )?;
        }
    }
    Ok(())
}

/// Removes chunks of a failing stream while it still fails, halving the chunk size,
/// until nothing more can go or the time budget is spent.
pub fn shrink(config: EngineConfig, mut steps: Vec<Step>, budget: Duration) -> Vec<Step> {
    let deadline = Instant::now() + budget;
    let mut chunk = steps.len().div_ceil(2);
    while chunk > 0 {
        let mut start = 0;
        while start < steps.len() {
            if Instant::now() > deadline {
                return steps;
            }
            let end = (start + chunk).min(steps.len());
            let candidate: Vec<Step> = [&steps[..start], &steps[end..]].concat();
            if let Err(divergence) = replay(config, &candidate) {
                steps = candidate;
                steps.truncate(divergence.step + 1);
            } else {
                start = end;
            }
        }
        chunk /= 2;
    }
    steps
}
