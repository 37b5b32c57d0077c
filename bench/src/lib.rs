//! Helpers shared by Cartable's benchmarks: a realistic school to seed, CPU
//! accounting read from `/proc`, a counter of SQLite commits, and summary
//! statistics. The benchmarks themselves are the binaries in `src/bin/`.

pub mod cpu;
pub mod drill;
pub mod school;
pub mod stats;
pub mod wal;
