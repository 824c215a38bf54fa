//! The tokenizer, as the reference's: it is driven by the parser one token at a time,
//! because whether `/` starts a regular expression depends on the parser's position.

use crate::error::Error;

/// A token.
#[derive(Debug, Clone)]
pub(crate) enum Tok {
    Name(String),
    Variable(String),
    Op(&'static str),
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Regex { pattern: String, flags: String },
}

/// A token and the character offset just after it (the reference's `position`).
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub position: usize,
}

/// The single-character operators; any of them also ends a name.
const SINGLE_OPS: &[&str] = &[
    ".", "[", "]", "{", "}", "(", ")", ",", "@", "#", ";", ":", "?", "+", "-", "*", "/", "%", "|",
    "=", "<", ">", "^", "&", "!", "~",
];

fn single_op(c: char) -> Option<&'static str> {
    SINGLE_OPS.iter().copied().find(|op| op.starts_with(c))
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}')
}

/// The tokenizer state.
pub(crate) struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    pub fn new(source: &str) -> Self {
        Lexer {
            chars: source.chars().collect(),
            pos: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn token(&self, tok: Tok) -> Token {
        Token {
            tok,
            position: self.pos,
        }
    }

    /// The next token, or `None` at the end. `infix` is true where an operator is expected,
    /// so a `/` there is division rather than the start of a regular expression.
    pub fn next(&mut self, infix: bool) -> Result<Option<Token>, Error> {
        loop {
            while self.at(self.pos).is_some_and(is_space) {
                self.pos += 1;
            }
            if self.pos >= self.chars.len() {
                return Ok(None);
            }
            // Comments.
            if self.at(self.pos) == Some('/') && self.at(self.pos + 1) == Some('*') {
                let start = self.pos;
                self.pos += 2;
                loop {
                    if self.pos + 1 >= self.chars.len() {
                        return Err(Error::new("S0106").pos(start));
                    }
                    if self.at(self.pos) == Some('*') && self.at(self.pos + 1) == Some('/') {
                        self.pos += 2;
                        break;
                    }
                    self.pos += 1;
                }
                continue;
            }
            break;
        }
        let c = self.chars[self.pos];
        let next = self.at(self.pos + 1);
        if !infix && c == '/' {
            self.pos += 1;
            return self.scan_regex().map(Some);
        }
        let double = match (c, next) {
            ('.', Some('.')) => Some(".."),
            (':', Some('=')) => Some(":="),
            ('!', Some('=')) => Some("!="),
            ('>', Some('=')) => Some(">="),
            ('<', Some('=')) => Some("<="),
            ('*', Some('*')) => Some("**"),
            ('~', Some('>')) => Some("~>"),
            ('?', Some(':')) => Some("?:"),
            ('?', Some('?')) => Some("??"),
            _ => None,
        };
        if let Some(op) = double {
            self.pos += 2;
            return Ok(Some(self.token(Tok::Op(op))));
        }
        if let Some(op) = single_op(c) {
            self.pos += 1;
            return Ok(Some(self.token(Tok::Op(op))));
        }
        if c == '"' || c == '\'' {
            return self.scan_string(c).map(Some);
        }
        if c.is_ascii_digit() {
            return self.scan_number().map(Some);
        }
        if c == '`' {
            self.pos += 1;
            let start = self.pos;
            while self.pos < self.chars.len() {
                if self.chars[self.pos] == '`' {
                    let name: String = self.chars[start..self.pos].iter().collect();
                    self.pos += 1;
                    return Ok(Some(self.token(Tok::Name(name))));
                }
                self.pos += 1;
            }
            self.pos = self.chars.len();
            return Err(Error::new("S0105").pos(self.pos));
        }
        // Names and variables run to whitespace or an operator character.
        let start = self.pos;
        let mut i = self.pos;
        while i < self.chars.len() && !is_space(self.chars[i]) && single_op(self.chars[i]).is_none()
        {
            i += 1;
        }
        if c == '$' {
            let name: String = self.chars[start + 1..i].iter().collect();
            self.pos = i;
            return Ok(Some(self.token(Tok::Variable(name))));
        }
        let name: String = self.chars[start..i].iter().collect();
        self.pos = i;
        let tok = match name.as_str() {
            "or" => Tok::Op("or"),
            "in" => Tok::Op("in"),
            "and" => Tok::Op("and"),
            "true" => Tok::Bool(true),
            "false" => Tok::Bool(false),
            "null" => Tok::Null,
            _ => Tok::Name(name),
        };
        Ok(Some(self.token(tok)))
    }

    fn scan_string(&mut self, quote: char) -> Result<Token, Error> {
        self.pos += 1;
        let mut out = String::new();
        while self.pos < self.chars.len() {
            let c = self.chars[self.pos];
            if c == '\\' {
                self.pos += 1;
                let Some(e) = self.at(self.pos) else {
                    break;
                };
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let unit = self
                            .hex4(self.pos + 1)
                            .ok_or_else(|| Error::new("S0104").pos(self.pos))?;
                        self.pos += 4;
                        if (0xD800..0xDC00).contains(&unit)
                            && self.at(self.pos + 1) == Some('\\')
                            && self.at(self.pos + 2) == Some('u')
                        {
                            if let Some(low) = self
                                .hex4(self.pos + 3)
                                .filter(|l| (0xDC00..0xE000).contains(l))
                            {
                                let cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                                out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                                self.pos += 6;
                                self.pos += 1;
                                continue;
                            }
                        }
                        // A lone surrogate cannot be held in a Rust string.
                        out.push(char::from_u32(unit).unwrap_or('\u{fffd}'));
                    }
                    other => {
                        return Err(Error::new("S0103").pos(self.pos).token(other.to_string()));
                    }
                }
            } else if c == quote {
                self.pos += 1;
                return Ok(self.token(Tok::Str(out)));
            } else {
                out.push(c);
            }
            self.pos += 1;
        }
        Err(Error::new("S0101").pos(self.pos))
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        if at + 4 > self.chars.len() {
            return None;
        }
        let s: String = self.chars[at..at + 4].iter().collect();
        if s.chars().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(&s, 16).ok()
        } else {
            None
        }
    }

    fn scan_number(&mut self) -> Result<Token, Error> {
        // -?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?  (the sign is always an operator here)
        let start = self.pos;
        let mut i = self.pos;
        let digit = |i: usize| self.at(i).is_some_and(|c| c.is_ascii_digit());
        if self.at(i) == Some('0') {
            i += 1;
        } else {
            while digit(i) {
                i += 1;
            }
        }
        if self.at(i) == Some('.') && digit(i + 1) {
            i += 1;
            while digit(i) {
                i += 1;
            }
        }
        if matches!(self.at(i), Some('e' | 'E')) {
            let mut j = i + 1;
            if matches!(self.at(j), Some('+' | '-')) {
                j += 1;
            }
            if digit(j) {
                while digit(j) {
                    j += 1;
                }
                i = j;
            }
        }
        let text: String = self.chars[start..i].iter().collect();
        let n: f64 = text.parse().unwrap_or(f64::NAN);
        if n.is_finite() {
            self.pos = i;
            Ok(self.token(Tok::Num(n)))
        } else {
            Err(Error::new("S0102").pos(start).token(text))
        }
    }

    fn scan_regex(&mut self) -> Result<Token, Error> {
        let start = self.pos;
        let mut depth: i32 = 0;
        while self.pos < self.chars.len() {
            let c = self.chars[self.pos];
            if c == '/' && depth == 0 {
                let mut backslashes = 0;
                while self.pos > backslashes && self.at(self.pos - backslashes - 1) == Some('\\') {
                    backslashes += 1;
                }
                if backslashes % 2 == 0 {
                    let pattern: String = self.chars[start..self.pos].iter().collect();
                    if pattern.is_empty() {
                        return Err(Error::new("S0301").pos(self.pos));
                    }
                    self.pos += 1;
                    let fstart = self.pos;
                    while matches!(self.at(self.pos), Some('i' | 'm')) {
                        self.pos += 1;
                    }
                    let flags: String = self.chars[fstart..self.pos].iter().collect();
                    return Ok(self.token(Tok::Regex { pattern, flags }));
                }
            }
            let escaped = self.pos > 0 && self.at(self.pos - 1) == Some('\\');
            if matches!(c, '(' | '[' | '{') && !escaped {
                depth += 1;
            }
            if matches!(c, ')' | ']' | '}') && !escaped {
                depth -= 1;
            }
            self.pos += 1;
        }
        Err(Error::new("S0302").pos(self.pos))
    }
}
