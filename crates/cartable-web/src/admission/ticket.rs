//! The two cookies of the gate, signed with the server key:
//!
//! - `cartable_entree`, the ticket: a place in line, then an entry pass. It
//!   only names a ticket number; the server keeps the state. It is bound to
//!   the browser (its CSRF cookie) and to this process (a random epoch), so a
//!   ticket copied to another browser, forged, or kept from before a restart
//!   is simply not recognised: the visitor queues like anyone new.
//! - `cartable_appareil`, the device hint: set at each successful login,
//!   it says which school and which kind of user this browser belongs to,
//!   for fair share and priority on the next visit. Signed, so nobody can
//!   give themselves the teachers' lane.

use base64::Engine;
use cartable_app::tokens::same_digest;
use cartable_domain::{Role, SchoolId};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const TICKET_COOKIE: &str = "cartable_entree";
pub const DEVICE_COOKIE: &str = "cartable_appareil";

fn mac(key: &[u8; 32], parts: &[&str]) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    for p in parts {
        m.update(p.as_bytes());
        m.update(b"\x1f");
    }
    let full = m.finalize().into_bytes();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&full[..16])
}

/// `epoch.seq.mac`, the MAC covering the browser's CSRF seed.
pub fn ticket_value(key: &[u8; 32], epoch: u32, seq: u64, browser: &str) -> String {
    let (e, s) = (epoch.to_string(), seq.to_string());
    let m = mac(key, &["entree", &e, &s, browser]);
    format!("{e}.{s}.{m}")
}

/// The ticket number, if the cookie is genuine, of this process and of this browser.
pub fn read_ticket(key: &[u8; 32], epoch: u32, value: &str, browser: &str) -> Option<u64> {
    let mut it = value.splitn(3, '.');
    let (e, s, m) = (it.next()?, it.next()?, it.next()?);
    if e.parse::<u32>().ok()? != epoch {
        return None;
    }
    let seq = s.parse::<u64>().ok()?;
    same_digest(m, &mac(key, &["entree", e, s, browser])).then_some(seq)
}

/// `school.role.mac`.
pub fn device_value(key: &[u8; 32], school: SchoolId, role: Role) -> String {
    let s = school.0.to_string();
    let m = mac(key, &["appareil", &s, role.code()]);
    format!("{s}.{}.{m}", role.code())
}

pub fn read_device(key: &[u8; 32], value: &str) -> Option<(SchoolId, Role)> {
    let mut it = value.splitn(3, '.');
    let (s, r, m) = (it.next()?, it.next()?, it.next()?);
    let role = Role::from_code(r)?;
    let school = SchoolId(s.parse().ok()?);
    same_digest(m, &mac(key, &["appareil", s, r])).then_some((school, role))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    #[test]
    fn a_ticket_reads_back_only_in_its_browser_and_process() {
        let v = ticket_value(&KEY, 42, 1234, "browser-a");
        assert_eq!(read_ticket(&KEY, 42, &v, "browser-a"), Some(1234));
        assert_eq!(read_ticket(&KEY, 42, &v, "browser-b"), None);
        assert_eq!(read_ticket(&KEY, 43, &v, "browser-a"), None);
        assert_eq!(read_ticket(&[8; 32], 42, &v, "browser-a"), None);
        let forged = v.replace(".1234.", ".1.");
        assert_eq!(read_ticket(&KEY, 42, &forged, "browser-a"), None);
        assert_eq!(read_ticket(&KEY, 42, "garbage", "browser-a"), None);
    }

    #[test]
    fn a_device_hint_cannot_be_promoted() {
        let v = device_value(&KEY, SchoolId(9), Role::Parent);
        assert_eq!(read_device(&KEY, &v), Some((SchoolId(9), Role::Parent)));
        let promoted = v.replace(".parent.", ".teacher.");
        assert_eq!(read_device(&KEY, &promoted), None);
    }
}
