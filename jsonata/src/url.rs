//! JavaScript's `encodeURI(Component)` and `decodeURI(Component)`.

/// Characters `encodeURIComponent` leaves alone.
fn unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.!~*'()".contains(c)
}

/// Characters `encodeURI` also leaves alone (and `decodeURI` does not decode).
fn reserved(c: char) -> bool {
    ";/?:@&=+$,#".contains(c)
}

/// Percent-encodes the UTF-8 bytes of every character outside the kept sets.
pub(crate) fn encode(s: &str, whole_uri: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for c in s.chars() {
        if unreserved(c) || (whole_uri && reserved(c)) {
            out.push(c);
        } else {
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Decodes percent-escapes as UTF-8; `None` for a malformed sequence.
pub(crate) fn decode(s: &str, whole_uri: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex = |i: usize| -> Option<u8> {
        let h = bytes.get(i + 1..i + 3)?;
        u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
    };
    while i < bytes.len() {
        if bytes[i] != b'%' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let first = hex(i)?;
        let len = match first {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => return None,
        };
        let mut seq = vec![first];
        for k in 1..len {
            let at = i + 3 * k;
            if bytes.get(at) != Some(&b'%') {
                return None;
            }
            let b = hex(at)?;
            if b & 0xc0 != 0x80 {
                return None;
            }
            seq.push(b);
        }
        let decoded = std::str::from_utf8(&seq).ok()?;
        let c = decoded.chars().next()?;
        if whole_uri && len == 1 && reserved(c) {
            out.extend_from_slice(&bytes[i..i + 3]);
        } else {
            out.extend_from_slice(&seq);
        }
        i += 3 * len;
    }
    String::from_utf8(out).ok()
}
