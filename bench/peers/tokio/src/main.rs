//! tokio-peer - tokio's multi-thread runtime on the workloads hyphae's
//! bench/bench_rt.c runs, so that bench/compare can set one against the other.
//!
//! The runtime workloads are those of tokio's own benches/rt_multi_threaded.rs
//! (spawn_many_local, spawn_many_remote_idle, spawn_many_remote_busy1/2,
//! yield_many, ping_pong, chained_spawn) with its counts, plus a timer
//! workload (10,000 sleeps of 1 ms).  Then come five tokio::sync workloads:
//! an async mutex handed from task to task, a semaphore of 8 permits, a
//! read-mostly rwlock, and bounded mpsc channels with one and with 16
//! producers.  The comment above each workload gives its shape; a runtime
//! compared with this one must do the same work per iteration.
//!
//! The harness is plain timing, without criterion.  Each workload runs 3
//! warm-up iterations, then a fixed number of timed ones, and prints the
//! mean time of one iteration as `NAME  NS ns/iter`.  The main thread plays
//! the part of tokio's benches: it spawns from outside the runtime, or
//! inside `block_on`, and waits on std channels.
//!
//! Environment: WORKERS, the runtime's worker threads (default 2).  BUSY2
//! also runs spawn_many_remote_busy2, which does not finish on tokio: its
//! busy tasks respawn themselves forever and starve the injected ones.
//! ONLY=substring runs only the workloads whose name contains it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::{Builder, Runtime};
use tokio::sync::{Mutex, RwLock, Semaphore};
use tokio::task::{self, JoinHandle};

const WARMUP_ITERS: usize = 3;
/// Tasks per iteration of the spawn_many workloads and of the timer one.
const NUM_SPAWN: usize = 10_000;
const BUSY2_SPAWN: usize = 1_000;
/// What a busy task burns between two polls (tokio's STALL_DUR).
const STALL: Duration = Duration::from_micros(10);
const YIELD_TASKS: usize = 200;
const NUM_YIELD: usize = 1_000;
const NUM_PINGS: usize = 1_000;
const CHAIN_DEPTH: usize = 1_000;
const SLEEP: Duration = Duration::from_millis(1);
/// The tokio::sync workloads: tasks, and rounds each task does.
const SYNC_TASKS: usize = 200;
const SYNC_ROUNDS: usize = 100;
const PERMITS: usize = 8;
/// One round in WRITE_EVERY of rwlock_read_mostly takes the write lock.
const WRITE_EVERY: usize = 10;
const CHANNEL_CAP: usize = 1024;
const CHANNEL_ITEMS: u64 = 100_000;
const PRODUCERS: u64 = 16;
const ITEMS_PER_PRODUCER: u64 = 10_000;

struct Harness {
    workers: usize,
    only: Option<String>,
}

impl Harness {
    fn from_env() -> Harness {
        let workers = std::env::var("WORKERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n| n > 0)
            .unwrap_or(2);
        Harness {
            workers,
            only: std::env::var("ONLY").ok(),
        }
    }

    fn runtime(&self) -> Runtime {
        Builder::new_multi_thread()
            .worker_threads(self.workers)
            .enable_all()
            .build()
            .expect("tokio-peer: cannot build the runtime")
    }

    fn wanted(&self, name: &str) -> bool {
        self.only.as_deref().map_or(true, |o| name.contains(o))
    }

    /// Time `iters` calls of `body` after the warm-up and print the mean.
    fn measure(&self, name: &str, iters: usize, mut body: impl FnMut()) {
        if !self.wanted(name) {
            return;
        }
        for _ in 0..WARMUP_ITERS {
            body();
        }
        let start = Instant::now();
        for _ in 0..iters {
            body();
        }
        let ns = start.elapsed().as_nanos() as f64 / iters as f64;
        println!("{:<24} {:>12.0} ns/iter", name, ns);
    }
}

/// Burn STALL of CPU time, yielding the thread (not the task) as tokio's
/// benches do.
fn stall() {
    let start = Instant::now();
    while start.elapsed() < STALL {
        std::thread::yield_now();
    }
}

/// Spawn `n` empty tasks from outside the runtime, then await them all.
fn spawn_and_join(rt: &Runtime, n: usize) {
    let handles: Vec<JoinHandle<()>> = (0..n).map(|_| rt.spawn(async {})).collect();
    rt.block_on(async {
        for h in handles {
            h.await.unwrap();
        }
    });
}

// spawn_many_local: inside block_on, spawn NUM_SPAWN tasks that each count
// down a shared counter; the last one signals the main thread.
fn spawn_many_local(h: &Harness, rt: &Runtime) {
    let (done_tx, done_rx) = sync_channel::<()>(1);
    let left = Arc::new(AtomicUsize::new(0));
    h.measure("spawn_many_local", 200, || {
        left.store(NUM_SPAWN, Relaxed);
        rt.block_on(async {
            for _ in 0..NUM_SPAWN {
                let (left, done_tx) = (left.clone(), done_tx.clone());
                tokio::spawn(async move {
                    if left.fetch_sub(1, Relaxed) == 1 {
                        done_tx.send(()).unwrap();
                    }
                });
            }
            done_rx.recv().unwrap();
        });
    });
}

// spawn_many_remote_idle: NUM_SPAWN empty tasks spawned from outside the
// runtime (its inject queue) onto idle workers, then all joined.
fn spawn_many_remote_idle(h: &Harness, rt: &Runtime) {
    h.measure("spawn_many_remote_idle", 200, || {
        spawn_and_join(rt, NUM_SPAWN)
    });
}

// spawn_many_remote_busy1: the same while 2 x WORKERS busy tasks loop on
// "yield, then stall" until the workload ends.
fn spawn_many_remote_busy1(h: &Harness, rt: &Runtime) {
    if !h.wanted("spawn_many_remote_busy1") {
        return;
    }
    let running = Arc::new(AtomicBool::new(true));
    for _ in 0..2 * h.workers {
        let running = running.clone();
        rt.spawn(async move {
            while running.load(Relaxed) {
                task::yield_now().await;
                stall();
            }
        });
    }
    h.measure("spawn_many_remote_busy1", 50, || {
        spawn_and_join(rt, NUM_SPAWN)
    });
    running.store(false, Relaxed);
}

/// One link of busy2's busy chains: stall, then spawn the next link.
fn respawn_busy(running: Arc<AtomicBool>) {
    tokio::spawn(async move {
        if running.load(Relaxed) {
            stall();
            respawn_busy(running);
        }
    });
}

// spawn_many_remote_busy2: a fresh runtime whose WORKERS busy chains each
// spawn their next link after a stall; BUSY2_SPAWN injected empty tasks
// must still be run and joined.  Only with env BUSY2 (see the top).
fn spawn_many_remote_busy2(h: &Harness) {
    if std::env::var_os("BUSY2").is_none() || !h.wanted("spawn_many_remote_busy2") {
        return;
    }
    let rt = h.runtime();
    let running = Arc::new(AtomicBool::new(true));
    for _ in 0..h.workers {
        let running = running.clone();
        rt.spawn(async move { respawn_busy(running) });
    }
    h.measure("spawn_many_remote_busy2", 50, || {
        spawn_and_join(&rt, BUSY2_SPAWN)
    });
    running.store(false, Relaxed);
}

// yield_many: YIELD_TASKS tasks spawned from outside, each yielding
// NUM_YIELD times before it reports to the main thread.
fn yield_many(h: &Harness, rt: &Runtime) {
    let (done_tx, done_rx) = sync_channel::<()>(YIELD_TASKS);
    h.measure("yield_many(200x1000)", 20, || {
        for _ in 0..YIELD_TASKS {
            let done_tx = done_tx.clone();
            rt.spawn(async move {
                for _ in 0..NUM_YIELD {
                    task::yield_now().await;
                }
                done_tx.send(()).unwrap();
            });
        }
        for _ in 0..YIELD_TASKS {
            done_rx.recv().unwrap();
        }
    });
}

// ping_pong: one task spawns NUM_PINGS tasks; each makes two oneshot
// channels, spawns a partner that waits on the first and answers on the
// second, sends the ping and awaits the pong.  The last to finish signals.
fn ping_pong(h: &Harness, rt: &Runtime) {
    let (done_tx, done_rx) = sync_channel::<()>(1);
    let left = Arc::new(AtomicUsize::new(0));
    h.measure("ping_pong(1000)", 200, || {
        left.store(NUM_PINGS, Relaxed);
        let (left, done_tx) = (left.clone(), done_tx.clone());
        rt.block_on(async {
            tokio::spawn(async move {
                for _ in 0..NUM_PINGS {
                    let (left, done_tx) = (left.clone(), done_tx.clone());
                    tokio::spawn(async move {
                        let (ping_tx, ping_rx) = tokio::sync::oneshot::channel::<()>();
                        let (pong_tx, pong_rx) = tokio::sync::oneshot::channel::<()>();
                        tokio::spawn(async move {
                            ping_rx.await.unwrap();
                            pong_tx.send(()).unwrap();
                        });
                        ping_tx.send(()).unwrap();
                        pong_rx.await.unwrap();
                        if left.fetch_sub(1, Relaxed) == 1 {
                            done_tx.send(()).unwrap();
                        }
                    });
                }
            });
            done_rx.recv().unwrap();
        });
    });
}

/// Spawn the next link of a chain of `left` more tasks; the last signals.
fn chain(done_tx: SyncSender<()>, left: usize) {
    if left == 0 {
        done_tx.send(()).unwrap();
    } else {
        tokio::spawn(async move { chain(done_tx, left - 1) });
    }
}

// chained_spawn: each task spawns the next, CHAIN_DEPTH deep.
fn chained_spawn(h: &Harness, rt: &Runtime) {
    let (done_tx, done_rx) = sync_channel::<()>(1);
    h.measure("chained_spawn(1000)", 200, || {
        let done_tx = done_tx.clone();
        rt.block_on(async {
            tokio::spawn(async move { chain(done_tx, CHAIN_DEPTH) });
            done_rx.recv().unwrap();
        });
    });
}

// sleep_10k_x_1ms: NUM_SPAWN tasks that each sleep 1 ms, all joined: the
// throughput of the time driver.
fn sleep_10k(h: &Harness, rt: &Runtime) {
    h.measure("sleep_10k_x_1ms", 20, || {
        rt.block_on(async {
            let sleepers: Vec<JoinHandle<()>> = (0..NUM_SPAWN)
                .map(|_| tokio::spawn(tokio::time::sleep(SLEEP)))
                .collect();
            for s in sleepers {
                s.await.unwrap();
            }
        });
    });
}

/// Spawn SYNC_TASKS copies of `make(task_index)` from outside the runtime
/// and wait until each has reported its result; return their sum.
fn spawn_sync_tasks<F, Fut>(rt: &Runtime, make: F) -> u64
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = u64> + Send + 'static,
{
    let (done_tx, done_rx) = sync_channel::<u64>(SYNC_TASKS);
    for t in 0..SYNC_TASKS {
        let (fut, done_tx) = (make(t), done_tx.clone());
        rt.spawn(async move { done_tx.send(fut.await).unwrap() });
    }
    (0..SYNC_TASKS).map(|_| done_rx.recv().unwrap()).sum()
}

// mutex_handoff(200x100): SYNC_TASKS tasks x SYNC_ROUNDS rounds of: lock,
// yield while holding it, add 1, unlock.  The other tasks queue on the
// lock meanwhile, so each unlock hands it to a waiter.
fn mutex_handoff(h: &Harness, rt: &Runtime) {
    h.measure("mutex_handoff(200x100)", 20, || {
        let m = Arc::new(Mutex::new(0u64));
        spawn_sync_tasks(rt, |_| {
            let m = m.clone();
            async move {
                for _ in 0..SYNC_ROUNDS {
                    let mut g = m.lock().await;
                    task::yield_now().await;
                    *g += 1;
                }
                0
            }
        });
        let total = *rt.block_on(m.lock());
        assert_eq!(total, (SYNC_TASKS * SYNC_ROUNDS) as u64);
    });
}

// semaphore_8(200x100): SYNC_TASKS tasks x SYNC_ROUNDS rounds of: take one
// of PERMITS permits, yield while holding it, give it back.
fn semaphore_8(h: &Harness, rt: &Runtime) {
    h.measure("semaphore_8(200x100)", 20, || {
        let sem = Arc::new(Semaphore::new(PERMITS));
        spawn_sync_tasks(rt, |_| {
            let sem = sem.clone();
            async move {
                for _ in 0..SYNC_ROUNDS {
                    let _permit = sem.acquire().await.unwrap();
                    task::yield_now().await;
                }
                0
            }
        });
        assert_eq!(sem.available_permits(), PERMITS);
    });
}

// rwlock_read_mostly(200x100): SYNC_TASKS tasks x SYNC_ROUNDS rounds; task
// t's round r takes the write lock (and adds 1) when (t + r) is a multiple
// of WRITE_EVERY, the read lock otherwise; it yields while holding either.
fn rwlock_read_mostly(h: &Harness, rt: &Runtime) {
    h.measure("rwlock_read_mostly(200x100)", 20, || {
        let l = Arc::new(RwLock::new(0u64));
        // Each task reports the sum of what it read, so no read is elided.
        spawn_sync_tasks(rt, |t| {
            let l = l.clone();
            async move {
                let mut seen = 0u64;
                for r in 0..SYNC_ROUNDS {
                    if (t + r) % WRITE_EVERY == 0 {
                        let mut g = l.write().await;
                        task::yield_now().await;
                        *g += 1;
                    } else {
                        let g = l.read().await;
                        task::yield_now().await;
                        seen = seen.wrapping_add(*g);
                    }
                }
                seen
            }
        });
        let writes = *rt.block_on(l.read());
        assert_eq!(writes, (SYNC_TASKS * SYNC_ROUNDS / WRITE_EVERY) as u64);
    });
}

// channel_1x100k(cap1024): one producer task sends CHANNEL_ITEMS integers
// into a bounded channel of CHANNEL_CAP, one consumer task sums them.
fn channel_1x100k(h: &Harness, rt: &Runtime) {
    let (done_tx, done_rx) = sync_channel::<u64>(1);
    h.measure("channel_1x100k(cap1024)", 20, || {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CHANNEL_CAP);
        let done_tx = done_tx.clone();
        rt.spawn(async move {
            let mut sum = 0u64;
            while let Some(v) = rx.recv().await {
                sum += v;
            }
            done_tx.send(sum).unwrap();
        });
        rt.spawn(async move {
            for i in 0..CHANNEL_ITEMS {
                tx.send(i).await.unwrap();
            }
        });
        assert_eq!(
            done_rx.recv().unwrap(),
            CHANNEL_ITEMS * (CHANNEL_ITEMS - 1) / 2
        );
    });
}

// channel_16x10k(cap1024): PRODUCERS producer tasks send ITEMS_PER_PRODUCER
// integers each into one bounded channel; one consumer task counts them.
fn channel_16x10k(h: &Harness, rt: &Runtime) {
    let (done_tx, done_rx) = sync_channel::<u64>(1);
    h.measure("channel_16x10k(cap1024)", 20, || {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CHANNEL_CAP);
        let done_tx = done_tx.clone();
        rt.spawn(async move {
            let mut n = 0u64;
            while rx.recv().await.is_some() {
                n += 1;
            }
            done_tx.send(n).unwrap();
        });
        for _ in 0..PRODUCERS {
            let tx = tx.clone();
            rt.spawn(async move {
                for i in 0..ITEMS_PER_PRODUCER {
                    tx.send(i).await.unwrap();
                }
            });
        }
        drop(tx);
        assert_eq!(done_rx.recv().unwrap(), PRODUCERS * ITEMS_PER_PRODUCER);
    });
}

fn main() {
    let h = Harness::from_env();
    let rt = h.runtime();
    spawn_many_local(&h, &rt);
    spawn_many_remote_idle(&h, &rt);
    spawn_many_remote_busy1(&h, &rt);
    spawn_many_remote_busy2(&h);
    yield_many(&h, &rt);
    ping_pong(&h, &rt);
    chained_spawn(&h, &rt);
    sleep_10k(&h, &rt);
    mutex_handoff(&h, &rt);
    semaphore_8(&h, &rt);
    rwlock_read_mostly(&h, &rt);
    channel_1x100k(&h, &rt);
    channel_16x10k(&h, &rt);
}
