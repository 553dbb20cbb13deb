//! One engine link driven as a gateway drives it: opened with a live Resume, answered
//! by a Welcome (or by NotLeader from a node that does not lead), then commands
//! streamed closed loop or paced open loop, each counted done when the last events
//! frame of its input comes back.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ringex_core::Command;
use ringex_protocol::frame::{split_frame, LengthPrefix};
use ringex_protocol::link::{
    write_input, write_resume, FromEngineFrame, ResumeFrom, LINK_FRAME_MAX,
};
use ringex_protocol::Input;

use crate::open_loop::OpenLoopSchedule;

/// Why a link ended or never opened.
#[derive(Debug)]
pub enum LinkLost {
    /// The node does not lead; the leader it knows (0: none known).
    NotLeader { leader_id: u64 },
    /// Refused, closed, reset or silent past the read timeout.
    Io(std::io::Error),
}

/// An open link to the node that leads (or the only node).
pub struct EngineLink {
    reader: AckReader,
    writer: TcpStream,
    next_correlation: u64,
    /// The engine's last applied sequence number when it welcomed the link.
    pub welcome_seq: u64,
}

impl EngineLink {
    /// Connects to `addr`, resumes live and waits for the Welcome; a read that waits
    /// longer than `read_timeout` ends the link.
    pub fn open(addr: SocketAddr, read_timeout: Duration) -> Result<EngineLink, LinkLost> {
        let stream = TcpStream::connect_timeout(&addr, read_timeout).map_err(LinkLost::Io)?;
        stream.set_nodelay(true).map_err(LinkLost::Io)?;
        stream
            .set_read_timeout(Some(read_timeout))
            .map_err(LinkLost::Io)?;
        let mut writer = stream.try_clone().map_err(LinkLost::Io)?;
        let mut resume = Vec::new();
        write_resume(&mut resume, ResumeFrom::Live);
        writer.write_all(&resume).map_err(LinkLost::Io)?;
        let mut reader = AckReader::new(stream);
        let welcome_seq = reader.welcome()?;
        Ok(EngineLink {
            reader,
            writer,
            next_correlation: 1,
            welcome_seq,
        })
    }

    /// Encodes commands as link frames with consecutive correlations; returns the
    /// bytes, where each frame starts (plus the end) and the first correlation.
    fn encode(&mut self, commands: &[Command]) -> (Vec<u8>, Vec<usize>, u64) {
        let first = self.next_correlation;
        let mut bytes = Vec::with_capacity(commands.len() * 48);
        let mut starts = Vec::with_capacity(commands.len() + 1);
        for cmd in commands {
            starts.push(bytes.len());
            write_input(&mut bytes, self.next_correlation, &Input::Command(*cmd));
            self.next_correlation += 1;
        }
        starts.push(bytes.len());
        (bytes, starts, first)
    }

    /// Sends one command and waits for its events.
    pub fn round_trip(&mut self, command: &Command) -> Result<(), LinkLost> {
        let (bytes, _, correlation) = self.encode(std::slice::from_ref(command));
        self.writer.write_all(&bytes).map_err(LinkLost::Io)?;
        self.reader.read_acks(|c| c < correlation)
    }

    /// Asks the engine for a snapshot and waits for the request's answer (the snapshot
    /// itself is written after it).
    pub fn request_snapshot(&mut self) -> Result<(), LinkLost> {
        let correlation = self.next_correlation;
        self.next_correlation += 1;
        let mut frame = Vec::new();
        write_input(&mut frame, correlation, &Input::TakeSnapshot);
        self.writer.write_all(&frame).map_err(LinkLost::Io)?;
        self.reader.read_acks(|c| c < correlation)
    }

    /// Streams every command as fast as the link takes them; returns the time until
    /// the last one's events came back.
    pub fn closed_loop(&mut self, commands: &[Command]) -> Duration {
        self.try_closed_loop(commands)
            .expect("the engine serves the whole run")
    }

    /// [`EngineLink::closed_loop`], or how the link was lost on the way.
    pub fn try_closed_loop(&mut self, commands: &[Command]) -> Result<Duration, LinkLost> {
        let (bytes, _, first) = self.encode(commands);
        let last = first + commands.len() as u64 - 1;
        let writer = &self.writer;
        let reader = &mut self.reader;
        let started = Instant::now();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut w = writer;
                // A failed send shows as a lost link on the reading side.
                let _ = w.write_all(&bytes);
            });
            let read = reader.read_acks(|correlation| correlation < last);
            if read.is_err() {
                // Unblocks the writer: its peer may have stopped reading.
                let _ = writer.shutdown(std::net::Shutdown::Both);
            }
            read
        })?;
        Ok(started.elapsed())
    }

    /// Sends command `i` at its planned time on a schedule of `rate_per_s` (every
    /// command already due goes in the same write) and records each one's latency from
    /// its planned time to its events.
    pub fn open_loop(
        &mut self,
        commands: &[Command],
        rate_per_s: u64,
        latencies: &mut Histogram<u64>,
    ) {
        let (bytes, starts, first) = self.encode(commands);
        let n = commands.len();
        let writer = &self.writer;
        let reader = &mut self.reader;
        let schedule = OpenLoopSchedule::start(rate_per_s);
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut w = writer;
                let mut i = 0;
                while i < n {
                    pace(&schedule, i as u64);
                    let now = schedule.now_ns();
                    let mut j = i + 1;
                    while j < n && schedule.planned_ns(j as u64) <= now {
                        j += 1;
                    }
                    w.write_all(&bytes[starts[i]..starts[j]])
                        .expect("send to the engine");
                    i = j;
                }
            });
            let last = first + n as u64 - 1;
            reader
                .read_acks(|correlation| {
                    let i = correlation - first;
                    latencies.saturating_record(schedule.latency_ns(i).max(1));
                    correlation < last
                })
                .expect("the engine serves the whole run");
        });
    }

    /// Sends Shutdown and reads to the Goodbye (the link closes).
    pub fn shutdown(mut self) {
        let mut frame = Vec::new();
        write_input(&mut frame, 0, &Input::Shutdown);
        self.writer.write_all(&frame).expect("send Shutdown");
        // The engine closes the link once it stopped: the end of the stream is the
        // answer, however it ends.
        let _ = self.reader.read_acks(|_| true);
    }
}

/// Waits for command `i`'s planned time by sleeping. A spinning sender would take one
/// of the machine's two cores from the engine; a sleep wakes late, but lateness is
/// charged to the latency, so the pacing can only make the figures worse, never better.
fn pace(schedule: &OpenLoopSchedule, i: u64) {
    let due = schedule.planned_ns(i);
    let now = schedule.now_ns();
    if due > now {
        std::thread::sleep(Duration::from_nanos(due - now));
    }
}

/// Reads the link and reports each acknowledged input (the last events frame of an
/// input sent on this link) by its correlation. Only frame headers are read: the
/// engine's encoder is tested elsewhere, and a lighter reader leaves it more CPU.
struct AckReader {
    stream: TcpStream,
    buf: Vec<u8>,
    filled: usize,
}

impl AckReader {
    fn new(stream: TcpStream) -> AckReader {
        AckReader {
            stream,
            buf: vec![0; 4 + LINK_FRAME_MAX + (1 << 20)],
            filled: 0,
        }
    }

    /// The Welcome's last sequence number, or the NotLeader that came instead.
    fn welcome(&mut self) -> Result<u64, LinkLost> {
        let mut answer = None;
        self.read_frames(|body| {
            answer = Some(frame_fields(body));
            false
        })?;
        match answer {
            Some(FromEngineFrame::Welcome { last_seq }) => Ok(last_seq),
            Some(FromEngineFrame::NotLeader { leader_id, .. }) => {
                Err(LinkLost::NotLeader { leader_id })
            }
            Some(frame) => panic!("the first frame is a Welcome or NotLeader, not {frame:?}"),
            None => Err(closed()),
        }
    }

    /// Calls `ack` per acknowledged input until it returns false; a NotLeader or the
    /// end of the link before then is an error.
    fn read_acks(&mut self, mut ack: impl FnMut(u64) -> bool) -> Result<(), LinkLost> {
        let mut not_leader = None;
        let done = self.read_frames(|body| match frame_fields(body) {
            FromEngineFrame::NotLeader { leader_id, .. } => {
                not_leader = Some(leader_id);
                false
            }
            FromEngineFrame::Events { header } if header.last => {
                header.correlation == 0 || ack(header.correlation)
            }
            _ => true,
        })?;
        match not_leader {
            Some(leader_id) => Err(LinkLost::NotLeader { leader_id }),
            None if done => Ok(()),
            None => Err(closed()),
        }
    }

    /// Feeds frames to `frame` until it returns false (Ok(true)) or the link closes
    /// (Ok(false)).
    fn read_frames(&mut self, mut frame: impl FnMut(&[u8]) -> bool) -> Result<bool, LinkLost> {
        loop {
            let mut at = 0;
            let mut go_on = true;
            while go_on {
                match split_frame(
                    &self.buf[at..self.filled],
                    LengthPrefix::U32,
                    LINK_FRAME_MAX,
                )
                .expect("the engine sends valid frames")
                {
                    Some((body, used)) => {
                        go_on = frame(body);
                        at += used;
                    }
                    None => break,
                }
            }
            self.buf.copy_within(at..self.filled, 0);
            self.filled -= at;
            if !go_on {
                return Ok(true);
            }
            match self.stream.read(&mut self.buf[self.filled..]) {
                Ok(0) => return Ok(false),
                Ok(n) => self.filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(LinkLost::Io(e)),
            }
        }
    }
}

/// A frame's declared fields; an events frame's events are left unread.
fn frame_fields(body: &[u8]) -> FromEngineFrame {
    FromEngineFrame::decode_with_tail(body)
        .expect("the engine sends valid frames")
        .0
}

fn closed() -> LinkLost {
    LinkLost::Io(std::io::ErrorKind::UnexpectedEof.into())
}
