//! Attacks an OSC server on loopback the way a hostile peer on the LAN would, and
//! reports whether it survived, its peak memory, and how long a fresh, well-behaved
//! client waited to be served. Run by `scripts/floods.sh` (see `docs/robustness.md`);
//! every connection goes to 127.0.0.1 or ::1, every loop is bounded in count and time.
//!
//! ```text
//! osc_flood ATTACK PORT -- TARGET COMMAND...   # starts the target, attacks it, prints a row
//!                                              # exit 1 if the target died, its RSS went over
//!                                              # budget + 32 MiB or a fresh client waited > 0.5 s
//! osc_flood serve MODE PORT                    # a facade server (MODE: eventloop, comthreads, allthreads)
//! ```
//! The target prints one line per message it receives (`osc4rs dump --proto tcp --auto`
//! does); the fresh client's messages are `/fresh`, `/after`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod attacks;
mod serve;
mod target;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: osc_flood ATTACK PORT -- COMMAND... | osc_flood serve MODE PORT";
    match args.first().map(String::as_str) {
        Some("serve") => {
            let mode = args.get(1).expect(usage);
            let port: u16 = args.get(2).and_then(|p| p.parse().ok()).expect(usage);
            serve::run(mode, port);
        }
        Some(attack) => {
            let port: u16 = args.get(1).and_then(|p| p.parse().ok()).expect(usage);
            let sep = args.iter().position(|a| a == "--").expect(usage);
            let command = &args[sep + 1..];
            let outcome = attacks::run(attack, port, command);
            println!("{}", outcome.row);
            if !outcome.failures.is_empty() {
                eprintln!(
                    "FAIL {attack} ({}): {}",
                    command.join(" "),
                    outcome.failures.join("; ")
                );
                std::process::exit(1);
            }
        }
        None => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
