//! Putting a file into the dandiset folder: hard link or copy, never overwriting a
//! different file already there.

use std::io::Read;
use std::path::Path;

use super::{Placed, Transfer};
use crate::error::{Error, Result};

/// True when two files hold the same bytes (same inode, or equal size and content).
fn same_file(a: &Path, b: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let (ma, mb) = (std::fs::metadata(a)?, std::fs::metadata(b)?);
    if ma.dev() == mb.dev() && ma.ino() == mb.ino() {
        return Ok(true);
    }
    if ma.len() != mb.len() {
        return Ok(false);
    }
    let (mut fa, mut fb) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba)?;
        if n == 0 {
            return Ok(true);
        }
        fb.read_exact(&mut bb[..n])?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
    }
}

/// Puts `src` at `dest` (hard link or copy through a temporary name); a different file
/// already at `dest` is a problem, not overwritten.
pub(super) fn place(
    src: &Path,
    dest: &Path,
    transfer: Transfer,
) -> Result<std::result::Result<Placed, String>> {
    if let Ok(m) = std::fs::symlink_metadata(dest) {
        if m.file_type().is_symlink() {
            return Ok(Err(format!(
                "{} is a symbolic link; remove it (DANDI needs real files)",
                dest.display()
            )));
        }
        return Ok(match same_file(src, dest) {
            Ok(true) => Ok(Placed::AlreadyPresent),
            Ok(false) => Err(format!(
                "{} already holds a different file; remove it or organise into an empty folder",
                dest.display()
            )),
            Err(e) => Err(format!("cannot compare with {}: {e}", dest.display())),
        });
    }
    if let Some(dir) = dest.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    if transfer == Transfer::HardLinkOrCopy && std::fs::hard_link(src, dest).is_ok() {
        return Ok(Ok(Placed::HardLink));
    }
    let tmp = dest.with_extension(format!("partial-{}", std::process::id()));
    let copied = std::fs::copy(src, &tmp).and_then(|_| std::fs::rename(&tmp, dest));
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(dest, e));
    }
    Ok(Ok(Placed::Copy))
}
