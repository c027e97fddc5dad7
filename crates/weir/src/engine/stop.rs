//! Stopping a run: from outside (signals, other threads), by the time limit, or by a failure.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;

use crate::error::{Error, Result, StopReason};

/// A cloneable handle that stops a running pipeline; every stage checks it between chunks, so
/// a run stops within about one chunk's processing time.
#[derive(Debug, Clone, Default)]
pub struct StopHandle(Arc<AtomicU8>);

impl StopHandle {
    /// A handle that has not been triggered.
    pub fn new() -> StopHandle {
        StopHandle::default()
    }

    /// Asks the run to stop for `reason`; the first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        let code = match reason {
            StopReason::Interrupted => 1,
            StopReason::Terminated => 2,
            StopReason::TimedOut => 3,
        };
        let _ = self
            .0
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// The reason the run was asked to stop, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        match self.0.load(Ordering::Relaxed) {
            1 => Some(StopReason::Interrupted),
            2 => Some(StopReason::Terminated),
            3 => Some(StopReason::TimedOut),
            _ => None,
        }
    }
}

/// Waits for the next message, looking at the stop state every 50 ms; `None` once the run
/// stops or the senders are gone. Every stage waits this way, so a stop is seen within 50 ms
/// even by a stage blocked on an empty queue.
pub(crate) fn recv_until_stopped<T>(
    rx: &crossbeam_channel::Receiver<T>,
    state: &StopState,
) -> Option<T> {
    use crossbeam_channel::RecvTimeoutError;
    loop {
        if state.is_stopped() {
            return None;
        }
        match rx.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok(msg) => return Some(msg),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// The run's shared stop state: the handle, the first error any stage hit, and whether the
/// committer ended the run early because nothing more can reach the output (`head`).
#[derive(Debug)]
pub(crate) struct StopState {
    handle: StopHandle,
    failed: AtomicBool,
    /// The committer has decided every record the output can take: the splitter and the
    /// workers stop, and the run commits what it has (not a failure).
    done_early: AtomicBool,
    error: Mutex<Option<Error>>,
}

impl StopState {
    pub(crate) fn new(handle: StopHandle) -> StopState {
        StopState {
            handle,
            failed: AtomicBool::new(false),
            done_early: AtomicBool::new(false),
            error: Mutex::new(None),
        }
    }

    /// Whether any stage should stop now (a failure, a stop request, or an early end).
    #[inline]
    pub(crate) fn is_stopped(&self) -> bool {
        self.is_aborted() || self.done_early.load(Ordering::Relaxed)
    }

    /// Whether the run failed or was asked to stop: it will commit nothing.
    #[inline]
    pub(crate) fn is_aborted(&self) -> bool {
        self.failed.load(Ordering::Relaxed) || self.handle.0.load(Ordering::Relaxed) != 0
    }

    /// Ends the run early: every record the output can take is decided, so the splitter and
    /// the workers stop, and what they meet from now on (data after the deciding record)
    /// cannot fail the run.
    pub(crate) fn finish_early(&self) {
        self.done_early.store(true, Ordering::SeqCst);
    }

    pub(crate) fn stop(&self, reason: StopReason) {
        self.handle.stop(reason);
    }

    /// Records a failure (the first one is kept) and stops the run; ignored once the run
    /// ended early, as whatever failed was after the last record it needed.
    pub(crate) fn fail(&self, error: Error) {
        if self.done_early.load(Ordering::SeqCst) {
            tracing::debug!(error = %error, "after the early end of the run: ignored");
            return;
        }
        let mut slot = self.error.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(error);
        }
        self.failed.store(true, Ordering::SeqCst);
    }

    /// The error that ends the run, if it did not finish: a failure, else the stop reason.
    pub(crate) fn take_error(&self) -> Option<Error> {
        let failure = self.error.lock().unwrap_or_else(|p| p.into_inner()).take();
        failure.or_else(|| self.handle.reason().map(Error::Stopped))
    }
}

/// The message of a caught panic, for the error it becomes.
pub(crate) fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs `work` on a thread of its own named `name` and waits for its result, acting on a stop
/// request or the time limit (`deadline`, which stops the run as timed out) every 50 ms: for
/// what may block without end (opening a named pipe, reading a header from a pipe that stays
/// open). A thread still blocked after a stop is left behind, so `work` must hold nothing
/// that needs cleaning up. `what` names it in the error if it dies.
pub(crate) fn run_watched<T: Send + 'static>(
    name: &str,
    what: &str,
    deadline: Option<Instant>,
    stop: &StopHandle,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(result) => return result,
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::Panic(format!("{what} stopped")))
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            stop.stop(StopReason::TimedOut);
        }
        if let Some(reason) = stop.reason() {
            return Err(Error::Stopped(reason));
        }
    }
}
