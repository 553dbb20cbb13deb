//! The node's `/metrics` for Prometheus: its Raft view (role, term, leader, log,
//! commit and applied indexes, each follower's lag, elections, snapshots) and whether
//! it serves gateways, read from openraft's metrics when scraped.
//!
//! Encoding is prometheus-client's and HTTP is hyper's. The endpoint is bounded: a few
//! connections at once, each given a few seconds, so a stuck scraper costs nothing.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use openraft::Raft;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::admin::{status, ClusterStatus, NodeFacts};
use super::leadership::Leadership;
use super::type_config::RingexRaft;

/// Scrapes served at once; more wait for a slot.
const CONNECTIONS_MAX: usize = 4;
/// A scrape connection's whole life, request and answer.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Every role openraft has, so a role's series exists (as 0) before the node takes it.
const ROLES: [&str; 5] = ["leader", "follower", "candidate", "learner", "shutdown"];

/// What the endpoint reads on each scrape.
#[derive(Clone)]
pub struct MetricsSource {
    pub raft: Raft<RingexRaft>,
    pub facts: NodeFacts,
    pub leadership: Arc<Leadership>,
}

/// Binds the endpoint; refused off loopback by the configuration's validation.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("binding the metrics listener {addr}: {e}"))
}

/// Serves scrapes until the runtime stops.
pub async fn serve_metrics(listener: TcpListener, source: MetricsSource) {
    let slots = Arc::new(Semaphore::new(CONNECTIONS_MAX));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "metrics listener accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let source = source.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(request, source.clone()));
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(CONNECTION_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            // An error or a timeout only ends this scrape's connection.
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
            drop(permit);
        });
    }
}

async fn answer(
    request: Request<hyper::body::Incoming>,
    source: MetricsSource,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if request.method() != Method::GET || request.uri().path() != "/metrics" {
        return Ok(plain(
            StatusCode::NOT_FOUND,
            "only GET /metrics is served\n".into(),
        ));
    }
    let serving = source.leadership.serving_term().is_some();
    let text = render(&status(&source.raft, &source.facts), serving);
    let mut response = plain(StatusCode::OK, text);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        ),
    );
    Ok(response)
}

fn plain(code: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = code;
    response
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoleLabel {
    role: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FollowerLabel {
    follower: String,
}

/// The node's status as Prometheus text (OpenMetrics).
pub fn render(s: &ClusterStatus, serving: bool) -> String {
    let mut registry = Registry::with_prefix("ringex");
    let roles = Family::<RoleLabel, Gauge>::default();
    for role in ROLES {
        let label = RoleLabel { role: role.into() };
        roles.get_or_create(&label).set(i64::from(s.role == role));
    }
    registry.register(
        "raft_role",
        "1 for this node's Raft role, 0 for the others",
        roles,
    );
    let gauges: [(&str, &str, u64); 9] = [
        ("raft_node_id", "This node's id in the cluster", s.node_id),
        ("raft_term", "The Raft term this node is in", s.term),
        (
            "raft_leader_id",
            "The leader this node knows of, 0 for none",
            s.leader_id,
        ),
        (
            "raft_last_log_index",
            "The last index in this node's log",
            s.last_log_index,
        ),
        (
            "raft_commit_index",
            "The highest index this node knows committed",
            s.committed_index,
        ),
        (
            "raft_applied_index",
            "The last index applied to the engine",
            s.applied_index,
        ),
        (
            "raft_snapshot_index",
            "The index the newest snapshot covers",
            s.snapshot_index,
        ),
        (
            "raft_voters",
            "Voters in the membership this node has",
            s.voters.len() as u64,
        ),
        (
            "engine_last_seq",
            "The engine's last applied sequence number",
            s.last_seq,
        ),
    ];
    for (name, help, value) in gauges {
        registry.register(name, help, gauge(value));
    }
    registry.register(
        "engine_serving",
        "1 while this node serves gateway links (the leader, caught up)",
        gauge(u64::from(serving)),
    );
    registry.register(
        "raft_repairing",
        "1 while this node, set aside after damage, is refilled and grants no vote",
        gauge(u64::from(s.repairing)),
    );
    let lag = Family::<FollowerLabel, Gauge>::default();
    let matched = Family::<FollowerLabel, Gauge>::default();
    for f in &s.followers {
        let label = FollowerLabel {
            follower: f.id.to_string(),
        };
        lag.get_or_create(&label).set(clamp(f.lag_entries));
        matched
            .get_or_create(&label)
            .set(f.matched_index.map_or(-1, clamp));
    }
    registry.register(
        "raft_follower_lag_entries",
        "On the leader: entries a follower has not confirmed",
        lag,
    );
    registry.register(
        "raft_follower_matched_index",
        "On the leader: the last index confirmed by a follower, -1 before its first answer",
        matched,
    );
    registry.register(
        "raft_elections",
        "Terms this node has seen begin since it started",
        counter(s.elections),
    );
    registry.register(
        "raft_snapshots",
        "Snapshots put in place since the node started (built or installed)",
        counter(s.snapshots),
    );
    let mut text = String::new();
    encode(&mut text, &registry).expect("writing to a String cannot fail");
    text
}

fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn gauge(value: u64) -> Gauge {
    let g = Gauge::default();
    g.set(clamp(value));
    g
}

fn counter(value: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(value);
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::admin::FollowerLag;

    fn leader() -> ClusterStatus {
        ClusterStatus {
            node_id: 1,
            role: "leader".into(),
            term: 7,
            leader_id: 1,
            last_log_index: 120,
            committed_index: 118,
            applied_index: 118,
            snapshot_index: 64,
            last_seq: 5000,
            state_hash: "0x0".into(),
            repairing: false,
            elections: 3,
            snapshots: 1,
            voters: vec![1, 2, 3],
            learners: vec![],
            followers: vec![
                FollowerLag {
                    id: 2,
                    matched_index: Some(117),
                    lag_entries: 3,
                },
                FollowerLag {
                    id: 3,
                    matched_index: None,
                    lag_entries: 120,
                },
            ],
        }
    }

    #[test]
    fn every_figure_is_a_series() {
        let text = render(&leader(), true);
        for line in [
            "ringex_raft_role{role=\"leader\"} 1",
            "ringex_raft_role{role=\"follower\"} 0",
            "ringex_raft_term 7",
            "ringex_raft_commit_index 118",
            "ringex_raft_applied_index 118",
            "ringex_raft_follower_lag_entries{follower=\"2\"} 3",
            "ringex_raft_follower_matched_index{follower=\"3\"} -1",
            "ringex_raft_elections_total 3",
            "ringex_raft_snapshots_total 1",
            "ringex_engine_last_seq 5000",
            "ringex_engine_serving 1",
            "ringex_raft_repairing 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }
}
