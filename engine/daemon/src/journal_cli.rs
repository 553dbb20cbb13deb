//! `ringex-engine journal verify|dump|replay`: the operator's journal tools, run on the
//! configured data directory with the configured engine capacities.

use std::io::Write;
use std::process::ExitCode;

use crate::config::{Config, DumpFormatArg, JournalTool};
use crate::journal_tools::{self, DumpFormat};
use crate::replication::committed_inputs::is_raft_data_dir;
use crate::replication::log_tools;
use crate::storage::FileStorage;

pub fn run(config: &Config, tool: &JournalTool) -> ExitCode {
    let dir = &config.data_dir;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let raft = is_raft_data_dir(dir);
    let result = match tool {
        JournalTool::Dump {
            format,
            from_seq,
            to_seq,
        } if raft => {
            log_tools::dump(dir, dump_format(*format), *from_seq, *to_seq, &mut out).map(drop)
        }
        JournalTool::Replay { to_seq } if raft => {
            log_tools::replay_to(dir, config.engine_config(), *to_seq, &mut out).map(drop)
        }
        JournalTool::Verify if raft => log_tools::verify(dir, config.engine_config(), &mut out),
        JournalTool::Verify => journal_tools::verify(&FileStorage, dir, &mut out).map(drop),
        JournalTool::Dump {
            format,
            from_seq,
            to_seq,
        } => journal_tools::dump(
            &FileStorage,
            dir,
            dump_format(*format),
            *from_seq,
            *to_seq,
            &mut out,
        )
        .map(drop),
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

fn dump_format(format: DumpFormatArg) -> DumpFormat {
    match format {
        DumpFormatArg::Text => DumpFormat::Text,
        DumpFormatArg::Json => DumpFormat::JsonLines,
    }
}
