//! The FIX codec: what it accepts, the reason it gives for what it refuses, and random and
//! mutated byte streams that never make it panic or hold more than one message's bytes.

use ringex_gateway_native::fix_codec::{
    encode, next_frame, parse, FrameError, MessageError, SessionRejectReason,
};

const MAX: usize = 4096;

fn message(fields: &[(u32, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(fields, &mut out).unwrap();
    out
}

fn logon() -> Vec<u8> {
    message(&[
        (35, "A"),
        (49, "CLIENT"),
        (56, "RINGEX"),
        (34, "1"),
        (52, "20261203-22:00:00.000"),
        (98, "0"),
        (108, "30"),
    ])
}

fn with_checksum(mut body: Vec<u8>) -> Vec<u8> {
    let sum = body.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    body.extend_from_slice(format!("10={sum:03}\x01").as_bytes());
    body
}

fn reason_of(frame: &[u8]) -> MessageError {
    parse(frame).unwrap_err().error
}

#[test]
fn encodes_what_quickfix_would_send_and_parses_it_back() {
    let bytes = message(&[
        (35, "0"),
        (49, "A"),
        (56, "B"),
        (34, "2"),
        (52, "20260101-00:00:00"),
    ]);
    let text = String::from_utf8(bytes.clone())
        .unwrap()
        .replace('\x01', "|");
    assert_eq!(
        text,
        "8=FIX.4.4|9=41|35=0|49=A|56=B|34=2|52=20260101-00:00:00|10=115|"
    );
    assert_eq!(next_frame(&bytes, MAX), Ok(Some(bytes.len())));
    let parsed = parse(&bytes).unwrap();
    assert_eq!(parsed.fields[0], (35, "0"));
    assert_eq!(parsed.fields.len(), 5);
    assert!(parsed.groups.is_empty());
}

#[test]
fn splits_a_stream_at_every_cut() {
    let one = logon();
    let mut stream = one.clone();
    stream.extend_from_slice(&one);
    for cut in 0..one.len() {
        assert_eq!(next_frame(&stream[..cut], MAX), Ok(None), "cut {cut}");
    }
    assert_eq!(next_frame(&stream, MAX), Ok(Some(one.len())));
}

#[test]
fn framing_errors() {
    assert_eq!(
        next_frame(b"8=FIX.4.2\x019=5\x01", MAX),
        Err(FrameError::BadBeginString)
    );
    assert_eq!(
        next_frame(b"GET / HTTP/1.1\r\n", MAX),
        Err(FrameError::BadBeginString)
    );
    assert_eq!(
        next_frame(b"8=FIX.4.4\x019=x\x01", MAX),
        Err(FrameError::BadBodyLength)
    );
    assert_eq!(
        next_frame(b"8=FIX.4.4\x019=12345678", MAX),
        Err(FrameError::BadBodyLength)
    );
    assert_eq!(
        next_frame(b"8=FIX.4.4\x019=99999\x01", MAX),
        Err(FrameError::TooLarge)
    );
    let mut long = logon();
    long.insert(long.len() - 8, b'X'); // BodyLength now one short of the fields
    assert_eq!(next_frame(&long, MAX), Err(FrameError::BadTrailer));
}

#[test]
fn checksum_mismatch_is_garbled_and_keeps_the_seq_num() {
    let mut bad = logon();
    let n = bad.len();
    bad[n - 2] = if bad[n - 2] == b'0' { b'1' } else { b'0' };
    let refused = parse(&bad).unwrap_err();
    assert!(matches!(refused.error, MessageError::Garbled(_)));
    assert_eq!((refused.seq_num, refused.msg_type.as_str()), (1, "A"));
}

#[test]
fn invalid_fields_name_their_reject_reason() {
    use SessionRejectReason as R;
    let cases: &[(&[u8], R, u32)] = &[
        (b"35=D\x0134=x\x01", R::IncorrectDataFormat, 34),
        (b"35=D\x0134=2\x0134=3\x01", R::TagAppearsMoreThanOnce, 34),
        (b"35=D\x0155=\x01", R::TagWithoutValue, 55),
        (b"35=D\x01abc=1\x01", R::InvalidTagNumber, 0),
        (b"35=D\x01\x01", R::InvalidTagNumber, 0),
        (b"34=2\x0135=D\x01", R::TagOutOfOrder, 35),
        (b"34=2\x01", R::RequiredTagMissing, 35),
        (b"35=D\x0158=caf\xc3\xa9\x01", R::IncorrectDataFormat, 58),
    ];
    assert_reasons(cases);
}

#[test]
fn group_defects_name_their_reject_reason() {
    use SessionRejectReason as R;
    let (count, twice) = (R::IncorrectNumInGroupCount, R::TagAppearsMoreThanOnce);
    let cases: &[(&[u8], R, u32)] = &[
        (b"35=V\x01267=2\x01269=0\x01", count, 267),
        (b"35=V\x01146=1\x0155=A\x0155=B\x01", count, 146),
        (b"35=V\x01267=-1\x01", count, 267),
        (b"35=V\x01267=x\x01", R::IncorrectDataFormat, 267),
        (b"35=V\x01267=1\x01269=0\x01267=1\x01", twice, 267),
        (b"35=D\x01269=0\x01269=1\x01", twice, 269),
    ];
    assert_reasons(cases);
}

/// Each body, framed, is refused with its reason and RefTagID.
fn assert_reasons(cases: &[(&[u8], SessionRejectReason, u32)]) {
    for (body, reason, tag) in cases {
        let mut frame = format!("8=FIX.4.4\x019={}\x01", body.len()).into_bytes();
        frame.extend_from_slice(body);
        let frame = with_checksum(frame);
        assert_eq!(next_frame(&frame, MAX), Ok(Some(frame.len())));
        match reason_of(&frame) {
            MessageError::Invalid {
                reason: r, ref_tag, ..
            } => assert_eq!(
                (r, ref_tag),
                (*reason, *tag),
                "{:?}",
                String::from_utf8_lossy(body)
            ),
            other => panic!("{other:?}"),
        }
    }
}

fn market_data_request() -> Vec<u8> {
    message(&[
        (35, "V"),
        (34, "5"),
        (262, "md1"),
        (263, "1"),
        (264, "10"),
        (267, "3"),
        (269, "0"),
        (269, "1"),
        (269, "2"),
        (146, "2"),
        (55, "XAU"),
        (55, "XAG"),
    ])
}

#[test]
fn repeating_groups_are_gathered_by_their_count_tag() {
    let request = market_data_request();
    let parsed = parse(&request).unwrap();
    let tags: Vec<u32> = parsed.fields.iter().map(|(t, _)| *t).collect();
    assert_eq!(tags, [35, 34, 262, 263, 264, 267, 146]);
    let entries = |count_tag: u32| -> Vec<Vec<(u32, &str)>> {
        let group = parsed.groups.iter().find(|g| g.count_tag == count_tag);
        group.unwrap().entries.clone()
    };
    let types: Vec<&str> = ["0", "1", "2"].to_vec();
    let got = entries(267);
    assert_eq!(got.len(), 3);
    for (entry, want) in got.iter().zip(types) {
        assert_eq!(entry, &vec![(269, want)]);
    }
    assert_eq!(entries(146)[1], vec![(55, "XAG")]);
    assert_eq!(message(&parsed.flat()), market_data_request());
}

#[test]
fn encoder_refuses_values_that_would_break_the_frame() {
    let mut out = Vec::new();
    assert!(encode(&[(35, "0"), (58, "a\x01b")], &mut out).is_err());
    assert!(encode(&[(35, "0"), (58, "")], &mut out).is_err());
}

/// A linear congruential generator: seeded, so a failing case reproduces.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Mutations aimed at FIX's structure: separators, digits and '=' moved, dropped and
/// doubled, as well as random bytes.
fn mutate(rng: &mut Lcg, seed: &[u8]) -> Vec<u8> {
    const SPICE: &[u8] = b"\x01=0189-.A\xff";
    let mut bytes = seed.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 if at < bytes.len() => bytes[at] = SPICE[rng.below(SPICE.len())],
            1 if at < bytes.len() => {
                bytes.remove(at);
            }
            2 => bytes.insert(at, SPICE[rng.below(SPICE.len())]),
            _ => bytes.truncate(at),
        }
    }
    bytes
}

#[test]
fn mutated_streams_never_panic_and_what_parses_re_encodes() {
    let seeds = [
        logon(),
        message(&[
            (35, "D"),
            (11, "17"),
            (55, "1"),
            (54, "1"),
            (38, "10"),
            (44, "101.25"),
        ]),
        message(&[(35, "2"), (7, "1"), (16, "0")]),
        market_data_request(),
    ];
    let mut rng = Lcg(0x5EED_F1C5);
    for i in 0..200_000 {
        let seed = &seeds[i % seeds.len()];
        let bytes = mutate(&mut rng, seed);
        let mut at = 0;
        while let Ok(Some(len)) = next_frame(&bytes[at..], 512) {
            assert!(len <= 512);
            let frame = &bytes[at..at + len];
            if let Ok(parsed) = parse(frame) {
                assert_eq!(
                    message(&parsed.flat()),
                    frame,
                    "accepted bytes re-encode exactly"
                );
            }
            at += len;
        }
    }
}
