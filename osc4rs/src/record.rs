//! Recordings of OSC traffic: a versioned, line-oriented text format that keeps every
//! packet byte for byte with its arrival time, sender and channel, readable by people
//! (each line ends with the packet in the text notation) and by `osc4rs decode`.
//!
//! ```text
//! # osc4rs recording 1
//! 0.000000000 127.0.0.1:50123 in 2f6100002c690000000000 01  # /a ,i 1
//! 0.012500000 - in 2362756e646c65...                        # #bundle(...) { ... }
//! ```
//! A line is `SECONDS PEER CHANNEL HEX`, then optionally `# NOTE`: seconds since the
//! recording started (9 decimals), the sender (`-` when unknown), the channel name
//! (no spaces), the packet in hex (spaces inside the hex are not allowed). Lines
//! starting with `#` are comments; the first must be the header with the version.
//! A comment `# started NTP` (the wall-clock time the recording started, as a
//! 64-bit NTP timetag in hex) may follow the header: with it, a replay can move
//! bundle timetags to the time of the replay ([`shift_timetags`]).
//!
//! ```
//! use osc4rs::record::{read_recording, write_header, write_record, Record};
//! use std::time::Duration;
//!
//! let mut file = Vec::new();
//! write_header(&mut file)?;
//! let packet = osc4rs::Packet::from(osc4rs::Message::new("/a").arg(1)).to_bytes()?;
//! let rec = Record { at: Duration::from_millis(12), peer: None, channel: "in".into(), data: packet };
//! write_record(&mut file, &rec)?;
//! let back: Vec<Record> = read_recording(&file[..]).collect::<Result<_, _>>()?;
//! assert_eq!(back, [rec]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use osc_codec::{BUNDLE_TAG, Packet, PacketRef, TimeTag, decode, from_hex};

use crate::{ChannelHooks, Decoded, Osc, Result, Target};

/// The first line of every recording; the number is the format's version.
pub const HEADER: &str = "# osc4rs recording 1";

/// One recorded packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// When it arrived, from the start of the recording.
    pub at: Duration,
    /// Who sent it, when known.
    pub peer: Option<SocketAddr>,
    /// The channel it came in on.
    pub channel: String,
    /// The packet's bytes, exactly as received.
    pub data: Vec<u8>,
}

/// A line of a recording that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recording line {line}: {reason}")]
pub struct RecordError {
    /// The line number (1-based).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Writes the header line.
///
/// # Errors
/// What the writer returns.
pub fn write_header(out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")
}

/// The start of the comment line that gives the wall-clock time a recording started.
pub const STARTED: &str = "# started ";

/// Writes the `# started` line: `at` as an NTP timetag in hex, then, for people, the
/// same time in Unix seconds.
///
/// # Errors
/// What the writer returns.
pub fn write_started(out: &mut impl Write, at: TimeTag) -> std::io::Result<()> {
    writeln!(
        out,
        "{STARTED}{:016x}  (unix {:.6})",
        at.to_bits(),
        at.to_unix_secs_f64()
    )
}

/// The time a recording started, from its `# started` line (`None` when the
/// comments before the first record have none).
///
/// ```
/// use osc4rs::record::{read_started, write_header, write_started};
/// use osc4rs::TimeTag;
/// let mut file = Vec::new();
/// write_header(&mut file)?;
/// write_started(&mut file, TimeTag::new(3_900_000_000, 1 << 31))?;
/// assert_eq!(read_started(&file[..]), Some(TimeTag::new(3_900_000_000, 1 << 31)));
/// assert_eq!(read_started(&b"# osc4rs recording 1\n0.1 - in 2f6100002c000000\n"[..]), None);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn read_started(input: impl BufRead) -> Option<TimeTag> {
    for line in input.lines().map_while(std::result::Result::ok) {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix(STARTED) {
            let hex = rest.split_whitespace().next()?;
            return u64::from_str_radix(hex, 16).ok().map(TimeTag::from_bits);
        }
        if !line.is_empty() && !line.starts_with('#') {
            return None;
        }
    }
    None
}

/// Moves every bundle timetag in `packet` (nested bundles too) by the time from
/// `from` to `to`, in place; "immediately" stays as it is. Returns how many were
/// moved. Bytes that do not hold a well-formed bundle are left as they are.
///
/// A replay calls it with `from` = when the packet was recorded (the recording's
/// start plus [`Record::at`]) and `to` = now, so that each bundle keeps the lead it
/// had over its arrival: a bundle recorded 50 ms ahead of its time is again 50 ms
/// ahead when replayed, at any speed.
///
/// ```
/// use osc4rs::record::shift_timetags;
/// use osc4rs::{Bundle, Message, Packet, TimeTag};
/// let t = TimeTag::new(3_900_000_000, 0);
/// let inner = Bundle::new(TimeTag::IMMEDIATELY).add(Message::new("/b"));
/// let mut bytes = Packet::from(Bundle::new(t).add(Message::new("/a")).add(inner)).to_bytes()?;
/// let moved = shift_timetags(&mut bytes, t, TimeTag::new(3_900_000_010, 0));
/// assert_eq!(moved, 1); // the inner bundle is immediate
/// let Packet::Bundle(b) = Packet::decode(&bytes)? else { unreachable!() };
/// assert_eq!(b.timetag, TimeTag::new(3_900_000_010, 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn shift_timetags(packet: &mut [u8], from: TimeTag, to: TimeTag) -> usize {
    shift_within(packet, to.to_bits().wrapping_sub(from.to_bits()), 0)
}

fn shift_within(packet: &mut [u8], delta: u64, depth: usize) -> usize {
    if depth > osc_codec::DEPTH_CAP || !packet.starts_with(BUNDLE_TAG.as_slice()) {
        return 0;
    }
    let Some(tag) = packet.get_mut(8..16) else {
        return 0;
    };
    let mut moved = 0;
    let bits = u64::from_be_bytes(tag.try_into().unwrap_or([0; 8]));
    if bits != TimeTag::IMMEDIATELY.to_bits() {
        tag.copy_from_slice(&bits.wrapping_add(delta).to_be_bytes());
        moved += 1;
    }
    let mut rest = packet.get_mut(16..).unwrap_or_default();
    while let Some((size, after)) = rest.split_first_chunk_mut::<4>() {
        let Ok(size) = usize::try_from(i32::from_be_bytes(*size)) else {
            break;
        };
        if size > after.len() {
            break;
        }
        let (element, next) = after.split_at_mut(size);
        moved += shift_within(element, delta, depth + 1);
        rest = next;
    }
    moved
}

/// Writes one record as a line, with the packet in the text notation as a comment (or
/// the decoding error, for a malformed packet, which is recorded all the same).
///
/// # Errors
/// What the writer returns.
pub fn write_record(out: &mut impl Write, r: &Record) -> std::io::Result<()> {
    let peer = r.peer.map_or_else(|| "-".to_owned(), |p| p.to_string());
    let hex: String = r.data.iter().map(|b| format!("{b:02x}")).collect();
    let channel = if r.channel.is_empty() || r.channel.contains(char::is_whitespace) {
        r.channel.replace(char::is_whitespace, "_") + "_"
    } else {
        r.channel.clone()
    };
    let note = match decode(&r.data) {
        Ok(p) => one_line(&p),
        Err(e) => format!("!error {e}"),
    };
    writeln!(
        out,
        "{}.{:09} {peer} {channel} {hex}  # {note}",
        r.at.as_secs(),
        r.at.subsec_nanos()
    )
}

fn one_line(p: &PacketRef<'_>) -> String {
    p.to_string().replace('\n', " ")
}

/// Reads a recording: one item per record, in order; a bad line is an error item
/// with its line number, and reading goes on after it (so a caller can skip the bad
/// lines of a damaged file, or stop at the first).
pub fn read_recording(input: impl BufRead) -> impl Iterator<Item = Result<Record, RecordError>> {
    let mut header_seen = false;
    input.lines().enumerate().filter_map(move |(i, line)| {
        let line_no = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => return Some(Err(error(line_no, format!("cannot read: {e}")))),
        };
        let trimmed = line.trim();
        if !header_seen {
            if trimmed.is_empty() {
                return None;
            }
            header_seen = true;
            return match trimmed {
                HEADER => None,
                t if t.starts_with("# osc4rs recording ") => Some(Err(error(
                    line_no,
                    format!("unsupported version ({t:?}; this build reads {HEADER:?})"),
                ))),
                _ => Some(Err(error(
                    line_no,
                    format!("not an osc4rs recording (the first line must be {HEADER:?})"),
                ))),
            };
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            return None;
        }
        Some(parse_line(line_no, trimmed))
    })
}

fn error(line: usize, reason: String) -> RecordError {
    RecordError { line, reason }
}

fn parse_line(line: usize, text: &str) -> Result<Record, RecordError> {
    let body = text.split_once(" #").map_or(text, |(b, _)| b);
    let mut fields = body.split_whitespace();
    let (Some(at), Some(peer), Some(channel), Some(hex), None) = (
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
        fields.next(),
    ) else {
        return Err(error(
            line,
            "expected SECONDS PEER CHANNEL HEX [# NOTE]".into(),
        ));
    };
    let at = at
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| error(line, format!("bad time {at:?}")))?;
    let peer = match peer {
        "-" => None,
        p => Some(
            p.parse()
                .map_err(|_| error(line, format!("bad peer address {p:?}")))?,
        ),
    };
    let data = from_hex(hex).map_err(|e| error(line, format!("bad packet: {e}")))?;
    Ok(Record {
        at,
        peer,
        channel: channel.to_owned(),
        data,
    })
}

/// Records a runtime's traffic from code: the decode hooks it makes write every packet
/// a channel receives (exactly as received, before decoding) with its time.
///
/// ```
/// use osc4rs::record::{read_recording, Recorder};
/// use osc4rs::{Message, Osc};
/// use std::sync::{Arc, Mutex};
///
/// let file = Arc::new(Mutex::new(Vec::new()));
/// let recorder = Recorder::new(SharedBuf(file.clone()))?;
/// let osc = Osc::builder().start()?;
/// osc.udp_server("in", "127.0.0.1:0")?;
/// osc.set_hooks("in", Some(recorder.hooks("in")));
/// osc.udp_client("out", osc.local_addr("in").unwrap())?;
/// osc.send(Message::new("/take/1").arg(1), "out")?;
/// osc.process_timeout(std::time::Duration::from_secs(1))?;
/// let text = file.lock().unwrap().clone();
/// let records: Vec<_> = read_recording(&text[..]).collect::<Result<_, _>>()?;
/// assert_eq!(records.len(), 1);
/// assert_eq!(records[0].channel, "in");
///
/// # #[derive(Clone)] struct SharedBuf(Arc<Mutex<Vec<u8>>>);
/// # impl std::io::Write for SharedBuf {
/// #     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.lock().unwrap().extend_from_slice(b); Ok(b.len()) }
/// #     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Recorder {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    started: Instant,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("started", &self.started)
            .finish()
    }
}

impl Recorder {
    /// A recording into `out`, starting now (the header is written at once).
    ///
    /// # Errors
    /// What the writer returns.
    pub fn new(out: impl Write + Send + 'static) -> std::io::Result<Self> {
        let mut out: Box<dyn Write + Send> = Box::new(out);
        write_header(&mut out)?;
        write_started(&mut out, TimeTag::now())?;
        Ok(Recorder {
            out: Arc::new(Mutex::new(out)),
            started: Instant::now(),
        })
    }

    /// Records one packet received on `channel` (a write error is logged; the
    /// traffic goes on).
    pub fn record(&self, channel: &str, peer: Option<SocketAddr>, data: &[u8]) {
        let r = Record {
            at: self.started.elapsed(),
            peer,
            channel: channel.to_owned(),
            data: data.to_vec(),
        };
        let mut out = self
            .out
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = write_record(&mut *out, &r).and_then(|()| out.flush()) {
            log::warn!("recording: cannot write: {e}");
        }
    }

    /// Hooks for [`Osc::set_hooks`] that record what `channel` receives (the sender
    /// is not known to a decode hook: recorded as `-`).
    pub fn hooks(&self, channel: &str) -> ChannelHooks {
        let (me, name) = (self.clone(), channel.to_owned());
        ChannelHooks {
            encode: None,
            decode: Some(Arc::new(move |bytes: &[u8]| {
                me.record(&name, None, bytes);
                Decoded::default()
            })),
        }
    }
}

/// Replays records into a runtime with their original timing (divided by `speed`):
/// each packet is sent to `target` as it was received; to `_local` it is dispatched
/// to the runtime's own methods, which is how a test of an application replays a
/// captured session. Malformed packets are skipped. Returns how many were sent.
///
/// # Errors
/// The first send that fails (an unknown target, a terminated runtime).
///
/// ```
/// use osc4rs::record::{replay_into, Record};
/// use osc4rs::{Message, Osc, Packet};
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
/// use std::time::Duration;
///
/// let osc = Osc::builder().start()?;
/// let seen = Arc::new(AtomicUsize::new(0));
/// let s = seen.clone();
/// osc.method("/take/*", move |_m: &Message| { s.fetch_add(1, Ordering::SeqCst); })?;
/// let records: Vec<Record> = (0..3)
///     .map(|i| Record {
///         at: Duration::from_millis(5 * i),
///         peer: None,
///         channel: "in".into(),
///         data: Packet::from(Message::new(format!("/take/{i}"))).to_bytes().unwrap(),
///     })
///     .collect();
/// assert_eq!(replay_into(&osc, &records, "_local", 1.0)?, 3);
/// osc.process()?;
/// assert_eq!(seen.load(Ordering::SeqCst), 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn replay_into(
    osc: &Osc,
    records: &[Record],
    target: impl Into<Target>,
    speed: f64,
) -> Result<usize> {
    let target = target.into();
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    let first = records.first().map_or(Duration::ZERO, |r| r.at);
    let start = Instant::now();
    let mut sent = 0;
    for r in records {
        let gap = r.at.saturating_sub(first).as_secs_f64() / speed;
        let due = start + Duration::from_secs_f64(gap.min(1e9));
        while let Some(left) = due.checked_duration_since(Instant::now()) {
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(5)));
        }
        let Ok(packet) = Packet::decode(&r.data) else {
            log::debug!("replay: a malformed packet skipped");
            continue;
        };
        osc.send_unchecked(packet, &target)?;
        sent += 1;
    }
    Ok(sent)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_errors_with_their_number_and_reading_goes_on() {
        let text = format!(
            "{HEADER}\n\
             0.5 - in 2f6100002c000000\n\
             x - in 2f6100002c000000\n\
             1.0 nowhere in 2f6100002c000000\n\
             1.0 - in 2f61zz\n\
             1.0 - in\n\
             # a comment\n\
             2.0 127.0.0.1:9 in 2f6200002c000000  # /b ,\n"
        );
        let items: Vec<_> = read_recording(text.as_bytes()).collect();
        assert_eq!(items.len(), 6);
        assert!(items[0].is_ok());
        for (item, line) in items[1..5].iter().zip([3, 4, 5, 6]) {
            assert_eq!(item.as_ref().unwrap_err().line, line, "{item:?}");
        }
        let last = items[5].as_ref().unwrap();
        assert_eq!(last.at, Duration::from_secs(2));
        assert_eq!(last.peer, Some("127.0.0.1:9".parse().unwrap()));
    }

    #[test]
    fn timetags_move_at_every_depth_and_damaged_bundles_are_left_alone() {
        use crate::{Bundle, Message};
        let t = TimeTag::new(3_900_000_000, 7);
        let to = TimeTag::new(3_900_000_100, 7);
        let deep = Bundle::new(t).add(Message::new("/c"));
        let mid = Bundle::new(t).add(deep).add(Bundle::immediate());
        let top = Packet::from(Bundle::new(t).add(Message::new("/a")).add(mid));
        let mut bytes = top.to_bytes().unwrap();
        assert_eq!(shift_timetags(&mut bytes, t, to), 3);
        let back = Packet::decode(&bytes).unwrap().to_string();
        assert_eq!(
            back,
            top.to_string().replace(&t.to_string(), &to.to_string())
        );
        // Messages, a truncated bundle, an absurd element size: nothing panics, the
        // damaged part stays as it was.
        let mut message = Packet::from(Message::new("/m")).to_bytes().unwrap();
        let before = message.clone();
        assert_eq!(shift_timetags(&mut message, t, to), 0);
        assert_eq!(message, before);
        let mut cut = top.to_bytes().unwrap();
        cut.truncate(30);
        assert_eq!(shift_timetags(&mut cut, t, to), 1);
        let mut absurd = top.to_bytes().unwrap();
        absurd[16..20].copy_from_slice(&i32::MAX.to_be_bytes());
        assert_eq!(shift_timetags(&mut absurd, t, to), 1);
        let mut short = b"#bundle\0\0\0".to_vec();
        assert_eq!(shift_timetags(&mut short, t, to), 0);
    }

    #[test]
    fn the_header_is_checked() {
        let wrong = read_recording("hello\n".as_bytes()).next().unwrap();
        assert!(
            wrong
                .unwrap_err()
                .reason
                .contains("not an osc4rs recording")
        );
        let newer = read_recording("# osc4rs recording 9\n".as_bytes())
            .next()
            .unwrap();
        assert!(newer.unwrap_err().reason.contains("unsupported version"));
    }

    #[test]
    fn malformed_packets_are_recorded_too() {
        let mut out = Vec::new();
        write_header(&mut out).unwrap();
        let r = Record {
            at: Duration::new(3, 5),
            peer: None,
            channel: "in".into(),
            data: b"junk".to_vec(),
        };
        write_record(&mut out, &r).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(
            text.contains("3.000000005 - in 6a756e6b  # !error"),
            "{text}"
        );
        let back: Vec<Record> = read_recording(&out[..]).map(Result::unwrap).collect();
        assert_eq!(back, [r]);
    }
}
