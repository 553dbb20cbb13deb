//! What the core sends the engine: the link's outbound bytes, the correlation number of
//! each input, and whether the link is up (its Welcome accepted) to take inputs at all.
//! The link's standing is kept here alone; Python learns it from the core.

use ringex_core::Command;
use ringex_protocol::link::{write_heartbeat, write_input, write_resume, ResumeFrom};
use ringex_protocol::Input;

pub struct EngineInput {
    up: bool,
    out: Vec<u8>,
    next_correlation: u64,
}

impl Default for EngineInput {
    fn default() -> EngineInput {
        EngineInput {
            up: false,
            out: Vec::new(),
            // 0 marks events that answer no input of this gateway.
            next_correlation: 1,
        }
    }
}

impl EngineInput {
    /// Whether the link is up: connected and its Welcome accepted.
    pub fn is_up(&self) -> bool {
        self.up
    }

    /// The engine's Welcome was accepted: inputs may flow.
    pub fn welcomed(&mut self) {
        self.up = true;
    }

    /// The connection is gone: inputs are refused until the next Welcome.
    pub fn down(&mut self) {
        self.up = false;
    }

    /// A new connection: what was queued for the old one is dropped, and the new one
    /// opens with a Resume from `from`.
    pub fn reset(&mut self, from: ResumeFrom) {
        self.out.clear();
        self.up = false;
        write_resume(&mut self.out, from);
    }

    pub fn heartbeat(&mut self) {
        write_heartbeat(&mut self.out);
    }

    /// The bytes queued since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// A new input's correlation number, and the buffer its frame is written to.
    pub fn open_input(&mut self) -> (u64, &mut Vec<u8>) {
        let correlation = self.next_correlation;
        self.next_correlation += 1;
        (correlation, &mut self.out)
    }

    /// Queues a command the gateway itself sends (no session waits for its answer).
    pub fn command(&mut self, command: &Command) {
        let (correlation, out) = self.open_input();
        write_input(out, correlation, &Input::Command(*command));
    }
}
