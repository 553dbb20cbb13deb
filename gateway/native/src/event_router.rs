//! Engine events routed to the accounts' streams as server messages: an order's
//! answers and fills to its account, reference data to every account.

use ringex_core::{CommandKind, Event};
use ringex_protocol::client::{ServerMessage, Stamp};
use ringex_protocol::command_codec::ALL_INSTRUMENTS;
use ringex_protocol::session::{Liquidity, CANCEL_REASON_EXPIRED};

use crate::gateway::Core;
use crate::order_entry::reject;

impl Core {
    fn push(&mut self, account: u32, build: impl FnOnce(u64) -> ServerMessage) {
        self.streams.push(account, build);
        self.sessions.mark_account(account);
    }

    pub(crate) fn route(&mut self, event: &Event, st: Stamp) {
        let at = |seq| Stamp { seq, ..st };
        match *event {
            Event::Accepted {
                order_id,
                account,
                instrument,
                client_order_id,
                side,
                order_type,
                time_in_force,
                post_only,
                price,
                qty,
            } => {
                let s = |seq| ServerMessage::Accepted {
                    stamp: at(seq),
                    client_order_id,
                    order_id,
                    instrument,
                    side,
                    order_type,
                    time_in_force,
                    post_only,
                    price,
                    qty,
                };
                self.push(account, s);
                self.acked.insert(account, client_order_id);
            }
            Event::Rejected {
                command,
                account,
                client_order_id,
                reason,
            } => {
                if matches!(
                    command,
                    CommandKind::NewOrder
                        | CommandKind::Cancel
                        | CommandKind::Replace
                        | CommandKind::MassCancel
                ) {
                    self.stats.reject(reason as u8);
                    self.push(account, |seq| {
                        reject(at(seq), command, reason as u8, client_order_id)
                    });
                }
            }
            Event::Trade(t) => {
                let fill = |seq, coid, side, leaves, liquidity| ServerMessage::Executed {
                    stamp: at(seq),
                    client_order_id: coid,
                    match_id: t.match_id,
                    instrument: t.instrument,
                    side,
                    price: t.price,
                    qty: t.qty,
                    leaves,
                    liquidity,
                };
                let maker_side = t.aggressor_side.opposite();
                self.push(t.maker_account, |seq| {
                    fill(
                        seq,
                        t.maker_client_order_id,
                        maker_side,
                        t.maker_leaves,
                        Liquidity::Maker,
                    )
                });
                self.push(t.taker_account, |seq| {
                    fill(
                        seq,
                        t.taker_client_order_id,
                        t.aggressor_side,
                        t.taker_leaves,
                        Liquidity::Taker,
                    )
                });
            }
            Event::Cancelled {
                order_id: _,
                account,
                instrument,
                client_order_id,
                qty,
                reason,
            } => {
                self.cancelled(account, client_order_id, instrument, qty, reason as u8, st);
            }
            Event::Expired {
                order_id: _,
                account,
                instrument,
                client_order_id,
                qty,
            } => {
                let reason = CANCEL_REASON_EXPIRED;
                self.cancelled(account, client_order_id, instrument, qty, reason, st);
            }
            Event::Replaced {
                order_id: _,
                account,
                instrument,
                orig_client_order_id,
                client_order_id,
                price,
                qty,
                priority_kept,
            } => {
                self.push(account, |seq| ServerMessage::Replaced {
                    stamp: at(seq),
                    orig_client_order_id,
                    client_order_id,
                    instrument,
                    price,
                    qty,
                    priority_kept,
                });
                self.acked.insert(account, client_order_id);
            }
            Event::MassCancelled {
                account,
                instrument,
                count,
            } => {
                self.push(account, |seq| ServerMessage::MassCancelled {
                    stamp: at(seq),
                    instrument: instrument.unwrap_or(ALL_INSTRUMENTS),
                    count,
                });
            }
            Event::DayEnded { .. } => self.acked.clear(),
            Event::InstrumentAdded { .. }
            | Event::AccountAdded { .. }
            | Event::HaltChanged { .. } => self.reference_data(event, st),
        }
    }

    /// A listing, halt or resume goes into the stream of every account the engine
    /// opened, so a session that reconnects with replay misses none.
    fn reference_data(&mut self, event: &Event, st: Stamp) {
        let Some((instrument, update)) = self.instruments.event(event) else {
            return;
        };
        let Some(definition) = self.instruments.definition(instrument, st, update) else {
            return;
        };
        for account in self.instruments.accounts() {
            self.push(account, |seq| {
                let mut message = definition;
                if let ServerMessage::InstrumentDefinition { stamp, .. } = &mut message {
                    stamp.seq = seq;
                }
                message
            });
        }
    }

    fn cancelled(
        &mut self,
        account: u32,
        coid: u64,
        instrument: u32,
        qty: u64,
        reason: u8,
        st: Stamp,
    ) {
        self.push(account, |seq| ServerMessage::Cancelled {
            stamp: Stamp { seq, ..st },
            client_order_id: coid,
            instrument,
            qty,
            reason,
        });
    }
}
