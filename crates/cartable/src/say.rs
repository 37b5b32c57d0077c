//! Lines for the person at the terminal, on stdout.
//!
//! `println!` panics when stdout is closed (`cartable admin reset-password … | head -1`, a log pipe
//! that died): a Rust panic and exit 101 after the work was done, or, for the server, a crash on its
//! "stopped" line. `say!` returns the write's `io::Result` instead: a command ends with a French error
//! ([`io_error_fr`]), the server's own lines ignore it and it keeps serving.

/// `writeln!` to stdout, returning `std::io::Result<()>`.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}
pub(crate) use say;

/// An I/O error in words: a closed pipe is said plainly, in French.
pub fn io_error_fr(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        "la sortie a été fermée avant la fin (tube refermé, par exemple `| head`) : la commande s'est arrêtée là ; ce qu'elle avait déjà enregistré le reste".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_said_in_french() {
        let e = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(io_error_fr(&e).starts_with("la sortie a été fermée"));
        let e = std::io::Error::other("disque plein");
        assert_eq!(io_error_fr(&e), "disque plein");
    }
}
