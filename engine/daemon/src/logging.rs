//! Structured logging to stderr (journald or a terminal picks it up): one line per
//! event with named fields, as key=value text or as JSON.

use tracing_subscriber::filter::LevelFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the process-wide logger. The level was checked with the configuration.
pub fn init(config: &LogConfig) {
    let level: LevelFilter = config.level.parse().unwrap_or(LevelFilter::INFO);
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_ansi(false)
        .with_thread_names(true);
    // A logger installed earlier (a test harness) stays; both lines are then equal.
    let _ = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
