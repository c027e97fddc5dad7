//! The `s3` feature's object store: `object_store`'s S3 client, called blocking.
//!
//!
//! weir's threads are ordinary threads, so every call here is blocking: the requests run on a
//! current-thread tokio runtime that lives on one thread of its own (`weir-s3`, started on first
//! use and shared by every [`Store`] of the process), and the caller waits for their result.
//!
//! - [`Store::reader`] reads an object with ranged GETs of [`PART_SIZE`] bytes, fetching the next
//!   part while the present one is consumed (two parts at most, so about 16 MiB), every GET pinned
//!   to the object's ETag with `If-Match`: an object replaced while it is read fails the read with
//!   [`Error::InputChanged`] (through [`Error::read`]) instead of mixing two versions.
//! - [`Store::upload`] writes a local file as one object: a single PUT up to [`PART_SIZE`],
//!   a multipart upload of [`PART_SIZE`] parts above, aborted if anything fails, so the object
//!   appears whole when it succeeds and nothing appears otherwise.
//! - [`Store::put_if_absent`] creates an object only if none is there (`If-None-Match: *`).
//!
//! The endpoint, region and credentials come from the environment as the AWS tools read them:
//! `AWS_ENDPOINT_URL` (or `AWS_ENDPOINT`, for an S3-compatible server: requests are then
//! path-style), `AWS_REGION` (or `AWS_DEFAULT_REGION`; `us-east-1` if neither is set),
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, and `AWS_ALLOW_HTTP=true`
//! for a plain-HTTP test server. Without keys, the instance's or container's role is used.

use std::future::Future;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    WriteMultipart,
};
use tokio::runtime::Handle;

use super::{split_url, ObjectMeta};
use crate::error::{Error, InputChangedIo, Result, SourceName, TransientIo};

/// The size of a ranged GET of [`Store::reader`] and of a part of [`Store::upload`] (8 MiB).
pub(crate) const PART_SIZE: u64 = 8 << 20;

/// How many part uploads of [`Store::upload`] may be in flight at once.
const UPLOADS_IN_FLIGHT: usize = 2;

/// One bucket of an S3-compatible object store, configured from the environment (see the
/// module documentation). Cheap to build; every method blocks until its requests are done.
pub struct Store {
    bucket: String,
    s3: Arc<AmazonS3>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store(s3://{})", self.bucket)
    }
}

/// The runtime's handle, starting its thread on first use.
fn runtime() -> Result<&'static Handle> {
    static RUNTIME: OnceLock<std::result::Result<Handle, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the object store client's runtime: {e}"))?;
            let handle = rt.handle().clone();
            std::thread::Builder::new()
                .name("weir-s3".into())
                .spawn(move || rt.block_on(std::future::pending::<()>()))
                .map_err(|e| format!("cannot start the object store client's thread: {e}"))?;
            Ok(handle)
        })
        .as_ref()
        .map_err(|message| Error::Store {
            url: "s3://".into(),
            message: message.clone(),
            transient: false,
        })
}

/// Runs `fut` on the runtime's thread and waits for its result.
fn block<T: Send + 'static>(fut: impl Future<Output = T> + Send + 'static) -> Result<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    runtime()?.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx.recv().map_err(|_| Error::Store {
        url: "s3://".into(),
        message: "the object store client's runtime stopped".into(),
        transient: false,
    })
}

/// Whether a failed request may succeed if tried again later: a connection or transport error,
/// throttling (429, `SlowDown`) or a server error (5xx), once object_store's own retries are
/// spent.
fn transient(e: &object_store::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<object_store::client::HttpError>() {
            return true;
        }
        cause = c.source();
    }
    let text = e.to_string();
    if let Some(at) = text.find("status code: ") {
        let code = &text[at + "status code: ".len()..];
        if code.starts_with('5') || code.starts_with("429") {
            return true;
        }
    }
    [
        "SlowDown",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
    ]
    .iter()
    .any(|c| text.contains(c))
}

/// The address of the instance metadata service (EC2's), where object_store asks for the
/// instance's role when the environment holds no credentials.
const METADATA_HOST: &str = "169.254.169.254";

/// Whether the environment holds credentials of its own, as object_store picks them (see
/// `AmazonS3Builder::build`): keys, a web identity token with its role, or a container's
/// credentials endpoint. Without any, the instance's role is asked for.
fn has_credentials(env: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |k: &str| env(k).is_some();
    set("AWS_ACCESS_KEY_ID")
        || set("AWS_SECRET_ACCESS_KEY")
        || (set("AWS_WEB_IDENTITY_TOKEN_FILE") && set("AWS_ROLE_ARN"))
        || set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        || (set("AWS_CONTAINER_CREDENTIALS_FULL_URI")
            && set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"))
}

/// The usage error of a run that found no AWS credentials: where weir looked, and `why` the
/// last place, the instance's metadata service, gave none. The raw client text (a PUT to
/// 169.254.169.254) tells a user nothing of what to set.
fn no_credentials(url: &str, why: &str) -> Error {
    Error::Config(format!(
        "{url}: no AWS credentials found\n  \
         weir reads AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for \
         temporary keys), AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, \
         AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, then the instance's role from its metadata \
         service ({METADATA_HOST}), which {why}\n  \
         it does not read AWS_PROFILE or ~/.aws/credentials: export a profile's keys with \
         `eval \"$(aws configure export-credentials --profile NAME --format env)\"`"
    ))
}

/// Whether a failed request failed because asking the instance metadata service for
/// credentials failed (the only requests object_store makes to that address).
fn metadata_failed(e: &object_store::Error) -> bool {
    let text = e.to_string();
    text.contains(METADATA_HOST) && text.contains("/latest/")
}

/// A short text for an object_store error, for the message after the URL: the kinds weir's
/// users meet are said plainly, the rest as object_store says them (the request's method and
/// URL and the server's answer; never credentials, which travel only in the signature).
fn describe(e: &object_store::Error) -> String {
    match e {
        object_store::Error::NotFound { .. } => "no such object (or no such bucket)".into(),
        object_store::Error::PermissionDenied { source, .. } => {
            format!("access denied (HTTP 403): {source}")
        }
        object_store::Error::Unauthenticated { source, .. } => {
            format!("the credentials were refused (HTTP 401): {source}")
        }
        _ => e.to_string(),
    }
}

impl Store {
    /// The store of the bucket of `url` (`s3://bucket/...`), configured from the environment.
    /// Nothing is requested yet: a wrong endpoint or a missing bucket shows at the first request
    /// ([`Store::check_bucket`] asks early).
    pub fn for_url(url: &str) -> Result<Store> {
        Store::configured(url, &|k| std::env::var(k).ok(), None)
    }

    /// [`Store::for_url`] with the variables that decide the endpoint, region, keys and plain
    /// HTTP looked up in `var` (the rest of the `AWS_*` variables in the environment), and
    /// object_store's retries (10 within 3 minutes, backing off from 100 ms) unless `retry`.
    fn configured(
        url: &str,
        var: &dyn Fn(&str) -> Option<String>,
        retry: Option<object_store::RetryConfig>,
    ) -> Result<Store> {
        let (bucket, _) = split_url(url)?;
        let env = |k: &str| var(k).filter(|v| !v.is_empty());
        let metadata_disabled = env("AWS_EC2_METADATA_DISABLED")
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"));
        if metadata_disabled && !has_credentials(&env) {
            // As the AWS tools do, the metadata service is not asked: nothing is left to ask.
            return Err(no_credentials(
                url,
                "was not asked (AWS_EC2_METADATA_DISABLED is set)",
            ));
        }
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| "us-east-1".into());
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_region(region);
        let endpoint = env("AWS_ENDPOINT_URL_S3")
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .or_else(|| env("AWS_ENDPOINT"));
        if let Some(endpoint) = endpoint {
            // An S3-compatible server (MinIO, moto, Ceph) answers at its own address, with the
            // bucket in the path.
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false);
        }
        if let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
        {
            builder = builder
                .with_access_key_id(key)
                .with_secret_access_key(secret);
            if let Some(token) = env("AWS_SESSION_TOKEN") {
                builder = builder.with_token(token);
            }
        }
        if let Some(allow) = env("AWS_ALLOW_HTTP") {
            builder = builder.with_allow_http(matches!(
                allow.to_ascii_lowercase().as_str(),
                "true" | "1" | "yes"
            ));
        }
        if let Some(retry) = retry {
            builder = builder.with_retry(retry);
        }
        let s3 = builder.build().map_err(|e| Error::Store {
            url: url.to_string(),
            message: format!("cannot configure the S3 client from the environment: {e}"),
            transient: false,
        })?;
        Ok(Store {
            bucket: bucket.to_string(),
            s3: Arc::new(s3),
        })
    }

    /// The bucket.
    #[cfg(test)]
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key of `url`, which must be in this store's bucket and name an object.
    fn key(&self, url: &str) -> Result<Path> {
        let (bucket, key) = split_url(url)?;
        let fail = |message: String| Error::Store {
            url: url.to_string(),
            message,
            transient: false,
        };
        if bucket != self.bucket {
            return Err(fail(format!(
                "not in the bucket {} this client was made for",
                self.bucket
            )));
        }
        if key.is_empty() || key.ends_with('/') {
            return Err(fail(
                "the URL names no object (its key is empty or a folder)".into(),
            ));
        }
        Path::parse(key).map_err(|e| fail(format!("not a valid object key: {e}")))
    }

    /// The error of a failed request on `url`, doing `what`. One that failed for want of
    /// credentials is a usage error saying where weir looked (see [`no_credentials`]).
    fn fail(url: &str, what: &str, e: &object_store::Error) -> Error {
        if metadata_failed(e) {
            let text = e.to_string();
            // The service's answer, without the request line before it.
            let answer = text.rsplit(" - ").next().unwrap_or(&text);
            return no_credentials(url, &format!("gave none ({answer})"));
        }
        Error::Store {
            url: url.to_string(),
            message: format!("{what}: {}", describe(e)),
            transient: transient(e),
        }
    }

    /// The size and version (ETag) of the object at `url`.
    pub fn head(&self, url: &str) -> Result<ObjectMeta> {
        let key = self.key(url)?;
        let s3 = Arc::clone(&self.s3);
        let meta = block(async move { s3.head(&key).await })?
            .map_err(|e| Store::fail(url, "cannot read the object's size and version", &e))?;
        Ok(ObjectMeta {
            size: meta.size,
            version: version_of(meta),
        })
    }

    /// The size and version of the input object at `url` (one HEAD): an object that is not
    /// there is a usage error, found before anything is read, as a missing input file is.
    pub fn input_meta(&self, url: &str) -> Result<ObjectMeta> {
        match self.head_if_any(url, "cannot read the object's size and version")? {
            Some(meta) => Ok(ObjectMeta {
                size: meta.size,
                version: version_of(meta),
            }),
            None => Err(Error::Config(format!(
                "cannot open input {url}: no such object (or no such bucket)"
            ))),
        }
    }

    /// Whether there is an object at `url` (one HEAD request).
    pub fn exists(&self, url: &str) -> Result<bool> {
        Ok(self
            .head_if_any(url, "cannot tell whether the object exists")?
            .is_some())
    }

    /// The object's metadata, or `None` if there is none (one HEAD); `what` says what failed.
    fn head_if_any(&self, url: &str, what: &str) -> Result<Option<object_store::ObjectMeta>> {
        let key = self.key(url)?;
        let s3 = Arc::clone(&self.s3);
        match block(async move { s3.head(&key).await })? {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Store::fail(url, what, &e)),
        }
    }

    /// Checks that the bucket exists and can be listed (one small LIST request), so that an
    /// output to a missing bucket fails before any input is read.
    pub fn check_bucket(&self, url: &str) -> Result<()> {
        let (_, key) = split_url(url)?;
        let prefix = Path::parse(key).unwrap_or_default();
        let s3 = Arc::clone(&self.s3);
        let listed = block(async move { s3.list_with_delimiter(Some(&prefix)).await })?;
        match listed {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("NoSuchBucket") => Err(Error::Store {
                url: url.to_string(),
                message: format!("the bucket {} does not exist", self.bucket),
                transient: false,
            }),
            Err(e) => Err(Store::fail(
                url,
                &format!("cannot list the bucket {}", self.bucket),
                &e,
            )),
        }
    }

    /// A reader of the object at `url` from byte `offset` to its end: ranged GETs of
    /// [`PART_SIZE`] bytes, the next one fetched while the present one is read (about 16 MiB of
    /// memory at most), each pinned with `If-Match` to `expect_version`, or to the version the
    /// object has now. The reader never mixes two versions of the object: if it is replaced
    /// or deleted while it is read, `read` fails with an error that [`Error::read`] turns into
    /// [`Error::InputChanged`] (so does an `expect_version` the object no longer has, here).
    /// Network and server errors (after object_store's retries) are read errors that
    /// [`Error::is_transient`] sees as transient.
    ///
    /// `read` blocks: call it from an ordinary thread, not from inside an async runtime.
    pub fn reader(
        &self,
        url: &str,
        offset: u64,
        expect_version: Option<&str>,
    ) -> Result<Box<dyn Read + Send>> {
        let meta = self.head(url)?;
        let version = match expect_version {
            Some(v) if v != meta.version => {
                return Err(Error::InputChanged {
                    source_name: SourceName::new(url),
                    detail: format!("its version (ETag) went from {v} to {}", meta.version),
                })
            }
            Some(v) => v.to_string(),
            None => meta.version.clone(),
        };
        if offset > meta.size {
            return Err(Error::Store {
                url: url.to_string(),
                message: format!(
                    "cannot read from byte {offset}: the object has {} bytes",
                    meta.size
                ),
                transient: false,
            });
        }
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let fetch = Fetch {
            s3: Arc::clone(&self.s3),
            key: self.key(url)?,
            version,
            size: meta.size,
        };
        runtime()?.spawn(fetch.run(offset, tx));
        Ok(Box::new(ObjectReader {
            rx,
            part: Bytes::new(),
            pos: 0,
            left: meta.size - offset,
            failed: None,
        }))
    }

    /// The whole object at `url` (for small objects: reports, plans, markers), or `None` if
    /// there is none.
    pub fn get(&self, url: &str) -> Result<Option<Vec<u8>>> {
        let key = self.key(url)?;
        let s3 = Arc::clone(&self.s3);
        let got = block(async move {
            match s3.get(&key).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        got.map(|b| b.map(|b| b.to_vec()))
            .map_err(|e| Store::fail(url, "cannot read the object", &e))
    }

    /// Writes `bytes` as the object at `url`, replacing any (one PUT).
    pub fn put(&self, url: &str, bytes: &[u8]) -> Result<()> {
        let key = self.key(url)?;
        let s3 = Arc::clone(&self.s3);
        let payload = PutPayload::from(bytes.to_vec());
        block(async move { s3.put(&key, payload).await })?
            .map(drop)
            .map_err(|e| Store::fail(url, "cannot write the object", &e))
    }

    /// Creates the object at `url` with `bytes` only if there is none (`If-None-Match: *`, one
    /// PUT): `true` if it was created, `false` if an object was already there (then untouched).
    /// Of two concurrent callers, one gets `true`.
    pub fn put_if_absent(&self, url: &str, bytes: &[u8]) -> Result<bool> {
        let key = self.key(url)?;
        let s3 = Arc::clone(&self.s3);
        let payload = PutPayload::from(bytes.to_vec());
        let opts = PutOptions::from(PutMode::Create);
        match block(async move { s3.put_opts(&key, payload, opts).await })? {
            Ok(_) => Ok(true),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(false),
            Err(e) => Err(Store::fail(
                url,
                "cannot create the object (If-None-Match)",
                &e,
            )),
        }
    }

    /// Uploads the local file `local` as the object at `url`, replacing any: one PUT up to
    /// [`PART_SIZE`] bytes, a multipart upload of [`PART_SIZE`] parts above (two in flight at
    /// most). The object appears only once the whole file is uploaded; a failed upload is
    /// aborted and leaves nothing visible.
    pub fn upload(&self, local: &std::path::Path, url: &str) -> Result<()> {
        let key = self.key(url)?;
        let local_err = |e: io::Error| Error::Store {
            url: url.to_string(),
            message: format!("cannot read {} to upload it: {e}", local.display()),
            transient: false,
        };
        let mut file = std::fs::File::open(local).map_err(local_err)?;
        let size = file.metadata().map_err(local_err)?.len();
        if size <= PART_SIZE {
            let mut bytes = Vec::with_capacity(size as usize);
            file.read_to_end(&mut bytes).map_err(local_err)?;
            return self.put(url, &bytes);
        }
        let s3 = Arc::clone(&self.s3);
        let multipart = {
            let key = key.clone();
            block(async move { s3.put_multipart(&key).await })?
                .map_err(|e| Store::fail(url, "cannot start a multipart upload", &e))?
        };
        let mut writer = WriteMultipart::new_with_chunk_size(multipart, PART_SIZE as usize);
        let mut sent = 0u64;
        loop {
            let part = match read_part(&mut file) {
                Ok(p) if p.is_empty() => break,
                Ok(p) => p,
                Err(e) => {
                    let _ = block(writer.abort());
                    return Err(local_err(e));
                }
            };
            sent += part.len() as u64;
            // Wait for a free upload slot, then hand the part over (it uploads in the
            // background, on the runtime's thread, while the next part is read here).
            let (w, ready) = block(async move {
                let ready = writer.wait_for_capacity(UPLOADS_IN_FLIGHT).await;
                if ready.is_ok() {
                    writer.put(part);
                }
                (writer, ready)
            })?;
            writer = w;
            if let Err(e) = ready {
                let _ = block(writer.abort());
                return Err(Store::fail(url, "cannot upload a part", &e));
            }
        }
        if sent != size {
            let _ = block(writer.abort());
            return Err(local_err(io::Error::other(format!(
                "its size changed from {size} to {sent} bytes while it was uploaded"
            ))));
        }
        // `finish` aborts the upload itself when completing it fails.
        block(writer.finish())?
            .map(drop)
            .map_err(|e| Store::fail(url, "cannot complete the multipart upload", &e))
    }

    /// The objects under `prefix_url` (`s3://bucket/prefix`: the objects whose keys are in the
    /// folder `prefix/`, at any depth; `s3://bucket/` for all), as URLs with their sizes, sorted
    /// by URL.
    pub fn list(&self, prefix_url: &str) -> Result<Vec<(String, u64)>> {
        self.list_objects(prefix_url, true)
    }

    /// The objects directly in the folder `prefix_url` names, not in its sub-folders (one
    /// level, as a LIST with the `/` delimiter gives it), as [`Store::list`] gives them.
    pub fn list_level(&self, prefix_url: &str) -> Result<Vec<(String, u64)>> {
        self.list_objects(prefix_url, false)
    }

    fn list_objects(&self, prefix_url: &str, deep: bool) -> Result<Vec<(String, u64)>> {
        let (_, prefix) = split_url(prefix_url)?;
        let prefix = prefix.trim_end_matches('/');
        let prefix = (!prefix.is_empty())
            .then(|| Path::parse(prefix))
            .transpose()
            .map_err(|e| Error::Store {
                url: prefix_url.to_string(),
                message: format!("not a valid key prefix: {e}"),
                transient: false,
            })?;
        let s3 = Arc::clone(&self.s3);
        let listed = block(async move {
            let mut out = Vec::new();
            if deep {
                let mut stream = s3.list(prefix.as_ref());
                while let Some(item) = stream.next().await {
                    let meta = item?;
                    out.push((meta.location.to_string(), meta.size));
                }
            } else {
                let level = s3.list_with_delimiter(prefix.as_ref()).await?;
                out.extend(
                    level
                        .objects
                        .into_iter()
                        .map(|meta| (meta.location.to_string(), meta.size)),
                );
            }
            Ok::<_, object_store::Error>(out)
        })?;
        let mut out: Vec<(String, u64)> = listed
            .map_err(|e| Store::fail(prefix_url, "cannot list the objects", &e))?
            .into_iter()
            .map(|(key, size)| (format!("s3://{}/{key}", self.bucket), size))
            .collect();
        out.sort();
        Ok(out)
    }

    /// Copies the object at `from` to `to`, in the same bucket, on the server (one COPY;
    /// objects up to the store's single-copy limit, 5 GiB on S3).
    pub fn copy(&self, from: &str, to: &str) -> Result<()> {
        let (from_key, to_key) = (self.key(from)?, self.key(to)?);
        let s3 = Arc::clone(&self.s3);
        block(async move { s3.copy(&from_key, &to_key).await })?
            .map_err(|e| Store::fail(from, &format!("cannot copy the object to {to}"), &e))
    }

    /// The version (ETag) of the object at `url`, or `None` if there is none (one HEAD).
    pub fn version(&self, url: &str) -> Result<Option<String>> {
        Ok(self
            .head_if_any(url, "cannot read the object's version")?
            .map(version_of))
    }

    /// Deletes the object at `url` (no error if there is none).
    pub fn delete(&self, url: &str) -> Result<()> {
        let key = self.key(url)?;
        let s3 = Arc::clone(&self.s3);
        match block(async move { s3.delete(&key).await })? {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Store::fail(url, "cannot delete the object", &e)),
        }
    }
}

/// What identifies an object's version: its ETag, else the store's version id.
fn version_of(meta: object_store::ObjectMeta) -> String {
    meta.e_tag.or(meta.version).unwrap_or_default()
}

/// Reads up to [`PART_SIZE`] bytes (fewer only at the end of the file).
fn read_part(file: &mut std::fs::File) -> io::Result<Bytes> {
    let mut buf = Vec::with_capacity(PART_SIZE as usize);
    file.by_ref().take(PART_SIZE).read_to_end(&mut buf)?;
    Ok(Bytes::from(buf))
}

/// The producer of an [`ObjectReader`]: fetches the parts in order on the runtime's thread.
struct Fetch {
    s3: Arc<AmazonS3>,
    key: Path,
    version: String,
    size: u64,
}

impl Fetch {
    /// Sends the parts from `offset` to the end, then closes the channel; stops at the first
    /// error (sent) or when the reader is dropped. A slot of the one-part channel is reserved
    /// before each fetch, so at most one part waits or is fetched beyond the one being read.
    async fn run(self, offset: u64, tx: tokio::sync::mpsc::Sender<io::Result<Bytes>>) {
        let mut at = offset;
        while at < self.size {
            let Ok(slot) = tx.reserve().await else {
                return; // the reader was dropped
            };
            let end = (at + PART_SIZE).min(self.size);
            let part = self.part(at..end).await;
            let failed = part.is_err();
            slot.send(part);
            if failed {
                return;
            }
            at = end;
        }
    }

    /// Bytes `range` of the object's pinned version.
    async fn part(&self, range: Range<u64>) -> io::Result<Bytes> {
        let opts = GetOptions {
            if_match: Some(self.version.clone()),
            range: Some(GetRange::Bounded(range.clone())),
            ..GetOptions::default()
        };
        let (a, b) = (range.start, range.end);
        let changed = |what: String| io::Error::other(InputChangedIo(what));
        let got = match self.s3.get_opts(&self.key, opts).await {
            Ok(got) => got,
            Err(object_store::Error::Precondition { .. }) => {
                return Err(changed(format!(
                    "it is no longer the version (ETag) {} it had when the read began (HTTP 412 \
                     Precondition Failed on bytes {a}..{b})",
                    self.version
                )))
            }
            Err(object_store::Error::NotFound { .. }) => {
                return Err(changed(format!(
                    "it was deleted (HTTP 404 on bytes {a}..{b})"
                )))
            }
            Err(e) => return Err(io_error(&e, &format!("bytes {a}..{b}"))),
        };
        // A server that ignores If-Match still tells the version it sent.
        if let Some(tag) = got.meta.e_tag.as_deref().filter(|t| *t != self.version) {
            return Err(changed(format!(
                "its version (ETag) went from {} to {tag} (bytes {a}..{b})",
                self.version
            )));
        }
        let bytes = got
            .bytes()
            .await
            .map_err(|e| io_error(&e, &format!("bytes {a}..{b}")))?;
        if bytes.len() as u64 != b - a {
            return Err(changed(format!(
                "bytes {a}..{b} came back as {} bytes (it is shorter than it was)",
                bytes.len()
            )));
        }
        Ok(bytes)
    }
}

/// The I/O error of a failed GET: transient ones marked so ([`TransientIo`]).
fn io_error(e: &object_store::Error, what: &str) -> io::Error {
    let message = format!("cannot read {what}: {}", describe(e));
    if transient(e) {
        io::Error::other(TransientIo(message))
    } else {
        io::Error::other(message)
    }
}

/// How a read failed, kept to repeat it to later reads.
#[derive(Clone)]
enum Failed {
    Changed(String),
    Transient(String),
    Other(io::ErrorKind, String),
}

impl Failed {
    fn of(e: &io::Error) -> Failed {
        let inner = e.get_ref();
        if let Some(c) = inner.and_then(|i| i.downcast_ref::<InputChangedIo>()) {
            Failed::Changed(c.0.clone())
        } else if let Some(t) = inner.and_then(|i| i.downcast_ref::<TransientIo>()) {
            Failed::Transient(t.0.clone())
        } else {
            Failed::Other(e.kind(), e.to_string())
        }
    }

    fn error(&self) -> io::Error {
        match self {
            Failed::Changed(m) => io::Error::other(InputChangedIo(m.clone())),
            Failed::Transient(m) => io::Error::other(TransientIo(m.clone())),
            Failed::Other(kind, m) => io::Error::new(*kind, m.clone()),
        }
    }
}

/// The reader [`Store::reader`] returns.
struct ObjectReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    part: Bytes,
    pos: usize,
    /// Bytes still to come, from the part being read on.
    left: u64,
    /// The first error, repeated to later reads.
    failed: Option<Failed>,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.pos < self.part.len() {
                let n = buf.len().min(self.part.len() - self.pos);
                buf[..n].copy_from_slice(&self.part[self.pos..self.pos + n]);
                self.pos += n;
                self.left -= n as u64;
                return Ok(n);
            }
            if let Some(failed) = &self.failed {
                return Err(failed.error());
            }
            if self.left == 0 {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(part)) => {
                    self.part = part;
                    self.pos = 0;
                }
                Some(Err(e)) => {
                    self.failed = Some(Failed::of(&e));
                    self.part = Bytes::new();
                    return Err(e);
                }
                None => {
                    // The fetching task ended without an error before the end: never a silent
                    // short read.
                    let failed = Failed::Other(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the download stopped with {} bytes still to read",
                            self.left
                        ),
                    );
                    self.failed = Some(failed.clone());
                    return Err(failed.error());
                }
            }
        }
    }
}

#[cfg(test)]
mod server_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_must_name_an_object_in_the_store_bucket() {
        let store = Store::for_url("s3://bkt/x").unwrap();
        assert_eq!(store.bucket(), "bkt");
        assert_eq!(store.key("s3://bkt/a/b.csv").unwrap().as_ref(), "a/b.csv");
        let other = store.key("s3://other/a.csv").unwrap_err();
        assert!(
            other.to_string().contains("not in the bucket bkt"),
            "{other}"
        );
        for bad in ["s3://bkt/", "s3://bkt", "s3://bkt/dir/"] {
            let err = store.key(bad).unwrap_err();
            assert!(err.to_string().contains("names no object"), "{err}");
        }
        let err = store.key("s3://bkt/a//b").unwrap_err();
        assert!(err.to_string().contains("not a valid object key"), "{err}");
    }

    #[test]
    fn transient_errors_are_told_from_the_others() {
        let not_found = object_store::Error::NotFound {
            path: "k".into(),
            source: "404".into(),
        };
        assert!(!transient(&not_found));
        assert_eq!(describe(&not_found), "no such object (or no such bucket)");
        let server = object_store::Error::Generic {
            store: "S3",
            source: "Server returned non-2xx status code: 503 Service Unavailable: SlowDown".into(),
        };
        assert!(transient(&server));
        let bad_request = object_store::Error::Generic {
            store: "S3",
            source: "Server returned non-2xx status code: 400 Bad Request: <Error/>".into(),
        };
        assert!(!transient(&bad_request));

        let e = Store::fail("s3://b/k", "cannot read", &server);
        assert!(e.is_transient(), "{e}");
        assert!(e.to_string().starts_with("s3://b/k: cannot read: "), "{e}");
        // Through an io::Error (a read), the mark survives.
        let read = Error::read(SourceName::new("s3://b/k"), io_error(&server, "bytes 0..8"));
        assert!(read.is_transient(), "{read}");
        let read = Error::read(
            SourceName::new("s3://b/k"),
            io_error(&bad_request, "bytes 0..8"),
        );
        assert!(!read.is_transient(), "{read}");
    }

    /// No keys and the metadata service disabled: a usage error saying where weir looked,
    /// before any request; with keys (or a web identity) the client is made.
    #[test]
    fn without_credentials_the_error_says_where_weir_looked() {
        let vars = |keys: bool| {
            move |k: &str| match k {
                "AWS_EC2_METADATA_DISABLED" => Some("true".to_string()),
                "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" if keys => Some("k".to_string()),
                _ => None,
            }
        };
        let err = Store::configured("s3://bkt/in.csv", &vars(false), None).unwrap_err();
        assert!(err.is_usage(), "{err}");
        let text = err.to_string();
        for said in [
            "s3://bkt/in.csv: no AWS credentials found",
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            "AWS_EC2_METADATA_DISABLED is set",
            "does not read AWS_PROFILE or ~/.aws/credentials",
        ] {
            assert!(text.contains(said), "{said}: {text}");
        }
        assert!(Store::configured("s3://bkt/in.csv", &vars(true), None).is_ok());
        // A failure to get the instance's role reads the same way, with the service's answer.
        let imds = object_store::Error::Generic {
            store: "S3",
            source: "Error performing PUT http://169.254.169.254/latest/api/token in 2ms - \
                     Server returned non-2xx status code: 403 Forbidden"
                .into(),
        };
        let err = Store::fail("s3://bkt/out.csv", "cannot list", &imds);
        assert!(err.is_usage(), "{err}");
        assert!(
            err.to_string()
                .contains("which gave none (Server returned non-2xx status code: 403 Forbidden)"),
            "{err}"
        );
    }

    #[test]
    fn a_server_that_cannot_be_reached_is_a_transient_error_naming_the_url() {
        let vars = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:1".to_string()),
            "AWS_ALLOW_HTTP" => Some("true".to_string()),
            "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("testing".to_string()),
            _ => None,
        };
        let url = "s3://bkt/in.csv";
        let retry = object_store::RetryConfig {
            max_retries: 1,
            ..Default::default()
        };
        let store = Store::configured(url, &vars, Some(retry)).unwrap();
        let err = store.head(url).unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(err.to_string().starts_with("s3://bkt/in.csv: "), "{err}");
    }

    #[test]
    fn a_changed_object_is_input_changed_and_read_errors_repeat() {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let mut r = ObjectReader {
            rx,
            part: Bytes::from_static(b"abc"),
            pos: 0,
            left: 10,
            failed: None,
        };
        tx.try_send(Err(io::Error::other(InputChangedIo("it changed".into()))))
            .unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 3);
        for _ in 0..2 {
            let err = Error::read(SourceName::new("s3://b/k"), r.read(&mut buf).unwrap_err());
            assert_eq!(
                err.to_string(),
                "input s3://b/k changed while it was read: it changed"
            );
        }
        // A producer gone before the end is an error, never a short read.
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        drop(tx);
        let mut r = ObjectReader {
            rx,
            part: Bytes::new(),
            pos: 0,
            left: 5,
            failed: None,
        };
        let err = r.read(&mut buf).unwrap_err();
        assert!(err.to_string().contains("5 bytes still to read"), "{err}");
    }
}
