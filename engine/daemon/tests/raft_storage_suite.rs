//! The Raft log storage and state machine against openraft's own storage test suite:
//! log state, vote, truncate, purge, membership from log and state machine, apply, and
//! snapshot transfer between two stores.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use openraft::testing::{StoreBuilder, Suite};
use openraft::StorageError;
use ringex_core::EngineConfig;
use ringex_daemon::durability::Durability;
use ringex_daemon::replication::log_store::LogStore;
use ringex_daemon::replication::state_machine::StateMachine;
use ringex_daemon::replication::type_config::RingexRaft;
use ringex_daemon::storage::simulated::SimulatedStorage;

/// Every store the suite asks for is a fresh simulated disk.
struct SimulatedDisks {
    seed: AtomicU64,
}

fn small_engine() -> EngineConfig {
    EngineConfig {
        max_orders: 1024,
        max_instruments: 8,
        max_accounts: 8,
        max_client_ids_per_day: 1024,
        levels_per_side: 16,
    }
}

impl StoreBuilder<RingexRaft, LogStore<SimulatedStorage>, StateMachine<SimulatedStorage>, ()>
    for SimulatedDisks
{
    async fn build(
        &self,
    ) -> Result<
        (
            (),
            LogStore<SimulatedStorage>,
            StateMachine<SimulatedStorage>,
        ),
        StorageError<u64>,
    > {
        let storage = SimulatedStorage::new(self.seed.fetch_add(1, Ordering::Relaxed));
        let dir = Path::new("/data/raft");
        let log = LogStore::open(storage.clone(), dir, Durability::Fsync).expect("log opens");
        let sm = StateMachine::open(storage, dir, small_engine(), &log).expect("state opens");
        Ok(((), log, sm))
    }
}

#[test]
fn openraft_storage_suite_passes() {
    Suite::test_all(SimulatedDisks {
        seed: AtomicU64::new(1),
    })
    .expect("every case of the suite passes");
}
