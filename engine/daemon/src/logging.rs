//! Structured logging to stderr (journald or a terminal picks it up): one line per
//! event with named fields, as key=value text or as JSON.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::config::{LogConfig, LogFormat};

/// Installs the process-wide logger. The level was checked with the configuration.
///
/// openraft logs every vote and append at info; at the daemon's info level it is held
/// to warnings, and the node's own role log says what an operator needs (role, term,
/// leader, elections). At debug and below everything is written.
pub fn init(config: &LogConfig) {
    let level: LevelFilter = config.level.parse().unwrap_or(LevelFilter::INFO);
    let consensus = if level <= LevelFilter::INFO {
        level.min(LevelFilter::WARN)
    } else {
        level
    };
    let filter = Targets::new()
        .with_default(level)
        .with_target("openraft", consensus);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_thread_names(true);
    let layer = match config.format {
        LogFormat::Text => layer.boxed(),
        LogFormat::Json => layer.json().boxed(),
    };
    // A logger installed earlier (a test harness) stays; both lines are then equal.
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}
