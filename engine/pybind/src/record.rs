//! `py_record!`: an immutable Python class over plain Rust fields, with a read-only
//! attribute per field, a `repr` like a dataclass's, and value equality where the fields
//! allow it. Commands, events and state views are all records.

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::enums::CoreEnum;

/// A field value as the Python object its attribute returns.
pub trait PyField {
    fn to_field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>>;
}

macro_rules! plain_field {
    ($($t:ty),+) => {$(
        impl PyField for $t {
            fn to_field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                Ok(self.into_pyobject(py)?.to_owned().into_any())
            }
        }
    )+};
}
plain_field!(bool, u32, u64, i64, u128);

impl<E: CoreEnum> PyField for E {
    fn to_field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_py(py)
    }
}

impl<T: PyField> PyField for Option<T> {
    fn to_field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Some(value) => value.to_field(py),
            None => Ok(py.None().into_bound(py)),
        }
    }
}

impl<A: PyField, B: PyField> PyField for (A, B) {
    fn to_field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let items = [self.0.to_field(py)?, self.1.to_field(py)?];
        Ok(PyTuple::new(py, items)?.into_any())
    }
}

/// Tuples built once, when a snapshot is taken: every read returns the same objects.
impl PyField for Py<PyTuple> {
    fn to_field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.bind(py).clone().into_any())
    }
}

/// `Name(field=repr, ...)` from the fields' Python values.
pub fn record_repr(
    py: Python<'_>,
    name: &str,
    fields: &[(&str, &dyn PyField)],
) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for (field, value) in fields {
        parts.push(format!("{field}={}", value.to_field(py)?.repr()?));
    }
    Ok(format!("{name}({})", parts.join(", ")))
}

/// Defines a frozen Python class from a struct of plain fields, written
/// `value /// docs #[derive(..)] pub struct Name { fields }` (compared and hashed by value;
/// derive `PartialEq, Eq, Hash`) or `snapshot ...` (compared by identity). Items after a
/// `;` are added to the class's `#[pymethods]`.
macro_rules! py_record {
    // Equality is written out rather than asked of `#[pyclass(eq, hash)]`: pyo3's generated
    // comparison does not resolve its own names when expanded from inside a macro_rules.
    (value $(#[$meta:meta])* pub struct $name:ident $($rest:tt)*) => {
        $crate::record::py_record!(
            @emit [
            fn __eq__(&self, other: PyRef<'_, $name>) -> bool {
                *self == *other
            }

            fn __hash__(&self) -> u64 {
                use std::hash::{Hash, Hasher};
                // Unkeyed SipHash: equal records hash equally in every process.
                let mut hasher = std::hash::DefaultHasher::new();
                self.hash(&mut hasher);
                hasher.finish()
            }
            ] $(#[$meta])* pub struct $name $($rest)*
        );
    };
    (snapshot $($rest:tt)*) => {
        $crate::record::py_record!(@emit [] $($rest)*);
    };
    (
        @emit [$($methods:tt)*]
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$fmeta:meta])* pub $field:ident : $ty:ty),* $(,)?
        }
        $(; $($extra:tt)*)?
    ) => {
        $(#[$meta])*
        #[pyclass(frozen, module = "ringex_engine")]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty),*
        }

        #[pymethods]
        impl $name {
            $(
                $(#[$fmeta])*
                #[getter]
                fn $field<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                    $crate::record::PyField::to_field(&self.$field, py)
                }
            )*

            fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
                $crate::record::record_repr(
                    py,
                    stringify!($name),
                    &[$((stringify!($field), &self.$field as &dyn $crate::record::PyField)),*],
                )
            }

            $($methods)*
            $($($extra)*)?
        }
    };
}
pub(crate) use py_record;
