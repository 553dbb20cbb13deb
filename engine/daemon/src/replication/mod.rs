//! The daemon as a node of a Raft cluster on openraft: the journal is the Raft log, the
//! matcher its state machine. Consensus (elections, fencing, membership) is openraft's;
//! this module gives it storage, a state machine and settings.
//!
//! - [`type_config`]: the types openraft is instantiated with;
//! - [`input_batch`]: what a Raft entry carries (a batch of sequenced inputs);
//! - [`cluster_config`]: the `[cluster]` settings, loopback only;
//! - [`entry_record`]: the byte layout of one Raft entry in the log file;
//! - [`damage`]: which part of a node's Raft directory failed its checks;
//! - [`entry_log`]: the file of entries: append with fsync, read, truncate, purge;
//! - [`recent_entries`]: the newest entries in memory, read back without the file;
//! - [`durable_replace`]: small files replaced atomically and durably;
//! - [`hard_state`]: the vote and the committed log id, kept durable;
//! - [`log_store`]: openraft's log storage on the entry file;
//! - [`snapshot_file`]: the Raft snapshot (meta and engine state) on disk;
//! - [`state_machine`]: openraft's state machine around the matching engine;
//! - [`peer_frame`]: framing between peers (length, CRC-32C, bounded bincode);
//! - [`network_client`], [`network_server`]: openraft's network on loopback TCP;
//! - [`admin`]: the cluster tool's requests (status, init, add, remove);
//! - [`node`]: one node assembled (storage, openraft, peer listener);
//! - [`role_log`]: the node's role, term and leader in the log as they change;
//! - [`leadership`]: whether this node serves gateways now (the leader, caught up);
//! - [`origins`]: which link and correlation each proposed input came from;
//! - [`proposer`]: the leader's sequencer, one Raft entry per batch of inputs;
//! - [`snapshot_cadence`]: when a node asks openraft for a snapshot;
//! - [`committed_inputs`]: the committed inputs read back from the log, read-only;
//! - [`log_repair`]: a damaged node set aside and refilled by the leader, votes held;
//! - [`log_tools`]: the journal tools (verify, dump, replay) on a node's Raft log;
//! - [`input_json`]: an input as JSON, for `journal dump`;
//! - [`metrics_endpoint`]: the node's `/metrics` for Prometheus.

pub mod admin;
pub mod cluster_config;
pub mod committed_inputs;
pub mod damage;
pub mod durable_replace;
pub mod entry_log;
pub mod entry_record;
pub mod hard_state;
pub mod input_batch;
pub mod input_json;
pub mod leadership;
pub mod log_repair;
pub mod log_store;
pub mod log_tools;
pub mod metrics_endpoint;
pub mod network_client;
pub mod network_server;
pub mod node;
pub mod origins;
pub mod peer_frame;
pub mod proposer;
pub mod recent_entries;
pub mod role_log;
pub mod snapshot_cadence;
pub mod snapshot_file;
pub mod state_machine;
pub mod type_config;
