//! One link: a reader thread that checks each frame whole, decodes it and publishes the
//! input on the input ring, and a writer thread that sends the Welcome, waits for the
//! gateway's opening frame (Resume), sends the history it asked for, then the link's
//! queue of event batches (many frames per socket write), expiry notices, and
//! heartbeats when idle.
//!
//! The live queue starts right after the Welcome's sequence number, and history ends
//! exactly there, so the hand-over has neither a gap nor a duplicate. A link whose first
//! frame is not a Resume is live from the Welcome.
//!
//! Bad bytes close only this link, with a Goodbye naming the decode error; the matcher
//! never sees them. Either thread ending ends the other: the reader tells the writer
//! through `closing`, the writer shuts the socket, which wakes the reader.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{select, Receiver, RecvError, SendTimeoutError, Sender};
use ringex_protocol::frame::{split_frame, LengthPrefix};
use ringex_protocol::link::{
    decode_to_engine, write_engine_heartbeat, write_expired, write_goodbye, write_not_leader,
    write_welcome, GoodbyeReason, ResumeFrom, ToEngine, LINK_FRAME_MAX,
};
use ringex_protocol::DecodeError;

use super::stream::LinkStream;
use super::{LinkContext, LinkSlot};
use crate::event_batch::EventBatch;
use crate::input_ring::{LinkId, LinkInput};
use crate::output_ring::Subscription;
use crate::replication::leadership::NotLeader;
use crate::sequencer::wall_clock_ns;

/// Room for the largest frame plus a full read behind it.
const READ_BUFFER_BYTES: usize = 4 + LINK_FRAME_MAX + 64 * 1024;
/// The writer gathers queued batches into one socket write up to about this size.
const WRITE_BATCH_BYTES: usize = 256 * 1024;
/// Longest a blocked reader or an idle socket read goes without looking at the flags.
const FLAG_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// Why the reader ended, told to the writer.
#[derive(Clone, Copy, Debug)]
enum Closing {
    /// Send this Goodbye at once, dropping what is queued.
    Goodbye(GoodbyeReason, u8),
    /// The peer went away: nothing to say.
    PeerGone,
    /// This cluster node stopped leading: the gateway must find the new leader.
    NotLeader(NotLeader),
}

struct Shared {
    /// Held, not read: its drop frees the link's slot once both threads end.
    _slot: LinkSlot,
    writer_done: AtomicBool,
}

/// Starts a link on an accepted socket; refuses it at the link limit or after the
/// engine stopped publishing.
pub(super) fn open<S: LinkStream>(context: &Arc<LinkContext>, stream: S) {
    let peer = stream.peer();
    let Some(slot) = context.claim_slot() else {
        tracing::warn!(%peer, max_links = context.max_links, "link refused: at the link limit");
        stream.close();
        return;
    };
    let link = slot.id;
    if let Some(not_leader) = context.not_leader() {
        tracing::info!(link, %peer, leader = not_leader.leader_id, "link turned away: not the leader");
        let mut out = Vec::new();
        write_not_leader(&mut out, not_leader.leader_id, not_leader.term);
        // The peer may already be gone; it is being turned away either way.
        let mut stream = stream;
        let _ = stream.write_all(&out);
        stream.linger_close();
        return;
    }
    let subscription = match context.output.subscribe(link) {
        Ok(s) => s,
        Err(reason) => {
            refuse(stream, reason);
            return;
        }
    };
    let (closing_tx, closing_rx) = crossbeam_channel::bounded(1);
    let (opening_tx, opening_rx) = crossbeam_channel::bounded(1);
    let expired = context.expiries.register(link);
    let shared = Arc::new(Shared {
        _slot: slot,
        writer_done: AtomicBool::new(false),
    });
    let started = stream.try_clone().and_then(|read_half| {
        let writer = Writer {
            link,
            stream,
            context: Arc::clone(context),
            shared: Arc::clone(&shared),
        };
        let reader = Reader {
            link,
            stream: read_half,
            context: Arc::clone(context),
            shared,
            closing: closing_tx,
            opening: Some(opening_tx),
        };
        reader.stream.set_read_timeout(FLAG_CHECK_INTERVAL)?;
        writer.stream.set_write_timeout(context.heartbeat_timeout)?;
        // Both threads run detached; the link's slot tracks them instead.
        let tell_writer = reader.closing.clone();
        std::thread::Builder::new()
            .name(format!("link-{link}-write"))
            .spawn(move || {
                let channels = WriterChannels {
                    closing: closing_rx,
                    opening: opening_rx,
                    expired,
                };
                writer.run(subscription, channels)
            })?;
        std::thread::Builder::new()
            .name(format!("link-{link}-read"))
            .spawn(move || reader.run())
            .inspect_err(|_| {
                // No reader: nothing would notice the peer leave, so close now.
                let _ = tell_writer.try_send(Closing::PeerGone);
            })?;
        Ok(())
    });
    match started {
        Ok(()) => tracing::info!(link, %peer, "link opened"),
        Err(e) => {
            context.output.unsubscribe(link);
            context.expiries.unregister(link);
            tracing::error!(link, %peer, error = %e, "could not start the link's threads");
        }
    }
}

/// Says goodbye to a connection that arrived after the engine stopped.
fn refuse<S: LinkStream>(mut stream: S, reason: GoodbyeReason) {
    let mut out = Vec::new();
    write_goodbye(&mut out, reason, 0);
    // The peer may already be gone; it is being turned away either way.
    let _ = stream.write_all(&out);
    stream.linger_close();
}

struct Reader<S> {
    link: LinkId,
    stream: S,
    context: Arc<LinkContext>,
    shared: Arc<Shared>,
    closing: Sender<Closing>,
    /// Tells the writer how the link opens; taken by the first frame.
    opening: Option<Sender<ResumeFrom>>,
}

impl<S: LinkStream> Reader<S> {
    fn run(mut self) {
        // Ending because the daemon stops or the writer ended, the reader says
        // nothing: the writer still sends what is queued, then its own Goodbye.
        let Some(end) = self.read_loop() else {
            return;
        };
        match end {
            Closing::Goodbye(reason, detail) => {
                tracing::warn!(link = self.link, ?reason, detail, "closing link");
            }
            Closing::NotLeader(n) => {
                tracing::info!(
                    link = self.link,
                    leader = n.leader_id,
                    term = n.term,
                    "closing link: no longer the leader"
                );
            }
            Closing::PeerGone => {}
        }
        // The writer may be gone already; then there is nobody to tell.
        let _ = self.closing.try_send(end);
    }

    /// Why the link must close, or `None` if the reader only stops reading.
    fn read_loop(&mut self) -> Option<Closing> {
        let mut buf = vec![0u8; READ_BUFFER_BYTES];
        let mut filled = 0;
        let mut last_heard = Instant::now();
        loop {
            if self.should_stop() {
                return None;
            }
            if let Some(not_leader) = self.context.not_leader() {
                return Some(Closing::NotLeader(not_leader));
            }
            let mut at = 0;
            loop {
                match split_frame(&buf[at..filled], LengthPrefix::U32, LINK_FRAME_MAX) {
                    Ok(Some((body, used))) => {
                        let decoded = decode_to_engine(body);
                        if let Err(closing) = self.open_with(&decoded) {
                            return Some(closing);
                        }
                        match decoded {
                            Ok(ToEngine::Input {
                                correlation,
                                deadline_ns,
                                input,
                            }) => {
                                let item = LinkInput {
                                    link: self.link,
                                    correlation,
                                    deadline_ns,
                                    input,
                                };
                                if !self.publish(item) {
                                    return None;
                                }
                            }
                            Ok(ToEngine::Heartbeat | ToEngine::Resume(_)) => {}
                            Err(e) => {
                                return Some(Closing::Goodbye(GoodbyeReason::BadInput, e.code()))
                            }
                        }
                        at += used;
                    }
                    Ok(None) => break,
                    Err(e) => return Some(Closing::Goodbye(GoodbyeReason::BadInput, e.code())),
                }
            }
            buf.copy_within(at..filled, 0);
            filled -= at;
            // A whole frame always fits, so there is room after a partial one.
            assert!(filled < buf.len(), "link read buffer full without a frame");
            match self.stream.read(&mut buf[filled..]) {
                Ok(0) => return Some(Closing::PeerGone),
                Ok(n) => {
                    filled += n;
                    last_heard = Instant::now();
                }
                Err(e) if is_timeout(&e) => {
                    if last_heard.elapsed() > self.context.heartbeat_timeout {
                        return Some(Closing::Goodbye(GoodbyeReason::Timeout, 0));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Some(Closing::PeerGone),
            }
        }
    }

    /// Tells the writer how the link opens, on the first frame: a Resume says where
    /// from; anything else opens it live. A second Resume is refused as bad input.
    fn open_with(&mut self, frame: &Result<ToEngine, DecodeError>) -> Result<(), Closing> {
        let from = match frame {
            Ok(ToEngine::Resume(from)) => *from,
            Ok(_) => ResumeFrom::Live,
            Err(_) => return Ok(()),
        };
        match self.opening.take() {
            // The writer may be gone already; the reader notices that on its own.
            Some(tx) => {
                let _ = tx.try_send(from);
                Ok(())
            }
            None if matches!(frame, Ok(ToEngine::Resume(_))) => Err(Closing::Goodbye(
                GoodbyeReason::BadInput,
                DecodeError::UnknownType.code(),
            )),
            None => Ok(()),
        }
    }

    fn should_stop(&self) -> bool {
        self.context.is_stopping() || self.shared.writer_done.load(Ordering::Acquire)
    }

    /// Puts an input on the ring, waiting while it is full (that wait is the back
    /// pressure). False if the link or the daemon stopped meanwhile.
    fn publish(&self, mut item: LinkInput) -> bool {
        // Nothing more from a link that is closing: its events could not reach it.
        if self.should_stop() {
            return false;
        }
        loop {
            match self.context.inputs.send_timeout(item, FLAG_CHECK_INTERVAL) {
                Ok(()) => return true,
                Err(SendTimeoutError::Timeout(back)) => {
                    if self.should_stop() {
                        return false;
                    }
                    item = back;
                }
                Err(SendTimeoutError::Disconnected(_)) => return false,
            }
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// What the writer listens to besides its queue.
struct WriterChannels {
    closing: Receiver<Closing>,
    opening: Receiver<ResumeFrom>,
    expired: Receiver<u64>,
}

/// The writer's result: the Goodbye sent, if any.
type WriteEnd = io::Result<Option<GoodbyeReason>>;

struct Writer<S> {
    link: LinkId,
    stream: S,
    context: Arc<LinkContext>,
    shared: Arc<Shared>,
}

impl<S: LinkStream> Writer<S> {
    fn run(mut self, subscription: Subscription, channels: WriterChannels) {
        let result = self.write_loop(subscription, channels);
        self.context.output.unsubscribe(self.link);
        self.context.expiries.unregister(self.link);
        self.shared.writer_done.store(true, Ordering::Release);
        match result {
            Ok(Some(_)) => self.stream.linger_close(),
            Ok(None) | Err(_) => self.stream.close(),
        }
        match result {
            Ok(Some(reason)) => tracing::info!(link = self.link, ?reason, "link closed"),
            Ok(None) => tracing::info!(link = self.link, "link closed by the peer"),
            Err(e) if is_timeout(&e) => tracing::warn!(
                link = self.link,
                "link closed: the peer read nothing for the write timeout (slow consumer)"
            ),
            Err(e) => tracing::warn!(link = self.link, error = %e, "link write failed; closed"),
        }
    }

    /// Returns the Goodbye sent, if any.
    fn write_loop(&mut self, subscription: Subscription, mut ch: WriterChannels) -> WriteEnd {
        let mut out = Vec::with_capacity(WRITE_BATCH_BYTES * 2);
        write_welcome(&mut out, subscription.welcome_seq);
        self.flush(&mut out)?;
        // Waiting for the opening, the writer keeps the live batches that arrive (sent
        // after any history; they still count against the link's queue bytes until
        // sent, so the slow-consumer bound holds), and notices at once when the engine
        // stops publishing.
        let mut held: Vec<Arc<EventBatch>> = Vec::new();
        let from = loop {
            select! {
                recv(ch.opening) -> from => break from.unwrap_or(ResumeFrom::Live),
                recv(subscription.batches) -> batch => match batch {
                    Ok(batch) => held.push(batch),
                    // The engine stopped: no history matters now, only the Goodbye.
                    Err(_) => break ResumeFrom::Live,
                },
                recv(ch.closing) -> why => if let Some(end) = self.on_closing(why, &mut ch, &mut out) {
                    return end;
                },
                default(self.context.heartbeat_interval) => self.heartbeat(&mut out, 0)?,
            }
        };
        if let ResumeFrom::After(after_seq) = from {
            if let Some(end) = self.history(after_seq, subscription.welcome_seq, &mut ch, &mut out)
            {
                return end;
            }
        }
        for batch in held {
            batch.write_for(self.link, &mut out);
            subscription.sent(&batch);
            if out.len() >= WRITE_BATCH_BYTES {
                self.flush(&mut out)?;
            }
        }
        self.flush(&mut out)?;
        let batches = &subscription.batches;
        loop {
            select! {
                recv(ch.closing) -> why => if let Some(end) = self.on_closing(why, &mut ch, &mut out) {
                    return end;
                },
                recv(ch.expired) -> correlation => if let Ok(correlation) = correlation {
                    write_expired(&mut out, correlation);
                    self.flush(&mut out)?;
                },
                recv(batches) -> batch => match batch {
                    Ok(batch) => {
                        batch.write_for(self.link, &mut out);
                        subscription.sent(&batch);
                        // Gather whatever else is queued into the same write.
                        while out.len() < WRITE_BATCH_BYTES {
                            match batches.try_recv() {
                                Ok(more) => {
                                    more.write_for(self.link, &mut out);
                                    subscription.sent(&more);
                                }
                                Err(_) => break,
                            }
                        }
                        self.flush(&mut out)?;
                    }
                    // The engine stopped publishing to this link: everything queued
                    // has been sent; say why it ends.
                    Err(_) => {
                        let reason = self.context.output.end_reason();
                        return self.goodbye(&mut out, reason, 0);
                    }
                },
                default(self.context.heartbeat_interval) => self.heartbeat(&mut out, wall_clock_ns())?,
            }
        }
    }

    /// The reader's word: `Some` ends the writer. A reader that stopped quietly leaves
    /// the writer sending until its queue ends.
    fn on_closing(
        &mut self,
        why: Result<Closing, RecvError>,
        ch: &mut WriterChannels,
        out: &mut Vec<u8>,
    ) -> Option<WriteEnd> {
        match why {
            Ok(Closing::Goodbye(reason, detail)) => Some(self.goodbye(out, reason, detail)),
            Ok(Closing::PeerGone) => Some(Ok(None)),
            Ok(Closing::NotLeader(n)) => {
                out.clear();
                write_not_leader(out, n.leader_id, n.term);
                Some(self.flush(out).map(|()| None))
            }
            Err(_) => {
                ch.closing = crossbeam_channel::never();
                None
            }
        }
    }

    /// Sends every event in `(after_seq, welcome_seq]`: from the history window if it
    /// still holds them, else replayed from the journal. `Some` ends the writer.
    fn history(
        &mut self,
        after_seq: u64,
        welcome_seq: u64,
        ch: &mut WriterChannels,
        out: &mut Vec<u8>,
    ) -> Option<WriteEnd> {
        if after_seq > welcome_seq {
            tracing::warn!(
                link = self.link,
                after_seq,
                welcome_seq,
                "link refused: the gateway has seen sequence numbers this engine never reached"
            );
            return Some(self.goodbye(out, GoodbyeReason::AheadOfEngine, 0));
        }
        if let Some(batches) = self.context.output.history(after_seq, welcome_seq) {
            for batch in batches {
                batch.write_after(after_seq, out);
                if out.len() >= WRITE_BATCH_BYTES {
                    if let Err(e) = self.flush(out) {
                        return Some(Err(e));
                    }
                }
            }
            return self.flush(out).err().map(Err);
        }
        tracing::info!(
            link = self.link,
            after_seq,
            welcome_seq,
            "resuming from the journal: the history window does not reach back that far"
        );
        let chunks = self.context.history.start(after_seq, welcome_seq);
        loop {
            select! {
                recv(chunks) -> chunk => match chunk {
                    Ok(Ok(mut bytes)) => if let Err(e) = self.flush(&mut bytes) {
                        return Some(Err(e));
                    },
                    Ok(Err(_)) => {
                        return Some(self.goodbye(out, GoodbyeReason::HistoryUnavailable, 0))
                    }
                    Err(_) => return None,
                },
                recv(ch.closing) -> why => if let Some(end) = self.on_closing(why, ch, out) {
                    return Some(end);
                },
                default(self.context.heartbeat_interval) => if let Err(e) = self.heartbeat(out, 0) {
                    return Some(Err(e));
                },
            }
        }
    }

    /// `time_ns` is a promise: every batch published to this link before it went out
    /// ahead of the heartbeat. Only the live loop, idle for the interval, can make it;
    /// while batches are held behind the opening or the history it is 0 (no claim).
    fn heartbeat(&mut self, out: &mut Vec<u8>, time_ns: u64) -> io::Result<()> {
        write_engine_heartbeat(out, time_ns);
        self.flush(out)
    }

    fn goodbye(&mut self, out: &mut Vec<u8>, reason: GoodbyeReason, detail: u8) -> WriteEnd {
        out.clear();
        write_goodbye(out, reason, detail);
        self.flush(out)?;
        Ok(Some(reason))
    }

    fn flush(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        let result = self
            .stream
            .write_all(out)
            .and_then(|()| self.stream.flush());
        out.clear();
        result
    }
}
