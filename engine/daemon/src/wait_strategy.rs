//! How a pipeline thread waits for its next item. Parking costs a wake-up (a few
//! microseconds) but leaves the core to others: the default, since these machines
//! share two cores. Spinning answers in nanoseconds and burns a core per thread.

use crossbeam_channel::{Receiver, RecvError, TryRecvError};

use crate::config::WaitStrategy;

impl WaitStrategy {
    /// The next item, waiting as configured; `Err` once every sender is gone and the
    /// queue is empty.
    pub fn recv<T>(self, rx: &Receiver<T>) -> Result<T, RecvError> {
        match self {
            WaitStrategy::Blocking => rx.recv(),
            WaitStrategy::BusySpin => loop {
                match rx.try_recv() {
                    Ok(item) => return Ok(item),
                    Err(TryRecvError::Empty) => std::hint::spin_loop(),
                    Err(TryRecvError::Disconnected) => return Err(RecvError),
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_strategies_deliver_then_report_disconnection() {
        for strategy in [WaitStrategy::Blocking, WaitStrategy::BusySpin] {
            let (tx, rx) = crossbeam_channel::bounded(4);
            let sender = std::thread::spawn(move || {
                for i in 0..100u32 {
                    tx.send(i).unwrap();
                }
            });
            let got: Vec<u32> = std::iter::from_fn(|| strategy.recv(&rx).ok()).collect();
            sender.join().unwrap();
            assert_eq!(got, (0..100).collect::<Vec<_>>());
        }
    }
}
