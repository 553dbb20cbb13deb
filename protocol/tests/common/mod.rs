//! Pieces shared by the protocol's integration tests.
#![allow(dead_code)]

pub mod fields;
pub mod samples;
