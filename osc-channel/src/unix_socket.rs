//! Socket files of Unix domain sockets: making room for one (a stale file replaced, a
//! live one left alone), setting its mode, removing it when its channel goes.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The socket file a channel created; removed when dropped, unless another file has
/// taken its place since.
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

/// Makes room for a socket at `path`. Nothing there: fine. A socket file nobody
/// answers at (connect fails with `ECONNREFUSED`: its process died without removing
/// it) is removed. A socket someone answers at, or any other file, is left alone and
/// the answer is an `AddrInUse` error. `stream` says which kind of socket probes (a
/// live socket of the other kind refuses with `EPROTOTYPE`: in use too). A live stream
/// server sees the probe as a connection that closes at once.
pub(crate) fn clear(path: &Path, stream: bool) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(m) if !m.file_type().is_socket() => {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        Ok(_) => {}
    }
    let probe = if stream {
        std::os::unix::net::UnixStream::connect(path).map(drop)
    } else {
        std::os::unix::net::UnixDatagram::unbound().and_then(|s| s.connect(path))
    };
    match probe {
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            log::info!("removing the stale socket file {}", path.display());
            match fs::remove_file(path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        }
        Ok(()) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("a live socket answers at {}", path.display()),
        )),
        Err(e) => Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{} is in use ({e})", path.display()),
        )),
    }
}

impl SocketFile {
    /// Takes charge of the socket file just bound at `path`: sets its mode and
    /// remembers which file it is.
    pub(crate) fn claim(path: &Path, mode: u32) -> io::Result<Self> {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
        let m = fs::symlink_metadata(path)?;
        Ok(SocketFile {
            path: path.to_owned(),
            dev: m.dev(),
            ino: m.ino(),
        })
    }

    /// The socket's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino);
        if ours {
            if let Err(e) = fs::remove_file(&self.path) {
                log::warn!("cannot remove socket file {}: {e}", self.path.display());
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("osc-unix-sock-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn stale_is_removed_live_and_plain_files_are_not() {
        let dir = temp("clear");
        let p = dir.join("s");
        clear(&p, true).unwrap(); // nothing there
        drop(std::os::unix::net::UnixListener::bind(&p).unwrap()); // leaves a stale file
        clear(&p, true).unwrap();
        assert!(!p.exists());
        let live = std::os::unix::net::UnixDatagram::bind(&p).unwrap();
        let e = clear(&p, false).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        let e = clear(&p, true).unwrap_err(); // the other kind answers too
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        drop(live);
        let f = dir.join("plain");
        fs::write(&f, b"x").unwrap();
        assert_eq!(
            clear(&f, true).unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
        assert!(f.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn claimed_file_has_its_mode_and_goes_on_drop_unless_replaced() {
        let dir = temp("claim");
        let p = dir.join("s");
        let s = std::os::unix::net::UnixDatagram::bind(&p).unwrap();
        let file = SocketFile::claim(&p, 0o600).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        drop(file);
        assert!(!p.exists());
        drop(s);
        // Replaced by someone else's file: left alone.
        let _s = std::os::unix::net::UnixDatagram::bind(&p).unwrap();
        let file = SocketFile::claim(&p, 0o660).unwrap();
        fs::remove_file(&p).unwrap();
        let _other = std::os::unix::net::UnixDatagram::bind(&p).unwrap();
        drop(file);
        assert!(p.exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
