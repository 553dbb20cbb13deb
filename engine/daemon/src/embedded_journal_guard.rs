//! Refuses a data directory that still holds a journal of the embedded pipeline (the
//! engine before every daemon became a Raft node). Starting beside it on an empty Raft
//! log would come back at sequence 0 and silently forget every order that journal
//! acknowledged; so the start stops and says why, touching nothing.

use std::path::Path;

/// The embedded pipeline's files, at the top of its data directory.
const SEGMENT_PREFIX: &str = "journal-";
const SEGMENT_SUFFIX: &str = ".seg";
const MARK_FILE: &str = "journal.mark";
const LOSSES_FILE: &str = "journal.losses";

/// Err naming the first embedded-journal file found in `data_dir`.
pub fn refuse_embedded_journal(data_dir: &Path) -> Result<(), String> {
    let entries = match std::fs::read_dir(data_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("reading {}: {e}", data_dir.display())),
    };
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", data_dir.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_embedded_journal_file(name) {
            return Err(format!(
                "{} holds {name}, a journal of the embedded pipeline, which this engine \
                 no longer runs: every engine is a Raft node that keeps its log in raft/. \
                 Nothing was changed. Start on an empty data directory (the engine creates \
                 the configured instruments and accounts there), or keep running the \
                 release that wrote this journal until it is no longer needed",
                data_dir.display()
            ));
        }
    }
    Ok(())
}

fn is_embedded_journal_file(name: &str) -> bool {
    name == MARK_FILE
        || name == LOSSES_FILE
        || (name.starts_with(SEGMENT_PREFIX) && name.ends_with(SEGMENT_SUFFIX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_marks_and_loss_records_are_recognised() {
        for name in [
            "journal-00000000000000000001.seg",
            "journal.mark",
            "journal.losses",
        ] {
            assert!(is_embedded_journal_file(name), "{name}");
        }
        for name in ["raft", "engine.lock", "engine.sock", "lost", "journal"] {
            assert!(!is_embedded_journal_file(name), "{name}");
        }
    }

    #[test]
    fn a_missing_directory_is_a_new_one() {
        let dir = std::env::temp_dir().join(format!("ringex-guard-none-{}", std::process::id()));
        assert_eq!(refuse_embedded_journal(&dir), Ok(()));
    }
}
