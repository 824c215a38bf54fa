//! The engine thread: the one place that owns the `engine::Service`.
//!
//! HTTP handlers parse a request and send it here as a [`Command`] with a oneshot reply;
//! this thread runs the operations one after another, so the service needs no lock and no
//! `Send`. Callers that must wait (a long-polling GetActivityTask, a StartSyncExecution whose
//! execution is not over) are parked here, not in the handler, so a task is never handed to
//! a worker that has already given up, and they are answered as soon as the engine can.
//!
//! Time: in virtual mode the service jumps its clock to each next timer by itself. In the
//! wall-clock modes (`real`, `scaled:F`) it does not; this thread moves the clock to the
//! wall time (times F) before each command and whenever the service's next timer falls due,
//! sleeping on the channel in between.

use super::ops::{Api, Op, Outcome};
use super::protocol::{ApiError, Fields};
use super::TimeMode;
use engine::Timestamp;
use serde_json::{json, Value};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// What a handler gets back: the response body or the error.
pub type Reply = Result<Value, ApiError>;

/// A message to the engine thread.
#[derive(Debug)]
pub enum Command {
    /// Run an operation and answer on `reply`.
    Call {
        /// The operation.
        op: Op,
        /// Its request body.
        fields: Fields,
        /// Where the answer goes.
        reply: oneshot::Sender<Reply>,
    },
    /// Read or move the virtual clock from the process that runs the server (see
    /// [`super::ClockHandle`]); answers the clock's time in epoch milliseconds.
    Clock {
        /// `None` to read the time; `Some(t)` to move it to `t` (never backwards), running
        /// what falls due on the way.
        advance_to: Option<i64>,
        /// Where the answer goes (a blocking caller, not an HTTP handler).
        reply: std::sync::mpsc::SyncSender<Result<i64, ApiError>>,
    },
    /// Stop the thread; parked callers are dropped (their handlers answer InternalFailure).
    Shutdown,
}

enum Parked {
    Activity {
        activity_arn: String,
        worker_name: Option<String>,
        deadline: Instant,
        reply: oneshot::Sender<Reply>,
    },
    Sync {
        execution_arn: String,
        reply: oneshot::Sender<Reply>,
    },
}

/// The wall-clock link of the `real` and `scaled` modes.
struct WallClock {
    started: Instant,
    virtual_start: Timestamp,
    factor: f64,
}

impl WallClock {
    /// The virtual instant that corresponds to the wall clock now.
    fn virtual_now(&self) -> Timestamp {
        let elapsed = self.started.elapsed().as_secs_f64() * 1000.0 * self.factor;
        self.virtual_start
            .plus_millis(elapsed.min(i64::MAX as f64 / 2.0) as i64)
    }

    /// How long, in wall time, until the virtual instant `t`.
    fn wall_until(&self, t: Timestamp, now: Timestamp) -> Duration {
        let ms = (t.millis() - now.millis()).max(0) as f64 / self.factor;
        // Round up, so the clock has reached `t` when the thread wakes.
        Duration::from_micros((ms * 1000.0).ceil().min(3.6e12) as u64 + 1)
    }
}

/// The engine thread's loop; returns when told to shut down or when every sender is gone.
pub fn run(mut api: Api, time: TimeMode, poll_timeout: Duration, rx: Receiver<Command>) {
    let wall = match time {
        TimeMode::Virtual => None,
        TimeMode::Real => Some(1.0),
        TimeMode::Scaled(f) => Some(f),
    }
    .map(|factor| WallClock {
        started: Instant::now(),
        virtual_start: api.service.now(),
        factor,
    });
    let mut parked: Vec<Parked> = Vec::new();
    loop {
        let wait = next_wait(&api, wall.as_ref(), &parked);
        let received = match wait {
            Some(d) => rx.recv_timeout(d),
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        if let Some(w) = &wall {
            sync_clock(&mut api, w);
        }
        let mut changed = wall.is_some();
        match received {
            Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
            Ok(first) => {
                // Take what else has queued up meanwhile before looking at the parked
                // callers, so a burst costs one pass over them.
                let mut next = Some(first);
                while let Some(cmd) = next.take() {
                    match cmd {
                        Command::Shutdown => return,
                        Command::Call { op, fields, reply } => {
                            changed |= op.mutates();
                            handle(&mut api, op, &fields, reply, poll_timeout, &mut parked);
                        }
                        Command::Clock { advance_to, reply } => {
                            changed = true;
                            let _ = reply.send(clock(&mut api, advance_to));
                        }
                    }
                    next = rx.try_recv().ok();
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if changed || !parked.is_empty() {
            serve_parked(&mut api, &mut parked);
        }
    }
}

fn handle(
    api: &mut Api,
    op: Op,
    fields: &Fields,
    reply: oneshot::Sender<Reply>,
    poll_timeout: Duration,
    parked: &mut Vec<Parked>,
) {
    // A bug of stepcheck's that panics must cost that request, not the server: the caller
    // gets InternalFailure and the thread goes on with the next command.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| api.call(op, fields)))
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Outcome::Reply(Err(ApiError::new(
                "InternalFailure",
                format!("stepcheck failed on this request (a bug; please report it): {what}"),
            )))
        });
    match outcome {
        // The handler may have gone (client closed the connection); nothing to do then.
        Outcome::Reply(r) => {
            let _ = reply.send(r);
        }
        Outcome::PollActivity {
            activity_arn,
            worker_name,
        } => parked.push(Parked::Activity {
            activity_arn,
            worker_name,
            deadline: Instant::now() + poll_timeout,
            reply,
        }),
        Outcome::AwaitSync { execution_arn } => parked.push(Parked::Sync {
            execution_arn,
            reply,
        }),
    }
}

/// Reads the virtual clock, or moves it forward to `advance_to` first.
fn clock(api: &mut Api, advance_to: Option<i64>) -> Result<i64, ApiError> {
    let now = api.service.now().millis();
    if let Some(t) = advance_to {
        if t > now {
            api.service.advance((t - now) as u64)?;
        }
    }
    Ok(api.service.now().millis())
}

/// Moves the service's clock to the wall clock's virtual instant, firing what falls due.
fn sync_clock(api: &mut Api, wall: &WallClock) {
    let target = wall.virtual_now();
    let now = api.service.now();
    if target > now {
        // A task handler's error met on the way has already failed its execution; nobody
        // asked, so there is nobody to tell.
        let _ = api.service.advance((target.millis() - now.millis()) as u64);
    }
}

/// How long the thread may sleep: until the next timer (wall-clock modes) or the next
/// poll deadline, whichever comes first; `None` to sleep until a command comes.
fn next_wait(api: &Api, wall: Option<&WallClock>, parked: &[Parked]) -> Option<Duration> {
    let now = Instant::now();
    let poll = parked
        .iter()
        .filter_map(|p| match p {
            Parked::Activity { deadline, .. } => Some(deadline.saturating_duration_since(now)),
            Parked::Sync { .. } => None,
        })
        .min();
    let timer = wall.and_then(|w| {
        let now = api.service.now();
        api.service.next_timer().map(|t| {
            if t <= now {
                // Already due yet still pending after the last advance: check again soon,
                // but not in a tight loop.
                Duration::from_millis(1)
            } else {
                w.wall_until(t, now)
            }
        })
    });
    match (poll, timer) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Answers the parked callers that can be answered: activity tasks that have come, sync
/// executions that have ended, polls past their deadline (an empty response, as AWS gives
/// after its long poll), and drops those whose client has gone.
fn serve_parked(api: &mut Api, parked: &mut Vec<Parked>) {
    let now = Instant::now();
    let mut keep = Vec::with_capacity(parked.len());
    for p in parked.drain(..) {
        match p {
            Parked::Activity {
                activity_arn,
                worker_name,
                deadline,
                reply,
            } => {
                if reply.is_closed() {
                    // The worker gave up: handing it a task would lose the task.
                    continue;
                }
                if let Some(r) = api.poll_activity(&activity_arn, worker_name.as_deref()) {
                    let _ = reply.send(r);
                } else if now >= deadline {
                    let _ = reply.send(Ok(json!({})));
                } else {
                    keep.push(Parked::Activity {
                        activity_arn,
                        worker_name,
                        deadline,
                        reply,
                    });
                }
            }
            Parked::Sync {
                execution_arn,
                reply,
            } => match api.sync_result(&execution_arn) {
                Some(r) => {
                    let _ = reply.send(r);
                }
                None => keep.push(Parked::Sync {
                    execution_arn,
                    reply,
                }),
            },
        }
    }
    *parked = keep;
}
