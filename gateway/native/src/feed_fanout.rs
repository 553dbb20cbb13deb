//! The market data feeds: the engine's events, a whole command at a time, through the
//! core's feed builder (L3 book events) and level books (L2, one per offered depth),
//! encoded once per message, gathered per feed over a publish and appended once to the
//! feed log that every subscriber reads from its own place (copied once, when
//! written); a publish wakes only the subscribers that had read everything before it.
//! Commands wait to be published until the answers to the orders are written
//! (`PendingCommands`). Each feed of each instrument keeps a bounded resend window. The
//! old top-of-book messages (TopOfBook, TradeReport) come from the same pipeline: the
//! depth-1 level book and the Trade book events.
//!
//! The books are rebuilt from the engine's history, so the gateway must see all of it
//! from the first sequence number; a gap (a link that resumed live) or an event the
//! builder refuses stops the feeds, and subscribing then answers `Unavailable`.

use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use ringex_core::market_data::{BookChange, BookEvent, FeedBuilder, LevelBook, LevelUpdate};
use ringex_core::{EngineConfig, Event};
use ringex_protocol::client::{encode_server, ServerMessage};
use ringex_protocol::command_codec::ALL_INSTRUMENTS;
use ringex_protocol::feed::{FeedKind, FeedRejectReason, L2_DEPTH_MAX};
use ringex_protocol::frame::write_frame;
use ringex_protocol::session::{CLIENT_FRAME_MAX, CLIENT_PREFIX};

use crate::feed_batches::FeedBatches;
use crate::feed_key::FeedKey;
use crate::feed_log::FeedLog;
use crate::feed_window::{FeedWindow, Miss};
use crate::multicast_publisher::MulticastPublisher;
use crate::output_chunks::Output;
use crate::pending_commands::PendingCommands;
use crate::subscriptions::{FeedSession, Queued};

/// Log entries appended between two trims of what every session has read: often
/// enough that the log stays short, rarely enough that looking at every session's
/// cursor costs little per publish.
const TRIM_ENTRIES: usize = 256;

/// The feeds' bounds, fixed when the gateway starts.
#[derive(Clone, Debug)]
pub struct FeedSettings {
    /// The engine's capacities: the gateway's copy of the books holds as much.
    pub max_orders: u32,
    pub max_instruments: u32,
    pub levels_per_side: u32,
    /// The L2 depths offered (depth 1 is always kept: it feeds TopOfBook); 0 offers every
    /// level of each side.
    pub l2_depths: Vec<u8>,
    /// Incrementals kept per instrument and feed for resends.
    pub window_events: usize,
    pub subscriptions_per_session: usize,
    /// Feed bytes a session may have waiting.
    pub backlog_bytes: usize,
    /// Over the backlog: conflate (fresh snapshots) rather than disconnect.
    pub conflate: bool,
    /// How long a session's incrementals may wait to be written with later ones
    /// (0: written at every drain).
    pub coalesce_ns: u64,
    /// Waiting incrementals this large are written at once.
    pub coalesce_bytes: usize,
}

impl Default for FeedSettings {
    fn default() -> FeedSettings {
        let engine = EngineConfig::default();
        FeedSettings {
            max_orders: engine.max_orders,
            max_instruments: engine.max_instruments,
            levels_per_side: engine.levels_per_side,
            l2_depths: vec![1, 10],
            window_events: 4096,
            subscriptions_per_session: 64,
            backlog_bytes: 1 << 20,
            conflate: true,
            coalesce_ns: 1_000_000,
            coalesce_bytes: 64 * 1024,
        }
    }
}

/// Counters for the metrics endpoint.
#[derive(Clone, Copy, Debug, Default)]
pub struct FeedCounters {
    pub messages_out: u64,
    pub snapshots: u64,
    pub resends: u64,
    pub conflations: u64,
    pub rejects: u64,
}

/// Best bid and offer; a price and quantity of 0 for an empty side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Top {
    bid: (i64, u64),
    ask: (i64, u64),
}

#[derive(Clone, Copy, Default)]
struct InstrumentState {
    timestamp_ns: u64,
    halted: bool,
    top: Top,
}

pub struct FeedFanout {
    settings: FeedSettings,
    builder: FeedBuilder,
    /// One level book per offered depth, by depth. Each holds every level (the depth
    /// bounds what it reports), so the first also serves TopOfBook.
    levels: Vec<(u8, LevelBook)>,
    l3_windows: HashMap<u32, FeedWindow<BookEvent>>,
    l2_windows: HashMap<(u32, u8), FeedWindow<LevelUpdate>>,
    instruments: HashMap<u32, InstrumentState>,
    sessions: HashMap<u64, FeedSession>,
    subscribers: HashMap<FeedKey, Vec<u64>>,
    /// Commands received whose feed messages are still to be built.
    pending: PendingCommands,
    /// The last command received whole.
    received_seq: u64,
    stopped: bool,
    book_events: Vec<BookEvent>,
    level_updates: Vec<LevelUpdate>,
    frame: Vec<u8>,
    batches: FeedBatches,
    /// Every publish's batches, read by each subscriber from its own cursor.
    log: FeedLog,
    /// The sessions that read the log to its end, by subscription: the next entry of
    /// that feed wakes them (and lists them for a drain).
    idle: HashMap<FeedKey, Vec<u64>>,
    /// Sessions to drain after the publish under way: woken, due at once, or cut.
    woken: Vec<u64>,
    /// The log's length at which it is next trimmed of what every session read.
    trim_at_len: usize,
    /// The log's bytes when the sessions were last checked against `coalesce_bytes`.
    swept_at_bytes: u64,
    pub counters: FeedCounters,
    /// The L3 feed over multicast, when configured.
    pub multicast: Option<MulticastPublisher>,
}

fn frame(buf: &mut Vec<u8>, message: &ServerMessage) {
    write_frame(buf, CLIENT_PREFIX, CLIENT_FRAME_MAX, |b| {
        encode_server(message, b)
    });
}

/// The wire form of a level update of the depth-`depth` feed.
pub fn l2_message(depth: u8, u: &LevelUpdate) -> ServerMessage {
    ServerMessage::LevelUpdate {
        instrument: u.instrument,
        depth,
        level_seq: u.level_seq,
        feed_seq: u.feed_seq,
        timestamp_ns: u.timestamp_ns,
        side: u.side,
        action: u.action,
        price: u.price,
        qty: u.qty,
        order_count: u.order_count,
    }
}

fn is_trades(change: &BookChange) -> bool {
    matches!(
        change,
        BookChange::Trade { .. } | BookChange::TradingStatus { .. }
    )
}

impl FeedFanout {
    pub fn new(settings: FeedSettings) -> Result<FeedFanout, &'static str> {
        let config = EngineConfig {
            max_orders: settings.max_orders,
            max_instruments: settings.max_instruments,
            levels_per_side: settings.levels_per_side,
            ..EngineConfig::default()
        };
        if settings.window_events == 0 || settings.subscriptions_per_session == 0 {
            return Err("the resend window and the subscriptions per session must be positive");
        }
        let mut depths = settings.l2_depths.clone();
        if depths.iter().any(|&d| d > L2_DEPTH_MAX) || depths.len() > 4 {
            return Err("at most 4 L2 depths, each in 0..=50 (0: every level)");
        }
        depths.push(1);
        depths.sort_unstable();
        depths.dedup();
        let levels = depths
            .iter()
            .map(|&d| LevelBook::new(reported_levels(d, &config), &config).map(|b| (d, b)))
            .collect::<Result<_, _>>()?;
        Ok(FeedFanout {
            settings,
            builder: FeedBuilder::new(&config)?,
            levels,
            l3_windows: HashMap::default(),
            l2_windows: HashMap::default(),
            instruments: HashMap::default(),
            sessions: HashMap::default(),
            subscribers: HashMap::default(),
            pending: PendingCommands::default(),
            received_seq: 0,
            stopped: false,
            book_events: Vec::new(),
            level_updates: Vec::new(),
            frame: Vec::new(),
            batches: FeedBatches::default(),
            log: FeedLog::default(),
            idle: HashMap::default(),
            woken: Vec::new(),
            trim_at_len: TRIM_ENTRIES,
            swept_at_bytes: 0,
            counters: FeedCounters::default(),
            multicast: None,
        })
    }

    /// Whether the feeds stopped (a gap in the engine's history, or a refused event).
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// One event of the command being received; the command is complete at its last
    /// frame.
    pub fn event(&mut self, event: &Event) {
        if !self.stopped {
            self.pending.event(event);
        }
    }

    /// The command numbered `seq`, sequenced at `timestamp_ns`, is complete: it waits
    /// for [`Self::publish`]. Returns whether the wait is full (publish now).
    pub fn end_command(&mut self, seq: u64, timestamp_ns: u64) -> bool {
        if self.stopped || seq <= self.received_seq {
            self.pending.discard();
            return false;
        }
        if seq != self.received_seq + 1 {
            // History this gateway never saw: its books are not the engine's.
            self.stopped = true;
            self.pending.discard();
            return false;
        }
        self.received_seq = seq;
        self.pending.close(seq, timestamp_ns)
    }

    /// Whether commands wait for [`Self::publish`].
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Applies the complete commands and appends their feed messages to the log.
    /// Appends the top-of-book messages (TradeReport, TopOfBook) for the old
    /// subscribers to `tops`; returns the sessions to drain (each at most once).
    pub fn publish(&mut self, tops: &mut Vec<(u32, ServerMessage)>) -> Vec<u64> {
        for command in self.pending.take() {
            self.apply(command.seq, command.timestamp_ns, &command.events, tops);
        }
        self.append_batches();
        self.trim();
        self.sweep();
        let mut woken = std::mem::take(&mut self.woken);
        woken.sort_unstable();
        woken.dedup();
        woken
    }

    /// Applies one command and queues its feed messages.
    fn apply(
        &mut self,
        seq: u64,
        timestamp_ns: u64,
        events: &[Event],
        tops: &mut Vec<(u32, ServerMessage)>,
    ) {
        if self.stopped {
            return; // an earlier command was refused
        }
        let mut book_events = std::mem::take(&mut self.book_events);
        book_events.clear();
        if self
            .builder
            .apply(seq, timestamp_ns, events, &mut book_events)
            .is_err()
        {
            self.stopped = true;
            return;
        }
        let mut touched = Vec::new();
        for e in &book_events {
            self.publish_l3(e, tops);
            if !touched.contains(&e.instrument) {
                touched.push(e.instrument);
            }
        }
        for i in 0..self.levels.len() {
            let mut updates = std::mem::take(&mut self.level_updates);
            updates.clear();
            for e in &book_events {
                if self.levels[i].1.apply(e, &mut updates).is_err() {
                    self.stopped = true;
                    return;
                }
            }
            let depth = self.levels[i].0;
            for u in &updates {
                self.publish_l2(depth, u);
            }
            self.level_updates = updates;
        }
        for instrument in touched {
            self.publish_top(instrument, timestamp_ns, tops);
        }
        self.book_events = book_events;
    }

    fn publish_l3(&mut self, e: &BookEvent, tops: &mut Vec<(u32, ServerMessage)>) {
        let state = self.instruments.entry(e.instrument).or_default();
        state.timestamp_ns = e.timestamp_ns;
        if let BookChange::TradingStatus { halted } = e.change {
            state.halted = halted;
        }
        let capacity = self.settings.window_events;
        self.l3_windows
            .entry(e.instrument)
            .or_insert_with(|| FeedWindow::new(capacity))
            .push(e.feed_seq, *e);
        let l3 = FeedKey {
            instrument: e.instrument,
            feed: FeedKind::L3,
            depth: 0,
        };
        self.encode(&ServerMessage::from_book_event(e));
        self.fan_out(l3);
        if let Some(multicast) = &mut self.multicast {
            multicast.push(e);
        }
        if is_trades(&e.change) {
            self.fan_out(FeedKey {
                feed: FeedKind::Trades,
                ..l3
            });
        }
        if let BookChange::Trade {
            match_id,
            price,
            qty,
            aggressor_side,
            ..
        } = e.change
        {
            let report = ServerMessage::TradeReport {
                timestamp_ns: e.timestamp_ns,
                instrument: e.instrument,
                match_id,
                price,
                qty,
                aggressor_side,
            };
            tops.push((e.instrument, report));
        }
    }

    fn publish_l2(&mut self, depth: u8, u: &LevelUpdate) {
        let capacity = self.settings.window_events;
        self.l2_windows
            .entry((u.instrument, depth))
            .or_insert_with(|| FeedWindow::new(capacity))
            .push(u.level_seq, *u);
        self.encode(&l2_message(depth, u));
        self.fan_out(FeedKey {
            instrument: u.instrument,
            feed: FeedKind::L2,
            depth,
        });
    }

    fn publish_top(
        &mut self,
        instrument: u32,
        timestamp_ns: u64,
        tops: &mut Vec<(u32, ServerMessage)>,
    ) {
        let top = self.top(instrument);
        let state = self.instruments.entry(instrument).or_default();
        if top != state.top {
            state.top = top;
            tops.push((instrument, top_of_book(timestamp_ns, instrument, top)));
        }
    }

    fn top(&self, instrument: u32) -> Top {
        let best = |levels: &[ringex_core::market_data::PriceLevel]| {
            levels.first().map_or((0, 0), |l| (l.price, l.qty))
        };
        self.levels[0]
            .1
            .snapshot(instrument, 1)
            .map_or(Top::default(), |s| Top {
                bid: best(&s.bids),
                ask: best(&s.asks),
            })
    }

    fn encode(&mut self, message: &ServerMessage) {
        self.frame.clear();
        frame(&mut self.frame, message);
    }

    /// Adds the encoded frame to `key`'s batch if anyone subscribes to it (to its
    /// instrument's or every instrument's).
    fn fan_out(&mut self, key: FeedKey) {
        let subscribed = [key, key.of(ALL_INSTRUMENTS)]
            .iter()
            .any(|k| self.subscribers.get(k).is_some_and(|l| !l.is_empty()));
        if subscribed {
            self.batches.push(key, &self.frame);
        }
    }

    /// Appends each batch to the log, once whatever the number of subscribers, and
    /// wakes the idle readers of its feed.
    fn append_batches(&mut self) {
        for batch in self.batches.filled() {
            self.log
                .push(batch.key, Arc::from(batch.frames.as_slice()), batch.count);
            for k in [batch.key, batch.key.of(ALL_INSTRUMENTS)] {
                let Some(list) = self.idle.get_mut(&k) else {
                    continue;
                };
                for sid in list.drain(..) {
                    let Some(session) = self.sessions.get_mut(&sid) else {
                        continue;
                    };
                    session.idle_in.retain(|&i| i != k);
                    if !session.awake {
                        session.awake = true;
                        self.woken.push(sid);
                    }
                }
            }
        }
        self.batches.clear();
    }

    /// Every `TRIM_ENTRIES` entries, forgets what every session has read; whenever the
    /// log holds more than the backlog bound, cuts the sessions further behind: one
    /// that would miss an entry it wants is conflated or marked slow, as its backlog
    /// went over the bound, and drained.
    fn trim(&mut self) {
        let bound = self.settings.backlog_bytes as u64;
        let over = self.log.bytes() > bound;
        if self.log.entries_held() < self.trim_at_len && !over {
            return;
        }
        let (end, cut) = (self.log.end(), self.log.keeping(bound));
        let conflate = self.settings.conflate;
        for (&sid, session) in &mut self.sessions {
            if !session.awake {
                // Nothing it wants was appended since it last read the log.
                session.cursor = end;
            } else if session.cursor < cut {
                if session.misses(&self.log, cut) {
                    if session.overflow(conflate, end) == Queued::Conflated {
                        self.counters.conflations += 1;
                    }
                    self.woken.push(sid);
                } else {
                    session.cursor = cut;
                }
            }
        }
        let oldest = self
            .sessions
            .values()
            .map(|s| s.cursor)
            .min()
            .unwrap_or(end);
        assert!(oldest >= cut, "every session is within the bound");
        self.log.drop_before(oldest);
        self.trim_at_len = self.log.entries_held() + TRIM_ENTRIES;
    }

    /// Each time the log grows by `coalesce_bytes`, lists the awake sessions with that
    /// much waiting: their feed bytes go at once, not when the coalescing interval ends.
    fn sweep(&mut self) {
        let coalesce_bytes = self.settings.coalesce_bytes as u64;
        if self.log.end_bytes() - self.swept_at_bytes < coalesce_bytes {
            return;
        }
        self.swept_at_bytes = self.log.end_bytes();
        for (&sid, session) in &self.sessions {
            if session.awake && session.waiting_bytes(&self.log) >= coalesce_bytes {
                self.woken.push(sid);
            }
        }
    }

    /// The session read the log to its end: the next entry of any of its feeds wakes
    /// it.
    fn rest(&mut self, sid: u64) {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        session.awake = false;
        for &key in &session.subscriptions {
            if !session.idle_in.contains(&key) {
                session.idle_in.push(key);
                self.idle.entry(key).or_default().push(sid);
            }
        }
    }

    /// TopOfBook for the old Subscribe, stamped with the instrument's last event time;
    /// `None` for an instrument not listed.
    pub fn top_of_book(&self, instrument: u32) -> Option<ServerMessage> {
        self.builder.feed_seq(instrument)?;
        let state = self
            .instruments
            .get(&instrument)
            .copied()
            .unwrap_or_default();
        Some(top_of_book(
            state.timestamp_ns,
            instrument,
            self.top(instrument),
        ))
    }

    /// Whether the instrument is listed (every instrument: `ALL_INSTRUMENTS`).
    fn check(&self, key: FeedKey) -> Result<(), FeedRejectReason> {
        if self.stopped {
            return Err(FeedRejectReason::Unavailable);
        }
        let depth_ok = match key.feed {
            FeedKind::L2 => self.levels.iter().any(|(d, _)| *d == key.depth),
            FeedKind::L3 | FeedKind::Trades => key.depth == 0,
        };
        if !depth_ok {
            return Err(FeedRejectReason::BadDepth);
        }
        if key.instrument != ALL_INSTRUMENTS && self.builder.feed_seq(key.instrument).is_none() {
            return Err(FeedRejectReason::UnknownInstrument);
        }
        Ok(())
    }

    /// FeedSubscribe: a new subscription's snapshot goes out at the session's next drain.
    pub fn subscribe(&mut self, sid: u64, key: FeedKey, on: bool) -> Result<(), FeedRejectReason> {
        if on {
            self.check(key)?;
        }
        let limit = self.settings.subscriptions_per_session;
        let end = self.log.end();
        let session = self
            .sessions
            .entry(sid)
            .or_insert_with(|| FeedSession::at(end));
        let new = !session.subscriptions.contains(&key);
        if on && new && session.subscriptions.len() >= limit {
            return Err(FeedRejectReason::TooManySubscriptions);
        }
        session.set(key, on);
        unlist(&mut self.idle, key, sid);
        let list = self.subscribers.entry(key).or_default();
        list.retain(|&s| s != sid);
        if on {
            list.push(sid);
        }
        Ok(())
    }

    /// ResendRequest: the incrementals `from..=to` of a subscribed feed, from the window;
    /// a range that fell off it is answered `ResendOutOfWindow` and a fresh snapshot.
    pub fn resend(
        &mut self,
        sid: u64,
        key: FeedKey,
        from: u64,
        to: u64,
    ) -> Result<(), FeedRejectReason> {
        if key.instrument == ALL_INSTRUMENTS {
            return Err(FeedRejectReason::UnknownInstrument);
        }
        self.check(key)?;
        let end = self.log.end();
        let session = self
            .sessions
            .entry(sid)
            .or_insert_with(|| FeedSession::at(end));
        if !session.subscribed(key) {
            return Err(FeedRejectReason::NotSubscribed);
        }
        if from == 0 || from > to || to - from >= self.settings.window_events as u64 {
            return Err(FeedRejectReason::BadRange);
        }
        let mut frames = Vec::new();
        let mut count = 0;
        let mut write = |message: &ServerMessage| {
            frame(&mut frames, message);
            count += 1;
        };
        let held = match key.feed {
            FeedKind::L3 | FeedKind::Trades => self
                .l3_windows
                .get(&key.instrument)
                .ok_or(Miss::Ahead)
                .and_then(|w| w.range(from, to))
                .map(|events| {
                    let wanted =
                        events.filter(|e| key.feed == FeedKind::L3 || is_trades(&e.change));
                    for e in wanted {
                        write(&ServerMessage::from_book_event(e));
                    }
                }),
            FeedKind::L2 => self
                .l2_windows
                .get(&(key.instrument, key.depth))
                .ok_or(Miss::Ahead)
                .and_then(|w| w.range(from, to))
                .map(|updates| {
                    for u in updates {
                        write(&l2_message(key.depth, u));
                    }
                }),
        };
        match held {
            Ok(()) => {
                self.counters.resends += 1;
                let s = &self.settings;
                let frames = Arc::from(frames);
                if session.resend(end, &frames, count, s.backlog_bytes, s.conflate)
                    == Queued::Conflated
                {
                    self.counters.conflations += 1;
                }
                Ok(())
            }
            Err(Miss::Ahead) => Err(FeedRejectReason::BadRange),
            Err(Miss::Gone) => {
                session.resnapshot(key);
                Err(FeedRejectReason::ResendOutOfWindow)
            }
        }
    }

    /// Whether the session went over its feed backlog (and is not conflated).
    pub fn is_slow(&self, sid: u64) -> bool {
        self.sessions.get(&sid).is_some_and(|s| s.slow)
    }

    /// Whether the session has feed messages or snapshots to write.
    pub fn has_output(&self, sid: u64) -> bool {
        self.sessions
            .get(&sid)
            .is_some_and(|s| !s.pending.is_empty() || s.waiting_bytes(&self.log) > 0)
    }

    /// Whether the session's feed output goes at its next drain whatever the coalescing
    /// interval: snapshots, incrementals of `coalesce_bytes`, or its end as a slow
    /// consumer.
    pub fn due_at_once(&self, sid: u64) -> bool {
        self.sessions.get(&sid).is_some_and(|s| {
            s.slow
                || !s.pending.is_empty()
                || s.waiting_bytes(&self.log) >= self.settings.coalesce_bytes as u64
        })
    }

    /// When the session's waiting incrementals are to be written if not now (`None`:
    /// now). Snapshots go at once (they answer a request), incrementals once the oldest
    /// has waited `coalesce_ns` or they reach `coalesce_bytes`.
    pub fn held_until(&mut self, sid: u64, now_ns: u64) -> Option<u64> {
        if self.due_at_once(sid) {
            return None;
        }
        let coalesce_ns = self.settings.coalesce_ns;
        let session = self.sessions.get_mut(&sid)?;
        let since = *session.waiting_since_ns.get_or_insert(now_ns);
        let due = since.saturating_add(coalesce_ns);
        (now_ns < due).then_some(due)
    }

    /// Appends the session's waiting feed messages, then the snapshots it waits for
    /// (built now, from the books as they are) until `out` holds `budget_bytes`: at most
    /// one book past the budget per call, the rest at later calls ([`Self::has_output`]
    /// stays true). A subscription to every instrument waits as one snapshot per listed
    /// instrument, each taken when its turn comes. Returns how many messages.
    pub fn take_output(&mut self, sid: u64, out: &mut Output, budget_bytes: usize) -> u64 {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return 0;
        };
        let mut count = session.take_frames(&self.log, out);
        let mut pending = std::mem::take(&mut session.pending);
        let mut next = 0;
        while next < pending.len() && out.len() < budget_bytes {
            let key = pending[next];
            next += 1;
            if key.instrument == ALL_INSTRUMENTS {
                let listed = (0..self.settings.max_instruments)
                    .filter(|&i| self.builder.feed_seq(i).is_some())
                    .map(|i| key.of(i));
                pending.extend(listed);
            } else {
                count += out.write_with(|buf| self.snapshot(key, buf));
            }
        }
        pending.drain(..next);
        if let Some(session) = self.sessions.get_mut(&sid) {
            session.pending = pending;
        }
        self.rest(sid);
        self.counters.messages_out += count;
        count
    }

    /// Appends the session's waiting feed messages (not the snapshots it waits for),
    /// for the last bytes of a session that ends; returns how many.
    pub fn take_waiting(&mut self, sid: u64, out: &mut Output) -> u64 {
        let count = self
            .sessions
            .get_mut(&sid)
            .map_or(0, |session| session.take_frames(&self.log, out));
        self.counters.messages_out += count;
        count
    }

    /// Writes one instrument's snapshot of `key`'s feed; returns how many messages.
    fn snapshot(&mut self, key: FeedKey, out: &mut Vec<u8>) -> u64 {
        let instrument = key.instrument;
        let halted = self.instruments.get(&instrument).is_some_and(|s| s.halted);
        let mut entries = Vec::new();
        let (feed_seq, level_seq, checksum) = match key.feed {
            FeedKind::L3 => {
                let Some(s) = self.builder.snapshot(instrument) else {
                    return 0;
                };
                for (side, levels) in [
                    (ringex_core::Side::Buy, &s.bids),
                    (ringex_core::Side::Sell, &s.asks),
                ] {
                    for level in levels {
                        for o in &level.orders {
                            entries.push(ServerMessage::SnapshotOrder {
                                instrument,
                                side,
                                price: level.price,
                                order_id: o.order_id,
                                qty: o.qty,
                            });
                        }
                    }
                }
                (s.feed_seq, 0, s.checksum)
            }
            FeedKind::L2 => {
                let Some((_, book)) = self.levels.iter().find(|(d, _)| *d == key.depth) else {
                    return 0;
                };
                let Some(s) = book.snapshot(instrument, book.depth()) else {
                    return 0;
                };
                for (side, levels) in [
                    (ringex_core::Side::Buy, &s.bids),
                    (ringex_core::Side::Sell, &s.asks),
                ] {
                    for l in levels {
                        entries.push(ServerMessage::SnapshotLevel {
                            instrument,
                            side,
                            price: l.price,
                            qty: l.qty,
                            order_count: l.order_count,
                        });
                    }
                }
                (s.feed_seq, s.level_seq, s.checksum)
            }
            FeedKind::Trades => match self.builder.feed_seq(instrument) {
                Some(seq) => (seq, 0, 0),
                None => return 0,
            },
        };
        let count = u32::try_from(entries.len()).expect("a book holds fewer than 2^32 orders");
        frame(
            out,
            &ServerMessage::SnapshotBegin {
                instrument,
                feed: key.feed,
                depth: key.depth,
                feed_seq,
                level_seq,
                halted,
                count,
                checksum,
            },
        );
        for e in &entries {
            frame(out, e);
        }
        frame(
            out,
            &ServerMessage::SnapshotEnd {
                instrument,
                feed: key.feed,
                depth: key.depth,
                feed_seq,
                level_seq,
            },
        );
        self.counters.snapshots += 1;
        entries.len() as u64 + 2
    }

    /// A session ended: drops its subscriptions and backlog.
    pub fn forget(&mut self, sid: u64) {
        if let Some(session) = self.sessions.remove(&sid) {
            for key in session.subscriptions {
                unlist(&mut self.subscribers, key, sid);
            }
            for key in session.idle_in {
                unlist(&mut self.idle, key, sid);
            }
        }
    }
}

/// Takes a session off one feed's list (its subscribers, or its idle readers).
fn unlist(lists: &mut HashMap<FeedKey, Vec<u64>>, key: FeedKey, sid: u64) {
    if let Some(list) = lists.get_mut(&key) {
        list.retain(|&s| s != sid);
    }
}

/// How many levels of each side the L2 feed of `depth` reports: 0 is every level the
/// engine can hold.
fn reported_levels(depth: u8, config: &EngineConfig) -> usize {
    match depth {
        0 => config.levels_per_side as usize,
        d => usize::from(d),
    }
}

fn top_of_book(timestamp_ns: u64, instrument: u32, top: Top) -> ServerMessage {
    ServerMessage::TopOfBook {
        timestamp_ns,
        instrument,
        bid_price: top.bid.0,
        bid_qty: top.bid.1,
        ask_price: top.ask.0,
        ask_qty: top.ask.1,
    }
}
