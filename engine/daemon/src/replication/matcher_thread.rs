//! The one thread every committed entry is applied on. openraft runs its state machine
//! as a task of the async runtime, which moves it between worker threads and makes it
//! share one with the log's writes; the matcher's books and id tables then go cold in
//! one core's cache and warm up in another's. Each `apply` call is instead handed to
//! this thread whole and awaited, so matching stays on one thread, as the design's
//! pipeline has it, and the runtime's workers stay free for the log and the network.
//!
//! The thread waits for its next call on a condition variable, not a channel: a
//! channel's receiver spins and yields its core a few times before it sleeps, and the
//! next call comes an fsync later, so on a busy machine every one of those yields was
//! a context switch given to another thread for nothing.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

/// Calls queued for the thread, at most: openraft hands the state machine one at a time.
const CALLS_QUEUED_MAX: usize = 4;

type Call = Box<dyn FnOnce() + Send>;

/// The calls waiting for the thread, and whether it takes no more.
#[derive(Default)]
struct Queue {
    calls: VecDeque<Call>,
    /// Set when the owner is dropped (the thread finishes what it has) or the thread
    /// ended after a panic (nothing more may run on its state).
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a call is queued or the queue is closed.
    queued: Condvar,
    /// Signalled when the thread took a call off a full queue.
    room: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // Calls run outside the lock, so a panic in one cannot poison it.
        self.queue
            .lock()
            .expect("the matcher queue lock is never poisoned")
    }

    /// Takes no more calls. The thread still runs those queued unless `drop_queued`
    /// (it ended: they are dropped, so their callers hear at once that it is gone).
    fn close(&self, drop_queued: bool) {
        let mut queue = self.lock();
        queue.closed = true;
        let dropped = if drop_queued {
            std::mem::take(&mut queue.calls)
        } else {
            VecDeque::new()
        };
        drop(queue);
        drop(dropped);
        self.queued.notify_all();
        self.room.notify_all();
    }

    /// The next call, or `None` once the queue is closed and empty.
    fn next(&self) -> Option<Call> {
        let mut queue = self.lock();
        loop {
            if let Some(call) = queue.calls.pop_front() {
                self.room.notify_one();
                return Some(call);
            }
            if queue.closed {
                return None;
            }
            queue = self.queued.wait(queue).expect("never poisoned");
        }
    }

    /// Queues `call`; false if the thread ended.
    fn push(&self, call: Call) -> bool {
        let mut queue = self.lock();
        while queue.calls.len() >= CALLS_QUEUED_MAX && !queue.closed {
            queue = self.room.wait(queue).expect("never poisoned");
        }
        if queue.closed {
            return false;
        }
        queue.calls.push_back(call);
        drop(queue);
        self.queued.notify_one();
        true
    }
}

/// Closes the queue when the thread ends, by return or by panic.
struct CloseOnExit(Arc<Shared>);

impl Drop for CloseOnExit {
    fn drop(&mut self) {
        self.0.close(true);
    }
}

pub struct MatcherThread {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl MatcherThread {
    pub fn spawn() -> std::io::Result<MatcherThread> {
        let shared = Arc::new(Shared::default());
        let on_thread = CloseOnExit(Arc::clone(&shared));
        let thread = std::thread::Builder::new()
            .name("matcher".into())
            .spawn(move || {
                while let Some(call) = on_thread.0.next() {
                    call();
                }
            })?;
        Ok(MatcherThread {
            shared,
            thread: Some(thread),
        })
    }

    /// Runs `work` on the matcher thread and waits for its result. A panic there (a
    /// broken invariant) ends the thread and is raised here too: nothing may go on.
    pub async fn run<R: Send + 'static>(&self, work: impl FnOnce() -> R + Send + 'static) -> R {
        let (done, result) = oneshot::channel();
        let call: Call = Box::new(move || {
            // The receiver waits for this answer; it only goes when it is dropped first.
            let _ = done.send(work());
        });
        assert!(
            self.shared.push(call),
            "the matcher thread ended after a panic"
        );
        result
            .await
            .expect("the matcher thread panicked while applying")
    }
}

impl Drop for MatcherThread {
    fn drop(&mut self) {
        // The thread finishes what was queued, then ends.
        self.shared.close(false);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_the_matcher_thread_in_order() {
        let matcher = MatcherThread::spawn().unwrap();
        let mut seen = Vec::new();
        for i in 0..5 {
            let (name, i) = matcher
                .run(move || (std::thread::current().name().map(String::from), i))
                .await;
            assert_eq!(name.as_deref(), Some("matcher"));
            seen.push(i);
        }
        assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    }

    #[tokio::test]
    #[should_panic(expected = "panicked while applying")]
    async fn a_panic_on_the_thread_is_raised_to_the_caller() {
        let matcher = MatcherThread::spawn().unwrap();
        matcher.run(|| panic!("broken invariant")).await
    }

    #[tokio::test]
    #[should_panic(expected = "ended after a panic")]
    async fn nothing_runs_after_a_panic() {
        let matcher = MatcherThread::spawn().unwrap();
        assert!(matcher.shared.push(Box::new(|| panic!("broken invariant"))));
        // The thread closes its queue as the panic ends it.
        for _ in 0..1000 {
            if matcher.shared.lock().closed {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        matcher.run(|| 1).await;
    }

    #[test]
    fn dropping_it_runs_what_was_queued_first() {
        let matcher = MatcherThread::spawn().unwrap();
        let (done, seen) = std::sync::mpsc::channel();
        for i in 0..CALLS_QUEUED_MAX {
            let done = done.clone();
            assert!(matcher.shared.push(Box::new(move || done.send(i).unwrap())));
        }
        drop(matcher);
        assert_eq!(
            seen.try_iter().collect::<Vec<_>>(),
            (0..CALLS_QUEUED_MAX).collect::<Vec<_>>()
        );
    }
}
