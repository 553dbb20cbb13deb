//! The one way a sequenced input reaches the matcher: the state machine, the history
//! replay and the journal tools all call [`apply_input`], so they cannot diverge.

use ringex_core::{Engine, Event, Seq, TimestampNs};
use ringex_protocol::Input;

/// Applies one sequenced input to the engine, appending its events to `out`. Controls
/// (snapshot points, shutdown) consume their sequence number and change nothing else.
pub fn apply_input(
    engine: &mut Engine,
    seq: Seq,
    timestamp_ns: TimestampNs,
    input: &Input,
    out: &mut Vec<Event>,
) {
    match input {
        Input::Command(cmd) => engine.apply(seq, timestamp_ns, cmd, out),
        Input::TakeSnapshot | Input::Shutdown => {
            // A refusal leaves `last_seq` behind, which callers check.
            engine.apply_marker(seq, timestamp_ns);
        }
    }
}
