//! Snapshots: the whole engine state as bytes, and back.
//!
//! The encoding is canonical: it names orders by their order ids, never by their slots in
//! the slab, and lists everything in a fixed order (instruments and accounts by id,
//! levels worst to best, orders in queue order, the day's finished client ids in the
//! order they finished). Two engines fed the same stream therefore encode to the same
//! bytes, and an engine restored from a snapshot encodes to the bytes it was restored
//! from. Finished ids are not sorted: the set grows all day, and sorting it would stall
//! the matcher at every snapshot.
//!
//! Layout, little-endian:
//!
//! ```text
//! magic      8 bytes  "RINGEXSN"
//! version    u32      SNAPSHOT_VERSION
//! body_len   u64      bytes after this header
//! body_crc   u32      CRC-32C (Castagnoli) of the body
//! body:
//!   config   5 x u32  (max_orders, max_instruments, max_accounts, max_client_ids_per_day, levels_per_side)
//!   counters 4 x u64  (last_seq, last_timestamp_ns, next_order_id, next_match_id)
//!   ids      2 x u64  (client id digest, client ids used today)
//!   instruments u32 count, then per instrument (by id):
//!     id u32, tick_size i64, lot_size u64, reference_price i64, price_band_bps u32,
//!     has_last_trade u8, last_trade_price i64, halted u8,
//!     bids then asks: level count u32, then per level (worst to best):
//!       price i64, total_qty u64, order count u32, then per order (queue order):
//!         order_id u64, client_order_id u64, leaves u64, filled u64, account u32,
//!         time_in_force u8, post_only u8
//!   accounts u32 count, then per account (by id):
//!     id u32, max_order_qty u64, max_order_notional u128, max_open_orders u32,
//!     position count u32, then (instrument u32, position i64) by instrument,
//!     open order count u32, then order_id u64 per open order (oldest first)
//!   closed client ids u32 count, then (account u32, client_order_id u64) as they closed
//! ```
//!
//! Decoding trusts nothing: every count is bounded by the configuration before anything
//! is reserved, every field is range-checked, every cross-reference is resolved, and the
//! rebuilt engine must pass `check_invariants` and reproduce the recorded digests. Bad
//! bytes give an error, never a panic.

use std::fmt;

use crate::account::Account;
use crate::client_ids::ClosedIds;
use crate::command::{AccountLimits, InstrumentSpec};
use crate::config::EngineConfig;
use crate::engine::Engine;
use crate::instrument::Instrument;
use crate::order::{Order, NIL};
use crate::types::*;

pub const SNAPSHOT_MAGIC: [u8; 8] = *b"RINGEXSN";
/// Bumped whenever the layout changes; decoding refuses any other version.
pub const SNAPSHOT_VERSION: u32 = 1;
/// The header: magic, version, the body's length, the body's CRC-32C.
const HEADER_BYTES: usize = 8 + 4 + 8 + 4;
const VERSION_AT: std::ops::Range<usize> = 8..12;
const BODY_LEN_AT: std::ops::Range<usize> = 12..20;
const CHECKSUM_AT: std::ops::Range<usize> = 20..HEADER_BYTES;
/// A closed client order id: its account (u32), then the id (u64).
const CLOSED_ID_BYTES: usize = 4 + 8;

/// Why snapshot bytes were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// Not a snapshot: the magic bytes differ.
    BadMagic,
    UnsupportedVersion(u32),
    /// The bytes end before the length the header declares, or bytes follow the body.
    BadLength {
        declared: u64,
        actual: u64,
    },
    BadChecksum {
        stored: u32,
        computed: u32,
    },
    /// The snapshot was taken with other capacities than the engine being restored.
    ConfigMismatch,
    /// The body is well framed but describes an impossible state.
    Invalid(String),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::BadMagic => write!(f, "not a snapshot (bad magic)"),
            SnapshotError::UnsupportedVersion(v) => write!(f, "unsupported snapshot version {v}"),
            SnapshotError::BadLength { declared, actual } => {
                write!(
                    f,
                    "snapshot body declares {declared} bytes, {actual} present"
                )
            }
            SnapshotError::BadChecksum { stored, computed } => write!(
                f,
                "snapshot checksum mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            SnapshotError::ConfigMismatch => {
                write!(
                    f,
                    "snapshot was taken with a different engine configuration"
                )
            }
            SnapshotError::Invalid(why) => write!(f, "invalid snapshot: {why}"),
        }
    }
}

impl std::error::Error for SnapshotError {}

fn invalid<T>(why: impl Into<String>) -> Result<T, SnapshotError> {
    Err(SnapshotError::Invalid(why.into()))
}

impl Engine {
    /// Encodes the whole state. Deterministic: equal states give equal bytes.
    pub fn encode_snapshot(&self) -> Vec<u8> {
        self.take_snapshot().encode()
    }

    /// The state now, for a snapshot encoded later, perhaps on another thread: the
    /// books and accounts are encoded here (bytes per resting order and account), the
    /// day's closed client order ids, most of a busy day's snapshot, are only shared.
    pub fn take_snapshot(&self) -> TakenSnapshot {
        // The header's length and checksum are filled in once the body is whole.
        let mut head = Vec::with_capacity(HEADER_BYTES + self.snapshot_size_hint_bytes());
        head.extend_from_slice(&SNAPSHOT_MAGIC);
        head.extend_from_slice(&SNAPSHOT_VERSION.to_le_bytes());
        head.resize(HEADER_BYTES, 0);
        self.encode_body(&mut head);
        let closed = self.ids.closed_ids();
        // Every used id is either closed or names a resting order.
        assert_eq!(
            closed.len() + self.pool.live() as usize,
            self.ids.used_today()
        );
        TakenSnapshot { head, closed }
    }

    /// Checks a snapshot's header and body checksum without rebuilding the engine, for
    /// verifying snapshots that are kept but not loaded.
    pub fn verify_snapshot(bytes: &[u8]) -> Result<(), SnapshotError> {
        checked_body(bytes).map(|_| ())
    }

    /// Rebuilds an engine from `bytes`, which must have been taken with `config`.
    pub fn decode_snapshot(bytes: &[u8], config: &EngineConfig) -> Result<Engine, SnapshotError> {
        let body = checked_body(bytes)?;
        let mut r = Reader { bytes: body, at: 0 };
        let engine = decode_body(&mut r, config)?;
        if r.at != body.len() {
            return invalid(format!("{} bytes after the last field", body.len() - r.at));
        }
        engine.check_invariants().or_else(invalid)?;
        Ok(engine)
    }

    /// Marks `seq` as applied without changing anything else, for a sequenced input the
    /// core does not act on (the daemon's snapshot points and shutdown). The journal
    /// numbers every input, so the core must count these too or the next command would
    /// be refused as a gap; a snapshot taken at such an input then covers its sequence
    /// number. Returns false, changing nothing, for a gap or a regressed timestamp,
    /// exactly where `apply` would reject.
    pub fn apply_marker(&mut self, seq: Seq, timestamp_ns: TimestampNs) -> bool {
        if Some(seq) != self.last_seq.checked_add(1) || timestamp_ns < self.last_timestamp_ns {
            return false;
        }
        self.last_seq = seq;
        self.last_timestamp_ns = timestamp_ns;
        true
    }

    fn snapshot_size_hint_bytes(&self) -> usize {
        // Per order about 45 bytes in the books and 8 in its account list.
        4096 + self.pool.live() as usize * 53 + self.ids.used_today() * 12
    }

    fn encode_body(&self, w: &mut Vec<u8>) {
        let c = &self.config;
        for v in [
            c.max_orders,
            c.max_instruments,
            c.max_accounts,
            c.max_client_ids_per_day,
            c.levels_per_side,
        ] {
            put_u32(w, v);
        }
        for v in [
            self.last_seq,
            self.last_timestamp_ns,
            self.next_order_id,
            self.next_match_id,
            self.ids.digest(),
            self.ids.used_today() as u64,
        ] {
            put_u64(w, v);
        }
        let instruments: Vec<(usize, &Instrument)> = self
            .instruments
            .iter()
            .enumerate()
            .filter_map(|(id, i)| i.as_ref().map(|i| (id, i)))
            .collect();
        put_u32(w, instruments.len() as u32);
        let mut orders_written = 0u64;
        for (id, inst) in instruments {
            orders_written += self.encode_instrument(w, id as InstrumentId, inst);
        }
        assert_eq!(orders_written, u64::from(self.pool.live()));
        let accounts: Vec<(usize, &Account)> = self
            .accounts
            .iter()
            .enumerate()
            .filter_map(|(id, a)| a.as_ref().map(|a| (id, a)))
            .collect();
        put_u32(w, accounts.len() as u32);
        for (id, account) in accounts {
            self.encode_account(w, id as AccountId, account);
        }
        // The day's closed client order ids follow: see `TakenSnapshot::encode`.
    }

    /// Writes one instrument and its book; returns the number of orders written.
    fn encode_instrument(&self, w: &mut Vec<u8>, id: InstrumentId, inst: &Instrument) -> u64 {
        let s = &inst.spec;
        assert_eq!(s.instrument, id);
        put_u32(w, id);
        put_u64(w, s.tick_size as u64);
        put_u64(w, s.lot_size);
        put_u64(w, s.reference_price as u64);
        put_u32(w, s.price_band_bps);
        w.push(u8::from(inst.last_trade_price.is_some()));
        put_u64(w, inst.last_trade_price.unwrap_or(0) as u64);
        w.push(u8::from(inst.halted));
        let mut orders = 0u64;
        for ladder in [&inst.book.bids, &inst.book.asks] {
            put_u32(w, ladder.levels().len() as u32);
            for level in ladder.levels() {
                put_u64(w, level.price as u64);
                put_u64(w, level.total_qty);
                put_u32(w, level.count);
                let (mut slot, mut written) = (level.head, 0u32);
                while slot != NIL {
                    let o = self.pool.get(slot);
                    put_u64(w, o.order_id);
                    put_u64(w, o.client_order_id);
                    put_u64(w, o.leaves);
                    put_u64(w, o.filled);
                    put_u32(w, o.account);
                    w.push(o.time_in_force as u8);
                    w.push(u8::from(o.post_only));
                    written += 1;
                    slot = o.next;
                }
                assert_eq!(written, level.count);
                orders += u64::from(written);
            }
        }
        orders
    }

    fn encode_account(&self, w: &mut Vec<u8>, id: AccountId, account: &Account) {
        put_u32(w, id);
        put_u64(w, account.limits.max_order_qty);
        w.extend_from_slice(&account.limits.max_order_notional.to_le_bytes());
        put_u32(w, account.limits.max_open_orders);
        put_u32(w, account.positions().len() as u32);
        for &(instrument, position) in account.positions() {
            put_u32(w, instrument);
            put_u64(w, position as u64);
        }
        put_u32(w, account.open_orders);
        let (mut slot, mut written) = (account.head, 0u32);
        while slot != NIL {
            let o = self.pool.get(slot);
            put_u64(w, o.order_id);
            written += 1;
            slot = o.account_next;
        }
        assert_eq!(written, account.open_orders);
    }
}

/// A snapshot taken from an engine and not yet encoded (see [`Engine::take_snapshot`]).
pub struct TakenSnapshot {
    /// The header (length and checksum still zero) and the body up to the closed ids.
    head: Vec<u8>,
    closed: ClosedIds,
}

impl TakenSnapshot {
    /// The snapshot's bytes, the same as the engine would have encoded when taken.
    pub fn encode(self) -> Vec<u8> {
        let TakenSnapshot {
            head: mut out,
            closed,
        } = self;
        out.reserve(4 + closed.len() * CLOSED_ID_BYTES);
        put_u32(&mut out, closed.len() as u32);
        // Millions on a busy day: written in place rather than pushed field by field.
        let start = out.len();
        out.resize(start + closed.len() * CLOSED_ID_BYTES, 0);
        let slots = out[start..].chunks_exact_mut(CLOSED_ID_BYTES);
        for (at, &(account, id)) in slots.zip(closed.iter()) {
            at[..4].copy_from_slice(&account.to_le_bytes());
            at[4..].copy_from_slice(&id.to_le_bytes());
        }
        let body_len = (out.len() - HEADER_BYTES) as u64;
        let checksum = crc32c(&out[HEADER_BYTES..]);
        out[BODY_LEN_AT].copy_from_slice(&body_len.to_le_bytes());
        out[CHECKSUM_AT].copy_from_slice(&checksum.to_le_bytes());
        debug_assert!(checked_body(&out).is_ok());
        out
    }
}

/// Checks the header and the checksum; returns the body.
fn checked_body(bytes: &[u8]) -> Result<&[u8], SnapshotError> {
    if bytes.len() < HEADER_BYTES || bytes[..8] != SNAPSHOT_MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let version = u32::from_le_bytes(bytes[VERSION_AT].try_into().expect("4 bytes"));
    if version != SNAPSHOT_VERSION {
        return Err(SnapshotError::UnsupportedVersion(version));
    }
    let declared = u64::from_le_bytes(bytes[BODY_LEN_AT].try_into().expect("8 bytes"));
    let stored = u32::from_le_bytes(bytes[CHECKSUM_AT].try_into().expect("4 bytes"));
    let body = &bytes[HEADER_BYTES..];
    if declared != body.len() as u64 {
        return Err(SnapshotError::BadLength {
            declared,
            actual: body.len() as u64,
        });
    }
    let computed = crc32c(body);
    if computed != stored {
        return Err(SnapshotError::BadChecksum { stored, computed });
    }
    Ok(body)
}

fn decode_body(r: &mut Reader<'_>, config: &EngineConfig) -> Result<Engine, SnapshotError> {
    let stored = EngineConfig {
        max_orders: r.u32()?,
        max_instruments: r.u32()?,
        max_accounts: r.u32()?,
        max_client_ids_per_day: r.u32()?,
        levels_per_side: r.u32()?,
    };
    if stored != *config {
        return Err(SnapshotError::ConfigMismatch);
    }
    let mut engine = Engine::new(*config).or_else(invalid)?;
    engine.last_seq = r.u64()?;
    engine.last_timestamp_ns = r.u64()?;
    engine.next_order_id = r.u64()?;
    engine.next_match_id = r.u64()?;
    let digest = r.u64()?;
    let used_today = r.u64()?;
    if engine.next_order_id == 0 || engine.next_match_id == 0 {
        return invalid("order and match id counters start at 1");
    }
    // Order ids in the snapshot, sorted with their slots, to resolve account lists.
    let mut slots_by_order_id: Vec<(OrderId, u32)> = Vec::new();
    let instrument_count = r.count(config.max_instruments, "instruments")?;
    let mut previous_id = None;
    for _ in 0..instrument_count {
        let id = r.u32()?;
        if id >= config.max_instruments || previous_id.is_some_and(|p| id <= p) {
            return invalid(format!("instrument id {id} out of range or out of order"));
        }
        previous_id = Some(id);
        decode_instrument(r, &mut engine, id, &mut slots_by_order_id)?;
    }
    slots_by_order_id.sort_unstable();
    if slots_by_order_id.windows(2).any(|p| p[0].0 == p[1].0) {
        return invalid("an order id appears twice");
    }
    let account_count = r.count(config.max_accounts, "accounts")?;
    let mut previous_id = None;
    for _ in 0..account_count {
        let id = r.u32()?;
        if id >= config.max_accounts || previous_id.is_some_and(|p| id <= p) {
            return invalid(format!("account id {id} out of range or out of order"));
        }
        previous_id = Some(id);
        decode_account(r, &mut engine, id, &slots_by_order_id)?;
    }
    for &(order_id, slot) in &slots_by_order_id {
        let o = engine.pool.get(slot);
        if o.account_prev == NIL && engine.account(o.account).map(|a| a.head) != Some(slot) {
            return invalid(format!("order {order_id} is in no account's list"));
        }
    }
    decode_client_ids(r, &mut engine, &slots_by_order_id)?;
    if engine.ids.digest() != digest || engine.ids.used_today() as u64 != used_today {
        return invalid("client id digest does not match the ids recorded");
    }
    Ok(engine)
}

fn decode_instrument(
    r: &mut Reader<'_>,
    engine: &mut Engine,
    id: InstrumentId,
    slots_by_order_id: &mut Vec<(OrderId, u32)>,
) -> Result<(), SnapshotError> {
    let spec = InstrumentSpec {
        instrument: id,
        tick_size: r.i64()?,
        lot_size: r.u64()?,
        reference_price: r.i64()?,
        price_band_bps: r.u32()?,
    };
    if !Instrument::spec_is_valid(&spec) {
        return invalid(format!("instrument {id}: invalid spec"));
    }
    let has_last_trade = r.bool()?;
    let last_trade_price = r.i64()?;
    let halted = r.bool()?;
    let mut inst = Instrument::new(spec, engine.config.levels_per_side as usize);
    if has_last_trade {
        if last_trade_price <= 0 || last_trade_price > PRICE_MAX {
            return invalid(format!("instrument {id}: last trade price out of range"));
        }
        inst.set_last_trade_price(last_trade_price);
    } else if last_trade_price != 0 {
        return invalid(format!("instrument {id}: stray last trade price"));
    }
    inst.halted = halted;
    for side in [Side::Buy, Side::Sell] {
        let level_count = r.count(engine.config.max_orders, "levels")?;
        let mut previous_price: Option<Price> = None;
        for _ in 0..level_count {
            let price = r.i64()?;
            let total_qty = r.u64()?;
            let count = r.count(engine.config.max_orders, "orders in a level")?;
            if price <= 0 || price > PRICE_MAX {
                return invalid(format!("instrument {id}: level price {price} invalid"));
            }
            // Levels run worst to best: bids rise, asks fall.
            if previous_price.is_some_and(|p| !side.accepts(price, p) || p == price) {
                return invalid(format!("instrument {id}: levels out of order at {price}"));
            }
            previous_price = Some(price);
            if count == 0 {
                return invalid(format!("instrument {id}: empty level at {price}"));
            }
            let mut sum_qty: Qty = 0;
            for _ in 0..count {
                let order = decode_order(r, id, side, price, engine.next_order_id)?;
                sum_qty = sum_qty
                    .checked_add(order.leaves)
                    .ok_or_else(|| SnapshotError::Invalid("level quantity overflows".into()))?;
                let Some(slot) = engine.pool.alloc(order) else {
                    return invalid("more resting orders than the configured capacity");
                };
                inst.book.side_mut(side).push_back(&mut engine.pool, slot);
                slots_by_order_id.push((order.order_id, slot));
            }
            if sum_qty != total_qty {
                return invalid(format!("instrument {id}: level {price} total is wrong"));
            }
        }
    }
    engine.instruments[id as usize] = Some(inst);
    Ok(())
}

fn decode_order(
    r: &mut Reader<'_>,
    instrument: InstrumentId,
    side: Side,
    price: Price,
    next_order_id: OrderId,
) -> Result<Order, SnapshotError> {
    let order = Order {
        order_id: r.u64()?,
        client_order_id: r.u64()?,
        leaves: r.u64()?,
        filled: r.u64()?,
        account: r.u32()?,
        time_in_force: TimeInForce::try_from(r.u8()?)
            .or_else(|v| invalid(format!("time in force {v}")))?,
        post_only: r.bool()?,
        price,
        instrument,
        side,
        prev: NIL,
        next: NIL,
        account_prev: NIL,
        account_next: NIL,
    };
    if order.leaves == 0 || order.leaves > QTY_MAX {
        return invalid(format!("order {}: open quantity invalid", order.order_id));
    }
    if order.order_id >= next_order_id {
        return invalid(format!(
            "order id {} not below the next one",
            order.order_id
        ));
    }
    if order.filled > QTY_MAX || !order.time_in_force.may_rest() {
        return invalid(format!("order {}: fields invalid", order.order_id));
    }
    Ok(order)
}

fn decode_account(
    r: &mut Reader<'_>,
    engine: &mut Engine,
    id: AccountId,
    slots_by_order_id: &[(OrderId, u32)],
) -> Result<(), SnapshotError> {
    let limits = AccountLimits {
        max_order_qty: r.u64()?,
        max_order_notional: r.u128()?,
        max_open_orders: r.u32()?,
    };
    let mut account = Account::new(limits);
    let position_count = r.count(engine.config.max_instruments, "positions")?;
    let mut previous_instrument = None;
    for _ in 0..position_count {
        let instrument = r.u32()?;
        let position = r.i64()?;
        if engine.instrument(instrument).is_none()
            || previous_instrument.is_some_and(|p| instrument <= p)
        {
            return invalid(format!("account {id}: position in instrument {instrument}"));
        }
        previous_instrument = Some(instrument);
        account.add_position(instrument, position);
    }
    let open_count = r.count(engine.config.max_orders, "open orders")?;
    for _ in 0..open_count {
        let order_id = r.u64()?;
        let Ok(i) = slots_by_order_id.binary_search_by_key(&order_id, |p| p.0) else {
            return invalid(format!("account {id}: unknown order {order_id}"));
        };
        let slot = slots_by_order_id[i].1;
        let o = engine.pool.get(slot);
        // An order already listed has a predecessor or is the head of its list.
        let listed = o.account_prev != NIL || account.head == slot;
        if o.account != id || listed {
            return invalid(format!("account {id}: order {order_id} misplaced"));
        }
        account.push_order(&mut engine.pool, slot);
    }
    engine.accounts[id as usize] = Some(account);
    Ok(())
}

fn decode_client_ids(
    r: &mut Reader<'_>,
    engine: &mut Engine,
    slots_by_order_id: &[(OrderId, u32)],
) -> Result<(), SnapshotError> {
    let day_capacity = engine.config.max_client_ids_per_day;
    let closed_count = r.count(day_capacity, "closed client ids")?;
    if closed_count as usize + slots_by_order_id.len() > day_capacity as usize {
        return invalid("more client ids than one day allows");
    }
    for &(order_id, slot) in slots_by_order_id {
        let o = engine.pool.get(slot);
        if engine.ids.is_used(o.account, o.client_order_id) {
            return invalid(format!("order {order_id}: client order id used twice"));
        }
        engine.ids.use_open(o.account, o.client_order_id, slot);
    }
    for _ in 0..closed_count {
        let key = (r.u32()?, r.u64()?);
        if engine.account(key.0).is_none() {
            return invalid(format!("closed client id {key:?} of an unknown account"));
        }
        if engine.ids.is_used(key.0, key.1) {
            return invalid(format!("client id {key:?} used twice"));
        }
        engine.ids.use_closed(key.0, key.1);
    }
    Ok(())
}

fn put_u32(w: &mut Vec<u8>, v: u32) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_le_bytes());
}

/// Bounds-checked little-endian fields; running out is an error, not a panic.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let end = self.at.checked_add(N).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return invalid(format!("body ends inside a field at byte {}", self.at));
        };
        let field = self.bytes[self.at..end].try_into().expect("N bytes");
        self.at = end;
        Ok(field)
    }

    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take::<1>()?[0])
    }

    fn bool(&mut self) -> Result<bool, SnapshotError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            v => invalid(format!("boolean byte {v}")),
        }
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    fn i64(&mut self) -> Result<i64, SnapshotError> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    fn u128(&mut self) -> Result<u128, SnapshotError> {
        Ok(u128::from_le_bytes(self.take()?))
    }

    /// A count bounded by a configured capacity, checked before anything is reserved.
    fn count(&mut self, max: u32, what: &str) -> Result<u32, SnapshotError> {
        let n = self.u32()?;
        if n > max {
            return invalid(format!("{n} {what}, more than the limit {max}"));
        }
        Ok(n)
    }
}

/// CRC-32C (Castagnoli), table-driven: the core has no dependencies and snapshots are
/// rare. Must equal the `crc32c` crate the journal uses (a test checks), so one
/// checksum means one thing everywhere.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc = CRC32C_TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

const CRC32C_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0x82F6_3B78 & mask);
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};
