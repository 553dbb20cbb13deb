//! The FIX codec for Python: a per-connection framer that turns received bytes into typed
//! records, the encoder and the price conversion.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::fix_codec::{self, FrameError, MessageError, Refused};
use crate::fix_fast_path::{take_new_order, SessionHeader};
use crate::fix_groups::FixFields;
use crate::fix_orders_py::{FixOrderRun, PyFixOrders};
use crate::fix_price;

/// A message that parsed: its fields after BodyLength (without CheckSum) by tag, and
/// the entries of its repeating groups (each a dict by tag) by their NumInGroup tag.
#[pyclass(
    name = "FixMessage",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct FixMessage {
    fields: Py<PyDict>,
    groups: Py<PyDict>,
}

/// A whole message that is garbled (ignored, its sequence number unused) or invalid
/// (answered with a session-level Reject carrying `reason`).
#[pyclass(
    name = "FixRefused",
    module = "ringex_gateway._native",
    frozen,
    get_all
)]
pub struct FixRefused {
    garbled: bool,
    reason: u8,
    ref_tag: u32,
    text: &'static str,
    seq_num: u64,
    msg_type: String,
}

/// The stream cannot be split into messages any more: the session ends.
#[pyclass(name = "FixBroken", module = "ringex_gateway._native", frozen, get_all)]
pub struct FixBroken {
    text: &'static str,
}

/// Splits one connection's bytes into messages; holds at most one message's bytes.
#[pyclass(name = "FixFramer", module = "ringex_gateway._native", unsendable)]
pub struct FixFramer {
    buf: Vec<u8>,
    max_bytes: usize,
    broken: bool,
}

#[pymethods]
impl FixFramer {
    #[new]
    fn new(max_bytes: usize) -> FixFramer {
        FixFramer {
            buf: Vec::new(),
            max_bytes,
            broken: false,
        }
    }

    /// The records for the messages `data` completes, in order; a `FixBroken` is last,
    /// and nothing is returned after it. With `orders`, the leading messages that are
    /// in-sequence NewOrderSingles from `peer_comp_id` to `comp_id`, numbered from
    /// `next_in`, come as one `FixOrderRun` (their requests noted in `orders`) instead.
    #[pyo3(signature = (data, orders=None, comp_id="", peer_comp_id="", next_in=0))]
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        data: &[u8],
        mut orders: Option<PyRefMut<'_, PyFixOrders>>,
        comp_id: &str,
        peer_comp_id: &str,
        next_in: u64,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let mut out = Vec::new();
        if self.broken {
            return Ok(out);
        }
        self.buf.extend_from_slice(data);
        let header = SessionHeader {
            comp_id,
            peer_comp_id,
        };
        let mut run = (Vec::new(), 0u64);
        let mut at = 0;
        loop {
            match fix_codec::next_frame(&self.buf[at..], self.max_bytes) {
                Ok(Some(len)) => {
                    let parsed = fix_codec::parse(&self.buf[at..at + len]);
                    let fast = match (&parsed, orders.as_deref_mut()) {
                        (Ok(fields), Some(o)) if out.is_empty() => {
                            let seq = next_in + run.1;
                            take_new_order(fields, &header, seq, &mut o.orders, &mut run.0)
                        }
                        _ => false,
                    };
                    if fast {
                        run.1 += 1;
                    } else {
                        out.push(record(py, parsed)?);
                    }
                    at += len;
                }
                Ok(None) => break,
                Err(e) => {
                    out.push(broken(py, e)?);
                    self.broken = true;
                    self.buf = Vec::new();
                    break;
                }
            }
        }
        if !self.broken {
            self.buf.drain(..at);
        }
        if run.1 > 0 {
            let frames = PyBytes::new(py, &run.0).unbind();
            let taken = FixOrderRun {
                frames,
                count: run.1,
                next_in: next_in + run.1,
            };
            out.insert(0, Bound::new(py, taken)?.into_any());
        }
        Ok(out)
    }
}

fn broken(py: Python<'_>, e: FrameError) -> PyResult<Bound<'_, PyAny>> {
    Ok(Bound::new(py, FixBroken { text: e.text() })?.into_any())
}

fn record<'py>(
    py: Python<'py>,
    parsed: Result<FixFields<'_>, Refused>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match parsed {
        Ok(parsed) => {
            let groups = PyDict::new(py);
            for group in parsed.groups {
                let entries = group
                    .entries
                    .into_iter()
                    .map(|entry| fields_dict(py, entry))
                    .collect::<PyResult<Vec<_>>>()?;
                groups.set_item(group.count_tag, entries)?;
            }
            let message = FixMessage {
                fields: fields_dict(py, parsed.fields)?.unbind(),
                groups: groups.unbind(),
            };
            Bound::new(py, message)?.into_any()
        }
        Err(refused) => {
            let (garbled, reason, ref_tag, text) = match refused.error {
                MessageError::Garbled(text) => (true, 0, 0, text),
                MessageError::Invalid {
                    reason,
                    ref_tag,
                    text,
                } => (false, reason as u8, ref_tag, text),
            };
            let r = FixRefused {
                garbled,
                reason,
                ref_tag,
                text,
                seq_num: refused.seq_num,
                msg_type: refused.msg_type,
            };
            Bound::new(py, r)?.into_any()
        }
    })
}

fn fields_dict<'py>(py: Python<'py>, fields: Vec<(u32, &str)>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (tag, value) in fields {
        d.set_item(tag, value)?;
    }
    Ok(d)
}

/// One message: BeginString, BodyLength, `fields` (MsgType first), CheckSum.
#[pyfunction]
pub fn encode_fix<'py>(
    py: Python<'py>,
    fields: Vec<(u32, String)>,
) -> PyResult<Bound<'py, PyBytes>> {
    let borrowed: Vec<(u32, &str)> = fields.iter().map(|(t, v)| (*t, v.as_str())).collect();
    let mut out = Vec::with_capacity(64 + fields.len() * 16);
    fix_codec::encode(&borrowed, &mut out).map_err(|fix_codec::EncodeError::BadValue(tag)| {
        PyValueError::new_err(format!("tag {tag}: empty or not printable ASCII"))
    })?;
    Ok(PyBytes::new(py, &out))
}

/// A FIX decimal price in units of `10^-decimals`; ValueError saying why it is refused.
#[pyfunction]
pub fn price_to_units(text: &str, decimals: u32) -> PyResult<i64> {
    check_decimals(decimals)?;
    fix_price::price_to_units(text, decimals).map_err(|e| PyValueError::new_err(e.text()))
}

/// `units` of `10^-decimals` as a FIX decimal price.
#[pyfunction]
pub fn units_to_price(units: i64, decimals: u32) -> PyResult<String> {
    check_decimals(decimals)?;
    Ok(fix_price::units_to_price(units, decimals))
}

fn check_decimals(decimals: u32) -> PyResult<()> {
    if decimals > fix_price::DECIMALS_MAX {
        return Err(PyValueError::new_err("decimals above 18"));
    }
    Ok(())
}

/// Adds the FIX classes and functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<FixMessage>()?;
    m.add_class::<FixRefused>()?;
    m.add_class::<FixBroken>()?;
    m.add_class::<FixFramer>()?;
    m.add_function(wrap_pyfunction!(encode_fix, m)?)?;
    m.add_function(wrap_pyfunction!(price_to_units, m)?)?;
    m.add_function(wrap_pyfunction!(units_to_price, m)?)?;
    crate::fix_orders_py::register(m)
}
