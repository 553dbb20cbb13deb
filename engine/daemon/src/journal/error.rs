//! Journal errors. Each names the file, and for damage the offset and the sequence
//! number, so an operator can find the spot with `ringex-engine journal dump`.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use ringex_core::Seq;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JournalError {
    /// The operating system refused an operation. For the writer this is final.
    Io {
        op: &'static str,
        path: PathBuf,
        kind: io::ErrorKind,
        message: String,
    },
    /// Bytes that are not the journal they should be, somewhere a torn write cannot
    /// explain. Startup stops here: the damage is never skipped.
    Corrupt {
        path: PathBuf,
        offset_bytes: u64,
        /// The sequence number expected at the offset.
        seq: Seq,
        what: String,
    },
    /// The writer stopped after an earlier error; nothing more is written or
    /// acknowledged (an fsync that failed cannot be retried safely).
    Stopped { cause: String },
}

impl JournalError {
    pub fn io(op: &'static str, path: &Path, e: &io::Error) -> JournalError {
        JournalError::Io {
            op,
            path: path.to_path_buf(),
            kind: e.kind(),
            message: e.to_string(),
        }
    }

    pub fn corrupt(path: &Path, offset_bytes: u64, seq: Seq, what: impl Into<String>) -> Self {
        JournalError::Corrupt {
            path: path.to_path_buf(),
            offset_bytes,
            seq,
            what: what.into(),
        }
    }
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io {
                op, path, message, ..
            } => write!(f, "journal I/O error: {op} {}: {message}", path.display()),
            JournalError::Corrupt {
                path,
                offset_bytes,
                seq,
                what,
            } => write!(
                f,
                "journal damaged: {what} in {} at offset {offset_bytes} (expected seq {seq})",
                path.display()
            ),
            JournalError::Stopped { cause } => {
                write!(f, "journal writer stopped after an earlier error: {cause}")
            }
        }
    }
}

impl std::error::Error for JournalError {}
