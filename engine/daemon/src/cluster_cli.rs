//! `ringex-engine cluster init|add|remove|status`: membership and status, asked of
//! running nodes over their Raft listener (the addresses of `[cluster]`). A change is
//! sent to each configured node in turn until the leader takes it: openraft refuses it
//! anywhere else.

use std::process::ExitCode;
use std::time::Duration;

use crate::config::{ClusterTool, Config};
use crate::replication::admin::{send_admin, AdminRequest, ClusterStatus};
use crate::replication::cluster_config::ClusterConfig;

/// Adding a node waits for it to catch up: allow for a large snapshot.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(120);

pub fn run(config: &Config, tool: &ClusterTool, json: bool) -> ExitCode {
    let Some(cluster) = &config.cluster else {
        eprintln!("ringex-engine cluster: no [cluster] in the configuration (give --config FILE)");
        return ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ringex-engine cluster: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(ask(cluster, tool)) {
        Ok(status) => {
            print_status(&status, json);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ringex-engine cluster: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn ask(cluster: &ClusterConfig, tool: &ClusterTool) -> Result<ClusterStatus, String> {
    let (request, target) = match tool {
        ClusterTool::Init => {
            let nodes = cluster.nodes.iter().map(|n| (n.id, n.node())).collect();
            (AdminRequest::Init { nodes }, Some(cluster.node_id))
        }
        ClusterTool::Add { node } => {
            let addresses = cluster
                .node(*node)
                .ok_or_else(|| format!("node {node} is not in [[cluster.nodes]]"))?;
            let request = AdminRequest::Add {
                id: *node,
                node: addresses.node(),
            };
            (request, None)
        }
        ClusterTool::Remove { node } => (AdminRequest::Remove { id: *node }, None),
        ClusterTool::Status { node } => {
            (AdminRequest::Status, Some(node.unwrap_or(cluster.node_id)))
        }
    };
    let targets: Vec<u64> = match target {
        Some(id) => vec![id],
        None => cluster.nodes.iter().map(|n| n.id).collect(),
    };
    let mut refusals = Vec::new();
    for id in targets {
        let addr = &cluster
            .node(id)
            .ok_or_else(|| format!("node {id} is not in [[cluster.nodes]]"))?
            .raft;
        match send_admin(addr, &request, ADMIN_TIMEOUT).await {
            Ok(status) => return Ok(status),
            Err(e) => refusals.push(format!("node {id} ({addr}): {e}")),
        }
    }
    Err(refusals.join("; "))
}

fn print_status(status: &ClusterStatus, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string(status).expect("a status serialises")
        );
        return;
    }
    println!(
        "node {} {} term {} leader {} log {} applied {} snapshot {} seq {} state {} \
         elections {} snapshots {} voters {:?} learners {:?}",
        status.node_id,
        status.role,
        status.term,
        status.leader_id,
        status.last_log_index,
        status.applied_index,
        status.snapshot_index,
        status.last_seq,
        status.state_hash,
        status.elections,
        status.snapshots,
        status.voters,
        status.learners
    );
    for f in &status.followers {
        println!(
            "  follower {} matched {:?} lag {} entries",
            f.id, f.matched_index, f.lag_entries
        );
    }
}
