//! The daemon's settings: a TOML file laid over the built-in one, then command-line
//! flags over both. The built-in file (`config/default.toml`) is the single place every
//! default lives, with a comment on each; `--help` repeats them per flag.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ringex_core::{AccountLimits, AccountSpec, EngineConfig, InstrumentSpec};
use serde::{Deserialize, Serialize};

use crate::replication::cluster_config::ClusterConfig;
use crate::retired_settings::refuse_retired;

/// The built-in configuration: demo instruments and accounts, a local data directory,
/// TCP on loopback and a Unix socket.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../config/default.toml");

#[derive(Parser, Debug)]
#[command(
    name = "ringex-engine",
    version,
    // A flag given twice takes the last value, so wrappers can append overrides.
    args_override_self = true,
    about = "The ringex engine daemon: sequences, journals and matches every input.",
    long_about = "The ringex engine daemon. Gateways connect over the engine link (TCP on \
                  loopback and a Unix socket); every input is sequenced, journaled and \
                  applied by one matching thread, and its events are sent back only once \
                  it is durable.\n\nWith no arguments it runs with the built-in \
                  configuration (see --print-config). Settings come from the built-in \
                  file, then --config FILE, then the flags below. Each flag names its key \
                  in the file; the engine capacities ([engine]: max_orders, \
                  max_instruments, max_accounts, max_client_ids_per_day, \
                  levels_per_side) and the instruments and accounts created on the first \
                  start ([[instruments]], [[accounts]]) are set in the file only. \
                  --print-default-config prints the built-in file with a comment on every \
                  setting.\n\nSIGTERM or SIGINT drains the pipeline, syncs the journal and \
                  exits 0. Exit status 1: a journal failure (fail-stop) or a start error; \
                  2: a bad configuration."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<CliCommand>,
    #[command(flatten)]
    pub overrides: Overrides,
    /// TOML file laid over the built-in configuration.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the effective configuration as TOML and exit.
    #[arg(long)]
    pub print_config: bool,
    /// Print the built-in configuration file, every setting commented, and exit.
    #[arg(long)]
    pub print_default_config: bool,
}

#[derive(Subcommand, Debug)]
pub enum CliCommand {
    /// Offline tools over the journal in the data directory (stop the daemon first).
    Journal {
        #[command(subcommand)]
        tool: JournalTool,
    },
    /// Cluster membership and status, asked of running nodes over their Raft listener.
    Cluster {
        #[command(subcommand)]
        tool: ClusterTool,
        /// Print the answer as JSON.
        #[arg(long, global = true)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClusterTool {
    /// Make every node of [cluster] a voter: once, on a new cluster (asks this node).
    Init,
    /// Add a configured node: as a learner, caught up, then promoted to voter.
    Add {
        /// The node's id in [[cluster.nodes]].
        #[arg(long, value_name = "ID")]
        node: u64,
    },
    /// Remove a node from the membership.
    Remove {
        #[arg(long, value_name = "ID")]
        node: u64,
    },
    /// Role, term, leader, log, applied and snapshot indexes, per-follower lag.
    Status {
        /// Ask this node (default: this configuration's node_id).
        #[arg(long, value_name = "ID")]
        node: Option<u64>,
    },
}

#[derive(Subcommand, Debug)]
pub enum JournalTool {
    /// Check every record's length, checksum, chain and sequence; exit 1 on damage.
    Verify,
    /// Print the records, one line each.
    Dump {
        /// Line format.
        #[arg(long, value_enum, default_value = "text")]
        format: DumpFormatArg,
        /// First sequence number to print (default: the oldest kept).
        #[arg(long, value_name = "N")]
        from_seq: Option<u64>,
        /// Last sequence number to print (default: the end).
        #[arg(long, value_name = "N")]
        to_seq: Option<u64>,
    },
    /// Rebuild the state from the latest snapshot and the journal, up to --to-seq, and
    /// print the last sequence number and the state hash.
    Replay {
        /// Stop after the input with this sequence number (default: the end).
        #[arg(long, value_name = "N")]
        to_seq: Option<u64>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DumpFormatArg {
    /// One readable line per record.
    Text,
    /// One JSON object per line.
    Json,
}

/// Flags that override single settings. Each names its key in the TOML file.
#[derive(Args, Debug, Default)]
pub struct Overrides {
    /// Data directory holding the journal and snapshots [data_dir].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// TCP address for links, "" for none; loopback only [link.tcp].
    #[arg(long, value_name = "ADDR")]
    pub tcp: Option<String>,
    /// Unix socket path for links (relative to the data directory), "" for none
    /// [link.unix_socket].
    #[arg(long, value_name = "PATH")]
    pub unix_socket: Option<String>,
    /// Most links open at once [link.max_links].
    #[arg(long, value_name = "N")]
    pub max_links: Option<u32>,
    /// Idle time after which the engine sends a heartbeat [link.heartbeat_interval_ms].
    #[arg(long, value_name = "MS")]
    pub heartbeat_interval_ms: Option<u64>,
    /// Peer silence after which a link is closed [link.heartbeat_timeout_ms].
    #[arg(long, value_name = "MS")]
    pub heartbeat_timeout_ms: Option<u64>,
    /// Bytes of events queued per link before it is closed as a slow consumer
    /// [link.queue_bytes].
    #[arg(long, value_name = "BYTES")]
    pub queue_bytes: Option<u64>,
    /// Bytes of recent events kept in memory to resume relinking gateways from; older
    /// history is replayed from the journal [link.history_window_bytes].
    #[arg(long, value_name = "BYTES")]
    pub history_window_bytes: Option<u64>,
    /// Inputs waiting to be sequenced; a full ring stops the links reading
    /// [pipeline.input_ring_capacity].
    #[arg(long, value_name = "N")]
    pub input_ring_capacity: Option<u32>,
    /// Most inputs per Raft entry, one journal write (group commit) [pipeline.batch_max].
    #[arg(long, value_name = "N")]
    pub batch_max: Option<u32>,
    /// When an input is durable: fsync'd, or written to the OS [journal.durability].
    #[arg(long, value_enum, value_name = "POLICY")]
    pub durability: Option<Durability>,
    /// Inputs between periodic snapshots, 0 for none [snapshot.every_inputs].
    #[arg(long, value_name = "N")]
    pub snapshot_every_inputs: Option<u64>,
    /// Log line format [log.format].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Least severe log level written [log.level].
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,
    /// Start even though the journal lost durable records (damage, a missing segment, a
    /// journal shorter than its durable mark): cut it to its last good record, record the
    /// loss in the data directory and set the cut files aside in lost/. The engine may
    /// come back at a lower sequence number. Not a file setting: a one-time decision.
    #[arg(long)]
    pub accept_journal_loss: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Durability {
    /// Durable once the batch is written and fsync'd: survives power loss.
    Fsync,
    /// Durable once written to the operating system: survives a daemon crash only.
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub data_dir: PathBuf,
    pub link: LinkConfig,
    pub pipeline: PipelineConfig,
    pub journal: JournalConfig,
    pub snapshot: SnapshotConfig,
    pub log: LogConfig,
    pub engine: EngineLimits,
    pub instruments: Vec<InstrumentConfig>,
    pub accounts: Vec<AccountConfig>,
    /// `[cluster]`: this node and its peers; absent for the embedded single-node cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterConfig>,
    /// `--accept-journal-loss`: a one-time operator decision, never kept in a file.
    #[serde(skip)]
    pub accept_journal_loss: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkConfig {
    pub tcp: String,
    pub unix_socket: String,
    pub max_links: u32,
    pub heartbeat_interval_ms: u64,
    pub heartbeat_timeout_ms: u64,
    pub queue_bytes: u64,
    pub history_window_bytes: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineConfig {
    pub input_ring_capacity: u32,
    pub batch_max: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalConfig {
    pub durability: Durability,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotConfig {
    pub every_inputs: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineLimits {
    pub max_orders: u32,
    pub max_instruments: u32,
    pub max_accounts: u32,
    pub max_client_ids_per_day: u32,
    pub levels_per_side: u32,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    pub instrument: u32,
    pub tick_size: i64,
    pub lot_size: u64,
    pub reference_price: i64,
    pub price_band_bps: u32,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub account: u32,
    pub max_order_qty: u64,
    /// TOML integers are 64-bit; the engine's limit is wider, so it is widened here.
    pub max_order_notional: u64,
    pub max_open_orders: u32,
}

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// The built-in configuration alone.
    pub fn builtin() -> Config {
        toml::from_str(DEFAULT_CONFIG_TOML).expect("the built-in configuration parses")
    }

    /// Built-in settings, then the file (if any), then the flags; checked whole.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        let mut table: toml::Table =
            toml::from_str(DEFAULT_CONFIG_TOML).expect("the built-in configuration parses");
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("reading {}: {e}", path.display())))?;
            let layer: toml::Table = toml::from_str(&text)
                .map_err(|e| ConfigError(format!("parsing {}: {e}", path.display())))?;
            refuse_retired(&layer, &path.display().to_string()).map_err(ConfigError)?;
            merge(&mut table, layer);
        }
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e| ConfigError(format!("configuration: {e}")))?;
        config.apply(overrides);
        config.validate()?;
        Ok(config)
    }

    fn apply(&mut self, o: &Overrides) {
        fn set<T: Clone>(slot: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *slot = v.clone();
            }
        }
        set(&mut self.data_dir, &o.data_dir);
        set(&mut self.link.tcp, &o.tcp);
        set(&mut self.link.unix_socket, &o.unix_socket);
        set(&mut self.link.max_links, &o.max_links);
        set(
            &mut self.link.heartbeat_interval_ms,
            &o.heartbeat_interval_ms,
        );
        set(&mut self.link.heartbeat_timeout_ms, &o.heartbeat_timeout_ms);
        set(&mut self.link.queue_bytes, &o.queue_bytes);
        set(&mut self.link.history_window_bytes, &o.history_window_bytes);
        set(
            &mut self.pipeline.input_ring_capacity,
            &o.input_ring_capacity,
        );
        set(&mut self.pipeline.batch_max, &o.batch_max);
        set(&mut self.journal.durability, &o.durability);
        set(&mut self.snapshot.every_inputs, &o.snapshot_every_inputs);
        set(&mut self.log.format, &o.log_format);
        set(&mut self.log.level, &o.log_level);
        self.accept_journal_loss |= o.accept_journal_loss;
    }

    /// Refuses settings that would break a bound or leave the daemon unreachable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |m: &str| Err(ConfigError(m.to_string()));
        if self.link.tcp.is_empty() && self.link.unix_socket.is_empty() {
            return fail("link: set link.tcp or link.unix_socket, or both");
        }
        if let Some(addr) = self.tcp_addr()? {
            if !addr.ip().is_loopback() {
                return fail("link.tcp must be a loopback address (127.0.0.0/8 or ::1)");
            }
        }
        if self.link.max_links == 0 {
            return fail("link.max_links must be at least 1");
        }
        if self.link.heartbeat_interval_ms == 0
            || self.link.heartbeat_timeout_ms <= self.link.heartbeat_interval_ms
        {
            return fail("link: 0 < heartbeat_interval_ms < heartbeat_timeout_ms");
        }
        if self.link.queue_bytes == 0 {
            return fail("link.queue_bytes must be at least 1");
        }
        if self.pipeline.input_ring_capacity == 0 || self.pipeline.batch_max == 0 {
            return fail("pipeline: input_ring_capacity and batch_max must be at least 1");
        }
        if !matches!(
            self.log.level.as_str(),
            "error" | "warn" | "info" | "debug" | "trace"
        ) {
            return fail("log.level must be one of error, warn, info, debug, trace");
        }
        self.engine_config()
            .validate()
            .map_err(|e| ConfigError(format!("engine: {e}")))?;
        if let Some(cluster) = &self.cluster {
            cluster.validate().map_err(ConfigError)?;
            cluster.raft_config().map_err(ConfigError)?;
        }
        Ok(())
    }

    /// The Raft cluster this daemon is a node of: the `[cluster]` table, or without one
    /// the embedded single-node cluster (node 1) whose link is `link.tcp` and which has
    /// no Raft listener, as a lone node has no peers.
    pub fn node_cluster(&self) -> ClusterConfig {
        self.cluster
            .clone()
            .unwrap_or_else(|| ClusterConfig::embedded("", &self.link.tcp))
    }

    /// The TCP address to listen on, if TCP is on.
    pub fn tcp_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        if self.link.tcp.is_empty() {
            return Ok(None);
        }
        self.link
            .tcp
            .parse()
            .map(Some)
            .map_err(|e| ConfigError(format!("link.tcp {:?}: {e}", self.link.tcp)))
    }

    /// The Unix socket path, if the Unix socket is on; relative paths are in the data
    /// directory.
    pub fn unix_socket_path(&self) -> Option<PathBuf> {
        (!self.link.unix_socket.is_empty()).then(|| self.data_dir.join(&self.link.unix_socket))
    }

    pub fn heartbeat_interval(&self) -> Duration {
        Duration::from_millis(self.link.heartbeat_interval_ms)
    }

    pub fn heartbeat_timeout(&self) -> Duration {
        Duration::from_millis(self.link.heartbeat_timeout_ms)
    }

    pub fn engine_config(&self) -> EngineConfig {
        let e = &self.engine;
        EngineConfig {
            max_orders: e.max_orders,
            max_instruments: e.max_instruments,
            max_accounts: e.max_accounts,
            max_client_ids_per_day: e.max_client_ids_per_day,
            levels_per_side: e.levels_per_side,
        }
    }

    pub fn instrument_specs(&self) -> impl Iterator<Item = InstrumentSpec> + '_ {
        self.instruments.iter().map(|i| InstrumentSpec {
            instrument: i.instrument,
            tick_size: i.tick_size,
            lot_size: i.lot_size,
            reference_price: i.reference_price,
            price_band_bps: i.price_band_bps,
        })
    }

    pub fn account_specs(&self) -> impl Iterator<Item = AccountSpec> + '_ {
        self.accounts.iter().map(|a| AccountSpec {
            account: a.account,
            limits: AccountLimits {
                max_order_qty: a.max_order_qty,
                max_order_notional: u128::from(a.max_order_notional),
                max_open_orders: a.max_open_orders,
            },
        })
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a configuration always serialises")
    }
}

/// Lays `layer` over `base`: tables merge key by key, anything else (lists included)
/// replaces what was there.
fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(l)) => merge(b, l),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_configuration_is_valid() {
        let c = Config::builtin();
        c.validate().unwrap();
        assert!(!c.instruments.is_empty() && !c.accounts.is_empty());
        assert_eq!(c.journal.durability, Durability::Fsync);
    }

    #[test]
    fn file_then_flags_override_the_builtin() {
        let dir = std::env::temp_dir().join(format!("ringex-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("engine.toml");
        std::fs::write(
            &file,
            "[journal]\ndurability = \"none\"\n[[accounts]]\naccount = 9\nmax_order_qty = 1\n\
             max_order_notional = 1\nmax_open_orders = 1\n",
        )
        .unwrap();
        let overrides = Overrides {
            max_links: Some(3),
            ..Overrides::default()
        };
        let c = Config::load(Some(&file), &overrides).unwrap();
        assert_eq!(c.journal.durability, Durability::None);
        assert_eq!(c.pipeline.batch_max, Config::builtin().pipeline.batch_max);
        assert_eq!(c.accounts.len(), 1);
        assert_eq!(c.link.max_links, 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refuses_unknown_keys_and_remote_addresses() {
        let mut c = Config::builtin();
        c.link.tcp = "10.0.0.1:7700".into();
        assert!(c.validate().is_err());
        let mut table: toml::Table = toml::from_str(DEFAULT_CONFIG_TOML).unwrap();
        merge(&mut table, toml::from_str("[link]\nport = 1\n").unwrap());
        assert!(toml::Value::Table(table).try_into::<Config>().is_err());
    }
}
