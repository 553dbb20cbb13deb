//! Sessions whose feed bytes wait to be written together with later ones. On loopback
//! and on a busy host a socket write costs more than the bytes it carries, so a session
//! that only reads market data is written at most once per coalescing interval: the
//! fan-out then costs one write per subscriber per interval, not one per batch, and
//! leaves the order path's thread to the orders.

/// The sessions held back and the earliest time one of them is due.
#[derive(Default)]
pub struct HeldSessions {
    sids: Vec<u64>,
    /// When the earliest held session is due (`None`: none held).
    due_ns: Option<u64>,
}

impl HeldSessions {
    /// Holds `sid` until `due_ns`; the caller holds each session once.
    pub fn hold(&mut self, sid: u64, due_ns: u64) {
        self.sids.push(sid);
        self.due_ns = Some(self.due_ns.map_or(due_ns, |d| d.min(due_ns)));
    }

    /// When the earliest held session is due, if any is held.
    pub fn due_ns(&self) -> Option<u64> {
        self.due_ns
    }

    /// Every held session once the earliest is due (each is checked again, and held
    /// again if its own time has not come), else none.
    pub fn release(&mut self, now_ns: u64) -> Vec<u64> {
        match self.due_ns {
            Some(due) if now_ns >= due => {
                self.due_ns = None;
                std::mem::take(&mut self.sids)
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_every_held_session_once_the_earliest_is_due() {
        let mut held = HeldSessions::default();
        assert_eq!(held.due_ns(), None);
        held.hold(1, 200);
        held.hold(2, 100);
        assert_eq!(held.due_ns(), Some(100));
        assert!(held.release(99).is_empty());
        assert_eq!(held.release(100), vec![1, 2]);
        assert_eq!(held.due_ns(), None);
        assert!(held.release(1_000).is_empty());
    }
}
