//! The one door through which the journal and the snapshot store reach the disk.
//!
//! Everything durable goes through [`Storage`] and [`StorageFile`], so tests can swap the
//! real file system ([`FileStorage`]) for a simulated one that loses unsynced writes, tears
//! the last write, flips bits and fails writes or fsyncs on a seed
//! ([`simulated::SimulatedStorage`]). The operations are the few a write-ahead log needs,
//! with the durability points explicit: data is durable after [`StorageFile::sync`],
//! names (create, rename, remove) after [`Storage::sync_dir`].

mod file;
pub mod simulated;

use std::io;
use std::path::Path;

pub use file::{FileStorage, RealFile};

/// A directory tree of files. Cheap to clone: clones share the same files.
pub trait Storage: Clone + Send + 'static {
    type File: StorageFile;

    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Creates a new empty file for reading and writing; fails if it exists.
    fn create(&self, path: &Path) -> io::Result<Self::File>;
    /// Opens an existing file for reading and writing.
    fn open(&self, path: &Path) -> io::Result<Self::File>;
    /// Opens an existing file for reading only: what the tools need, so they work on
    /// files they may not change.
    fn open_read_only(&self, path: &Path) -> io::Result<Self::File>;
    /// Names of the regular files in `dir`, sorted.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Replaces `to` with `from` atomically (durable after `sync_dir`).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Makes creates, renames and removes in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
}

/// One open file. Writes are positional: the journal always knows its offsets.
pub trait StorageFile: Send {
    fn len_bytes(&self) -> io::Result<u64>;
    /// Fills `buf` from `offset`; an error if the file ends first.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    fn write_all_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()>;
    /// Makes every write so far durable. After a failure nothing may be assumed about
    /// unsynced data, so callers must not retry: they stop.
    fn sync(&mut self) -> io::Result<()>;
    /// A second handle on the same file, so one thread can sync it while another
    /// reads through the first.
    fn try_clone(&self) -> io::Result<Self>
    where
        Self: Sized;
    fn truncate(&mut self, len_bytes: u64) -> io::Result<()>;
}
