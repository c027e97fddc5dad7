//! Panics in transforms: caught per record, so a bug in one step costs a record (or stops the
//! run with a message naming the step and the record), never a hung or silently short run.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// What a run does when a transform panics on a record; see
/// [`crate::PipelineBuilder::on_panic`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OnPanic {
    /// Stop the run with [`crate::Error::TransformPanic`], naming the transform, the input and
    /// the record's line; nothing is committed. The default: a panic is a bug, and the output
    /// of a step that has just broken its own invariants should not be trusted further.
    #[default]
    Stop,
    /// Reject the record (error `transform-panic`, message `transform 'NAME' panicked: MSG`)
    /// and go on with the next one, on the same transform value: choose it only for a
    /// transform whose state stays usable after a panic (e.g. one without state).
    Reject,
}

/// The error name of a record rejected because a transform panicked on it.
pub const TRANSFORM_PANIC: &str = "transform-panic";

/// A panic caught in a step: which step, and what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepPanic {
    /// The step's position in the chain.
    pub step: usize,
    /// The panic's message, with where it was raised (`... at src/lib.rs:10:5`) when known.
    pub message: String,
}

thread_local! {
    /// Whether this thread is inside a guarded transform call, whose panics weir reports
    /// itself (so the process's panic hook need not print them).
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    /// Where the last guarded panic on this thread was raised, as the hook saw it.
    static LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs, once per process, a panic hook that stays silent for panics inside guarded
/// transform calls (noting where they were raised) and hands every other panic to the hook
/// that was installed before. Without it, a run that rejects thousands of records because a
/// transform panics on each would print the default hook's message thousands of times; with
/// it, each panic is reported exactly once, as a reject or as the run's error.
fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) {
                let at = info.location().map(|l| l.to_string());
                LOCATION.with(|l| *l.borrow_mut() = at);
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f` (a transform call), catching a panic: `Err(message)` if it panicked.
///
/// `AssertUnwindSafe`: after a panic, the record being processed is abandoned (it is rejected
/// with its raw input bytes, which the transform cannot touch, or the run stops), and the
/// transform value is either dropped with the run ([`OnPanic::Stop`]) or, by the user's
/// explicit choice of [`OnPanic::Reject`], used again; no other shared state is reachable
/// from a transform call.
pub(crate) fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_quiet_hook();
    GUARDED.with(|g| g.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(false));
    result.map_err(|payload| {
        let message = panic_message(payload.as_ref());
        match LOCATION.with(|l| l.borrow_mut().take()) {
            Some(at) => format!("{message} (at {at})"),
            None => message,
        }
    })
}

/// The text of a panic's payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_with_its_message_and_location() {
        let err = guarded(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert!(err.starts_with("boom 7 (at "), "{err}");
        assert!(err.contains("guard.rs:"), "{err}");
        assert_eq!(guarded(|| 5), Ok(5));
        // Outside a guarded call the thread is not marked: the previous hook sees panics.
        assert!(!GUARDED.with(Cell::get));
    }
}
