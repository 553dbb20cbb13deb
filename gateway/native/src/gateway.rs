//! The gateway's per-message work, over whole batches of bytes: client frames in,
//! validated and stamped with the session's account, out to the engine link; engine
//! events in, routed to the accounts' streams and the market data subscribers; server
//! messages out, per session, as ready-to-write bytes. Python owns the sockets and
//! calls in once per batch; nothing here reads a clock, and the only I/O is the socket
//! writer's, which writes the sockets of the sessions handed to it (`socket_writer`).

use crate::account_streams::AccountStreams;
use crate::acked_ids::AckedIds;
use crate::engine_input::EngineInput;
use crate::engine_link_state::EngineLinkState;
use crate::feed_fanout::{FeedFanout, FeedSettings};
use crate::instrument_registry::InstrumentRegistry;
use crate::sessions::Sessions;
use crate::socket_writer::SocketWriter;
use crate::stats::Stats;
use crate::top_of_book_subscribers::TopOfBookSubscribers;

/// Bounds and timers, fixed when the gateway starts.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Sequenced messages kept per account for replay.
    pub journal_messages: usize,
    /// Sequenced messages a session may fall behind its account's stream before it is
    /// disconnected as a slow consumer.
    pub max_backlog: u64,
    /// Unsequenced bytes (rejects, market data) a session may have waiting.
    pub unsequenced_bytes: usize,
    /// Bytes handed to one session's transport per drain.
    pub drain_bytes: usize,
    pub heartbeat_ns: u64,
    pub idle_timeout_ns: u64,
    pub frame_timeout_ns: u64,
    pub login_timeout_ns: u64,
    /// Acknowledged client order ids kept for the day (see [`AckedIds`]).
    pub acked_ids_max: usize,
}

pub struct Core {
    pub(crate) limits: Limits,
    pub(crate) epoch: u64,
    pub(crate) sessions: Sessions,
    pub(crate) streams: AccountStreams,
    pub(crate) top_of_book: TopOfBookSubscribers,
    /// The L3 and L2 feeds and their subscribers (also the TopOfBook and TradeReport).
    pub feeds: FeedFanout,
    /// Instrument definitions and the accounts that receive their changes.
    pub instruments: InstrumentRegistry,
    pub(crate) to_engine: EngineInput,
    pub(crate) link_in: Vec<u8>,
    /// Orders waiting for the engine's answer, deadlines, and the engine's standing.
    pub link: EngineLinkState,
    pub(crate) last_engine_seq: u64,
    /// Events frames to append to the gateway's stream journal, when it keeps one.
    pub(crate) journal: Option<Vec<u8>>,
    pub acked: AckedIds,
    pub stats: Stats,
    /// Writes the sockets of market data sessions, when started.
    pub(crate) writer: Option<SocketWriter>,
    /// Sessions that subscribed to a feed since the last hand-over pass.
    pub(crate) writer_requests: Vec<u64>,
}

impl Core {
    /// A core; with `persist`, every events frame it routes is also handed out by
    /// [`Core::take_journal_output`] so the streams can be rebuilt after a restart.
    pub fn new(limits: Limits, epoch: u64, persist: bool) -> Core {
        Core {
            limits,
            epoch,
            sessions: Sessions::default(),
            streams: AccountStreams::new(limits.journal_messages),
            top_of_book: TopOfBookSubscribers::default(),
            feeds: FeedFanout::new(FeedSettings::default())
                .expect("default feed settings are valid"),
            instruments: InstrumentRegistry::default(),
            to_engine: EngineInput::default(),
            link_in: Vec::new(),
            link: EngineLinkState::new(0, 0),
            last_engine_seq: 0,
            journal: persist.then(Vec::new),
            acked: AckedIds::new(limits.acked_ids_max, persist),
            stats: Stats::default(),
            writer: None,
            writer_requests: Vec::new(),
        }
    }

    /// Replaces the feeds' settings; before any engine event arrives.
    pub fn configure_feeds(&mut self, settings: FeedSettings) -> Result<(), &'static str> {
        self.feeds = FeedFanout::new(settings)?;
        Ok(())
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn logged_in_count(&self) -> usize {
        self.sessions.logged_in()
    }

    pub fn engine_up(&self) -> bool {
        self.to_engine.is_up()
    }

    pub fn last_engine_seq(&self) -> u64 {
        self.last_engine_seq
    }

    pub fn open_session(&mut self, sid: u64, now_ns: u64) {
        self.sessions.open(sid, now_ns);
    }
}
