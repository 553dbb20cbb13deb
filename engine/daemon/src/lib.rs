//! ringex-engine: the engine daemon around the matching core.
//!
//! The durable half: [`storage`] (the door to the disk), the Raft log and snapshot in
//! [`replication`] (every sequenced input, checksummed and chained, with the term of the
//! leader that wrote it), [`durability`] (when an append is durable), [`apply_input`]
//! (the one way an input reaches the matcher) and [`journal_cli`] (verify, dump, replay
//! for operators).
//!
//! The running half: [`config`], [`daemon`] and [`cluster_node`] (every daemon is a Raft
//! node: start, serve, drain), the pipeline ([`input_ring`], [`sequencer`], the
//! [`replication`] proposer and state machine, [`output_ring`]), the engine [`link`],
//! [`notify`] and [`watchdog`] for systemd, [`signals`], [`logging`].

pub mod apply_input;
pub mod cluster_cli;
pub mod cluster_node;
pub mod config;
pub mod daemon;
pub mod data_dir_lock;
pub mod durability;
pub mod embedded_journal_guard;
pub mod event_batch;
pub mod expiry;
pub mod history_replay;
pub mod history_window;
pub mod input_ring;
pub mod journal_cli;
pub mod link;
pub mod logging;
pub mod notify;
pub mod output_ring;
pub mod progress;
pub mod replication;
pub mod retired_settings;
pub mod sequencer;
pub mod signals;
pub mod storage;
pub mod watchdog;
