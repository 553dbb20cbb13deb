//! The engine link: how gateways talk to the engine daemon. u32-prefixed frames, each
//! one message; writers batch many frames into one socket write. Each direction's frames
//! are declared once ([`to_engine`], [`from_engine`]): their sizes, encoders, decoders and
//! the tables in `protocol/SPEC.md` come from the declarations.

pub mod events_frame;
pub mod from_engine;
pub mod link_fields;
pub mod to_engine;

pub use events_frame::{events, write_events, EventIter};
pub use from_engine::{
    decode_from_engine, write_engine_heartbeat, write_expired, write_goodbye, write_not_leader,
    write_welcome, FromEngine, FromEngineFrame, FROM_ENGINE_FRAMES, LINK_ENGINE_HEARTBEAT,
    LINK_EVENTS, LINK_EXPIRED, LINK_GOODBYE, LINK_NOT_LEADER, LINK_WELCOME,
};
pub use link_fields::{EventsHeader, GoodbyeReason, ResumeFrom, EVENTS_LAST, RESUME_LIVE};
pub use to_engine::{
    decode_to_engine, write_heartbeat, write_input, write_resume, write_timed_input_with, ToEngine,
    ToEngineFrame, LINK_HEARTBEAT, LINK_INPUT, LINK_RESUME, LINK_TIMED_INPUT, TO_ENGINE_FRAMES,
};

/// Largest frame body on the link. A command whose events do not fit is reported in
/// several frames, the last one flagged.
pub const LINK_FRAME_MAX: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command_codec::{encode_input, Input};
    use crate::error::DecodeError;
    use crate::frame::{split_frame, LengthPrefix};
    use crate::link::from_engine::encode_from_engine;

    fn body(buf: &[u8]) -> &[u8] {
        let (body, used) = split_frame(buf, LengthPrefix::U32, LINK_FRAME_MAX)
            .unwrap()
            .unwrap();
        assert_eq!(used, buf.len());
        body
    }

    #[test]
    fn a_finished_header_is_the_header_encoded_finished() {
        let open = EventsHeader {
            seq: 9,
            timestamp_ns: 8,
            correlation: 7,
            last: false,
            count: 0,
        };
        for (last, count) in [(false, 0), (true, 0), (true, 1), (false, u16::MAX)] {
            let mut filled = Vec::new();
            encode_from_engine(&FromEngineFrame::Events { header: open }, &mut filled);
            let end = filled.len();
            let tail = end - EventsHeader::FINISHED_TAIL_BYTES..end;
            EventsHeader::finish_encoded(&mut filled[tail], last, count);
            let finished = EventsHeader {
                last,
                count,
                ..open
            };
            let mut encoded = Vec::new();
            encode_from_engine(&FromEngineFrame::Events { header: finished }, &mut encoded);
            assert_eq!(filled, encoded);
        }
    }

    #[test]
    fn resume_round_trips_and_live_carries_no_seq() {
        for from in [
            ResumeFrom::After(0),
            ResumeFrom::After(u64::MAX),
            ResumeFrom::Live,
        ] {
            let mut buf = Vec::new();
            write_resume(&mut buf, from);
            assert_eq!(decode_to_engine(body(&buf)), Ok(ToEngine::Resume(from)));
        }
        let live_with_seq = [LINK_RESUME, 1, 0, 0, 0, 0, 0, 0, 0, RESUME_LIVE];
        assert_eq!(decode_to_engine(&live_with_seq), Err(DecodeError::BadFlags));
        let bad_flags = [LINK_RESUME, 0, 0, 0, 0, 0, 0, 0, 0, 0x02];
        assert_eq!(decode_to_engine(&bad_flags), Err(DecodeError::BadFlags));
        assert_eq!(
            decode_to_engine(&[LINK_RESUME, 0]),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn timed_input_and_expired_round_trip() {
        let input = Input::TakeSnapshot;
        let mut buf = Vec::new();
        write_timed_input_with(&mut buf, 7, 1_700_000_000_000_000_000, |b| {
            encode_input(&input, b)
        });
        assert_eq!(
            decode_to_engine(body(&buf)),
            Ok(ToEngine::Input {
                correlation: 7,
                deadline_ns: 1_700_000_000_000_000_000,
                input
            })
        );
        let mut plain = Vec::new();
        write_input(&mut plain, 7, &input);
        assert_eq!(
            decode_to_engine(body(&plain)),
            Ok(ToEngine::Input {
                correlation: 7,
                deadline_ns: 0,
                input
            })
        );
        let mut expired = Vec::new();
        write_expired(&mut expired, 42);
        assert_eq!(
            decode_from_engine(body(&expired)),
            Ok(FromEngine::Expired { correlation: 42 })
        );
        let mut long = body(&expired).to_vec();
        long.push(0);
        assert_eq!(decode_from_engine(&long), Err(DecodeError::TrailingBytes));
    }

    #[test]
    fn not_leader_round_trips_and_is_exact_length() {
        for (leader_id, term) in [(0, 0), (3, 7), (u64::MAX, u64::MAX)] {
            let mut buf = Vec::new();
            write_not_leader(&mut buf, leader_id, term);
            assert_eq!(
                decode_from_engine(body(&buf)),
                Ok(FromEngine::NotLeader { leader_id, term })
            );
        }
        let mut buf = Vec::new();
        write_not_leader(&mut buf, 2, 9);
        let frame = body(&buf);
        assert_eq!(frame[0], LINK_NOT_LEADER);
        assert_eq!(
            decode_from_engine(&frame[..frame.len() - 1]),
            Err(DecodeError::Truncated)
        );
        let mut long = frame.to_vec();
        long.push(0);
        assert_eq!(decode_from_engine(&long), Err(DecodeError::TrailingBytes));
    }
}
