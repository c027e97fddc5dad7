//! `s3://` inputs and outputs against a real S3 server: `contrib/tests/s3.sh` starts moto and
//! runs these (`cargo test -p weir --lib store:: -- --ignored`), the endpoint in `WEIR_TEST_S3_ENDPOINT`.
use std::io::{Read, Write};
use std::sync::Once;

use super::{Store, PART_SIZE};
use crate::{Error, PipelineBuilder, Sink, Source};

const BUCKET: &str = "weir-test";

/// The server's endpoint; configures the AWS variables for it (dummy credentials) unless they
/// are set, and creates the test bucket.
fn setup() -> String {
    let endpoint = std::env::var("WEIR_TEST_S3_ENDPOINT").unwrap_or_else(|_| {
        panic!(
            "WEIR_TEST_S3_ENDPOINT is not set: these tests need an S3 server; run \
             contrib/tests/s3.sh, which starts moto and sets it"
        )
    });
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (k, v) in [
            ("AWS_ENDPOINT_URL", endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ALLOW_HTTP", "true"),
        ] {
            if std::env::var_os(k).is_none() {
                std::env::set_var(k, v);
            }
        }
        create_bucket(&endpoint, BUCKET);
    });
    endpoint
}

/// Creates a bucket with a plain unsigned `PUT /bucket` (moto accepts it); an existing one is
/// fine.
fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut conn = std::net::TcpStream::connect(&host)
        .unwrap_or_else(|e| panic!("cannot reach the S3 server at {endpoint}: {e}"));
    write!(
        conn,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    let status = answer.split(' ').nth(1).unwrap_or("");
    assert!(
        status == "200" || status == "409",
        "creating bucket {bucket}: {answer}"
    );
}

/// A URL of a fresh key for one test.
fn url(test: &str, name: &str) -> String {
    format!(
        "s3://{BUCKET}/{test}-{}-{:?}/{name}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// `n` bytes that differ from position to position (and from seed to seed).
fn data(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Reads all of `r` in reads of an awkward size (so that reads straddle the parts).
fn read_all(r: &mut dyn Read) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; (1 << 20) + 3];
    loop {
        match r.read(&mut buf)? {
            0 => return Ok(out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
#[ignore = "needs an S3 server: contrib/tests/s3.sh starts moto"]
fn head_gives_the_size_and_a_version_that_changes_with_the_content() {
    setup();
    let u = url("head", "a.csv");
    let store = Store::for_url(&u).unwrap();
    store.put(&u, &data(1000, 1)).unwrap();
    let first = store.head(&u).unwrap();
    assert_eq!(first.size, 1000);
    assert!(first.version.starts_with('"'), "an ETag: {first:?}");
    store.put(&u, &data(1000, 2)).unwrap();
    let second = store.head(&u).unwrap();
    assert_eq!(second.size, 1000);
    assert_ne!(first.version, second.version);
    assert_eq!(store.get(&u).unwrap().unwrap(), data(1000, 2));

    let missing = url("head", "missing.csv");
    assert_eq!(store.get(&missing).unwrap(), None);
    let err = store.head(&missing).unwrap_err();
    assert!(err.to_string().starts_with(&missing), "{err}");
    assert!(err.to_string().contains("no such object"), "{err}");
    assert!(!err.is_transient());
}

#[test]
#[ignore = "needs an S3 server: contrib/tests/s3.sh starts moto"]
fn the_reader_is_byte_exact_from_any_offset_across_parts() {
    setup();
    let u = url("reader", "big.bin");
    let store = Store::for_url(&u).unwrap();
    let size = 2 * PART_SIZE as usize + (4 << 20) + 12_345; // ~20 MiB: three parts
    let bytes = data(size, 3);
    store.put(&u, &bytes).unwrap();
    let part = PART_SIZE as usize;
    for offset in [
        0,
        1,
        part - 1,
        part,
        part + 1,
        2 * part + 7,
        size / 2,
        size - 1,
        size,
    ] {
        let mut r = store.reader(&u, offset as u64, None).unwrap();
        let got = read_all(&mut r).unwrap();
        assert!(
            got == bytes[offset..],
            "offset {offset}: {} bytes",
            got.len()
        );
        // At the end, reads go on returning 0.
        assert_eq!(r.read(&mut [0u8; 16]).unwrap(), 0);
    }
    // Pinned to the version it has: the same; to another: changed at once.
    let version = store.head(&u).unwrap().version;
    let mut r = store.reader(&u, part as u64, Some(&version)).unwrap();
    assert!(read_all(&mut r).unwrap() == bytes[part..]);
    let err = store.reader(&u, 0, Some("\"stale\"")).err().unwrap();
    assert!(matches!(err, Error::InputChanged { .. }), "{err}");
    // Past the end.
    let err = store.reader(&u, size as u64 + 1, None).err().unwrap();
    assert!(err.to_string().contains("the object has"), "{err}");
}

#[test]
#[ignore = "needs an S3 server: contrib/tests/s3.sh starts moto"]
fn an_object_overwritten_while_it_is_read_is_input_changed() {
    setup();
    let u = url("changed", "big.csv");
    let store = Store::for_url(&u).unwrap();
    let size = 2 * PART_SIZE as usize + (4 << 20);
    let old = data(size, 4);
    store.put(&u, &old).unwrap();
    let mut r = store.reader(&u, 0, None).unwrap();
    let mut first = vec![0u8; PART_SIZE as usize];
    r.read_exact(&mut first).unwrap();
    assert!(first == old[..PART_SIZE as usize]);
    // Overwritten (other bytes, so another ETag) after the first part was consumed.
    store.put(&u, &data(size, 5)).unwrap();
    let mut rest = Vec::new();
    let err = loop {
        let mut buf = vec![0u8; 1 << 20];
        match r.read(&mut buf) {
            Ok(0) => panic!("read to the end of an object that changed"),
            Ok(n) => rest.extend_from_slice(&buf[..n]),
            Err(e) => break e,
        }
    };
    // What came before the error is the old version's, never the new one's.
    let start = PART_SIZE as usize;
    assert!(rest == old[start..start + rest.len()]);
    let err = Error::read(crate::error::SourceName::new(&u), err);
    assert!(matches!(err, Error::InputChanged { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("input {u} changed while it was read: ")),
        "{text}"
    );
    assert!(text.contains("412"), "{text}");
    assert!(!err.is_transient());
    // And again on the next read.
    let again = Error::read(
        crate::error::SourceName::new(&u),
        r.read(&mut [0u8; 8]).unwrap_err(),
    );
    assert!(matches!(again, Error::InputChanged { .. }), "{again}");
}

#[test]
#[ignore = "needs an S3 server: contrib/tests/s3.sh starts moto"]
fn put_if_absent_creates_once() {
    setup();
    let u = url("create", "_SUCCESS");
    let store = Store::for_url(&u).unwrap();
    assert!(!store.exists(&u).unwrap());
    assert!(store.put_if_absent(&u, b"first").unwrap());
    assert!(store.exists(&u).unwrap());
    assert!(!store.put_if_absent(&u, b"second").unwrap());
    assert_eq!(store.get(&u).unwrap().unwrap(), b"first");
    store.delete(&u).unwrap();
    assert_eq!(store.get(&u).unwrap(), None);
    assert!(!store.exists(&u).unwrap());
    store.delete(&u).unwrap(); // deleting what is gone is fine
    assert!(store.put_if_absent(&u, b"third").unwrap());
}

#[test]
#[ignore = "needs an S3 server: contrib/tests/s3.sh starts moto"]
fn uploads_round_trip_multipart_above_a_part() {
    setup();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::for_url(&url("upload", "x")).unwrap();
    for (name, size) in [
        ("small.csv", 1000),
        ("part.csv", PART_SIZE as usize),
        ("big.csv", 2 * PART_SIZE as usize + (4 << 20) + 1),
        ("empty.csv", 0),
    ] {
        let local = dir.path().join(name);
        let bytes = data(size, size as u64);
        std::fs::write(&local, &bytes).unwrap();
        let u = url("upload", name);
        store.upload(&local, &u).unwrap();
        let meta = store.head(&u).unwrap();
        assert_eq!(meta.size, size as u64, "{name}");
        if size > PART_SIZE as usize {
            // A multipart object's ETag ends with its part count.
            assert!(meta.version.ends_with("-3\""), "{name}: {meta:?}");
        }
        assert!(store.get(&u).unwrap().unwrap() == bytes, "{name}");
    }
    // A file that cannot be read uploads nothing.
    let u = url("upload", "missing.csv");
    let err = store.upload(&dir.path().join("missing"), &u).unwrap_err();
    assert!(err.to_string().contains("to upload it"), "{err}");
    assert_eq!(store.get(&u).unwrap(), None);
}

#[test]
#[ignore = "needs an S3 server: contrib/tests/s3.sh starts moto"]
fn list_gives_the_objects_under_a_prefix_with_their_sizes() {
    setup();
    let base = url("list", "");
    let store = Store::for_url(&base).unwrap();
    for (name, size) in [("b.csv", 2), ("a.csv", 1), ("sub/c.csv", 3)] {
        store.put(&format!("{base}{name}"), &data(size, 1)).unwrap();
    }
    store
        .put(&format!("{}-other/x", base.trim_end_matches('/')), b"x")
        .unwrap();
    let listed = store.list(&base).unwrap();
    let want: Vec<(String, u64)> = [("a.csv", 1), ("b.csv", 2), ("sub/c.csv", 3)]
        .iter()
        .map(|(n, s)| (format!("{base}{n}"), *s))
        .collect();
    assert_eq!(listed, want);
    // Without the trailing slash: the same folder.
    assert_eq!(store.list(base.trim_end_matches('/')).unwrap(), want);
    // One level: not what is in `sub/`.
    assert_eq!(store.list_level(&base).unwrap(), want[..2]);
    assert_eq!(store.list_level(&format!("{base}sub")).unwrap(), want[2..]);
    store.delete(&format!("{base}b.csv")).unwrap();
    assert_eq!(store.list(&base).unwrap().len(), 2);
}

#[test]
#[ignore = "needs an S3 server: contrib/tests/s3.sh starts moto"]
fn a_missing_bucket_is_a_destination_error_before_anything_runs() {
    setup();
    let store = Store::for_url("s3://weir-no-such-bucket/out.csv").unwrap();
    let err = store
        .check_bucket("s3://weir-no-such-bucket/out.csv")
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = Sink::from_arg("s3://weir-no-such-bucket/out.csv")
        .check_destination()
        .unwrap_err();
    assert!(err.is_usage(), "{err}");
    assert_eq!(
        err.to_string(),
        "cannot write s3://weir-no-such-bucket/out.csv: the bucket weir-no-such-bucket does not \
         exist"
    );
    Sink::from_arg(&url("bucket", "out.csv"))
        .check_destination()
        .unwrap();
}

#[test]
#[ignore = "needs an S3 server: contrib/tests/s3.sh starts moto"]
fn a_pipeline_reads_and_writes_objects() {
    setup();
    let input = url("pipeline", "in.csv.gz");
    let output = url("pipeline", "out.csv.zst");
    let store = Store::for_url(&input).unwrap();
    let csv: String = std::iter::once("id,name\n".to_string())
        .chain((0..100_000).map(|i| format!("{i},n{}\n", i % 7)))
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(csv.as_bytes()).unwrap();
    store.put(&input, &gz.finish().unwrap()).unwrap();

    let report = PipelineBuilder::new(Source::from_arg(&input), Sink::from_arg(&output))
        .workers(2)
        .build()
        .run()
        .map_err(|f| f.error)
        .unwrap();
    assert_eq!(report.records_written, 100_000);
    let stored = store.get(&output).unwrap().unwrap();
    assert_eq!(zstd::decode_all(&stored[..]).unwrap(), csv.as_bytes());

    // A run that fails uploads nothing.
    let failed = url("pipeline", "failed.csv");
    let missing = url("pipeline", "missing.csv");
    let err = PipelineBuilder::new(Source::from_arg(&missing), Sink::from_arg(&failed))
        .build()
        .run()
        .unwrap_err()
        .error;
    assert!(err.to_string().contains(&missing), "{err}");
    assert!(
        err.is_usage(),
        "a missing input object is a usage error: {err}"
    );
    assert_eq!(store.get(&failed).unwrap(), None);
}
