//! The journal writer: appends sequenced inputs in batches, one write and (by default)
//! one fsync per batch, and reports how far the journal is durable.
//!
//! Fail-stop: after any I/O error the writer refuses every further call. Linux may drop
//! the dirty pages of a failed fsync and report success on the next one, so a retry
//! could acknowledge data that is gone; the only safe answer is to stop and let
//! recovery read what the disk really holds.

use std::path::{Path, PathBuf};

use ringex_core::{Seq, TimestampNs};
use ringex_protocol::Input;

use super::durable_mark::{MarkFile, MarkState, MarkSyncer};
use super::error::JournalError;
use super::reader::JournalEnd;
use super::record::{encode_record, RECORD_MAX_BYTES};
use super::segment::{segment_path, SegmentHeader, SEGMENT_HEADER_BYTES};
use super::{Durability, JournalConfig};
use crate::storage::{Storage, StorageFile};

/// A point inside a batch where a new segment starts.
struct Roll {
    batch_offset: usize,
    first_seq: Seq,
    prev_checksum: u32,
}

pub struct JournalWriter<S: Storage> {
    storage: S,
    dir: PathBuf,
    config: JournalConfig,
    segment: S::File,
    segment_path: PathBuf,
    segment_first_seq: Seq,
    /// Bytes written to the open segment, header included.
    segment_len_bytes: u64,
    next_seq: Seq,
    last_timestamp_ns: TimestampNs,
    last_checksum: u32,
    durable_seq: Seq,
    batch: Vec<u8>,
    batch_records: usize,
    rolls: Vec<Roll>,
    /// Size and record count of the segment the batch is filling, as if written.
    filling_len_bytes: u64,
    filling_records: u64,
    /// Where the writer records how far the journal is durable, after each fsync.
    marks: MarkFile<S>,
    stopped: Option<String>,
}

impl<S: Storage> JournalWriter<S> {
    /// Opens the journal in `dir` for appending after `end`, as found by
    /// [`super::scan_journal`] in repair mode (which truncated any torn tail). Starts a
    /// new segment when `end` has none, e.g. for an empty journal.
    pub fn open(
        storage: S,
        dir: &Path,
        config: JournalConfig,
        end: &JournalEnd,
    ) -> Result<JournalWriter<S>, JournalError> {
        config
            .validate()
            .expect("journal config validated by the caller");
        assert!(end.next_seq >= 1);
        let (segment_first_seq, segment_len_bytes) = match end.last_segment {
            Some(segment) => segment,
            None => (end.next_seq, 0),
        };
        let path = segment_path(dir, segment_first_seq);
        storage
            .create_dir_all(dir)
            .map_err(|e| JournalError::io("create directory", dir, &e))?;
        // The mark exists, synced, before the first segment does: recovery refuses a
        // journal whose mark is missing, so a crash between the two must not leave one.
        let marks = MarkFile::open(&storage, dir, end.next_seq - 1, end.last_checksum)?;
        let segment = if end.last_segment.is_some() {
            assert!(segment_len_bytes >= SEGMENT_HEADER_BYTES as u64);
            storage
                .open(&path)
                .map_err(|e| JournalError::io("open", &path, &e))?
        } else {
            create_segment(
                &storage,
                dir,
                config.durability,
                &SegmentHeader {
                    first_seq: end.next_seq,
                    prev_checksum: end.last_checksum,
                },
            )?
        };
        let segment_len_bytes = segment_len_bytes.max(SEGMENT_HEADER_BYTES as u64);
        Ok(JournalWriter {
            storage,
            dir: dir.to_path_buf(),
            config,
            segment,
            segment_path: path,
            segment_first_seq,
            segment_len_bytes,
            next_seq: end.next_seq,
            last_timestamp_ns: end.last_timestamp_ns,
            last_checksum: end.last_checksum,
            durable_seq: end.next_seq - 1,
            batch: Vec::with_capacity(config.batch_records_max * RECORD_MAX_BYTES),
            batch_records: 0,
            rolls: Vec::new(),
            filling_len_bytes: segment_len_bytes,
            filling_records: u64::from(segment_len_bytes > SEGMENT_HEADER_BYTES as u64),
            marks,
            stopped: None,
        })
    }

    /// The sequence number the next append must carry.
    pub fn next_seq(&self) -> Seq {
        self.next_seq
    }

    /// The highest sequence number durable under the configured policy; events of
    /// inputs up to here may be released.
    pub fn durable_seq(&self) -> Seq {
        self.durable_seq
    }

    /// The checksum of the last appended record: the chain head a snapshot taken at
    /// `next_seq() - 1` records.
    pub fn last_checksum(&self) -> u32 {
        self.last_checksum
    }

    /// Whether the batch is at its bound: commit before appending again.
    pub fn is_batch_full(&self) -> bool {
        self.batch_records == self.config.batch_records_max
    }

    /// The first sequence number of the segment being written; retention keeps it.
    pub fn open_segment_first_seq(&self) -> Seq {
        self.segment_first_seq
    }

    /// Why the writer stopped, if it did.
    pub fn stopped(&self) -> Option<&str> {
        self.stopped.as_deref()
    }

    fn check_running(&self) -> Result<(), JournalError> {
        match &self.stopped {
            Some(cause) => Err(JournalError::Stopped {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Adds one input to the batch; returns the record's checksum. Nothing is written
    /// until [`Self::commit`]. `seq` must be `next_seq()`, the timestamp must not go
    /// backwards, and the batch must not be full: the sequencer guarantees all three.
    pub fn append(
        &mut self,
        seq: Seq,
        timestamp_ns: TimestampNs,
        input: &Input,
    ) -> Result<u32, JournalError> {
        self.check_running()?;
        assert_eq!(seq, self.next_seq, "journal appends must be gapless");
        assert!(
            timestamp_ns >= self.last_timestamp_ns,
            "timestamp regressed"
        );
        assert!(
            !self.is_batch_full(),
            "commit a full batch before appending"
        );
        let start = self.batch.len();
        let checksum = encode_record(
            seq,
            timestamp_ns,
            self.last_checksum,
            input,
            &mut self.batch,
        );
        let size = (self.batch.len() - start) as u64;
        if self.filling_records > 0
            && self.filling_len_bytes + size > self.config.segment_size_max_bytes
        {
            self.rolls.push(Roll {
                batch_offset: start,
                first_seq: seq,
                prev_checksum: self.last_checksum,
            });
            self.filling_len_bytes = SEGMENT_HEADER_BYTES as u64;
            self.filling_records = 0;
        }
        self.filling_len_bytes += size;
        self.filling_records += 1;
        self.last_checksum = checksum;
        self.last_timestamp_ns = timestamp_ns;
        self.next_seq += 1;
        self.batch_records += 1;
        Ok(checksum)
    }

    /// Writes the batch and makes it durable under the policy; returns the durable
    /// sequence number. On error the writer stops for good (see the module docs).
    pub fn commit(&mut self) -> Result<Seq, JournalError> {
        self.check_running()?;
        if self.batch_records == 0 {
            return Ok(self.durable_seq);
        }
        let written = self.write_batch().and_then(|()| {
            // Only after the fsync: the mark never claims more than is durable.
            self.marks
                .write(MarkState::Running, self.next_seq - 1, self.last_checksum)
        });
        if let Err(e) = written {
            self.stopped = Some(e.to_string());
            return Err(e);
        }
        self.batch.clear();
        self.batch_records = 0;
        self.durable_seq = self.next_seq - 1;
        Ok(self.durable_seq)
    }

    /// A clean stop: commits what is pending and writes and syncs the exact end of the
    /// journal as the mark, so the next start refuses any damage at all. The writer
    /// refuses every call after this.
    pub fn close_clean(&mut self) -> Result<Seq, JournalError> {
        let durable = self.commit()?;
        let closed = self
            .marks
            .write(MarkState::CleanStop, durable, self.last_checksum)
            .and_then(|()| self.marks.sync());
        self.stopped = Some(match &closed {
            Ok(()) => "the journal was closed after a clean stop".to_owned(),
            Err(e) => e.to_string(),
        });
        closed.map(|()| durable)
    }

    /// The lazy syncer of the durable mark, to run on a thread of its own.
    pub fn mark_syncer(&self) -> Result<MarkSyncer<S>, JournalError> {
        self.marks.syncer()
    }

    fn write_batch(&mut self) -> Result<(), JournalError> {
        let batch = std::mem::take(&mut self.batch);
        let rolls = std::mem::take(&mut self.rolls);
        let mut start = 0;
        let result = (|| {
            for roll in &rolls {
                self.write_to_segment(&batch[start..roll.batch_offset])?;
                self.sync_segment()?;
                self.segment = create_segment(
                    &self.storage,
                    &self.dir,
                    self.config.durability,
                    &SegmentHeader {
                        first_seq: roll.first_seq,
                        prev_checksum: roll.prev_checksum,
                    },
                )?;
                self.segment_path = segment_path(&self.dir, roll.first_seq);
                self.segment_first_seq = roll.first_seq;
                self.segment_len_bytes = SEGMENT_HEADER_BYTES as u64;
                start = roll.batch_offset;
            }
            self.write_to_segment(&batch[start..])?;
            self.sync_segment()
        })();
        // Keep the allocation for the next batch.
        self.batch = batch;
        result
    }

    fn write_to_segment(&mut self, bytes: &[u8]) -> Result<(), JournalError> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.segment
            .write_all_at(self.segment_len_bytes, bytes)
            .map_err(|e| JournalError::io("write", &self.segment_path, &e))?;
        self.segment_len_bytes += bytes.len() as u64;
        Ok(())
    }

    fn sync_segment(&mut self) -> Result<(), JournalError> {
        if self.config.durability == Durability::UnsafeNoFsync {
            return Ok(());
        }
        self.segment
            .sync()
            .map_err(|e| JournalError::io("fsync", &self.segment_path, &e))
    }
}

/// Creates a segment holding only its header, durable with its name under `fsync`
/// before any record goes in, so a record is never durable in a file that is not.
fn create_segment<S: Storage>(
    storage: &S,
    dir: &Path,
    durability: Durability,
    header: &SegmentHeader,
) -> Result<S::File, JournalError> {
    let path = segment_path(dir, header.first_seq);
    let mut file = storage
        .create(&path)
        .map_err(|e| JournalError::io("create", &path, &e))?;
    file.write_all_at(0, &header.encode())
        .map_err(|e| JournalError::io("write header", &path, &e))?;
    if durability == Durability::Fsync {
        file.sync()
            .map_err(|e| JournalError::io("fsync", &path, &e))?;
        storage
            .sync_dir(dir)
            .map_err(|e| JournalError::io("fsync directory", dir, &e))?;
    }
    Ok(file)
}
