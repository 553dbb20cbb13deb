//! openraft's network on the peer TCP transport: one connection per peer, opened when
//! first needed and dropped on any error (the next call reconnects), every call bounded
//! by openraft's time-to-live for it. Only loopback addresses are dialled.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

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

/// The connection to one peer.
pub struct PeerClient {
    target: u64,
    addr: String,
    source: Option<IpAddr>,
    conn: Option<TcpStream>,
}

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
            self.conn = None;
        }
        result
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
        let stream = self.conn.as_mut().expect("connected above");
        let network = |e: super::peer_frame::PeerFrameError| CallError::Network(e.to_string());
        write_frame(stream, frame).await.map_err(network)?;
        let (answer_kind, payload) = read_frame(stream).await.map_err(network)?;
        if answer_kind != kind {
            return Err(CallError::Network(format!(
                "asked {kind:?}, answered {answer_kind:?}"
            )));
        }
        decode_payload(&payload).map_err(network)
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
