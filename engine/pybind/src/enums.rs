//! The core's enums as the Python `IntEnum`s of `ringex_engine.enums`, both ways.
//!
//! The Python classes are the public face; the numeric values are the core's (they go on
//! the wire). On first use each class is checked against the core's variants, so the two
//! definitions can never drift apart silently.

use pyo3::exceptions::{PyImportError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyInt, PyType};
use ringex_core::market_data::{LevelAction, RemoveReason};
use ringex_core::{CancelReason, CommandKind, OrderType, RejectReason, Side, TimeInForce};

/// A fieldless core enum with a Python `IntEnum` twin in `ringex_engine.enums`.
pub trait CoreEnum: Copy + Sized + 'static {
    /// Name of the Python class.
    const CLASS: &'static str;
    /// Every variant with its Python member name.
    const VARIANTS: &'static [(Self, &'static str)];

    fn code(self) -> u8;

    /// Python members indexed by numeric code, filled on first use.
    fn members() -> &'static PyOnceLock<Vec<Option<Py<PyAny>>>>;

    fn from_code(code: i64) -> Option<Self> {
        Self::VARIANTS
            .iter()
            .map(|&(variant, _)| variant)
            .find(|variant| i64::from(variant.code()) == code)
    }

    /// The Python member for this value.
    fn to_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        let members = Self::members().get_or_try_init(py, || load_members::<Self>(py))?;
        let member = members[usize::from(self.code())]
            .as_ref()
            .expect("every variant was loaded");
        Ok(member.bind(py).clone())
    }
}

/// Looks up the Python class and checks it has exactly the core's members and values.
fn load_members<E: CoreEnum>(py: Python<'_>) -> PyResult<Vec<Option<Py<PyAny>>>> {
    let class = py
        .import("ringex_engine.enums")?
        .getattr(E::CLASS)?
        .cast_into::<PyType>()?;
    if class.len()? != E::VARIANTS.len() {
        return Err(PyImportError::new_err(format!(
            "ringex_engine.enums.{} does not match the core: expected {} members",
            E::CLASS,
            E::VARIANTS.len()
        )));
    }
    let size = E::VARIANTS.iter().map(|(v, _)| v.code()).max().unwrap_or(0);
    let mut members: Vec<Option<Py<PyAny>>> = (0..=size).map(|_| None).collect();
    for &(variant, name) in E::VARIANTS {
        let member = class.getattr(name)?;
        if member.extract::<i64>()? != i64::from(variant.code()) {
            return Err(PyImportError::new_err(format!(
                "ringex_engine.enums.{}.{name} does not have the core's value {}",
                E::CLASS,
                variant.code()
            )));
        }
        members[usize::from(variant.code())] = Some(member.unbind());
    }
    Ok(members)
}

/// An argument that must be one of a core enum's values: its `IntEnum` member or the
/// plain int. Anything else raises `TypeError`; an int that is no member, `ValueError`.
#[derive(Clone, Copy)]
pub struct EnumArg<E>(pub E);

impl<'a, 'py, E: CoreEnum> FromPyObject<'a, 'py> for EnumArg<E> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        // bool is an int subclass, but `side=True` is a mistake, not BUY.
        let int = obj
            .cast::<PyInt>()
            .ok()
            .filter(|_| !obj.is_instance_of::<PyBool>());
        let Some(int) = int else {
            return Err(PyTypeError::new_err(format!(
                "expected a {} (an int), got {}",
                E::CLASS,
                obj.get_type().name()?
            )));
        };
        // Any int too large for i64 is no member either.
        let code = int.extract::<i64>().unwrap_or(i64::MAX);
        E::from_code(code).map(EnumArg).ok_or_else(|| {
            let choices: Vec<String> = E::VARIANTS
                .iter()
                .map(|(v, name)| format!("{name}={}", v.code()))
                .collect();
            PyValueError::new_err(format!(
                "{} is not a valid {}; expected one of {}",
                int.to_owned(),
                E::CLASS,
                choices.join(", ")
            ))
        })
    }
}

macro_rules! core_enum {
    ($t:ident, [$($variant:ident => $name:literal),+ $(,)?]) => {
        impl CoreEnum for $t {
            const CLASS: &'static str = stringify!($t);
            const VARIANTS: &'static [(Self, &'static str)] = &[$(($t::$variant, $name)),+];

            fn code(self) -> u8 {
                self as u8
            }

            fn members() -> &'static PyOnceLock<Vec<Option<Py<PyAny>>>> {
                static MEMBERS: PyOnceLock<Vec<Option<Py<PyAny>>>> = PyOnceLock::new();
                &MEMBERS
            }
        }
    };
}

core_enum!(Side, [Buy => "BUY", Sell => "SELL"]);
core_enum!(OrderType, [Limit => "LIMIT", Market => "MARKET"]);
core_enum!(TimeInForce, [Gtc => "GTC", Ioc => "IOC", Fok => "FOK", Day => "DAY"]);
core_enum!(CancelReason, [
    Requested => "REQUESTED",
    MassCancel => "MASS_CANCEL",
    ImmediateRemainder => "IMMEDIATE_REMAINDER",
    FillOrKill => "FILL_OR_KILL",
    NoLiquidity => "NO_LIQUIDITY",
]);
core_enum!(CommandKind, [
    NewOrder => "NEW_ORDER",
    Cancel => "CANCEL",
    Replace => "REPLACE",
    MassCancel => "MASS_CANCEL",
    EndOfDay => "END_OF_DAY",
    AddInstrument => "ADD_INSTRUMENT",
    AddAccount => "ADD_ACCOUNT",
    SetHalted => "SET_HALTED",
]);
core_enum!(RejectReason, [
    UnknownInstrument => "UNKNOWN_INSTRUMENT",
    UnknownAccount => "UNKNOWN_ACCOUNT",
    InvalidQuantity => "INVALID_QUANTITY",
    InvalidPrice => "INVALID_PRICE",
    PriceNotOnTick => "PRICE_NOT_ON_TICK",
    QtyNotOnLot => "QTY_NOT_ON_LOT",
    InvalidOrderType => "INVALID_ORDER_TYPE",
    DuplicateClientOrderId => "DUPLICATE_CLIENT_ORDER_ID",
    UnknownOrder => "UNKNOWN_ORDER",
    TooLateToCancel => "TOO_LATE_TO_CANCEL",
    MaxOrderQty => "MAX_ORDER_QTY",
    MaxOrderNotional => "MAX_ORDER_NOTIONAL",
    PriceBand => "PRICE_BAND",
    MaxOpenOrders => "MAX_OPEN_ORDERS",
    PostOnlyWouldCross => "POST_ONLY_WOULD_CROSS",
    InstrumentHalted => "INSTRUMENT_HALTED",
    BookFull => "BOOK_FULL",
    DailyOrderLimit => "DAILY_ORDER_LIMIT",
    DuplicateInstrument => "DUPLICATE_INSTRUMENT",
    DuplicateAccount => "DUPLICATE_ACCOUNT",
    InvalidInstrument => "INVALID_INSTRUMENT",
    InvalidAccount => "INVALID_ACCOUNT",
    SequenceGap => "SEQUENCE_GAP",
    TimestampRegressed => "TIMESTAMP_REGRESSED",
    PositionLimit => "POSITION_LIMIT",
]);
core_enum!(RemoveReason, [Filled => "FILLED", Cancelled => "CANCELLED", Expired => "EXPIRED"]);
core_enum!(LevelAction, [Add => "ADD", Change => "CHANGE", Delete => "DELETE"]);
