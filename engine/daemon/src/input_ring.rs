//! The input ring: every link's reader publishes here, the journaller drains it. It is
//! bounded, so a burst fills it and then stops the links reading their sockets (TCP
//! pushes back on the gateway) instead of growing memory; nothing is dropped.

use crossbeam_channel::{Receiver, Sender};
use ringex_protocol::Input;

/// Names the link an input came from, so its events carry the correlation back there.
pub type LinkId = u32;

/// The daemon itself: inputs it makes (the first start's instruments and accounts, a
/// shutdown on SIGTERM) belong to no link.
pub const DAEMON_LINK: LinkId = 0;

/// One input as a link received it, not yet sequenced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkInput {
    pub link: LinkId,
    /// The sender's token, echoed on its link only.
    pub correlation: u64,
    /// Unix-epoch ns after which the input must not be sequenced; 0 for none.
    pub deadline_ns: u64,
    pub input: Input,
}

pub type InputSender = Sender<LinkInput>;
pub type InputReceiver = Receiver<LinkInput>;

/// A ring holding at most `capacity` inputs.
pub fn input_ring(capacity: usize) -> (InputSender, InputReceiver) {
    assert!(capacity > 0, "the input ring needs room for one input");
    crossbeam_channel::bounded(capacity)
}
