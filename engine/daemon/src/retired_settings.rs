//! Settings that older configuration files carry but this engine no longer has. A file
//! that sets one is refused with what became of it, rather than accepted and ignored:
//! an operator who tuned it should learn that the tuning does nothing now.

/// `(table, key, what became of it)`.
const RETIRED: [(&str, &str, &str); 2] = [
    (
        "pipeline",
        "wait_strategy",
        "the leader's sequencer and openraft park while idle; there is no busy-spin mode",
    ),
    (
        "journal",
        "segment_bytes",
        "the journal is the Raft log, one file whose purged head is removed from disk after \
         snapshots; it has no segments",
    ),
];

/// Err naming the first retired setting in `layer`, read from `source`.
pub fn refuse_retired(layer: &toml::Table, source: &str) -> Result<(), String> {
    for (table, key, why) in RETIRED {
        let set = layer
            .get(table)
            .and_then(toml::Value::as_table)
            .is_some_and(|t| t.contains_key(key));
        if set {
            return Err(format!(
                "{source}: {table}.{key} is no longer a setting ({why}); remove it"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_retired_key_is_refused_by_name() {
        for (table, key, _) in RETIRED {
            let layer: toml::Table = toml::from_str(&format!("[{table}]\n{key} = 1\n")).unwrap();
            let e = refuse_retired(&layer, "engine.toml").unwrap_err();
            assert!(e.contains(&format!("{table}.{key} is no longer")), "{e}");
        }
        let fine: toml::Table = toml::from_str("[pipeline]\nbatch_max = 1\n").unwrap();
        refuse_retired(&fine, "engine.toml").unwrap();
    }
}
