//! Devoirs à rendre (placeholder while the file is written).
