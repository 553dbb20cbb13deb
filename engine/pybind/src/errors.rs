//! Exceptions of the bindings' own. Bad arguments raise Python's built-in `TypeError`,
//! `ValueError` and `OverflowError`; refused commands are `Rejected` events, not errors.

use pyo3::create_exception;
use pyo3::exceptions::{PyAssertionError, PyValueError};

create_exception!(
    ringex_engine,
    InvariantError,
    PyAssertionError,
    "The engine's state broke a structural invariant (a bug in the core, never bad input)."
);

create_exception!(
    ringex_engine,
    BookFeedError,
    PyValueError,
    "Events given to a BookFeed that the engine could not have produced in that order."
);
