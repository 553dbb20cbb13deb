//! Pieces shared by the protocol's integration tests.
#![allow(dead_code)]

pub mod fuzz;
pub mod samples;
pub mod wire_fields;
