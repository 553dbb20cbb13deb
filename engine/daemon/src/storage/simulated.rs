//! A simulated disk for tests: deterministic from a seed, with the faults real disks have.
//!
//! Crash model: each file keeps its durable bytes (as of its last sync) and the writes
//! since, in order. A crash keeps a random prefix of those writes, the last one kept
//! possibly torn at a random byte, and drops the rest; directory changes (create,
//! rename, remove) since the directory's last sync are kept the same way, as a prefix.
//! Media faults (a flipped bit, a zeroed sector, a truncated file) change durable bytes
//! directly. Injected I/O errors fail a write (part of it may land) or an fsync (nothing
//! becomes durable), each with a probability per million operations.
//!
//! Handles opened before a crash are dead afterwards: every call on them fails.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{Storage, StorageFile};

/// Bytes per sector for zeroed-sector faults.
pub const SECTOR_BYTES: u64 = 512;

/// Injected I/O errors, in failures per million operations of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    pub write_eio_per_million: u32,
    pub sync_eio_per_million: u32,
}

#[derive(Clone)]
pub struct SimulatedStorage {
    state: Arc<Mutex<SimState>>,
}

pub struct SimFile {
    state: Arc<Mutex<SimState>>,
    inode: u64,
    epoch: u64,
}

#[derive(Clone, Debug)]
enum FileOp {
    Write { offset: u64, data: Vec<u8> },
    Truncate { len_bytes: u64 },
}

#[derive(Clone, Default)]
struct Inode {
    durable: Vec<u8>,
    current: Vec<u8>,
    pending: Vec<FileOp>,
}

#[derive(Clone, Debug)]
enum DirOp {
    Link { path: PathBuf, inode: u64 },
    Unlink { path: PathBuf },
}

#[derive(Clone)]
struct SimState {
    rng: u64,
    faults: FaultPlan,
    epoch: u64,
    next_inode: u64,
    inodes: BTreeMap<u64, Inode>,
    names_durable: BTreeMap<PathBuf, u64>,
    names_current: BTreeMap<PathBuf, u64>,
    pending_dir_ops: Vec<(PathBuf, DirOp)>,
    /// Changes attempted so far (writes, syncs, creates, renames, removes, truncates).
    operations: u64,
    /// Power is lost during this operation, if set.
    crash_at_operation: Option<u64>,
}

fn eio(what: &str) -> io::Error {
    io::Error::other(format!("simulated EIO on {what}"))
}

fn parent(path: &Path) -> PathBuf {
    path.parent().map(Path::to_path_buf).unwrap_or_default()
}

impl SimState {
    /// splitmix64: small, fast, and the same on every machine.
    fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        self.next_u64() % n
    }

    fn chance_per_million(&mut self, per_million: u32) -> bool {
        per_million > 0 && self.below(1_000_000) < u64::from(per_million)
    }

    /// See [`SimulatedStorage::crash`].
    fn crash(&mut self) {
        self.crash_at_operation = None;
        self.faults = FaultPlan::default();
        self.epoch += 1;
        let inodes: Vec<u64> = self.inodes.keys().copied().collect();
        for id in inodes {
            let pending = std::mem::take(&mut self.inodes.get_mut(&id).expect("listed").pending);
            let kept = self.below(pending.len() as u64 + 1) as usize;
            let mut bytes = std::mem::take(&mut self.inodes.get_mut(&id).expect("listed").durable);
            for (i, op) in pending.iter().take(kept).enumerate() {
                match op {
                    FileOp::Write { offset, data } if i + 1 == kept && self.below(2) == 0 => {
                        let torn = self.below(data.len() as u64 + 1) as usize;
                        let op = FileOp::Write {
                            offset: *offset,
                            data: data[..torn].to_vec(),
                        };
                        apply_file_op(&mut bytes, &op);
                    }
                    _ => apply_file_op(&mut bytes, op),
                }
            }
            let inode = self.inodes.get_mut(&id).expect("listed");
            inode.current = bytes.clone();
            inode.durable = bytes;
        }
        let pending = std::mem::take(&mut self.pending_dir_ops);
        let kept = self.below(pending.len() as u64 + 1) as usize;
        for (_, op) in pending.iter().take(kept) {
            SimState::apply_dir_op(&mut self.names_durable, op);
        }
        self.names_current = self.names_durable.clone();
    }

    /// Counts one change; true if power is lost during it.
    fn begin_operation(&mut self) -> bool {
        self.operations += 1;
        self.crash_at_operation == Some(self.operations)
    }

    /// Ends a change during which power was lost.
    fn lose_power(&mut self) -> io::Error {
        self.crash();
        io::Error::other("simulated power loss")
    }

    fn apply_dir_op(names: &mut BTreeMap<PathBuf, u64>, op: &DirOp) {
        match op {
            DirOp::Link { path, inode } => {
                names.insert(path.clone(), *inode);
            }
            DirOp::Unlink { path } => {
                names.remove(path);
            }
        }
    }

    fn dir_op(&mut self, dir: PathBuf, op: DirOp) {
        Self::apply_dir_op(&mut self.names_current, &op);
        self.pending_dir_ops.push((dir, op));
    }

    fn inode_of(&self, path: &Path) -> io::Result<u64> {
        self.names_current
            .get(path)
            .copied()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, path.display().to_string()))
    }
}

fn apply_file_op(bytes: &mut Vec<u8>, op: &FileOp) {
    match op {
        FileOp::Write { offset, data } => {
            let end = *offset as usize + data.len();
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[*offset as usize..end].copy_from_slice(data);
        }
        FileOp::Truncate { len_bytes } => bytes.resize(*len_bytes as usize, 0),
    }
}

impl SimulatedStorage {
    pub fn new(seed: u64) -> SimulatedStorage {
        SimulatedStorage {
            state: Arc::new(Mutex::new(SimState {
                rng: seed,
                faults: FaultPlan::default(),
                epoch: 0,
                next_inode: 1,
                inodes: BTreeMap::new(),
                names_durable: BTreeMap::new(),
                names_current: BTreeMap::new(),
                pending_dir_ops: Vec::new(),
                operations: 0,
                crash_at_operation: None,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A test that panicked while holding the lock has failed already.
        self.state.lock().expect("simulated storage lock")
    }

    /// An independent copy of every file and name, so one built journal can be damaged
    /// in many ways without building it again. Handles open on `self` stay with it.
    pub fn fork(&self) -> SimulatedStorage {
        SimulatedStorage {
            state: Arc::new(Mutex::new(self.lock().clone())),
        }
    }

    pub fn set_faults(&self, faults: FaultPlan) {
        self.lock().faults = faults;
    }

    /// Loses power during the `n`th change from now (1 is the next): the change lands
    /// as an unsynced one, a crash follows at once and the call fails.
    pub fn crash_during_operation(&self, n: u64) {
        assert!(n >= 1);
        let mut s = self.lock();
        s.crash_at_operation = Some(s.operations + n);
    }

    /// Power loss: keeps a random prefix of every unsynced change, the last kept write
    /// possibly torn, and kills every open handle. Injected I/O errors stop.
    pub fn crash(&self) {
        self.lock().crash();
    }

    /// Media fault: flips one bit of a file (after a crash, when nothing is pending).
    pub fn flip_bit(&self, path: &Path, bit_offset: u64) {
        self.change_durable(path, |bytes| {
            let byte = (bit_offset / 8) as usize;
            bytes[byte] ^= 1 << (bit_offset % 8);
        });
    }

    /// Media fault: zeroes the sector holding `offset`, as far as the file reaches.
    pub fn zero_sector(&self, path: &Path, offset: u64) {
        self.change_durable(path, |bytes| {
            let start = (offset / SECTOR_BYTES * SECTOR_BYTES) as usize;
            let end = (start + SECTOR_BYTES as usize).min(bytes.len());
            bytes[start..end].fill(0);
        });
    }

    /// Media fault: cuts a file short.
    pub fn truncate_durable(&self, path: &Path, len_bytes: u64) {
        self.change_durable(path, |bytes| bytes.truncate(len_bytes as usize));
    }

    /// The durable length of a file, or `None` if no such file exists.
    pub fn file_len_bytes(&self, path: &Path) -> Option<u64> {
        let s = self.lock();
        let inode = s.names_current.get(path)?;
        Some(s.inodes[inode].current.len() as u64)
    }

    fn change_durable(&self, path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
        let mut s = self.lock();
        let id = s
            .inode_of(path)
            .expect("media faults target existing files");
        let inode = s.inodes.get_mut(&id).expect("named inode exists");
        assert!(inode.pending.is_empty(), "media faults apply after a crash");
        change(&mut inode.durable);
        inode.current = inode.durable.clone();
    }

    fn handle(&self, inode: u64, epoch: u64) -> SimFile {
        SimFile {
            state: Arc::clone(&self.state),
            inode,
            epoch,
        }
    }
}

impl Storage for SimulatedStorage {
    type File = SimFile;

    fn create_dir_all(&self, _dir: &Path) -> io::Result<()> {
        // Directories are implied by the paths of their files.
        Ok(())
    }

    fn create(&self, path: &Path) -> io::Result<SimFile> {
        let mut s = self.lock();
        if s.names_current.contains_key(path) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                path.display().to_string(),
            ));
        }
        let inode = s.next_inode;
        s.next_inode += 1;
        s.inodes.insert(inode, Inode::default());
        let op = DirOp::Link {
            path: path.to_path_buf(),
            inode,
        };
        let power_lost = s.begin_operation();
        s.dir_op(parent(path), op);
        if power_lost {
            return Err(s.lose_power());
        }
        let epoch = s.epoch;
        drop(s);
        Ok(self.handle(inode, epoch))
    }

    fn open(&self, path: &Path) -> io::Result<SimFile> {
        let s = self.lock();
        let inode = s.inode_of(path)?;
        let epoch = s.epoch;
        drop(s);
        Ok(self.handle(inode, epoch))
    }

    fn open_read_only(&self, path: &Path) -> io::Result<SimFile> {
        // The simulation has no permissions; writes through it would be a bug the
        // real file system reports.
        self.open(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.lock();
        let names = s
            .names_current
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect();
        Ok(names)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut s = self.lock();
        let inode = s.inode_of(from)?;
        let power_lost = s.begin_operation();
        s.dir_op(
            parent(to),
            DirOp::Link {
                path: to.to_path_buf(),
                inode,
            },
        );
        s.dir_op(
            parent(from),
            DirOp::Unlink {
                path: from.to_path_buf(),
            },
        );
        if power_lost {
            return Err(s.lose_power());
        }
        Ok(())
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.inode_of(path)?;
        let power_lost = s.begin_operation();
        s.dir_op(
            parent(path),
            DirOp::Unlink {
                path: path.to_path_buf(),
            },
        );
        if power_lost {
            return Err(s.lose_power());
        }
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        if s.begin_operation() {
            return Err(s.lose_power());
        }
        let plan = s.faults;
        if s.chance_per_million(plan.sync_eio_per_million) {
            return Err(eio("directory fsync"));
        }
        let pending = std::mem::take(&mut s.pending_dir_ops);
        let (now, later): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(d, _)| d == dir);
        for (_, op) in &now {
            SimState::apply_dir_op(&mut s.names_durable, op);
        }
        s.pending_dir_ops = later;
        Ok(())
    }
}

impl SimFile {
    fn lock(&self) -> io::Result<MutexGuard<'_, SimState>> {
        let s = self.state.lock().expect("simulated storage lock");
        if s.epoch != self.epoch {
            return Err(io::Error::other("handle opened before a crash"));
        }
        Ok(s)
    }
}

impl StorageFile for SimFile {
    fn len_bytes(&self) -> io::Result<u64> {
        let s = self.lock()?;
        Ok(s.inodes[&self.inode].current.len() as u64)
    }

    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let s = self.lock()?;
        let bytes = &s.inodes[&self.inode].current;
        let end = offset as usize + buf.len();
        if end > bytes.len() {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        buf.copy_from_slice(&bytes[offset as usize..end]);
        Ok(())
    }

    fn write_all_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut s = self.lock()?;
        let power_lost = s.begin_operation();
        let plan = s.faults;
        let failed = s.chance_per_million(plan.write_eio_per_million);
        // A failed write may still have landed in part.
        let landed = if failed {
            s.below(data.len() as u64 + 1) as usize
        } else {
            data.len()
        };
        let op = FileOp::Write {
            offset,
            data: data[..landed].to_vec(),
        };
        let inode = s.inodes.get_mut(&self.inode).expect("open inode exists");
        apply_file_op(&mut inode.current, &op);
        inode.pending.push(op);
        if power_lost {
            return Err(s.lose_power());
        }
        if failed {
            return Err(eio("write"));
        }
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let mut s = self.lock()?;
        if s.begin_operation() {
            return Err(s.lose_power());
        }
        let plan = s.faults;
        if s.chance_per_million(plan.sync_eio_per_million) {
            return Err(eio("fsync"));
        }
        let inode = s.inodes.get_mut(&self.inode).expect("open inode exists");
        // Replaying the pending changes costs what they wrote, not the file's size.
        for op in inode.pending.drain(..) {
            apply_file_op(&mut inode.durable, &op);
        }
        debug_assert_eq!(inode.durable, inode.current);
        Ok(())
    }

    fn truncate(&mut self, len_bytes: u64) -> io::Result<()> {
        let mut s = self.lock()?;
        let power_lost = s.begin_operation();
        let op = FileOp::Truncate { len_bytes };
        let inode = s.inodes.get_mut(&self.inode).expect("open inode exists");
        apply_file_op(&mut inode.current, &op);
        inode.pending.push(op);
        if power_lost {
            return Err(s.lose_power());
        }
        Ok(())
    }

    fn try_clone(&self) -> io::Result<SimFile> {
        // A handle dead since a crash gives no live clone.
        drop(self.lock()?);
        Ok(SimFile {
            state: Arc::clone(&self.state),
            inode: self.inode,
            epoch: self.epoch,
        })
    }
}
