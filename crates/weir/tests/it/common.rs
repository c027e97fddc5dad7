//! Helpers shared by the library's integration tests.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// A `Write` whose bytes a test can read after the run.
#[derive(Clone, Default)]
pub struct Shared(pub Arc<Mutex<Vec<u8>>>);

impl Shared {
    /// The bytes written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A pipeline from `input` in memory (named `name` in rejects) to memory: the builder, with
/// its output and rejects going to the returned buffers. Add steps and settings, then run.
pub fn in_memory(name: &str, input: &[u8]) -> (weir::PipelineBuilder, Buffers) {
    let buffers = Buffers::default();
    let builder = weir::PipelineBuilder::new(
        weir::Source::Reader(name.into(), Box::new(std::io::Cursor::new(input.to_vec()))),
        weir::Sink::Writer("out".into(), Box::new(buffers.output.clone())),
    )
    .rejects(weir::Sink::Writer(
        "rejects".into(),
        Box::new(buffers.rejects.clone()),
    ));
    (builder, buffers)
}

/// Where an [`in_memory`] run's output and rejects go.
#[derive(Clone, Default)]
pub struct Buffers {
    /// The output's bytes.
    pub output: Shared,
    /// The rejects' bytes.
    pub rejects: Shared,
}
