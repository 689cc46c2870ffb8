//! Item Lists (v1-v3).

use super::Registry;

pub fn register(_registry: &mut Registry) {}
