//! Spawn and supervise: the slots and queues, the splitter, worker and committer threads, the
//! supervising loop on the caller's thread, and the workers joined after a stop.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender};

use crate::checkpoint::{self, Checkpoint, Resumable};
use crate::error::{Error, Result};
use crate::report::{Progress, Report, WorkerReport};
use crate::sink::SinkWriter;
use crate::transform::Gate;

use crate::engine::batch::Slot;
use crate::engine::committer::{self, Committer, Reasons};
use crate::engine::resume::ResumeStart;
use crate::engine::stop::{panic_message, StopState};
use crate::engine::worker::{worker_loop, WorkerSpec};
use crate::sink::Output;

use super::prepare::Settings;
use super::start::Reading;

/// A run's threads once spawned, and what the supervisor and [`finish`] need of them.
pub(super) struct Threads {
    pub(super) state: Arc<StopState>,
    /// Says when the splitter is done.
    pub(super) splitter_done: Receiver<()>,
    pub(super) workers: Vec<thread::JoinHandle<WorkerReport>>,
    /// The work queue, only for its length (the observer's queued chunks).
    pub(super) work_probe: Receiver<Slot>,
    pub(super) slots: usize,
    /// Joined, gives the committer back (to commit, or to report from).
    pub(super) committer: thread::JoinHandle<Committer>,
    /// Says when the committer is done.
    pub(super) committer_done: Receiver<()>,
}

/// Makes the slots and queues and starts the splitter, the workers and the committer (given
/// a resumable run's checkpointing).
pub(super) fn spawn(
    settings: &Settings,
    spec: WorkerSpec,
    reading: Reading,
    (out, rejects_out, reasons): (Output, Option<SinkWriter>, Option<Reasons>),
    gates: (&[Gate], &[bool]),
    resume: Option<ResumeStart>,
    progress: &Arc<Progress>,
) -> Result<Threads> {
    let slots = settings.workers * 2 + 2;
    let state = Arc::new(StopState::new(settings.stop.clone()));
    let (pool_tx, pool_rx) = bounded::<Slot>(slots);
    for _ in 0..slots {
        pool_tx.send(Slot::default()).expect("pool has room");
    }
    let (work_tx, work_rx) = bounded::<Slot>(slots);
    let (commit_tx, commit_rx) = bounded::<Slot>(slots);
    let splitter_done = spawn_splitter(reading, (&pool_rx, &work_tx), &state, progress);
    drop(work_tx);
    let workers = spawn_workers(
        settings.workers,
        &spec,
        (&work_rx, &commit_tx),
        &state,
        progress,
    );
    drop(commit_tx);
    let mut committer = Committer::new(
        settings.ordered,
        out,
        rejects_out,
        pool_tx,
        progress.clone(),
        gates,
        spec.source_names.clone(),
    );
    committer.max_rejects(settings.max_rejects);
    if let Some(reasons) = reasons {
        committer.with_reasons(reasons);
    }
    if spec.chain.lists_all_errors() {
        committer.list_all_errors();
    }
    if let Some(resume) = resume {
        resume_committer(&mut committer, &resume, settings.resumable.as_ref())?;
    }
    let (committer, committer_done) = spawn_committer(committer, commit_rx, &state);
    Ok(Threads {
        state,
        splitter_done,
        workers,
        work_probe: work_rx,
        slots,
        committer,
        committer_done,
    })
}

/// How long the supervisor waits for the committer after a stop before it reports the stop
/// without it.
const COMMITTER_GRACE: Duration = Duration::from_secs(2);

/// How long a stopped run waits for its workers to finish the chunk in hand.
const WORKER_GRACE: Duration = Duration::from_millis(500);

/// The supervising loop, on the caller's thread until the committer is done: the time limit,
/// outside stop requests, the observer. After a stop, a committer stuck in a write is not
/// waited for beyond [`COMMITTER_GRACE`]: the stop is reported without it.
pub(super) fn supervise(
    threads: &Threads,
    settings: &mut Settings,
    progress: &Progress,
    bytes_total: Option<u64>,
    report: &mut Report,
) -> Result<()> {
    let started = settings.started;
    let state = &threads.state;
    let mut next_observe = settings
        .observer
        .as_ref()
        .map(|(every, _)| started + *every);
    let mut stopped_at = None;
    loop {
        match threads
            .committer_done
            .recv_timeout(Duration::from_millis(50))
        {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        if settings.deadline.is_some_and(|d| now >= d) {
            state.stop(crate::StopReason::TimedOut);
        }
        if state.is_aborted() && now - *stopped_at.get_or_insert(now) >= COMMITTER_GRACE {
            // The committer is stuck in a write (a pipe nobody reads, a hung file system): the
            // stop is reported without it. Its temporary files are removed when the write
            // returns, or by `sink::remove_temp_files` at exit; a resumable run's partial files
            // stay for `--resume`, whose last checkpoint is on disk.
            tracing::warn!("the output is still being written {COMMITTER_GRACE:?} after the stop; not waited for");
            report.records_read = progress.records_read.load(Ordering::Relaxed);
            report.records_written = progress.records_written.load(Ordering::Relaxed);
            report.records_filtered = progress.records_filtered.load(Ordering::Relaxed);
            report.records_rejected = progress.records_rejected.load(Ordering::Relaxed);
            report.bytes_read = progress.bytes_read.load(Ordering::Relaxed);
            return Err(state
                .take_error()
                .unwrap_or(Error::Stopped(crate::StopReason::Interrupted)));
        }
        if let (Some(at), Some((every, f))) = (next_observe, settings.observer.as_mut()) {
            if now >= at {
                progress
                    .queued_chunks
                    .store(threads.work_probe.len(), Ordering::Relaxed);
                let (slots, workers) = (threads.slots, settings.workers);
                f(&progress.snapshot(now - started, bytes_total, slots, workers));
                next_observe = Some(now + *every);
            }
        }
    }
    Ok(())
}

/// Joins the workers into the report. After a stop, a worker stuck in a transform that never
/// returns must not hold the run: workers hold no output (the committer, joined before, owns
/// the sinks), so one still busy after [`WORKER_GRACE`] is left behind, detached, and the stop
/// is reported at once.
pub(super) fn join_workers(
    handles: Vec<thread::JoinHandle<WorkerReport>>,
    state: &StopState,
    report: &mut Report,
) {
    let grace_end = Instant::now() + WORKER_GRACE;
    for (id, h) in handles.into_iter().enumerate() {
        if state.is_stopped() {
            while !h.is_finished() && Instant::now() < grace_end {
                thread::sleep(Duration::from_millis(5));
            }
            if !h.is_finished() {
                tracing::warn!(
                    worker = id,
                    "worker still busy {WORKER_GRACE:?} after the stop; not waited for"
                );
                report.per_worker.push(WorkerReport {
                    worker: id,
                    ..Default::default()
                });
                continue;
            }
        }
        match h.join() {
            Ok(w) => report.per_worker.push(w),
            Err(p) => {
                state.fail(Error::Panic(panic_message(p)));
                report.per_worker.push(WorkerReport {
                    worker: id,
                    ..Default::default()
                });
            }
        }
    }
}

/// Starts the splitter thread over `inputs` (the first chunk, if the prologue read it, goes
/// first); the returned channel says when it is done. A panic there (a bug) fails the run:
/// unwinding would drop the work queue's sender, which the workers and the committer take for
/// the input's end.
fn spawn_splitter(
    Reading {
        mut splitter,
        first,
        inputs,
    }: Reading,
    (pool_rx, work_tx): (&Receiver<Slot>, &Sender<Slot>),
    state: &Arc<StopState>,
    progress: &Arc<Progress>,
) -> Receiver<()> {
    let (split_done_tx, split_done_rx) = bounded::<()>(1);
    let state = state.clone();
    let progress = progress.clone();
    let pool_rx = pool_rx.clone();
    let work_tx = work_tx.clone();
    thread::Builder::new()
        .name("weir-splitter".into())
        .spawn(move || {
            let split = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                inputs.split_all(&mut splitter, first, &pool_rx, &work_tx, &state, &progress)
            }));
            match split {
                Ok(Ok(())) => {}
                Ok(Err(e)) => state.fail(e),
                Err(p) => state.fail(Error::Panic(format!(
                    "the splitter: {} (a bug in weir)",
                    panic_message(p)
                ))),
            }
            drop(work_tx);
            let _ = split_done_tx.send(());
        })
        .expect("spawn splitter");
    split_done_rx
}

/// Starts `workers` worker threads, each with its own copy of the chain.
fn spawn_workers(
    workers: usize,
    spec: &WorkerSpec,
    (work_rx, commit_tx): (&Receiver<Slot>, &Sender<Slot>),
    state: &Arc<StopState>,
    progress: &Arc<Progress>,
) -> Vec<thread::JoinHandle<WorkerReport>> {
    (0..workers)
        .map(|id| {
            let rx = work_rx.clone();
            let tx = commit_tx.clone();
            let state = state.clone();
            let progress = progress.clone();
            let spec = spec.clone();
            thread::Builder::new()
                .name(format!("weir-worker-{id}"))
                .spawn(move || worker_loop(id, spec, &rx, &tx, &state, &progress))
                .expect("spawn worker")
        })
        .collect()
}

/// Gives a resumable run's committer its checkpointing: the key log of the gates reopened (and
/// checked), and what the checkpoint counts so far.
fn resume_committer(
    c: &mut Committer,
    resume: &ResumeStart,
    resumable: Option<&Resumable>,
) -> Result<()> {
    let cp = resume.from.as_ref();
    let (log, keys) = checkpoint::GateLog::open(
        &resume.paths.gates,
        cp.map(|c| (c.gates_len, c.gates_hash.as_str())),
        &resume.paths.checkpoint,
    )?;
    let every = resumable.map_or(Duration::ZERO, |r| r.every);
    let base = Checkpoint::new(
        resume.pipeline.clone(),
        resume.inputs.clone(),
        &resume.paths,
    );
    c.checkpointed(
        committer::Checkpointer {
            paths: resume.paths.clone(),
            base,
            every,
            last: Instant::now(),
            gates: log,
        },
        cp,
        keys,
    );
    Ok(())
}

/// Starts the committer's thread; the returned channel says when it is done, and joining the
/// handle gives the committer back (to commit, or to report from).
fn spawn_committer(
    mut c: Committer,
    commit_rx: Receiver<Slot>,
    state: &Arc<StopState>,
) -> (thread::JoinHandle<Committer>, Receiver<()>) {
    let (done_tx, done_rx) = bounded::<()>(1);
    let state = state.clone();
    let handle = thread::Builder::new()
        .name("weir-committer".into())
        .spawn(move || {
            if let Err(e) = c.run(&commit_rx, &state) {
                state.fail(e);
            }
            let _ = done_tx.send(());
            c
        })
        .expect("spawn committer");
    (handle, done_rx)
}
