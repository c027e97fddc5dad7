//! A reader that adds the time spent in its reads to a counter, so the report can split the
//! splitter's time into reading (and decompressing) and scanning for record boundaries.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::report::Progress;

/// Wraps a source's reader; two clock reads per `read` call, which reads tens of KiB or more.
pub(crate) struct TimedRead {
    inner: Box<dyn Read + Send>,
    nanos: Arc<AtomicU64>,
}

impl TimedRead {
    /// `inner`, timed into `progress.read_nanos`.
    pub(crate) fn boxed(inner: Box<dyn Read + Send>, progress: &Progress) -> Box<dyn Read + Send> {
        Box::new(TimedRead {
            inner,
            nanos: progress.read_nanos.clone(),
        })
    }
}

impl Read for TimedRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let t = Instant::now();
        let n = self.inner.read(buf);
        let spent = u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(spent, Ordering::Relaxed);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pass_through_and_are_timed() {
        let progress = Progress::default();
        let mut r = TimedRead::boxed(Box::new(&b"abc"[..]), &progress);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "abc");
        assert!(progress.read_nanos.load(Ordering::Relaxed) > 0);
    }
}
