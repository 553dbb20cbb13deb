//! The gateway core driven with raw bytes, as Python drives it: client frames in,
//! engine-link frames out; engine events in, per-session server frames out.

use ringex_core::*;
use ringex_gateway_native::acked_ids::{decode_records, encode_record, RECORD_BYTES};
use ringex_gateway_native::binary_session::SessionAction;
use ringex_gateway_native::gateway::{Core, Limits};
use ringex_protocol::client::{decode_server, encode_client, ClientMessage, ServerMessage};
use ringex_protocol::command_codec::ALL_INSTRUMENTS;
use ringex_protocol::frame::{split_frame, write_frame, LengthPrefix};
use ringex_protocol::link::{
    decode_to_engine, write_events, write_not_leader, write_welcome, ToEngine, LINK_FRAME_MAX,
};
use ringex_protocol::reference::{DefinitionUpdate, InstrumentState};
use ringex_protocol::session::*;

const MS: u64 = 1_000_000;

fn limits() -> Limits {
    Limits {
        journal_messages: 100,
        max_backlog: 50,
        unsequenced_bytes: 4096,
        drain_bytes: 1 << 20,
        heartbeat_ns: 1000 * MS,
        idle_timeout_ns: 5000 * MS,
        frame_timeout_ns: 1000 * MS,
        login_timeout_ns: 2000 * MS,
        acked_ids_max: 1000,
    }
}

fn framed(message: &ClientMessage) -> Vec<u8> {
    let mut out = Vec::new();
    write_frame(&mut out, CLIENT_PREFIX, CLIENT_FRAME_MAX, |b| {
        encode_client(message, b)
    });
    out
}

fn order(coid: u64, side: Side, price: i64, qty: u64) -> ClientMessage {
    ClientMessage::NewOrder {
        instrument: 1,
        client_order_id: coid,
        side,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        post_only: false,
        price,
        qty,
    }
}

fn messages(bytes: &[u8]) -> Vec<ServerMessage> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while let Some((body, used)) = split_frame(rest, CLIENT_PREFIX, CLIENT_FRAME_MAX).unwrap() {
        out.push(decode_server(body).unwrap());
        rest = &rest[used..];
    }
    assert!(rest.is_empty());
    out
}

fn drained(core: &mut Core, sid: u64) -> Vec<ServerMessage> {
    let (writes, slow) = core.drain(0);
    assert!(slow.is_empty());
    writes
        .iter()
        .filter(|(s, _)| *s == sid)
        .flat_map(|(_, b)| messages(b))
        .collect()
}

fn engine_up(core: &mut Core) {
    let mut welcome = Vec::new();
    write_welcome(&mut welcome, 0);
    assert_eq!(core.feed_engine(&welcome, 0).welcome, Some(0));
    assert!(core.engine_up(), "an accepted Welcome puts the link up");
}

fn login(core: &mut Core, sid: u64, account: u32, role: Role, next_seq: u64) {
    core.open_session(sid, 0);
    let login = ClientMessage::Login {
        username: encode_text("u").unwrap(),
        password: encode_text("p").unwrap(),
        next_seq,
    };
    let action = core.feed_session(sid, &framed(&login), 0);
    assert!(matches!(action, SessionAction::Login { next_seq: n, .. } if n == next_seq));
    core.accept_login(sid, account, role, next_seq, 0, 1, false, 0);
}

/// The engine inputs the core wrote to the link.
fn inputs(core: &mut Core) -> Vec<Command> {
    let out = core.take_engine_output();
    let mut rest = &out[..];
    let mut commands = Vec::new();
    while let Some((body, used)) = split_frame(rest, LengthPrefix::U32, LINK_FRAME_MAX).unwrap() {
        if let ToEngine::Input {
            input: ringex_protocol::Input::Command(c),
            ..
        } = decode_to_engine(body).unwrap()
        {
            commands.push(c);
        }
        rest = &rest[used..];
    }
    commands
}

fn accepted(seq: u64, account: u32, coid: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let event = Event::Accepted {
        order_id: coid,
        account,
        instrument: 1,
        client_order_id: coid,
        side: Side::Sell,
        order_type: OrderType::Limit,
        time_in_force: TimeInForce::Gtc,
        post_only: false,
        price: 100,
        qty: 5,
    };
    write_events(&mut out, seq, seq * 10, 0, &[event]);
    out
}

#[test]
fn orders_are_stamped_with_the_sessions_account() {
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    login(&mut core, 1, 7, Role::Trader, 0);
    let action = core.feed_session(1, &framed(&order(11, Side::Buy, 100, 5)), 0);
    assert_eq!(action, SessionAction::Continue);
    let sent = inputs(&mut core);
    assert!(
        matches!(sent[..], [Command::NewOrder(o)] if o.account == 7 && o.client_order_id == 11)
    );
}

#[test]
fn events_reach_every_session_of_the_account_and_replay_on_login() {
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    login(&mut core, 1, 7, Role::Trader, 0);
    login(&mut core, 2, 8, Role::Trader, 0);
    let mut events = Vec::new();
    for (seq, coid) in [(1, 100), (2, 101), (3, 102)] {
        events.extend(accepted(seq, 7, coid));
    }
    core.feed_engine(&events, 0);
    assert_eq!(accepted_seqs(&drained(&mut core, 1)), [1, 2, 3]);
    assert!(drained(&mut core, 2).iter().all(|m| matches!(
        m,
        ServerMessage::LoginAccepted { .. } | ServerMessage::SessionParameters { .. }
    )));
    // A second session of account 7 asking from seq 2 gets 2 and 3, nothing else.
    login(&mut core, 3, 7, Role::ReadOnly, 2);
    let replay = drained(&mut core, 3);
    assert!(matches!(
        replay[0],
        ServerMessage::LoginAccepted {
            next_seq: 2,
            replay_end: 4,
            ..
        }
    ));
    assert!(matches!(replay[1], ServerMessage::SessionParameters { .. }));
    assert_eq!(replay.len(), 4);
}

/// Engine events listing an instrument, opening two accounts, then halting it.
fn reference_events() -> Vec<u8> {
    let mut out = Vec::new();
    let spec = InstrumentSpec {
        instrument: 1,
        tick_size: 5,
        lot_size: 10,
        reference_price: 1_000,
        price_band_bps: 100,
    };
    let listed = Event::InstrumentAdded { spec };
    write_events(&mut out, 1, 10, 0, &[Event::AccountAdded { account: 7 }]);
    write_events(&mut out, 2, 20, 0, &[Event::AccountAdded { account: 8 }]);
    write_events(&mut out, 3, 30, 0, &[listed]);
    let halted = Event::HaltChanged {
        instrument: 1,
        halted: true,
    };
    write_events(&mut out, 4, 40, 0, &[halted]);
    out
}

#[test]
fn definitions_go_into_every_account_stream_and_answer_requests() {
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    core.feed_engine(&reference_events(), 0);
    login(&mut core, 1, 8, Role::Trader, 1);
    let request = ClientMessage::InstrumentRequest {
        instrument: ALL_INSTRUMENTS,
    };
    core.feed_session(1, &framed(&request), 0);
    let unknown = ClientMessage::InstrumentRequest { instrument: 9 };
    core.feed_session(1, &framed(&unknown), 0);
    let got = drained(&mut core, 1);
    let definitions: Vec<(u64, u64, DefinitionUpdate, InstrumentState)> = got
        .iter()
        .filter_map(|m| match *m {
            ServerMessage::InstrumentDefinition {
                stamp,
                update,
                state,
                min_qty,
                ..
            } => {
                assert_eq!(min_qty, 10);
                Some((stamp.seq, stamp.timestamp_ns, update, state))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        definitions,
        [
            (0, 0, DefinitionUpdate::Current, InstrumentState::Halted),
            (1, 30, DefinitionUpdate::Listed, InstrumentState::Trading),
            (2, 40, DefinitionUpdate::Halted, InstrumentState::Halted),
        ]
    );
    let ends: Vec<(u32, u32)> = got
        .iter()
        .filter_map(|m| match *m {
            ServerMessage::InstrumentsEnd { instrument, count } => Some((instrument, count)),
            _ => None,
        })
        .collect();
    assert_eq!(ends, [(ALL_INSTRUMENTS, 1), (9, 0)]);
}

#[test]
fn session_parameters_follow_login_with_the_limits_in_force() {
    let mut core = Core::new(limits(), 1, false);
    login(&mut core, 1, 7, Role::Trader, 0);
    let got = drained(&mut core, 1);
    let l = limits();
    let ms = |ns: u64| (ns / 1_000_000) as u32;
    assert_eq!(
        got[1],
        ServerMessage::SessionParameters {
            heartbeat_ms: ms(l.heartbeat_ns),
            idle_timeout_ms: ms(l.idle_timeout_ns),
            frame_timeout_ms: ms(l.frame_timeout_ns),
            login_timeout_ms: ms(l.login_timeout_ns),
            answer_timeout_ms: 0,
            order_rate_per_s: 0,
            order_burst: 1,
            backlog_messages_max: l.max_backlog as u32,
            unsequenced_bytes_max: l.unsequenced_bytes as u32,
        }
    );
}

#[test]
fn admin_commands_are_answered_with_their_request_id() {
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    login(&mut core, 1, 7, Role::Admin, 0);
    login(&mut core, 2, 8, Role::Trader, 0);
    let halt = |request_id| ClientMessage::SetHalted {
        request_id,
        instrument: 1,
        halted: true,
    };
    core.feed_session(1, &framed(&halt(55)), 0);
    core.feed_session(2, &framed(&halt(56)), 0);
    let not_permitted = ringex_protocol::session::GatewayRejectReason::NotPermitted as u8;
    assert_eq!(admin_result(&mut core, 2), Some((56, not_permitted)));
    assert!(matches!(
        inputs(&mut core)[..],
        [Command::SetHalted {
            instrument: 1,
            halted: true
        }]
    ));
    let mut events = Vec::new();
    let halted = Event::HaltChanged {
        instrument: 1,
        halted: true,
    };
    write_events(&mut events, 1, 10, 1, &[halted]);
    core.feed_engine(&events, 0);
    assert_eq!(admin_result(&mut core, 1), Some((55, 0)));
}

/// The request id and reason of the AdminResult waiting for `sid`.
fn admin_result(core: &mut Core, sid: u64) -> Option<(u64, u8)> {
    drained(core, sid).into_iter().find_map(|m| match m {
        ServerMessage::AdminResult {
            request_id, reason, ..
        } => Some((request_id, reason)),
        _ => None,
    })
}

#[test]
fn gateway_rejects_are_unsequenced_and_say_why() {
    let mut core = Core::new(limits(), 1, false);
    login(&mut core, 1, 7, Role::Trader, 0);
    login(&mut core, 2, 7, Role::ReadOnly, 0);
    core.drain(0);
    core.feed_session(1, &framed(&order(1, Side::Buy, 100, 5)), 0);
    core.feed_session(2, &framed(&order(2, Side::Buy, 100, 5)), 0);
    let reason = |m: &ServerMessage| match m {
        ServerMessage::Rejected { stamp, reason, .. } => (stamp.seq, *reason),
        other => panic!("{other:?}"),
    };
    let (writes, _) = core.drain(0);
    let of = |sid| messages(&writes.iter().find(|(s, _)| *s == sid).unwrap().1);
    let engine_down = of(1);
    assert_eq!(
        reason(&engine_down[0]),
        (0, GatewayRejectReason::EngineUnavailable as u8)
    );
    let read_only = of(2);
    assert_eq!(
        reason(&read_only[0]),
        (0, GatewayRejectReason::NotPermitted as u8)
    );
    assert!(inputs(&mut core).is_empty());
}

#[test]
fn a_reject_queued_with_a_logout_is_written_before_the_goodbye() {
    let mut core = Core::new(limits(), 1, false);
    login(&mut core, 1, 7, Role::Trader, 0);
    core.drain(0);
    let mut last_read = framed(&order(1, Side::Buy, 100, 5));
    last_read.extend(framed(&ClientMessage::Logout {}));
    let action = core.feed_session(1, &last_read, 0);
    assert!(
        matches!(
            action,
            SessionAction::Close {
                reason: SessionEndReason::Logout,
                ..
            }
        ),
        "{action:?}"
    );
    let last = messages(&core.end_session(1, Some((SessionEndReason::Logout, 0))));
    assert!(
        matches!(
            last[..],
            [
                ServerMessage::Rejected {
                    client_order_id: 1,
                    ..
                },
                ServerMessage::Goodbye {
                    reason: SessionEndReason::Logout,
                    ..
                }
            ]
        ),
        "{last:?}"
    );
}

fn accepted_seqs(got: &[ServerMessage]) -> Vec<u64> {
    got.iter()
        .filter_map(|m| match m {
            ServerMessage::Accepted { stamp, .. } => Some(stamp.seq),
            _ => None,
        })
        .collect()
}

#[test]
fn the_stream_not_yet_written_goes_before_the_goodbye() {
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    for sid in [1, 2, 3] {
        login(&mut core, sid, 7, Role::Trader, 0);
    }
    core.drain(0);
    let mut events = Vec::new();
    for seq in 1..=3 {
        events.extend(accepted(seq, 7, seq));
    }
    core.feed_engine(&events, 0);
    let last = messages(&core.end_session(1, Some((SessionEndReason::Logout, 0))));
    assert_eq!(accepted_seqs(&last), [1, 2, 3]);
    assert!(matches!(last.last(), Some(ServerMessage::Goodbye { .. })));
    // One ended for not reading gets no more of what it did not read.
    let last = messages(&core.end_session(2, Some((SessionEndReason::SlowConsumer, 0))));
    assert!(
        matches!(last[..], [ServerMessage::Goodbye { .. }]),
        "{last:?}"
    );
    // Nor does one whose cursor the stream (100 frames) no longer holds.
    core.set_paused(3, true);
    let mut events = Vec::new();
    for seq in 4..=150 {
        events.extend(accepted(seq, 7, seq));
    }
    core.feed_engine(&events, 0);
    let last = messages(&core.end_session(3, Some((SessionEndReason::Logout, 0))));
    assert!(
        matches!(last[..], [ServerMessage::Goodbye { .. }]),
        "{last:?}"
    );
}

#[test]
fn bad_bytes_and_slow_drips_end_the_session() {
    let mut core = Core::new(limits(), 1, false);
    core.open_session(1, 0);
    let bad = core.feed_session(1, &[1, 1], 0);
    assert_eq!(
        bad,
        SessionAction::Close {
            reason: SessionEndReason::BadInput,
            detail: 5
        }
    );
    core.end_session(1, Some((SessionEndReason::BadInput, 5)));
    core.open_session(2, 0);
    assert_eq!(
        core.feed_session(2, &[3, 0, b'H'], 0),
        SessionAction::Continue
    );
    assert!(core.tick(500 * MS).is_empty());
    assert_eq!(core.tick(1001 * MS), [(2, SessionEndReason::FrameTimeout)]);
    core.open_session(3, 0);
    assert_eq!(
        core.feed_session(3, &framed(&ClientMessage::Logout {}), 0),
        SessionAction::Close {
            reason: SessionEndReason::NotLoggedIn,
            detail: 0
        }
    );
}

#[test]
fn a_session_that_falls_behind_is_a_slow_consumer() {
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    login(&mut core, 1, 7, Role::Trader, 0);
    core.set_paused(1, true);
    let mut events = Vec::new();
    for seq in 1..=60 {
        events.extend(accepted(seq, 7, seq));
    }
    core.feed_engine(&events, 0);
    let (writes, slow) = core.drain(0);
    assert!(writes.is_empty());
    assert_eq!(slow, [1]);
}

#[test]
fn a_journal_rebuilds_the_same_streams() {
    let mut live = Core::new(limits(), 1, true);
    engine_up(&mut live);
    let mut events = Vec::new();
    for seq in 1..=5 {
        events.extend(accepted(seq, 7, seq));
    }
    live.feed_engine(&events, 0);
    let mut journal = live.take_journal_output();
    assert_eq!(journal, events);
    journal.extend_from_slice(&accepted(6, 7, 6)[..10]);
    let mut rebuilt = Core::new(limits(), 1, true);
    assert_eq!(rebuilt.restore(&journal), events.len());
    assert_eq!(rebuilt.last_engine_seq(), 5);
    login(&mut live, 1, 7, Role::Trader, 1);
    login(&mut rebuilt, 1, 7, Role::Trader, 1);
    assert_eq!(drained(&mut live, 1), drained(&mut rebuilt, 1));
}

#[test]
fn cancel_on_disconnect_mass_cancels_the_account() {
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    core.open_session(1, 0);
    let login = ClientMessage::Login {
        username: encode_text("u").unwrap(),
        password: encode_text("p").unwrap(),
        next_seq: 0,
    };
    core.feed_session(1, &framed(&login), 0);
    core.accept_login(1, 9, Role::Trader, 0, 0, 1, true, 0);
    core.drain(0);
    let goodbye = core.end_session(1, Some((SessionEndReason::IdleTimeout, 0)));
    assert_eq!(
        messages(&goodbye),
        [ServerMessage::Goodbye {
            reason: SessionEndReason::IdleTimeout,
            detail: 0
        }]
    );
    let sent = inputs(&mut core);
    assert!(
        matches!(sent[..], [Command::MassCancel(m)] if m.account == 9 && m.instrument.is_none())
    );
}

#[test]
fn random_bytes_never_panic_and_end_their_session_with_a_reason() {
    let mut next = rng(0x9E37_79B9_7F4A_7C15);
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    for sid in 0..2000u64 {
        if sid % 2 == 0 {
            login(&mut core, sid, 7, Role::Admin, 0);
        } else {
            core.open_session(sid, 0);
        }
        let len = (next() % 300) as usize;
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        match core.feed_session(sid, &data, 0) {
            SessionAction::Close { reason, .. } => {
                assert!(matches!(
                    reason,
                    SessionEndReason::BadInput | SessionEndReason::NotLoggedIn
                ));
                core.end_session(sid, Some((reason, 0)));
            }
            _ => {
                core.end_session(sid, None);
            }
        }
        core.take_engine_output();
        core.drain(0);
    }
    assert_eq!(core.session_count(), 0);
    // Random bytes on the engine link are refused with a decode error, never a panic.
    for _ in 0..2000 {
        let len = (next() % 300) as usize;
        let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let mut fresh = Core::new(limits(), 1, false);
        let _ = fresh.feed_engine(&data, 0);
    }
}

/// xorshift64*: seeded, so a failure reproduces.
fn rng(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn login_frame() -> Vec<u8> {
    framed(&ClientMessage::Login {
        username: encode_text("u").unwrap(),
        password: encode_text("p").unwrap(),
        next_seq: 0,
    })
}

/// Feeds `bytes` in two reads split at `at`, the login check answered after the read
/// named by `accept_after` (0: after the first, 1: after the second); returns the
/// client order ids that reached the engine and the session's end, if any.
fn pipelined(bytes: &[u8], at: usize, accept_after: usize) -> (Vec<u64>, Option<SessionAction>) {
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    core.open_session(1, 0);
    let mut pending_login = false;
    for (i, part) in [&bytes[..at], &bytes[at..]].into_iter().enumerate() {
        match core.feed_session(1, part, 0) {
            SessionAction::Continue => {}
            SessionAction::Login { .. } => pending_login = true,
            close => return (Vec::new(), Some(close)),
        }
        if pending_login && i >= accept_after {
            pending_login = false;
            let after = core.accept_login(1, 7, Role::Trader, 0, 0, 100, false, 0);
            if after != SessionAction::Continue {
                return (Vec::new(), Some(after));
            }
        }
    }
    let ids = inputs(&mut core)
        .iter()
        .map(|c| c.client_order_id())
        .collect();
    (ids, None)
}

#[test]
fn orders_pipelined_behind_a_login_go_on_at_once_for_every_split() {
    let mut bytes = login_frame();
    for coid in [1, 2, 3] {
        bytes.extend(framed(&order(coid, Side::Buy, 100, 5)));
    }
    for at in 0..=bytes.len() {
        for accept_after in [0, 1] {
            let (ids, end) = pipelined(&bytes, at, accept_after);
            assert_eq!(
                end, None,
                "split at {at}, accepted after read {accept_after}"
            );
            assert_eq!(
                ids,
                [1, 2, 3],
                "split at {at}, accepted after read {accept_after}"
            );
        }
    }
}

#[test]
fn bytes_held_behind_a_login_are_bounded_and_dropped_on_reject() {
    let mut core = Core::new(limits(), 1, false);
    engine_up(&mut core);
    core.open_session(1, 0);
    let mut bytes = login_frame();
    bytes.extend(framed(&order(1, Side::Buy, 100, 5)));
    assert!(matches!(
        core.feed_session(1, &bytes, 0),
        SessionAction::Login { .. }
    ));
    // A slow check does not turn the held partial frame into a frame timeout.
    assert!(core.tick(1500 * MS).is_empty());
    core.reject_login(1, LoginRejectReason::NotAuthorized);
    assert!(inputs(&mut core).is_empty());
    core.open_session(2, 0);
    core.feed_session(2, &login_frame(), 0);
    let flood = vec![0u8; ringex_gateway_native::session::LOGIN_HOLD_BYTES + 1];
    assert_eq!(
        core.feed_session(2, &flood, 0),
        SessionAction::Close {
            reason: SessionEndReason::NotLoggedIn,
            detail: 0
        }
    );
}

fn replaced(seq: u64, account: u32, orig: u64, coid: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let event = Event::Replaced {
        order_id: orig,
        account,
        instrument: 1,
        orig_client_order_id: orig,
        client_order_id: coid,
        price: 100,
        qty: 5,
        priority_kept: true,
    };
    write_events(&mut out, seq, seq * 10, 0, &[event]);
    out
}

fn rejects(core: &mut Core, sid: u64) -> Vec<(u64, u8, u64)> {
    drained(core, sid)
        .iter()
        .filter_map(|m| match m {
            ServerMessage::Rejected {
                stamp,
                reason,
                client_order_id,
                ..
            } => Some((stamp.seq, *reason, *client_order_id)),
            _ => None,
        })
        .collect()
}

#[test]
fn an_acknowledged_client_order_id_is_refused_at_the_gateway_until_day_end() {
    let mut live = Core::new(limits(), 1, true);
    engine_up(&mut live);
    login(&mut live, 1, 7, Role::Trader, 0);
    let mut events = accepted(1, 7, 11);
    events.extend(replaced(2, 7, 11, 12));
    live.feed_engine(&events, 0);
    let (cleared, records) = live.acked.take_output();
    assert!(!cleared);
    // A restarted gateway gets the ids back from the records (a torn tail cut off).
    let mut journal = records.clone();
    journal.extend_from_slice(&records[..5]);
    let mut core = Core::new(limits(), 1, true);
    assert_eq!(core.acked.restore(&journal), records.len());
    engine_up(&mut core);
    login(&mut core, 1, 7, Role::Trader, 0);
    login(&mut core, 2, 8, Role::Trader, 0);
    core.drain(0);
    let duplicate = RejectReason::DuplicateClientOrderId as u8;
    for coid in [11, 12] {
        core.feed_session(1, &framed(&order(coid, Side::Buy, 100, 5)), 0);
        assert_eq!(rejects(&mut core, 1), [(0, duplicate, coid)]);
    }
    // Another account's ids are its own; a new id goes through.
    core.feed_session(2, &framed(&order(11, Side::Buy, 100, 5)), 0);
    core.feed_session(1, &framed(&order(13, Side::Buy, 100, 5)), 0);
    let sent: Vec<u64> = inputs(&mut core)
        .iter()
        .map(|c| c.client_order_id())
        .collect();
    assert_eq!(sent, [11, 13]);
    // The day ends: the ids may be used again, and the journal is to be emptied.
    let mut day_end = Vec::new();
    write_events(&mut day_end, 3, 30, 0, &[Event::DayEnded { expired: 0 }]);
    core.feed_engine(&day_end, 0);
    assert_eq!(core.acked.take_output(), (true, Vec::new()));
    core.feed_session(1, &framed(&order(11, Side::Buy, 100, 5)), 0);
    assert_eq!(inputs(&mut core).len(), 1);
}

#[test]
fn the_acknowledged_id_set_is_bounded() {
    let mut core = Core::new(limits(), 1, true);
    engine_up(&mut core);
    let mut events = Vec::new();
    for seq in 1..=1010 {
        events.extend(accepted(seq, 7, seq));
    }
    core.feed_engine(&events, 0);
    assert_eq!(core.acked.len(), 1000);
    assert_eq!(core.acked.dropped, 10);
    let (_, records) = core.acked.take_output();
    assert_eq!(records.len(), 1000 * RECORD_BYTES);
}

fn reencoded(records: &[(u32, u64)]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(account, coid) in records {
        encode_record(account, coid, &mut out);
    }
    out
}

/// The acked-id journal's decoder fed damaged records: it never panics, keeps every
/// whole record before the damage, and what it accepts re-encodes to the same bytes.
#[test]
fn acked_id_records_decode_up_to_the_first_damage() {
    let mut next = rng(0x2545_F491_4F6C_DD1D);
    let mut below = |n: usize| (next() % n as u64) as usize;
    for _ in 0..20_000 {
        let valid: Vec<(u32, u64)> = (0..below(6))
            .map(|_| (below(1 << 31) as u32, below(usize::MAX) as u64))
            .collect();
        let mut bytes = reencoded(&valid);
        match below(4) {
            0 if !bytes.is_empty() => {
                let i = below(bytes.len());
                bytes[i] ^= 1 << below(8);
            }
            1 if !bytes.is_empty() => bytes.truncate(below(bytes.len())),
            2 => bytes.extend((0..below(40)).map(|_| below(256) as u8)),
            _ => {}
        }
        let (records, used) = decode_records(&bytes);
        assert_eq!(used, records.len() * RECORD_BYTES);
        assert!(used <= bytes.len());
        assert_eq!(reencoded(&records), bytes[..used]);
        let intact = valid
            .iter()
            .zip(bytes.chunks_exact(RECORD_BYTES))
            .take_while(|(&(a, c), chunk)| reencoded(&[(a, c)]) == **chunk)
            .count();
        assert!(records.len() >= intact);
    }
}

#[test]
fn not_leader_names_the_leader_and_nothing_after_it_on_that_link_counts() {
    let mut core = Core::new(limits(), 1, false);
    let mut bytes = Vec::new();
    write_not_leader(&mut bytes, 3, 8);
    write_welcome(&mut bytes, 0);
    let outcome = core.feed_engine(&bytes, 0);
    assert_eq!(outcome.not_leader, Some((3, 8)));
    assert_eq!(outcome.welcome, None);
    assert!(!core.engine_up());
}
