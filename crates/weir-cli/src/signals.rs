//! Ctrl-C and SIGTERM: the first stops the run cleanly, a second exits at once.

use weir::{StopHandle, StopReason};

use crate::exit::Exit;

/// The first SIGINT or SIGTERM stops the run gracefully (partial summary, report, exit 130 or
/// 143). A second one of either while it stops exits at once, with the first one's code, after
/// removing the temporary output files: the run may be stuck (a transform that never returns,
/// a standard output nobody reads), and the user asked twice. The removal runs on this
/// watching thread, never in the signal handler (signal-hook's handler only wakes it), as
/// unlinking and locking are not async-signal-safe.
pub fn install(stop: &StopHandle) -> std::io::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let stop = stop.clone();
    std::thread::Builder::new()
        .name("weir-signals".into())
        .spawn(move || {
            let mut first: Option<i32> = None;
            for sig in signals.forever() {
                let Some(first) = first else {
                    first = Some(sig);
                    if sig == SIGINT {
                        eprintln!("\nweir: interrupted; stopping (Ctrl-C again to exit at once)");
                        stop.stop(StopReason::Interrupted);
                    } else {
                        eprintln!("\nweir: terminated; stopping (a second signal exits at once)");
                        stop.stop(StopReason::Terminated);
                    }
                    continue;
                };
                let removed = weir::io::remove_temp_files();
                eprintln!(
                    "weir: {} again; exiting at once ({} removed, nothing committed)",
                    if sig == SIGINT {
                        "interrupted"
                    } else {
                        "terminated"
                    },
                    crate::human::plural(removed as u64, "temporary file")
                );
                let reason = if first == SIGINT {
                    StopReason::Interrupted
                } else {
                    StopReason::Terminated
                };
                std::process::exit(Exit::stopped(reason).code().into());
            }
        })?;
    Ok(())
}
