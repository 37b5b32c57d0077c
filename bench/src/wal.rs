//! Counts SQLite commits by reading the write-ahead log: each committed
//! transaction ends with one frame whose "database size after commit" field
//! is not zero. Comparing two readings tells how many transactions committed
//! in between, without touching the database.
//!
//! WAL format (sqlite.org/fileformat.html#the_write_ahead_log): a 32-byte
//! header (page size at byte 8, salts at 16 and 20), then frames of a 24-byte
//! header (commit size at byte 4, salts at 8 and 12) and one page. Frames whose
//! salts differ from the header's are left over from before the log restarted.

use std::fs;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WalMark {
    salts: (u32, u32),
    commits: u64,
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads the commits currently in the log (a missing or empty log has none).
pub fn mark(wal: &Path) -> WalMark {
    let Ok(data) = fs::read(wal) else {
        return WalMark::default();
    };
    parse(&data)
}

fn parse(data: &[u8]) -> WalMark {
    if data.len() < 32 {
        return WalMark::default();
    }
    let page_size = match be32(data, 8) {
        1 => 65_536,
        n => n as usize,
    };
    let salts = (be32(data, 16), be32(data, 20));
    let frame = 24 + page_size;
    let mut commits = 0;
    let mut at = 32;
    while page_size >= 512 && at + frame <= data.len() {
        if (be32(data, at + 8), be32(data, at + 12)) != salts {
            break;
        }
        if be32(data, at + 4) != 0 {
            commits += 1;
        }
        at += frame;
    }
    WalMark { salts, commits }
}

/// Transactions committed between two readings. `exact` is false when the
/// log restarted in between (after a checkpoint): then the count is only the
/// commits since the restart, a lower bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Commits {
    pub count: u64,
    pub exact: bool,
}

pub fn commits_between(before: WalMark, after: WalMark) -> Commits {
    if before.salts == after.salts {
        Commits {
            count: after.commits.saturating_sub(before.commits),
            exact: true,
        }
    } else {
        Commits {
            count: after.commits,
            // Exact only if the restart came at the start of the first
            // transaction in between; we cannot tell, so say "at least".
            exact: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wal(frames: &[(u32, (u32, u32))]) -> Vec<u8> {
        let page = 512usize;
        let mut d = vec![0u8; 32];
        d[8..12].copy_from_slice(&(page as u32).to_be_bytes());
        d[16..20].copy_from_slice(&7u32.to_be_bytes());
        d[20..24].copy_from_slice(&9u32.to_be_bytes());
        for (commit, (s1, s2)) in frames {
            let mut f = vec![0u8; 24 + page];
            f[4..8].copy_from_slice(&commit.to_be_bytes());
            f[8..12].copy_from_slice(&s1.to_be_bytes());
            f[12..16].copy_from_slice(&s2.to_be_bytes());
            d.extend(f);
        }
        d
    }

    #[test]
    fn counts_commit_frames_with_current_salts() {
        let m = parse(&wal(&[(0, (7, 9)), (3, (7, 9)), (4, (7, 9)), (5, (1, 2))]));
        assert_eq!(m.commits, 2);
        let before = parse(&wal(&[(0, (7, 9)), (3, (7, 9))]));
        assert_eq!(
            commits_between(before, m),
            Commits {
                count: 1,
                exact: true
            }
        );
        assert_eq!(parse(&[]).commits, 0);
    }
}
