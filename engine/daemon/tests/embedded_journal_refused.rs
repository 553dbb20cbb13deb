//! A data directory still holding a journal of the embedded pipeline is refused with a
//! message saying why, and left as it was: starting beside it on an empty Raft log would
//! forget every order that journal acknowledged.

mod support;

use std::fs;

use support::{free_port, start_refused_on, TempDir};

#[test]
fn an_embedded_journal_is_refused_and_left_untouched() {
    let dir = TempDir::new("embedded-journal");
    let data = dir.0.join("data");
    fs::create_dir_all(&data).unwrap();
    let segment = data.join("journal-00000000000000000001.seg");
    fs::write(&segment, b"RINGEXJL").unwrap();
    let log = start_refused_on(&data, free_port(), &[]);
    assert!(log.contains("journal-00000000000000000001.seg"), "{log}");
    assert!(log.contains("embedded pipeline"), "{log}");
    assert_eq!(fs::read(&segment).unwrap(), b"RINGEXJL");
    assert!(
        !data.join("raft").exists(),
        "a Raft log was started beside it"
    );
}
