//! openraft's network on the peer TCP transport: one connection per peer, opened when
//! first needed and dropped on any error (the next call reconnects), every call bounded
//! by openraft's time-to-live for it. Only loopback addresses are dialled.
//!
//! Commit notices go ahead of their answers. openraft 0.9 keeps one call in flight per
//! follower, and each time the commit index moves it sends every idle follower an
//! AppendEntries with no entries to carry it. The entries proposed meanwhile then wait
//! behind that notice's round trip, so under load every other exchange with a follower
//! was a notice. A notice's answer changes nothing but openraft's record of when the
//! follower last answered (it moves no match index), so while the connection answered
//! within [`NOTICE_AHEAD_WINDOW`], a notice is written and answered Success at once;
//! its real answer is read before the next call's. Any answer but Success drops the
//! connection and fails that next call, which openraft retries, so a follower's refusal
//! (a higher vote, a lost log) is seen one exchange later, never lost. A follower that
//! stops answering is found as before: past the window, notices are real calls again.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::net::{TcpSocket, TcpStream};

use super::cluster_config::loopback_addr;
use super::peer_frame::{decode_payload, encode_frame, read_frame, write_frame, FrameKind};
use super::type_config::{ClusterNode, RingexRaft};

/// Makes a client per peer. Connections leave from `source`, this node's own
/// address, so a peer (and a firewall rule) sees which node is talking: on loopback
/// the kernel would otherwise send every node's traffic from 127.0.0.1.
#[derive(Clone, Copy, Debug, Default)]
pub struct PeerNetwork {
    pub source: Option<IpAddr>,
}

impl RaftNetworkFactory<RingexRaft> for PeerNetwork {
    type Network = PeerClient;

    async fn new_client(&mut self, target: u64, node: &ClusterNode) -> PeerClient {
        let mut client = PeerClient::new(target, &node.raft);
        client.source = self.source;
        client
    }
}

/// How recently the connection must have answered for a commit notice to go ahead of
/// its answer: well inside an election timeout, so a silent follower is noticed as soon
/// as it was before, within one heartbeat.
const NOTICE_AHEAD_WINDOW: Duration = Duration::from_millis(20);
/// Notices written and not yet answered, at most; one more is a real call.
const NOTICES_UNREAD_MAX: usize = 8;

/// The connection to one peer.
pub struct PeerClient {
    target: u64,
    addr: String,
    source: Option<IpAddr>,
    conn: Option<TcpStream>,
    /// When the connection last answered (`None`: not since it was opened).
    answered_at: Option<Instant>,
    /// Commit notices written whose answers are not read yet (see the module's notes).
    notices_unread: usize,
}

/// A follower's answer to an AppendEntries.
type AppendAnswer = Result<AppendEntriesResponse<u64>, RaftError<u64>>;

/// Why a call got no answer.
enum CallError {
    /// Could not connect: openraft backs off before trying again.
    Unreachable(std::io::Error),
    /// Connected, but the exchange failed or timed out.
    Network(String),
}

impl PeerClient {
    /// A client of the node `target` listening on `addr`; connects on the first call.
    pub fn new(target: u64, addr: &str) -> PeerClient {
        PeerClient {
            target,
            addr: addr.to_string(),
            source: None,
            conn: None,
            answered_at: None,
            notices_unread: 0,
        }
    }

    /// Sends one request and reads its answer (the peer's `Result`).
    pub async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &mut self,
        kind: FrameKind,
        request: &Req,
        ttl: Duration,
    ) -> Result<Resp, String> {
        self.exchange(kind, request, ttl)
            .await
            .map_err(|e| match e {
                CallError::Unreachable(e) => format!("unreachable: {e}"),
                CallError::Network(e) => e,
            })
    }

    async fn exchange<Req: Serialize, Resp: DeserializeOwned>(
        &mut self,
        kind: FrameKind,
        request: &Req,
        ttl: Duration,
    ) -> Result<Resp, CallError> {
        let frame = encode_frame(kind, request).map_err(|e| CallError::Network(e.to_string()))?;
        let result = tokio::time::timeout(ttl, self.round_trip(kind, &frame)).await;
        let result = match result {
            Ok(r) => r,
            Err(_) => Err(CallError::Network(format!("no answer within {ttl:?}"))),
        };
        if result.is_err() {
            // Whatever state the stream is in, it is not trusted again.
            self.drop_connection();
        }
        result
    }

    fn drop_connection(&mut self) {
        self.conn = None;
        self.answered_at = None;
        self.notices_unread = 0;
    }

    /// Writes a commit notice without waiting for its answer, when the connection
    /// answered recently; false when it must be a real call instead.
    async fn notice_ahead(
        &mut self,
        rpc: &AppendEntriesRequest<RingexRaft>,
        ttl: Duration,
    ) -> bool {
        assert!(
            rpc.entries.is_empty(),
            "only a notice without entries goes ahead"
        );
        let recent = self
            .answered_at
            .is_some_and(|at| at.elapsed() < NOTICE_AHEAD_WINDOW);
        if !recent || self.notices_unread >= NOTICES_UNREAD_MAX {
            return false;
        }
        let (Ok(frame), Some(stream)) = (
            encode_frame(FrameKind::AppendEntries, rpc),
            self.conn.as_mut(),
        ) else {
            return false;
        };
        match tokio::time::timeout(ttl, write_frame(stream, &frame)).await {
            Ok(Ok(())) => {
                self.notices_unread += 1;
                true
            }
            _ => {
                self.drop_connection();
                false
            }
        }
    }

    /// Reads the answers of the notices sent ahead; each must be Success.
    async fn read_notice_answers(&mut self) -> Result<(), CallError> {
        while self.notices_unread > 0 {
            let answer: AppendAnswer = self.read_answer(FrameKind::AppendEntries).await?;
            if !matches!(answer, Ok(AppendEntriesResponse::Success)) {
                return Err(CallError::Network(format!(
                    "a commit notice was answered {answer:?}: the exchange starts over"
                )));
            }
            self.notices_unread -= 1;
        }
        Ok(())
    }

    async fn read_answer<Resp: DeserializeOwned>(
        &mut self,
        kind: FrameKind,
    ) -> Result<Resp, CallError> {
        let stream = self.conn.as_mut().expect("read on an open connection");
        let network = |e: super::peer_frame::PeerFrameError| CallError::Network(e.to_string());
        let (answer_kind, payload) = read_frame(stream).await.map_err(network)?;
        if answer_kind != kind {
            return Err(CallError::Network(format!(
                "asked {kind:?}, answered {answer_kind:?}"
            )));
        }
        self.answered_at = Some(Instant::now());
        decode_payload(&payload).map_err(network)
    }

    async fn round_trip<Resp: DeserializeOwned>(
        &mut self,
        kind: FrameKind,
        frame: &[u8],
    ) -> Result<Resp, CallError> {
        if self.conn.is_none() {
            let addr = loopback_addr(&self.addr).map_err(|e| {
                CallError::Unreachable(std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
            })?;
            let stream = connect_from(self.source, addr)
                .await
                .map_err(CallError::Unreachable)?;
            stream.set_nodelay(true).map_err(CallError::Unreachable)?;
            self.conn = Some(stream);
        }
        self.read_notice_answers().await?;
        let stream = self.conn.as_mut().expect("connected above");
        write_frame(stream, frame)
            .await
            .map_err(|e| CallError::Network(e.to_string()))?;
        self.read_answer(kind).await
    }

    async fn rpc<Req: Serialize, T: DeserializeOwned, E>(
        &mut self,
        kind: FrameKind,
        request: &Req,
        option: &RPCOption,
    ) -> Result<T, RPCError<u64, ClusterNode, E>>
    where
        E: std::error::Error + DeserializeOwned,
    {
        match self
            .exchange::<Req, Result<T, E>>(kind, request, option.hard_ttl())
            .await
        {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(remote)) => Err(RPCError::RemoteError(RemoteError::new(self.target, remote))),
            Err(CallError::Unreachable(e)) => Err(RPCError::Unreachable(Unreachable::new(&e))),
            Err(CallError::Network(e)) => Err(RPCError::Network(NetworkError::new(
                &std::io::Error::other(e),
            ))),
        }
    }
}

impl RaftNetwork<RingexRaft> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<RingexRaft>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RPCError<u64, ClusterNode, RaftError<u64>>> {
        if rpc.entries.is_empty() && self.notice_ahead(&rpc, option.hard_ttl()).await {
            return Ok(AppendEntriesResponse::Success);
        }
        self.rpc(FrameKind::AppendEntries, &rpc, &option).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<RingexRaft>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<u64>,
        RPCError<u64, ClusterNode, RaftError<u64, InstallSnapshotError>>,
    > {
        self.rpc(FrameKind::InstallSnapshot, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<u64>,
        option: RPCOption,
    ) -> Result<VoteResponse<u64>, RPCError<u64, ClusterNode, RaftError<u64>>> {
        self.rpc(FrameKind::Vote, &rpc, &option).await
    }
}

/// Connects to `addr`, from `source` (any port) when given and of the same family.
async fn connect_from(source: Option<IpAddr>, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = source.filter(|ip| ip.is_ipv4() == addr.is_ipv4()) {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    socket.connect(addr).await
}
