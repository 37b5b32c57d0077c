//! The server's CPU time and peak memory, read from `/proc/PID` of another
//! process (the `cartable serve` under test). `/proc/PID/stat` counts the CPU
//! of every thread the process ever had, ended ones included, in clock ticks.

use std::process::Command;

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when unknown).
pub fn clock_ticks_per_s() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// utime + stime of the process, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_ticks(&stat)
}

/// Fields 14 and 15 of `/proc/PID/stat`, counted after the command name
/// (which is in parentheses and may hold spaces).
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // after ")": state(3) ppid(4) ... utime is field 14, i.e. index 11 here.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A field of `/proc/PID/status` in kB (`VmHWM`, `VmRSS`), as MiB.
pub fn status_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_mib(&status, field)
}

pub fn status_field_mib(status: &str, field: &str) -> Option<f64> {
    let line = status
        .lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?;
    let kb: f64 = line[field.len() + 1..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// CPU time of this process's threads whose name starts with `prefix`, in
/// nanoseconds (`schedstat`), e.g. the Argon2 threads of an in-process pool.
pub fn own_threads_cpu_ns(prefix: &str) -> u64 {
    threads_cpu_ns(None, prefix)
}

/// CPU time (ns, from each thread's `schedstat`) of the threads of process
/// `pid` (this one with `None`) whose name starts with `prefix` (all with
/// ""). Nanoseconds, where `/proc/PID/stat` counts 10 ms ticks. Threads that
/// ended in between are not counted.
pub fn threads_cpu_ns(pid: Option<u32>, prefix: &str) -> u64 {
    let dir = match pid {
        Some(p) => format!("/proc/{p}/task"),
        None => "/proc/self/task".to_string(),
    };
    let Ok(tasks) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for task in tasks.flatten() {
        let dir = task.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.starts_with(prefix) {
            continue;
        }
        total += std::fs::read_to_string(dir.join("schedstat"))
            .ok()
            .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_and_status() {
        let stat = "4242 (cartable serve) S 1 4242 4242 0 -1 4194560 2911 0 0 0 150 37 0 0 20 0 9 0 1234 0 0";
        assert_eq!(parse_stat_ticks(stat), Some(187));
        let status = "Name:\tcartable\nVmPeak:\t  900 kB\nVmHWM:\t   204800 kB\nVmRSS:\t 1024 kB\n";
        assert_eq!(status_field_mib(status, "VmHWM"), Some(200.0));
        assert_eq!(status_field_mib(status, "VmRSS"), Some(1.0));
        assert_eq!(status_field_mib(status, "Vm"), None);
        // This process exists.
        assert!(cpu_ticks(std::process::id()).is_some());
        assert!(clock_ticks_per_s() > 0.0);
    }
}
