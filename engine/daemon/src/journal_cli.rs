//! `ringex-engine journal verify|dump|replay`: the operator's journal tools, run on the
//! configured data directory with the configured engine capacities.

use std::io::Write;
use std::process::ExitCode;

use crate::config::{Config, DumpFormatArg, JournalTool};
use crate::journal_tools::{self, DumpFormat};
use crate::storage::FileStorage;

pub fn run(config: &Config, tool: &JournalTool) -> ExitCode {
    let dir = &config.data_dir;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match tool {
        JournalTool::Verify => journal_tools::verify(&FileStorage, dir, &mut out).map(drop),
        JournalTool::Dump {
            format,
            from_seq,
            to_seq,
        } => {
            let format = match format {
                DumpFormatArg::Text => DumpFormat::Text,
                DumpFormatArg::Json => DumpFormat::JsonLines,
            };
            journal_tools::dump(&FileStorage, dir, format, *from_seq, *to_seq, &mut out).map(drop)
        }
        JournalTool::Replay { to_seq } => {
            journal_tools::replay_to(&FileStorage, dir, config.engine_config(), *to_seq, &mut out)
                .map(drop)
        }
    };
    // A failed flush is reported like any other output error.
    let result = result.and_then(|()| out.flush().map_err(Into::into));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringex-engine journal: {e}");
            ExitCode::FAILURE
        }
    }
}
