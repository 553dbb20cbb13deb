//! A node started alone with no Raft listener (the default daemon) records no Raft
//! address for itself in its membership, so no peer could ever reach it: adding a node
//! to it is refused with the reason, rather than building a cluster that cannot elect
//! once this node is gone.

mod support;

use std::time::Duration;

use openraft::ServerState;
use ringex_daemon::durability::Durability;
use ringex_daemon::replication::admin::{answer_admin, AdminRequest};
use ringex_daemon::replication::cluster_config::ClusterConfig;
use ringex_daemon::replication::node::RaftNode;
use ringex_daemon::replication::type_config::ClusterNode;
use support::{free_port, TempDir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_a_raft_listener_refuses_to_grow() {
    let dir = TempDir::new("lone-growth");
    let cluster = ClusterConfig::embedded("", &format!("127.0.0.1:{}", free_port()));
    let config = ringex_daemon::config::Config::builtin().engine_config();
    let node = RaftNode::start(&cluster, &dir.0, config, Durability::UnsafeNoFsync)
        .await
        .expect("starts");
    assert!(node.initialise(&cluster).await.expect("initialises"));
    node.raft
        .wait(Some(Duration::from_secs(20)))
        .state(ServerState::Leader, "the lone node leads")
        .await
        .expect("leads");
    let add = AdminRequest::Add {
        id: 2,
        node: ClusterNode {
            raft: format!("127.0.0.1:{}", free_port()),
            link: format!("127.0.0.1:{}", free_port()),
        },
    };
    let answer = tokio::time::timeout(
        Duration::from_secs(30),
        answer_admin(&node.raft, &node.facts, add),
    )
    .await
    .expect("answered in time");
    let refusal = answer.expect_err("refused");
    assert!(refusal.contains("node 1 has no raft address"), "{refusal}");
    node.shutdown().await;
}
