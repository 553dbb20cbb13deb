//! Frames a gateway sends the engine, declared once: their fixed part below; an input
//! frame's engine input follows it.

use crate::command_codec::{decode_input, encode_input, Input};
use crate::declare_messages;
use crate::error::DecodeError;
use crate::frame::{write_frame, LengthPrefix};
use crate::link::link_fields::ResumeFrom;
use crate::link::LINK_FRAME_MAX;

declare_messages! {
    /// A frame from a gateway to the engine, as declared (an input frame without its
    /// input).
    pub enum ToEngineFrame;
    table TO_ENGINE_FRAMES, len to_engine_len, family to_engine_family,
    encode encode_to_engine, decode decode_to_engine_frame;

    /// First frame on every link: where the gateway's copy of the stream ends.
    LINK_RESUME = b'R' => Resume(LinkControl) {
        from: ResumeFrom,
    },
    /// An input to sequence, with the gateway's correlation token.
    LINK_INPUT = b'C' => Input(LinkInput) {
        correlation: u64,
    } then "one engine input",
    /// An input with a deadline (Unix-epoch nanoseconds, 0 for none): the engine drops
    /// it unsequenced, and answers Expired, if its sequencer reaches it after then.
    LINK_TIMED_INPUT = b'T' => TimedInput(LinkInput) {
        correlation: u64,
        deadline_ns: u64,
    } then "one engine input",
    /// Nothing to say, still alive.
    LINK_HEARTBEAT = b'H' => Heartbeat(LinkControl) {},
}

/// A frame from a gateway as the engine acts on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToEngine {
    /// `deadline_ns` is Unix-epoch nanoseconds, 0 for none.
    Input {
        correlation: u64,
        deadline_ns: u64,
        input: Input,
    },
    Heartbeat,
    Resume(ResumeFrom),
}

/// Appends one frame: its declared fields, then what `tail` writes.
fn write_to_engine(buf: &mut Vec<u8>, frame: &ToEngineFrame, tail: impl FnOnce(&mut Vec<u8>)) {
    write_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX, |b| {
        encode_to_engine(frame, b);
        tail(b);
    });
}

pub fn write_input(buf: &mut Vec<u8>, correlation: u64, input: &Input) {
    write_to_engine(buf, &ToEngineFrame::Input { correlation }, |b| {
        encode_input(input, b)
    });
}

/// Writes an input frame with a deadline (Unix-epoch nanoseconds); `input` appends the
/// encoded input (bytes the caller already checked decode).
pub fn write_timed_input_with(
    buf: &mut Vec<u8>,
    correlation: u64,
    deadline_ns: u64,
    input: impl FnOnce(&mut Vec<u8>),
) {
    let frame = ToEngineFrame::TimedInput {
        correlation,
        deadline_ns,
    };
    write_to_engine(buf, &frame, input);
}

pub fn write_resume(buf: &mut Vec<u8>, from: ResumeFrom) {
    write_to_engine(buf, &ToEngineFrame::Resume { from }, |_| {});
}

/// A gateway's heartbeat: nothing but the type.
pub fn write_heartbeat(buf: &mut Vec<u8>) {
    write_to_engine(buf, &ToEngineFrame::Heartbeat {}, |_| {});
}

/// Decodes one frame body (type byte onwards) sent to the engine.
pub fn decode_to_engine(body: &[u8]) -> Result<ToEngine, DecodeError> {
    let (frame, tail) = ToEngineFrame::decode_with_tail(body)?;
    Ok(match frame {
        ToEngineFrame::Input { correlation } => ToEngine::Input {
            correlation,
            deadline_ns: 0,
            input: decode_input(tail)?,
        },
        ToEngineFrame::TimedInput {
            correlation,
            deadline_ns,
        } => ToEngine::Input {
            correlation,
            deadline_ns,
            input: decode_input(tail)?,
        },
        ToEngineFrame::Resume { from } => ToEngine::Resume(from),
        ToEngineFrame::Heartbeat {} => ToEngine::Heartbeat,
    })
}
