//! The `raft` listener: answers peers' Raft calls (append, vote, snapshot chunks) and
//! the cluster tool's admin requests. A peer that sends a bad frame loses its
//! connection (it reconnects); connections and idle time are bounded.

use std::time::Duration;

use openraft::error::RaftError;
use openraft::raft::{VoteRequest, VoteResponse};
use openraft::Raft;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use super::admin::{answer_admin, AdminRequest, NodeFacts};
use super::peer_frame::{
    decode_payload, encode_frame, read_frame, write_frame, FrameKind, PeerFrameError,
};
use super::type_config::RingexRaft;

/// Most peer and tool connections at once.
pub const PEER_CONNECTIONS_MAX: usize = 64;
/// A connection silent this long is closed; leaders send heartbeats far more often.
const PEER_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves until this future is dropped (the node stops): the connections live in a
/// set owned by it, so they end with it and no peer keeps talking to a stopped node.
pub async fn serve(listener: TcpListener, raft: Raft<RingexRaft>, facts: NodeFacts) {
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "raft listener: accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        if connections.len() >= PEER_CONNECTIONS_MAX {
            tracing::warn!(%peer, "raft listener: connection refused, too many open");
            continue;
        }
        let raft = raft.clone();
        let facts = facts.clone();
        connections.spawn(async move {
            if let Err(e) = serve_connection(stream, &raft, &facts).await {
                tracing::debug!(%peer, error = %e, "raft peer connection closed");
            }
        });
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    raft: &Raft<RingexRaft>,
    facts: &NodeFacts,
) -> Result<(), String> {
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    loop {
        let frame = tokio::time::timeout(PEER_IDLE_TIMEOUT, read_frame(&mut stream))
            .await
            .map_err(|_| "idle past the timeout".to_string())?;
        let (kind, payload) = match frame {
            Ok(f) => f,
            Err(PeerFrameError::Io(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Ok(());
            }
            Err(e) => {
                tracing::warn!(error = %e, "raft peer sent a bad frame: closing its connection");
                return Err(e.to_string());
            }
        };
        let answer = answer(kind, &payload, raft, facts).await.map_err(|e| {
            tracing::warn!(error = %e, "raft peer sent a bad request: closing its connection");
            e.to_string()
        })?;
        write_frame(&mut stream, &answer)
            .await
            .map_err(|e| e.to_string())?;
    }
}

async fn answer(
    kind: FrameKind,
    payload: &[u8],
    raft: &Raft<RingexRaft>,
    facts: &NodeFacts,
) -> Result<Vec<u8>, PeerFrameError> {
    match kind {
        FrameKind::AppendEntries => {
            let answer = raft.append_entries(decode_payload(payload)?).await;
            encode_frame(kind, &answer)
        }
        FrameKind::Vote if facts.vote_hold.is_held() => {
            // Not granted, with this node's own vote: the candidate counts it as a no.
            let _: VoteRequest<u64> = decode_payload(payload)?;
            let vote = raft.metrics().borrow().vote;
            let answer: Result<_, RaftError<u64>> = Ok(VoteResponse::new(vote, None, false));
            encode_frame(kind, &answer)
        }
        FrameKind::Vote => {
            let answer = raft.vote(decode_payload(payload)?).await;
            encode_frame(kind, &answer)
        }
        FrameKind::InstallSnapshot => {
            let answer = raft.install_snapshot(decode_payload(payload)?).await;
            encode_frame(kind, &answer)
        }
        FrameKind::Admin => {
            let request: AdminRequest = decode_payload(payload)?;
            encode_frame(kind, &answer_admin(raft, facts, request).await)
        }
    }
}
