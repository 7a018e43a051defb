//! Import benchmark (written below).
fn main() {}
