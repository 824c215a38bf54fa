//! The HTTP side: hyper over tokio, awsJson1_0 requests in, responses out.
//!
//! Each request is parsed on the runtime's worker threads (the body's JSON, the operation
//! from `X-Amz-Target`), sent to the engine thread, and its answer serialised there too, so
//! the engine thread does only the engine's work. Nothing here holds a lock across I/O.

use super::actor::{Command, Reply};
use super::ops::Op;
use super::protocol::{ApiError, Fields};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use tokio::sync::oneshot;

/// The largest request body accepted. Step Functions' payloads are at most 256 KiB and a
/// definition at most 1 MiB; a little more leaves room for the JSON around them.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// What every connection shares.
#[derive(Debug)]
pub struct Shared {
    /// The engine thread's inbox.
    pub engine: Sender<Command>,
    /// Counter for request ids.
    pub requests: AtomicU64,
}

/// Answers one HTTP request.
pub async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let n = shared.requests.fetch_add(1, Ordering::Relaxed);
    let request_id = format!("00000000-0000-4000-8000-{:012x}", n & 0xffff_ffff_ffff);
    let reply = answer(&shared, req).await;
    Ok(respond(reply, &request_id))
}

async fn answer(shared: &Shared, req: Request<Incoming>) -> Reply {
    let target = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // The operation is known before the body is read, so an unknown one is refused
    // whatever its body.
    let op = Op::from_target(&target)?;
    let body = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| ApiError::serialization(format!("cannot read the request body: {e}")))?
        .to_bytes();
    let fields = Fields::parse(&body)?;
    let (tx, rx) = oneshot::channel();
    shared
        .engine
        .send(Command::Call {
            op,
            fields,
            reply: tx,
        })
        .map_err(|_| ApiError::new("InternalFailure", "the engine thread has stopped"))?;
    rx.await
        .map_err(|_| ApiError::new("InternalFailure", "the engine thread has stopped"))?
}

fn respond(reply: Reply, request_id: &str) -> Response<Full<Bytes>> {
    let (status, body) = match reply {
        Ok(v) => (200, v),
        Err(e) => (e.status(), e.body()),
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", request_id);
    if status != 200 {
        // AWS names the error in a header too; some SDKs look there first.
        if let Some(code) = body
            .get("__type")
            .and_then(|t| t.as_str())
            .and_then(|t| t.rsplit('#').next())
        {
            builder = builder.header("x-amzn-errortype", code);
        }
    }
    builder
        .body(Full::new(Bytes::from(bytes)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"{}"))))
}
