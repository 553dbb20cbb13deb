//! The order-entry path: a session's order or admin message checked (role, rate,
//! engine standing, duplicate id), then stamped with its account and forwarded to the
//! engine, or refused at once; and the refusal messages every path shares.

use ringex_core::{Command, CommandKind, MassCancel, RejectReason};
use ringex_protocol::client::{is_admin, stamp, ServerMessage, Stamp};
use ringex_protocol::session::{GatewayRejectReason, Role};

use crate::acked_ids;
use crate::engine_link_state::Pending;
use crate::gateway::Core;

impl Core {
    /// Forwards an order or admin message, or refuses it at once. `id` names it in the
    /// answer: the client order id, or an admin message's request id.
    pub(crate) fn order_entry(
        &mut self,
        sid: u64,
        body: &[u8],
        cmd: &Command,
        id: u64,
        now_ns: u64,
    ) {
        let s = self.sessions.get_mut(sid).expect("session exists");
        let refused = if s.role == Role::ReadOnly || (is_admin(body[0]) && s.role != Role::Admin) {
            Some(GatewayRejectReason::NotPermitted)
        } else if !s.bucket.take(now_ns) {
            Some(GatewayRejectReason::RateLimited)
        } else {
            self.link.refusal(self.to_engine.is_up())
        };
        let account = s.account;
        let refused = refused.map(|r| r as u8).or_else(|| {
            acked_ids::new_id(cmd)
                .filter(|&id| self.acked.contains(account, id))
                .map(|_| RejectReason::DuplicateClientOrderId as u8)
        });
        if let Some(reason) = refused {
            self.stats.reject(reason);
            let unsequenced = Stamp {
                seq: 0,
                timestamp_ns: self.link.wall_ns(now_ns),
            };
            let message = reject(unsequenced, cmd.kind(), reason, id);
            self.sessions.send(sid, &message);
            return;
        }
        let pending = Pending {
            arrival_ns: now_ns,
            sid,
            account,
            kind: cmd.kind(),
            client_order_id: id,
        };
        let (correlation, out) = self.to_engine.open_input();
        self.link
            .write_input(out, correlation, pending, |b| stamp(body, account, b));
        self.stats.engine_inputs += 1;
    }

    pub(crate) fn mass_cancel_all(&mut self, account: u32) {
        let command = Command::MassCancel(MassCancel {
            account,
            instrument: None,
        });
        self.to_engine.command(&command);
        self.stats.engine_inputs += 1;
    }

    /// Answers an order the engine will never execute (or did not answer in time).
    pub(crate) fn engine_unavailable(&mut self, p: Pending, now_ns: u64) {
        let reason = GatewayRejectReason::EngineUnavailable as u8;
        self.stats.reject(reason);
        let unsequenced = Stamp {
            seq: 0,
            timestamp_ns: self.link.wall_ns(now_ns),
        };
        let message = reject(unsequenced, p.kind, reason, p.client_order_id);
        self.sessions.send(p.sid, &message);
    }
}

pub(crate) fn is_admin_kind(kind: CommandKind) -> bool {
    matches!(kind, CommandKind::EndOfDay | CommandKind::SetHalted)
}

/// A refused command as the client sees it: CancelRejected for a cancel, AdminResult
/// (`client_order_id` is then the request id) for an admin command, else Rejected.
pub(crate) fn reject(
    stamp: Stamp,
    command: CommandKind,
    reason: u8,
    client_order_id: u64,
) -> ServerMessage {
    if is_admin_kind(command) {
        ServerMessage::AdminResult {
            timestamp_ns: stamp.timestamp_ns,
            request_id: client_order_id,
            command,
            reason,
        }
    } else if command == CommandKind::Cancel {
        ServerMessage::CancelRejected {
            stamp,
            client_order_id,
            reason,
        }
    } else {
        ServerMessage::Rejected {
            stamp,
            command,
            reason,
            client_order_id,
        }
    }
}
