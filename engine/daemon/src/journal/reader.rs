//! Reading the journal back: every record's checksum, the chain between records and
//! across segments, gapless sequence numbers and timestamps that never go backwards.
//!
//! A torn last record is the one damage a crash explains: bytes at the very end of the
//! last segment that are not a whole valid record, with no valid record anywhere after
//! them. It is truncated (in repair mode) with a log line. Anything else, a bad record
//! followed by a valid one, damage in an earlier segment, a broken chain, a gap, stops
//! with an error naming the file, the offset and the sequence number. Nothing is skipped.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use ringex_core::{Seq, TimestampNs};

use super::error::JournalError;
use super::record::{check_record, decode_record, Record, RecordHeader, RECORD_MAX_BYTES};
use super::segment::{segment_path, segments_in, SegmentHeader, SEGMENT_HEADER_BYTES};
use crate::storage::{Storage, StorageFile};

/// Bytes read from a segment at a time: reading is bounded whatever a segment's size.
const READ_CHUNK_BYTES: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanMode {
    /// Report a torn tail, change nothing (the journal tools).
    ReadOnly,
    /// Truncate a torn tail, durably, so the writer can append after it (startup).
    RepairTornTail,
}

/// A torn last record or segment header that was (or, read-only, would be) cut off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    pub path: PathBuf,
    pub offset_bytes: u64,
    pub dropped_bytes: u64,
    /// The sequence number the torn record would have had.
    pub seq: Seq,
    pub what: &'static str,
}

/// Where the journal ends: what the writer needs to append the next record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalEnd {
    pub next_seq: Seq,
    /// Checksum of the record before `next_seq` (0 before the first record).
    pub last_checksum: u32,
    pub last_timestamp_ns: TimestampNs,
    /// The last segment: its first seq and its valid length in bytes.
    pub last_segment: Option<(Seq, u64)>,
}

impl JournalEnd {
    /// A journal with no record yet.
    pub const EMPTY: JournalEnd = JournalEnd {
        next_seq: 1,
        last_checksum: 0,
        last_timestamp_ns: 0,
        last_segment: None,
    };
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanSummary {
    pub segments_read: usize,
    /// Records whose checksum and chain were verified, visited or not.
    pub records_verified: u64,
    /// The first record read (the first of the first segment read), if any.
    pub first_seq: Option<Seq>,
    /// Where the journal ends, or where the visitor stopped the scan.
    pub end: JournalEnd,
    pub torn_tail: Option<TornTail>,
    /// False when the visitor stopped the scan early.
    pub complete: bool,
}

/// Verifies the journal in `dir` from the segment holding `from_seq - 1` (so the chain
/// into `from_seq` is checked) to the end, calling `visit` for every record with
/// `seq >= from_seq`, in order; the visitor may stop the scan with `Break`. A journal
/// that ends before `from_seq` is not an error here: callers compare `end.next_seq`.
///
/// Records up to `known_durable_seq` are known to have been durable (a snapshot covers
/// them), so damage there is never taken for a torn write, even at the very end.
pub fn scan_journal<S: Storage>(
    storage: &S,
    dir: &Path,
    mode: ScanMode,
    from_seq: Seq,
    known_durable_seq: Seq,
    visit: &mut dyn FnMut(&Record) -> ControlFlow<()>,
) -> Result<ScanSummary, JournalError> {
    scan(
        storage,
        dir,
        mode,
        from_seq,
        known_durable_seq,
        visit,
        false,
    )
}

/// [`scan_journal`] over the whole journal: every segment from the oldest is verified
/// (records before `from_seq` at checksum speed, their inputs not decoded), and records
/// from `from_seq` on are visited. What a start does.
pub fn scan_whole_journal<S: Storage>(
    storage: &S,
    dir: &Path,
    mode: ScanMode,
    from_seq: Seq,
    known_durable_seq: Seq,
    visit: &mut dyn FnMut(&Record) -> ControlFlow<()>,
) -> Result<ScanSummary, JournalError> {
    scan(storage, dir, mode, from_seq, known_durable_seq, visit, true)
}

fn scan<S: Storage>(
    storage: &S,
    dir: &Path,
    mode: ScanMode,
    from_seq: Seq,
    known_durable_seq: Seq,
    visit: &mut dyn FnMut(&Record) -> ControlFlow<()>,
    whole: bool,
) -> Result<ScanSummary, JournalError> {
    assert!(from_seq >= 1);
    let names = match storage.list(dir) {
        Ok(names) => names,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(JournalError::io("list", dir, &e)),
    };
    let firsts = segments_in(&names);
    let wanted = from_seq.saturating_sub(1).max(1);
    let start = match whole {
        true => 0,
        false => firsts.iter().rposition(|&f| f <= wanted).unwrap_or(0),
    };
    if let Some(&first) = firsts.get(start) {
        if first > from_seq {
            let what = format!("journal starts at seq {first}, after the wanted seq {from_seq}");
            return Err(JournalError::corrupt(
                &segment_path(dir, first),
                0,
                from_seq,
                what,
            ));
        }
    }
    let mut scan = Scan {
        storage,
        dir,
        mode,
        from_seq,
        known_durable_seq,
        visit,
        summary: ScanSummary {
            segments_read: 0,
            records_verified: 0,
            first_seq: None,
            end: JournalEnd::EMPTY,
            torn_tail: None,
            complete: true,
        },
        chain: None,
        buf: Vec::with_capacity(READ_CHUNK_BYTES + RECORD_MAX_BYTES),
    };
    for (i, &first) in firsts.iter().enumerate().skip(start) {
        let last = i + 1 == firsts.len();
        if scan.segment(first, last)?.is_break() {
            scan.summary.complete = false;
            break;
        }
    }
    Ok(scan.summary)
}

/// The state of the chain while scanning.
#[derive(Clone, Copy)]
struct Chain {
    next_seq: Seq,
    last_checksum: u32,
    last_timestamp_ns: TimestampNs,
}

struct Scan<'a, S: Storage> {
    storage: &'a S,
    dir: &'a Path,
    mode: ScanMode,
    from_seq: Seq,
    known_durable_seq: Seq,
    visit: &'a mut dyn FnMut(&Record) -> ControlFlow<()>,
    summary: ScanSummary,
    /// `None` until the first segment header anchors it.
    chain: Option<Chain>,
    buf: Vec<u8>,
}

impl<S: Storage> Scan<'_, S> {
    fn segment(&mut self, first: Seq, last: bool) -> Result<ControlFlow<()>, JournalError> {
        let path = segment_path(self.dir, first);
        let opened = match self.mode {
            ScanMode::ReadOnly => self.storage.open_read_only(&path),
            ScanMode::RepairTornTail => self.storage.open(&path),
        };
        let mut file = opened.map_err(|e| JournalError::io("open", &path, &e))?;
        let len = file
            .len_bytes()
            .map_err(|e| JournalError::io("stat", &path, &e))?;
        let expected = self.chain.map_or(first, |c| c.next_seq);
        let mut head = [0u8; SEGMENT_HEADER_BYTES];
        let head_len = (len as usize).min(SEGMENT_HEADER_BYTES);
        file.read_exact_at(0, &mut head[..head_len])
            .map_err(|e| JournalError::io("read", &path, &e))?;
        let header = match SegmentHeader::decode(&head[..head_len]) {
            Ok(header) => header,
            Err(what) => {
                // A crash while a segment is created leaves a short header, or zeros
                // where the file system extended the file; only the last segment.
                let short = len < SEGMENT_HEADER_BYTES as u64;
                let torn = last
                    && expected > self.known_durable_seq
                    && (short || all_zero(&file, &path, len)?);
                if !torn || (self.chain.is_none() && first != 1) {
                    return Err(JournalError::corrupt(&path, 0, expected, what));
                }
                self.cut_torn_segment(&path, len, expected, what)?;
                return Ok(ControlFlow::Continue(()));
            }
        };
        if header.first_seq != first || first != expected {
            let what = format!(
                "segment named for seq {first} starts at {}",
                header.first_seq
            );
            return Err(JournalError::corrupt(&path, 0, expected, what));
        }
        if self
            .chain
            .is_some_and(|c| c.last_checksum != header.prev_checksum)
        {
            let what = "segment header breaks the checksum chain";
            return Err(JournalError::corrupt(&path, 0, expected, what));
        }
        if self.chain.is_none() {
            self.chain = Some(Chain {
                next_seq: first,
                last_checksum: header.prev_checksum,
                last_timestamp_ns: 0,
            });
        }
        self.summary.segments_read += 1;
        let (flow, valid_len) = self.records(&mut file, &path, len, last)?;
        let chain = self.chain.expect("anchored above");
        self.summary.end = JournalEnd {
            next_seq: chain.next_seq,
            last_checksum: chain.last_checksum,
            last_timestamp_ns: chain.last_timestamp_ns,
            last_segment: Some((first, valid_len)),
        };
        Ok(flow)
    }

    /// Reads the records of one segment; returns whether to go on and the length of its
    /// valid part.
    fn records(
        &mut self,
        file: &mut S::File,
        path: &Path,
        len: u64,
        last: bool,
    ) -> Result<(ControlFlow<()>, u64), JournalError> {
        let mut offset = SEGMENT_HEADER_BYTES as u64;
        let mut buf_start = offset;
        self.buf.clear();
        // Bounded: each pass consumes one record or ends the segment.
        while offset < len {
            let buffered_end = buf_start + self.buf.len() as u64;
            if buffered_end < len && buffered_end - offset < RECORD_MAX_BYTES as u64 {
                self.buf.drain(..(offset - buf_start) as usize);
                buf_start = offset;
                let want = (len - buffered_end).min(READ_CHUNK_BYTES as u64) as usize;
                let kept = self.buf.len();
                self.buf.resize(kept + want, 0);
                file.read_exact_at(buffered_end, &mut self.buf[kept..])
                    .map_err(|e| JournalError::io("read", path, &e))?;
            }
            let chain = self.chain.expect("anchored by the segment header");
            let window = &self.buf[(offset - buf_start) as usize..];
            // Records before the visited range are verified, not decoded: the checksum
            // covers their input, which a writer encoded and read back.
            let visited = chain.next_seq >= self.from_seq;
            let checked = if visited {
                decode_record(window).map(|(r, size)| (header_of(&r), Some(r), size))
            } else {
                check_record(window).map(|(h, size)| (h, None, size))
            };
            let (record, full, size) = match checked {
                Ok(checked) => checked,
                Err(fault) => {
                    let torn = last
                        && chain.next_seq > self.known_durable_seq
                        && !valid_record_after(file, path, offset + 1, len)?;
                    if !torn {
                        return Err(JournalError::corrupt(
                            path,
                            offset,
                            chain.next_seq,
                            fault.describe(),
                        ));
                    }
                    self.cut_torn_record(
                        file,
                        path,
                        offset,
                        len,
                        chain.next_seq,
                        fault.describe(),
                    )?;
                    return Ok((ControlFlow::Continue(()), offset));
                }
            };
            let broken = if record.seq != chain.next_seq {
                Some(format!("sequence gap: found seq {}", record.seq))
            } else if record.prev_checksum != chain.last_checksum {
                Some("record breaks the checksum chain".to_owned())
            } else if record.timestamp_ns < chain.last_timestamp_ns {
                Some("timestamp goes backwards".to_owned())
            } else {
                None
            };
            if let Some(what) = broken {
                return Err(JournalError::corrupt(path, offset, chain.next_seq, what));
            }
            self.chain = Some(Chain {
                next_seq: record.seq + 1,
                last_checksum: record.checksum,
                last_timestamp_ns: record.timestamp_ns,
            });
            self.summary.records_verified += 1;
            self.summary.first_seq.get_or_insert(record.seq);
            offset += size as u64;
            if let Some(full) = full.filter(|r| r.seq >= self.from_seq) {
                if (self.visit)(&full).is_break() {
                    return Ok((ControlFlow::Break(()), offset));
                }
            }
        }
        Ok((ControlFlow::Continue(()), offset))
    }

    fn cut_torn_record(
        &mut self,
        file: &mut S::File,
        path: &Path,
        offset: u64,
        len: u64,
        seq: Seq,
        what: &'static str,
    ) -> Result<(), JournalError> {
        if self.mode == ScanMode::RepairTornTail {
            file.truncate(offset)
                .map_err(|e| JournalError::io("truncate", path, &e))?;
            file.sync()
                .map_err(|e| JournalError::io("fsync", path, &e))?;
            tracing::warn!(
                file = %path.display(),
                offset,
                dropped_bytes = len - offset,
                seq,
                "journal: truncated a torn last record ({what}); it was never durable"
            );
        }
        self.summary.torn_tail = Some(TornTail {
            path: path.to_path_buf(),
            offset_bytes: offset,
            dropped_bytes: len - offset,
            seq,
            what,
        });
        Ok(())
    }

    fn cut_torn_segment(
        &mut self,
        path: &Path,
        len: u64,
        seq: Seq,
        what: &'static str,
    ) -> Result<(), JournalError> {
        if self.mode == ScanMode::RepairTornTail {
            self.storage
                .remove(path)
                .map_err(|e| JournalError::io("remove", path, &e))?;
            self.storage
                .sync_dir(self.dir)
                .map_err(|e| JournalError::io("fsync directory", self.dir, &e))?;
            tracing::warn!(
                file = %path.display(),
                dropped_bytes = len,
                seq,
                "journal: removed a segment torn while it was created ({what}); no record \
                 in it was durable"
            );
        }
        self.summary.torn_tail = Some(TornTail {
            path: path.to_path_buf(),
            offset_bytes: 0,
            dropped_bytes: len,
            seq,
            what,
        });
        Ok(())
    }
}

fn header_of(r: &Record) -> RecordHeader {
    RecordHeader {
        seq: r.seq,
        timestamp_ns: r.timestamp_ns,
        checksum: r.checksum,
        prev_checksum: r.prev_checksum,
    }
}

/// Whether a whole, valid record starts anywhere in `[from, len)`: if one does, the
/// damage before it is not a torn tail.
fn valid_record_after<F: StorageFile>(
    file: &F,
    path: &Path,
    from: u64,
    len: u64,
) -> Result<bool, JournalError> {
    let mut buf = vec![0u8; READ_CHUNK_BYTES + RECORD_MAX_BYTES];
    let mut start = from;
    // Bounded: each pass moves `start` forward by a whole chunk.
    while start < len {
        let end = (start + buf.len() as u64).min(len);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(start, chunk)
            .map_err(|e| JournalError::io("read", path, &e))?;
        let positions = chunk.len().min(READ_CHUNK_BYTES);
        if (0..positions).any(|p| decode_record(&chunk[p..]).is_ok()) {
            return Ok(true);
        }
        start += positions as u64;
    }
    Ok(false)
}

fn all_zero<F: StorageFile>(file: &F, path: &Path, len: u64) -> Result<bool, JournalError> {
    let mut buf = vec![0u8; READ_CHUNK_BYTES.min(len as usize)];
    let mut start = 0;
    // Bounded: each pass moves `start` forward by a chunk.
    while start < len {
        let end = (start + buf.len() as u64).min(len);
        let chunk = &mut buf[..(end - start) as usize];
        file.read_exact_at(start, chunk)
            .map_err(|e| JournalError::io("read", path, &e))?;
        if chunk.iter().any(|&b| b != 0) {
            return Ok(false);
        }
        start = end;
    }
    Ok(true)
}

/// The first sequence number of the oldest segment in `dir`, if there is a segment:
/// where a full verification starts when older segments were released.
pub fn oldest_segment_first_seq<S: Storage>(
    storage: &S,
    dir: &Path,
) -> Result<Option<Seq>, JournalError> {
    match storage.list(dir) {
        Ok(names) => Ok(segments_in(&names).first().copied()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(JournalError::io("list", dir, &e)),
    }
}
