//! The one thread every committed entry is applied on. openraft runs its state machine
//! as a task of the async runtime, which moves it between worker threads and makes it
//! share one with the log's writes; the matcher's books and id tables then go cold in
//! one core's cache and warm up in another's. Each `apply` call is instead handed to
//! this thread whole and awaited, so matching stays on one thread, as the design's
//! pipeline has it, and the runtime's workers stay free for the log and the network.

use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Sender};
use tokio::sync::oneshot;

/// Calls queued for the thread, at most: openraft hands the state machine one at a time.
const CALLS_QUEUED_MAX: usize = 4;

type Call = Box<dyn FnOnce() + Send>;

pub struct MatcherThread {
    calls: Option<Sender<Call>>,
    thread: Option<JoinHandle<()>>,
}

impl MatcherThread {
    pub fn spawn() -> std::io::Result<MatcherThread> {
        let (calls, queue) = bounded::<Call>(CALLS_QUEUED_MAX);
        let thread = std::thread::Builder::new()
            .name("matcher".into())
            .spawn(move || {
                for call in queue {
                    call();
                }
            })?;
        Ok(MatcherThread {
            calls: Some(calls),
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
        self.calls
            .as_ref()
            .expect("the thread runs until dropped")
            .send(call)
            .expect("the matcher thread ended after a panic");
        result
            .await
            .expect("the matcher thread panicked while applying")
    }
}

impl Drop for MatcherThread {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it finished what it had.
        self.calls = None;
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
}
