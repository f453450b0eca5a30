//! Shared networking options of `dump` and `send`.

use std::net::SocketAddr;

use clap::ValueEnum;
use osc_channel::{ChannelError, IpVersion, StreamFraming, resolve};

use crate::Failure;

/// Transport and framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Proto {
    /// UDP datagrams.
    Udp,
    /// TCP with the OSC 1.0 int32 length prefix.
    Tcp,
    /// TCP with OSC 1.1 SLIP framing.
    Slip,
}

impl Proto {
    pub(crate) fn framing(self) -> StreamFraming {
        match self {
            Proto::Slip => StreamFraming::Slip,
            _ => StreamFraming::LengthPrefix,
        }
    }
}

/// Resolves `host:port`, with a message a shell user can act on.
pub(crate) fn address(host: &str, port: u16, v6: bool) -> Result<SocketAddr, Failure> {
    let version = if v6 { IpVersion::V6 } else { IpVersion::Any };
    resolve(host, port, version).map_err(|e| match e {
        ChannelError::Resolve { host, reason } => {
            Failure::runtime(format!("cannot resolve host {host:?}: {reason}"))
        }
        other => Failure::runtime(explain(&other)),
    })
}

/// Turns channel errors into plain sentences.
pub(crate) fn explain(e: &ChannelError) -> String {
    match e {
        ChannelError::Io {
            op: "bind" | "listen",
            source,
            ..
        } if source.kind() == std::io::ErrorKind::AddrInUse => {
            "cannot listen: the port is already in use".to_owned()
        }
        ChannelError::Io {
            op: "bind" | "listen",
            source,
            ..
        } if source.kind() == std::io::ErrorKind::AddrNotAvailable => {
            "cannot listen: that address is not one of this machine's".to_owned()
        }
        ChannelError::Io {
            op: "bind" | "listen",
            source,
            ..
        } if source.kind() == std::io::ErrorKind::PermissionDenied => {
            "cannot listen: permission denied (ports below 1024 need root)".to_owned()
        }
        other => other.to_string(),
    }
}
