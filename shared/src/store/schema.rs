//! The table's shape, defined once. `template.yaml` declares the same table;
//! a test fails if the two drift apart, and tests create their tables on
//! the emulator from this definition.

use super::keys;

/// Attribute definitions: (name, type).
pub const ATTRIBUTES: &[(&str, &str)] = &[(keys::PK, "S"), (keys::SK, "S")];
/// Key schema: (name, HASH|RANGE).
pub const KEY_SCHEMA: &[(&str, &str)] = &[(keys::PK, "HASH"), (keys::SK, "RANGE")];
pub const BILLING_MODE: &str = "PAY_PER_REQUEST";
pub const TTL_ATTRIBUTE: &str = keys::EXPIRES_AT;
