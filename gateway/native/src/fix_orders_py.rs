//! The FIX hot path for Python: one session's orders and pending requests
//! ([`FixOrders`]), the reports of a batch of core output, and the order runs the framer
//! hands over in place of single messages.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use ringex_core::Side;

use crate::fix_body;
use crate::fix_fast_path::{report_batch, ReportBatch, ReportTarget, SessionHeader};
use crate::fix_orders::NewRequest;
use crate::fix_reports::{self, ExecId, Fields, RequestIds};
use crate::fix_symbols::{FixSymbol, FixSymbols};

/// The account's orders as one FIX session reports them, and the session's requests
/// awaiting their answer.
#[pyclass(name = "FixOrders", module = "ringex_gateway._native", unsendable)]
pub struct PyFixOrders {
    pub orders: fix_reports::FixOrders,
    /// The buffers of the last batch of reports, reused by the next.
    batch: ReportBatch,
}

/// Order reports of one batch: the bytes to write, the records to store for resending,
/// how many messages (numbered from the `next_out` given), the highest account stream
/// number they report and the one reached, and how many input bytes were taken.
#[pyclass(
    name = "FixReportBatch",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct FixReportBatch {
    wire: Py<PyBytes>,
    records: Py<PyBytes>,
    count: u64,
    reported_seq: u64,
    stream_seq: u64,
    consumed: usize,
}

/// In-sequence NewOrderSingles taken whole: their NewOrder frames for the gateway core,
/// how many, and the next inbound MsgSeqNum after them.
#[pyclass(
    name = "FixOrderRun",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct FixOrderRun {
    pub frames: Py<PyBytes>,
    pub count: u64,
    pub next_in: u64,
}

fn side(code: u8) -> PyResult<Side> {
    Side::try_from(code).map_err(|_| PyValueError::new_err("side: 1 (buy) or 2 (sell)"))
}

#[pymethods]
impl PyFixOrders {
    /// `symbols`: (Symbol, instrument, price decimals) each.
    #[new]
    fn new(symbols: Vec<(String, u32, u32)>, max_orders: usize) -> PyResult<PyFixOrders> {
        if max_orders == 0 {
            return Err(PyValueError::new_err("max_orders at least 1"));
        }
        let symbols = symbols
            .into_iter()
            .map(|(name, instrument, decimals)| FixSymbol {
                name,
                instrument,
                decimals,
            })
            .collect();
        let symbols = FixSymbols::new(symbols)
            .ok_or_else(|| PyValueError::new_err("a symbol or an instrument appears twice"))?;
        Ok(PyFixOrders {
            orders: fix_reports::FixOrders::new(symbols, max_orders),
            batch: ReportBatch::default(),
        })
    }

    /// A NewOrderSingle for `instrument` was forwarded: its reject reports the
    /// instrument's symbol and `side`.
    fn expect_new(&mut self, client_order_id: u64, instrument: u32, side_code: u8) -> PyResult<()> {
        let side = side(side_code)?;
        let request = NewRequest { instrument, side };
        self.orders.pending.new.put(client_order_id, request);
        Ok(())
    }

    /// An OrderCancelRequest `cl_ord_id` for order `orig` was forwarded.
    fn expect_cancel(&mut self, orig: u64, cl_ord_id: String) {
        self.orders.pending.cancels.put(orig, cl_ord_id);
    }

    /// An OrderCancelReplaceRequest `client_order_id` of order `orig` was forwarded.
    fn expect_replace(&mut self, client_order_id: u64, orig: String) {
        self.orders.pending.replaces.put(client_order_id, orig);
    }

    /// An OrderMassCancelRequest was forwarded.
    fn expect_mass_cancel(&mut self, cl_ord_id: String, kind: String) {
        self.orders.pending.mass_cancel(cl_ord_id, kind);
    }

    /// The filled quantity of an order tracked, None if it is not.
    fn cum_qty(&self, client_order_id: u64) -> Option<u64> {
        self.orders.tracker.get(client_order_id).map(|o| o.cum_qty)
    }

    /// The body of an ExecutionReport with ExecType I (order status), None for an order
    /// not tracked.
    fn status_report(&self, client_order_id: u64, exec_id: &str) -> Option<Fields> {
        let order = self.orders.tracker.get(client_order_id)?;
        let mut body = Vec::new();
        let exec_id = ExecId::Text(exec_id);
        self.orders.execution(order, b'I', exec_id, None, &mut body);
        Some(fix_body::fields(&body))
    }

    /// The body of an OrderCancelReject.
    fn cancel_reject(
        &self,
        cl_ord_id: &str,
        orig: &str,
        response_to: char,
        reason: &str,
        text: &str,
    ) -> PyResult<Fields> {
        let response_to = u8::try_from(response_to)
            .map_err(|_| PyValueError::new_err("CxlRejResponseTo: one ASCII character"))?;
        let mut body = Vec::new();
        let ids = RequestIds { cl_ord_id, orig };
        self.orders
            .cancel_reject(ids, response_to, reason, text, &mut body);
        Ok(fix_body::fields(&body))
    }

    /// Turns the order responses of `frames` (the core's binary frames for the session)
    /// leading from byte `start` into FIX messages numbered from `next_out`, sent as `comp_id` to
    /// `peer_comp_id` at `sending_time`; responses numbered up to `reported_to` update
    /// the orders only, and nothing is encoded unless `sending`.
    #[allow(clippy::too_many_arguments)]
    fn reports(
        &mut self,
        py: Python<'_>,
        frames: &[u8],
        start: usize,
        comp_id: &str,
        peer_comp_id: &str,
        next_out: u64,
        sending_time: &str,
        reported_to: u64,
        sending: bool,
    ) -> PyResult<FixReportBatch> {
        let target = ReportTarget {
            header: SessionHeader {
                comp_id,
                peer_comp_id,
            },
            next_out,
            sending_time,
            reported_to,
            sending,
        };
        let frames = frames
            .get(start..)
            .ok_or_else(|| PyValueError::new_err("start beyond the frames"))?;
        let batch = &mut self.batch;
        report_batch(frames, &mut self.orders, &target, batch);
        Ok(FixReportBatch {
            wire: PyBytes::new(py, &batch.wire).unbind(),
            records: PyBytes::new(py, &batch.records).unbind(),
            count: batch.count,
            reported_seq: batch.reported_seq,
            stream_seq: batch.stream_seq,
            consumed: batch.consumed,
        })
    }
}

/// Adds the classes of the hot path to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFixOrders>()?;
    m.add_class::<FixReportBatch>()?;
    m.add_class::<FixOrderRun>()?;
    Ok(())
}
