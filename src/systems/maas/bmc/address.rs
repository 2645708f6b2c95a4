//! Normalized BMC addresses: the same host written two ways is one address.

use std::borrow::Cow;
use std::net::IpAddr;

/// `a.b.c.d` with four decimal octets ≤ 255 and no leading zeros: already canonical.
#[inline]
pub(super) fn is_canonical_ipv4(s: &[u8]) -> bool {
    // One pass: the octet being read (its value and digit count) and the dots so far.
    let (mut dots, mut value, mut digits) = (0, 0u32, 0);
    for &b in s {
        if b.is_ascii_digit() {
            if digits == 1 && value == 0 {
                return false; // a leading zero
            }
            value = value * 10 + u32::from(b - b'0');
            digits += 1;
            if digits > 3 {
                return false;
            }
        } else if b == b'.' && digits > 0 && value <= 255 && dots < 3 {
            dots += 1;
            (value, digits) = (0, 0);
        } else {
            return false;
        }
    }
    dots == 3 && digits > 0 && value <= 255
}

/// Digits and dots, not ending with a dot: already canonical (the fast path of almost every IPv4
/// BMC address). The IP parser takes such a text only when it is a canonical dotted quad (no
/// leading zeros, octets ≤ 255) and then writes it back as it was; any other such text is a host
/// name with no trailing dot to drop.
#[inline]
pub(super) fn is_digits_and_dots(s: &[u8]) -> bool {
    s.last().is_some_and(u8::is_ascii_digit) && s.iter().all(|b| b.is_ascii_digit() || *b == b'.')
}

/// A byte the URL parser leaves as it is in a path: a lower-case letter, a digit or `._~-/`.
#[inline]
pub(super) fn is_plain_path_byte(b: &u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'~' | b'-' | b'/')
}

/// A URL the URL parser would leave as it is (up to trailing slashes): a scheme that is not
/// one of the WHATWG special ones (those get host and port rewriting), then `://`, at most one
/// `@` in the authority, no port, and only lower-case letters, digits and `._~-/` — nothing to
/// lower-case, percent-encode or resolve (no `.` or `..` path segment). Byte loops, no string
/// searches: it runs for every URL-shaped address of the input.
#[inline]
pub(super) fn is_plain_url(s: &str) -> bool {
    let bytes = s.as_bytes();
    // A scheme holds no `:`, so the first `:` must start the `://`.
    let Some(colon) = bytes.iter().position(|b| *b == b':') else {
        return false;
    };
    let scheme = &bytes[..colon];
    let Some(rest) = bytes[colon..].strip_prefix(b"://") else {
        return false;
    };
    let scheme_ok = scheme.first().is_some_and(u8::is_ascii_lowercase)
        && scheme
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.'));
    let (authority, path) = rest.split_at(rest.iter().position(|b| *b == b'/').unwrap_or(rest.len()));
    let default_port = match scheme {
        _ if !scheme_ok => return false,
        b"http" | b"ws" => 80,
        b"https" | b"wss" => 443,
        b"ftp" => 21,
        b"file" => return false,
        _ => 0,
    };
    let path_ok =
        path.iter().all(is_plain_path_byte) && !path.split(|b| *b == b'/').any(|seg| seg == b"." || seg == b"..");
    if default_port != 0 {
        // A special scheme: the parser rewrites hosts and drops default ports, so only a
        // canonical IPv4 host with no port or another port in canonical form is already plain.
        let (host, port) = match authority.iter().position(|b| *b == b':') {
            Some(i) => (&authority[..i], Some(&authority[i + 1..])),
            None => (authority, None),
        };
        let port_ok = port.is_none_or(|port| {
            let canonical =
                !port.is_empty() && port[0] != b'0' && port.len() <= 5 && port.iter().all(u8::is_ascii_digit);
            // At most five digits: the number fits.
            canonical && {
                let number = port.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
                number <= 65535 && number != default_port
            }
        });
        return path_ok && port_ok && is_canonical_ipv4(host);
    }
    // Userinfo: at most one `@`, with something on both sides.
    let userinfo_ok = match authority.iter().position(|b| *b == b'@') {
        None => true,
        Some(at) => at > 0 && at + 1 < authority.len() && !authority[at + 1..].contains(&b'@'),
    };
    userinfo_ok && path_ok && authority.iter().all(|b| *b == b'@' || is_plain_path_byte(b))
}

/// Canonical form of a BMC address for MAAS005: trimmed, lower-cased; IP literals in canonical
/// form (IPv4-mapped IPv6 → IPv4, IPv6 compressed, brackets dropped); a trailing dot of a host
/// name dropped; URLs (`qemu+ssh://…`, `https://…`) normalized by the URL parser. A port is kept:
/// two BMCs on one host with different ports are different BMCs. Borrows when already canonical.
#[inline]
pub fn normalize_address(address: &str) -> Cow<'_, str> {
    let trimmed = trim(address);
    if is_digits_and_dots(trimmed.as_bytes()) {
        return Cow::Borrowed(trimmed);
    }
    if is_plain_url(trimmed) {
        return Cow::Borrowed(trimmed.trim_end_matches('/'));
    }
    let lower = trimmed.to_lowercase();
    if lower.contains("://") {
        if let Ok(url) = reqwest::Url::parse(&lower) {
            return Cow::Owned(url.to_string().trim_end_matches('/').to_string());
        }
        return Cow::Owned(lower);
    }
    let canonical_host = |host: &str| -> String {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => v6.to_string(),
            },
            Ok(ip) => ip.to_string(),
            Err(_) => bare.trim_end_matches('.').to_string(),
        }
    };
    // "[v6]:port", "v4:port" or "name:port"; a bare IPv6 has several colons and no port.
    if let Some((host, port)) = lower.rsplit_once(':') {
        let bracketed = host.starts_with('[') && host.ends_with(']');
        if (bracketed || !host.contains(':')) && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) {
            let host = canonical_host(host);
            return Cow::Owned(if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            });
        }
    }
    Cow::Owned(canonical_host(&lower))
}

/// `s.trim()`, without decoding characters at its ends when they are plainly not whitespace
/// (ASCII, not a space or control character): almost every address and user.
#[inline]
pub(super) fn trim(s: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|b| (0x21..0x7f).contains(b));
    if plain(s.as_bytes().first()) && plain(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}
