//! A one-node Raft cluster whose log is damaged while it is stopped has nobody to be
//! repaired from: it refuses to start, naming the damage and the way out, and
//! `journal verify` fails; started once with `--accept-journal-loss` it cuts the log at
//! its first bad record (keeping the cut bytes and a record of the loss in `lost/`) and
//! comes back at a lower sequence with every order before the cut; later starts need no
//! flag. A lone node whose whole log was cut makes itself the sole voter again. The
//! real daemon, over real sockets and files.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::{
    flip_byte, free_port, random_order, run_and_stop_on, start_refused_on, Daemon, Frame,
    LinkClient, Rng, TempDir, BIN,
};

const ORDERS: u64 = 600;
/// Small batches, so the log holds many entries and a cut in its middle loses some.
const FLAGS: [&str; 2] = ["--batch-max", "16"];

/// A `[cluster]` of this node alone, its link on `link_port`.
fn one_node_config(dir: &Path, link_port: u16) -> PathBuf {
    let path = dir.join("engine.toml");
    fs::write(
        &path,
        format!(
            "[cluster]\nnode_id = 1\n\n[[cluster.nodes]]\nid = 1\n\
             raft = \"127.0.0.1:{}\"\nlink = \"127.0.0.1:{link_port}\"\n",
            free_port()
        ),
    )
    .expect("config written");
    path
}

fn verify(data: &Path) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["journal", "verify", "--data-dir"])
        .arg(data)
        .output()
        .expect("runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn a_damaged_lone_node_refuses_until_the_loss_is_accepted() {
    let dir = TempDir::new("raft-loss");
    let data = dir.0.join("data");
    let port = free_port();
    let config = one_node_config(&dir.0, port);
    let config_text = config.to_str().expect("utf-8 path");
    let flags = [&FLAGS[..], &["--config", config_text]].concat();
    let acked = run_and_stop_on(&data, port, &flags, ORDERS);
    let acked_seq_max = acked.iter().map(|(_, seq)| *seq).max().expect("acked");
    assert!(verify(&data).0, "intact after a clean stop");

    let entries = data.join("raft").join("entries");
    flip_byte(&entries, fs::metadata(&entries).expect("log").len() / 2);
    let refusal = start_refused_on(&data, port, &flags);
    assert!(refusal.contains("damaged at byte"), "{refusal}");
    assert!(refusal.contains("--accept-journal-loss"), "{refusal}");
    let (ok, report) = verify(&data);
    assert!(!ok && report.contains("damaged at byte"), "{report}");

    let accepting = [&flags[..], &["--accept-journal-loss"]].concat();
    let daemon = Daemon::start_on(&data, port, &accepting);
    let (_, welcome) = daemon.serving_link();
    assert!(
        welcome < acked_seq_max,
        "came back at {welcome}, acked {acked_seq_max}"
    );
    assert!(welcome > 0, "the entries before the cut were kept");
    daemon.signal(libc::SIGTERM);
    let mut daemon = daemon;
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());

    let lost: Vec<PathBuf> = fs::read_dir(data.join("lost"))
        .expect("lost/ made")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(lost.len(), 1, "{lost:?}");
    let record = fs::read_to_string(lost[0].join("accepted-losses.txt")).expect("record");
    assert!(record.contains("EntryAt"), "{record}");
    assert!(fs::read_dir(&lost[0]).expect("folder").any(|e| e
        .expect("entry")
        .file_name()
        .to_string_lossy()
        .starts_with("entries.from-")));

    // Accepted once: the next start needs no flag, and the log verifies.
    let again = Daemon::start_on(&data, port, &flags);
    assert_eq!(again.serving_link().1, welcome);
    again.signal(libc::SIGTERM);
    let mut again = again;
    assert!(again.wait_exit(Duration::from_secs(30)).success());
    let (ok, report) = verify(&data);
    assert!(ok, "{report}");
}

/// Sends one order and waits for its acknowledgement: the seq it was given.
fn acknowledged(link: &mut LinkClient, id: u64) -> u64 {
    link.send(id, &random_order(&mut Rng(id), id));
    loop {
        match link.next_frame() {
            Some(Frame::Events(h, _)) if h.correlation == id && h.last => return h.seq,
            Some(_) => {}
            None => panic!("link closed before order {id} was acknowledged"),
        }
    }
}

/// The lone node of a data directory without `[cluster]`, its log damaged at its very
/// first record: accepting the loss cuts the whole log, and with it the membership the
/// first entry held. The node makes itself the sole voter again and trades, at a lower
/// sequence than it once acknowledged (gateways that saw more refuse it, as after any
/// accepted loss), and later starts need no flag.
#[test]
fn a_lone_node_whose_whole_log_was_cut_leads_again() {
    let dir = TempDir::new("raft-loss-all");
    let data = dir.0.join("data");
    let port = free_port();
    let acked = run_and_stop_on(&data, port, &FLAGS, 100);
    let acked_seq_max = acked.iter().map(|(_, seq)| *seq).max().expect("acked");
    flip_byte(&data.join("raft").join("entries"), 10);
    let refusal = start_refused_on(&data, port, &FLAGS);
    assert!(refusal.contains("damaged at byte 0"), "{refusal}");

    let accepting = [&FLAGS[..], &["--accept-journal-loss"]].concat();
    let mut daemon = Daemon::start_on(&data, port, &accepting);
    let (mut link, welcome) = daemon.serving_link();
    assert!(welcome < acked_seq_max, "came back at {welcome}");
    let seq = acknowledged(&mut link, 1_000_001);
    assert!(
        seq < acked_seq_max,
        "traded at {seq}, acked {acked_seq_max} before"
    );
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait_exit(Duration::from_secs(30)).success());
    let record = fs::read_dir(data.join("lost"))
        .expect("lost/ made")
        .map(|e| e.expect("entry").path().join("accepted-losses.txt"))
        .map(|p| fs::read_to_string(p).expect("record"))
        .collect::<String>();
    assert!(
        record.contains("EntryAt") && record.contains("vote set aside"),
        "{record}"
    );

    let mut again = Daemon::start_on(&data, port, &FLAGS);
    let (mut link, welcome) = again.serving_link();
    assert_eq!(welcome, seq);
    assert_eq!(acknowledged(&mut link, 1_000_002), seq + 1);
    again.signal(libc::SIGTERM);
    assert!(again.wait_exit(Duration::from_secs(30)).success());
    let (ok, report) = verify(&data);
    assert!(ok, "{report}");
}
