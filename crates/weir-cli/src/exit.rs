//! The exit codes, and the one mapping from an error to its code.
//!
//! A driver (a shell script, a scheduler retrying shards) acts on these codes, so they are
//! part of the interface: `weir --help`, `weir run --help` and `weir merge --help` list them,
//! as README.md and docs/scale-out.md do. Every command picks its code here.

use weir::{Error, StopReason};

/// How the `weir` process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Success; also when standard output is closed early (`| head`): the reader's choice.
    Ok = 0,
    /// The run failed: I/O error, oversized record, unterminated quote, an input changed while
    /// it was read, ...; nothing is committed. For `weir merge`: the shard folder is damaged.
    Failed = 1,
    /// A usage or configuration error (bad flag, unknown column, output folder missing or
    /// read-only), found before any input is read; nothing is written.
    Usage = 2,
    /// `weir merge`: shards started in the wrong place and `--repair` was not given; the
    /// commands that re-run them are printed.
    NeedsRepair = 3,
    /// `weir merge`: shards have no report (never ran, or ran another plan), or are damaged;
    /// their indexes are printed.
    Missing = 4,
    /// A shard's data error (sysexits' EX_DATAERR): retrying the same shard gives the same
    /// error. Also `weir merge` when such a shard started on a proven record start.
    Data = 65,
    /// A shard's transient error (sysexits' EX_TEMPFAIL: I/O, network): retry.
    Transient = 75,
    /// `--timeout` passed; nothing is committed.
    TimedOut = 124,
    /// Interrupted by Ctrl-C (SIGINT); nothing is committed.
    Interrupted = 130,
    /// Terminated by SIGTERM; nothing is committed.
    Terminated = 143,
    /// `weir run`: more records were rejected than `--max-rejects` allows; nothing is
    /// committed. The code is 3, as `NeedsRepair`'s (another command's).
    TooManyRejects,
}

/// Which command an error ended, as the same error means another code in each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `weir run` on one machine (and `weir demo`): a stop is 124, 130 or 143; a closed
    /// standard output is a quiet success; anything else failed the run (1).
    Run,
    /// `weir run --shard`: a stop as for a run; then 65 when retrying the shard cannot help,
    /// 75 when it may, which is what its driver acts on.
    Shard,
    /// The commands that prepare, check or merge (`plan`, `explain`, `merge`): 2 or 1.
    Other,
}

impl Exit {
    /// The code `error` ends the command `scope` with; a usage error is 2 everywhere.
    pub fn of(error: &Error, scope: Scope) -> Exit {
        match (error, scope) {
            (e, _) if e.is_usage() => Exit::Usage,
            (_, Scope::Other) => Exit::Failed,
            (Error::Stopped(reason), _) => Exit::stopped(*reason),
            (Error::BrokenPipe, Scope::Run) => Exit::Ok,
            (Error::TooManyRejects(_), Scope::Run) => Exit::TooManyRejects,
            (_, Scope::Run) => Exit::Failed,
            (e, Scope::Shard) if weir::shard::is_data_error(e) => Exit::Data,
            (_, Scope::Shard) => Exit::Transient,
        }
    }

    /// The code of a run stopped for `reason` (also when a second signal exits at once).
    pub fn stopped(reason: StopReason) -> Exit {
        match reason {
            StopReason::Interrupted => Exit::Interrupted,
            StopReason::Terminated => Exit::Terminated,
            StopReason::TimedOut => Exit::TimedOut,
        }
    }

    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Exit::TooManyRejects => 3,
            other => other as u8,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_are_the_documented_numbers() {
        let codes = [
            (Exit::Ok, 0),
            (Exit::Failed, 1),
            (Exit::Usage, 2),
            (Exit::NeedsRepair, 3),
            (Exit::Missing, 4),
            (Exit::Data, 65),
            (Exit::Transient, 75),
            (Exit::TimedOut, 124),
            (Exit::Interrupted, 130),
            (Exit::Terminated, 143),
            (Exit::TooManyRejects, 3),
        ];
        for (exit, code) in codes {
            assert_eq!(exit.code(), code, "{exit:?}");
        }
    }

    #[test]
    fn an_error_means_a_code_per_command() {
        let usage = Error::Config("bad".into());
        let stopped = Error::Stopped(StopReason::TimedOut);
        let closed = Error::BrokenPipe;
        for scope in [Scope::Run, Scope::Shard, Scope::Other] {
            assert_eq!(Exit::of(&usage, scope), Exit::Usage, "{scope:?}");
        }
        assert_eq!(Exit::of(&stopped, Scope::Run), Exit::TimedOut);
        assert_eq!(Exit::of(&stopped, Scope::Shard), Exit::TimedOut);
        assert_eq!(Exit::of(&stopped, Scope::Other), Exit::Failed);
        assert_eq!(Exit::of(&closed, Scope::Run), Exit::Ok);
        assert_eq!(Exit::of(&closed, Scope::Shard), Exit::Transient);
        assert_eq!(Exit::of(&closed, Scope::Other), Exit::Failed);
    }
}
