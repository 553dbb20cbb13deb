//! Accounts: limits for pre-trade risk, the list of open orders (oldest first, for mass
//! cancel and end of day), and net positions per instrument.

use crate::command::AccountLimits;
use crate::order::{OrderPool, NIL};
use crate::types::*;

pub struct Account {
    pub limits: AccountLimits,
    pub open_orders: u32,
    pub head: u32,
    pub tail: u32,
    /// Net position per instrument traded, sorted by instrument id.
    positions: Vec<(InstrumentId, i64)>,
}

impl Account {
    pub fn new(limits: AccountLimits) -> Account {
        Account {
            limits,
            open_orders: 0,
            head: NIL,
            tail: NIL,
            positions: Vec::with_capacity(8),
        }
    }

    pub fn push_order(&mut self, pool: &mut OrderPool, slot: u32) {
        let tail = self.tail;
        {
            let o = pool.get_mut(slot);
            o.account_prev = tail;
            o.account_next = NIL;
        }
        if tail == NIL {
            self.head = slot;
        } else {
            pool.get_mut(tail).account_next = slot;
        }
        self.tail = slot;
        self.open_orders += 1;
    }

    pub fn remove_order(&mut self, pool: &mut OrderPool, slot: u32) {
        let (prev, next) = {
            let o = pool.get(slot);
            (o.account_prev, o.account_next)
        };
        if prev == NIL {
            assert_eq!(self.head, slot);
            self.head = next;
        } else {
            pool.get_mut(prev).account_next = next;
        }
        if next == NIL {
            assert_eq!(self.tail, slot);
            self.tail = prev;
        } else {
            pool.get_mut(next).account_prev = prev;
        }
        assert!(self.open_orders > 0);
        self.open_orders -= 1;
    }

    /// Net position in `instrument`: bought minus sold.
    pub fn position(&self, instrument: InstrumentId) -> i64 {
        match self.positions.binary_search_by_key(&instrument, |p| p.0) {
            Ok(i) => self.positions[i].1,
            Err(_) => 0,
        }
    }

    pub fn positions(&self) -> &[(InstrumentId, i64)] {
        &self.positions
    }

    pub fn add_position(&mut self, instrument: InstrumentId, delta: i64) {
        match self.positions.binary_search_by_key(&instrument, |p| p.0) {
            Ok(i) => self.positions[i].1 += delta,
            Err(i) => self.positions.insert(i, (instrument, delta)),
        }
    }
}
