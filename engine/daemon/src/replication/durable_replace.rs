//! Replacing a small file so that a crash leaves the old content or the new, never a
//! mix, and the new content is on disk before the call returns: write a temporary file,
//! sync it, rename it over the old one, sync the directory.

use std::path::Path;

use crate::storage::{Storage, StorageFile};

pub fn replace_durably<S: Storage>(
    storage: &S,
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> std::io::Result<()> {
    let temp = dir.join(format!("{name}.tmp"));
    match storage.remove(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut file = storage.create(&temp)?;
    file.write_all_at(0, bytes)?;
    file.sync()?;
    storage.rename(&temp, &dir.join(name))?;
    storage.sync_dir(dir)
}
