//! Regular expression literals: JavaScript syntax translated to the `regex` crate's.
//!
//! JavaScript's `\d`, `\w` and `\b` are ASCII-only, while the `regex` crate's are Unicode;
//! they are spelled out as ASCII classes. Escaped punctuation the crate does not accept
//! (`\/`) is unescaped, and `\uXXXX` becomes `\x{XXXX}`.

use crate::ast::RegexLit;
use crate::error::Error;

/// Compiles a regex literal with its flags (`i`, `m`).
pub(crate) fn compile(pattern: &str, flags: &str) -> Result<RegexLit, Error> {
    let translated = translate(pattern);
    let regex = regex::RegexBuilder::new(&translated)
        .case_insensitive(flags.contains('i'))
        .multi_line(flags.contains('m'))
        .build()
        .map_err(|_| {
            Error::with_message("S0303", format!("Invalid regular expression: /{pattern}/"))
        })?;
    Ok(RegexLit {
        regex,
        source: pattern.to_string(),
    })
}

fn translate(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            let e = chars[i + 1];
            i += 2;
            match e {
                'd' => out.push_str(if in_class { "0-9" } else { "[0-9]" }),
                'D' => out.push_str("[^0-9]"),
                'w' => out.push_str(if in_class {
                    "0-9A-Za-z_"
                } else {
                    "[0-9A-Za-z_]"
                }),
                'W' => out.push_str("[^0-9A-Za-z_]"),
                'b' if !in_class => out.push_str("(?-u:\\b)"),
                'B' if !in_class => out.push_str("(?-u:\\B)"),
                'b' => out.push_str("\\x08"),
                'u' if i + 4 <= chars.len()
                    && chars[i..i + 4].iter().all(char::is_ascii_hexdigit) =>
                {
                    out.push_str("\\x{");
                    out.extend(&chars[i..i + 4]);
                    out.push('}');
                    i += 4;
                }
                'c' if i < chars.len() && chars[i].is_ascii_alphabetic() => {
                    out.push_str(&format!("\\x{{{:x}}}", (chars[i] as u32) % 32));
                    i += 1;
                }
                '0' => out.push_str("\\x00"),
                '/' | '-' | '"' | '\'' | '`' | '!' | '@' | '%' | ',' | ';' | ':' | '=' | '<'
                | '>' | '_' => {
                    // Characters the crate does not allow escaped: emit them as literals,
                    // escaped the crate's way where they are special inside a class.
                    if e == '-' {
                        out.push_str("\\-");
                    } else {
                        out.push(e);
                    }
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            } else if c == '[' {
                // A literal `[` inside a JavaScript class; the crate would read a nested class.
                out.push_str("\\[");
                i += 1;
                continue;
            }
            out.push(c);
        } else {
            if c == '[' {
                in_class = true;
                out.push(c);
                // `[^]` and `[]` are JavaScript's "anything" and "nothing".
                if chars.get(i + 1) == Some(&'^') && chars.get(i + 2) == Some(&']') {
                    out.truncate(out.len() - 1);
                    out.push_str("[\\s\\S]");
                    in_class = false;
                    i += 3;
                    continue;
                }
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                // A `]` first in a class is a literal in the crate but ends an empty class in
                // JavaScript; only the crate's reading is supported.
                i += 1;
                continue;
            }
            out.push(c);
        }
        i += 1;
    }
    out
}

/// Converts a byte offset in `s` to a UTF-16 index (JavaScript's string index).
pub(crate) fn utf16_index(s: &str, byte: usize) -> usize {
    s[..byte.min(s.len())].encode_utf16().count()
}

/// Converts a UTF-16 index to a byte offset in `s`, clamped to the string.
pub(crate) fn byte_index(s: &str, utf16: usize) -> usize {
    let mut units = 0;
    for (b, c) in s.char_indices() {
        if units >= utf16 {
            return b;
        }
        units += c.len_utf16();
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_javascript_syntax() {
        let r = compile(r"(\d+)\/\w\b", "").unwrap();
        assert!(r.regex.is_match("12/a"));
        let r = compile(r"[\d.]+", "").unwrap();
        assert!(r.regex.is_match("1.5"));
        let r = compile(r"a.*?a", "i").unwrap();
        assert_eq!(r.regex.find("xAbaA").map(|m| m.as_str()), Some("Aba"));
    }
}
