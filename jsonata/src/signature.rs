//! Function signatures (`<s-nn?:s>`): parsing and argument validation.
//!
//! The reference compiles a signature to a regular expression over one letter per argument
//! type and matches the letters of the actual arguments against it. This module does the
//! same with a small backtracking matcher, which gives the same greedy, leftmost results.

use crate::error::Error;
use crate::value::Value;

/// A parsed signature.
#[derive(Debug, Clone)]
pub(crate) struct Signature {
    params: Vec<Param>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quant {
    One,
    Optional,
    Plus,
}

#[derive(Debug, Clone)]
struct Param {
    /// The type letters this parameter accepts (including `m` for undefined where allowed).
    accepts: String,
    quant: Quant,
    /// `-`: the context value is used when the argument is missing.
    context: bool,
    /// The declared type: a letter, or `(...)` for a choice.
    kind: String,
    /// The item type of an array parameter (`a<n>`).
    subtype: Option<String>,
}

impl Signature {
    /// Parses a signature such as `<s-nn?:s>`; errors carry the offset into the signature.
    pub fn parse(sig: &str) -> Result<Signature, (Error, usize)> {
        let chars: Vec<char> = sig.chars().collect();
        let mut params: Vec<Param> = Vec::new();
        let mut pos = 1;
        while pos < chars.len() {
            let symbol = chars[pos];
            if symbol == ':' {
                // The return type is not checked, as in the reference.
                break;
            }
            let simple = |accepts: &str, kind: char| Param {
                accepts: accepts.to_string(),
                quant: Quant::One,
                context: false,
                kind: kind.to_string(),
                subtype: None,
            };
            match symbol {
                's' | 'n' | 'b' | 'l' | 'o' => params.push(simple(&format!("{symbol}m"), symbol)),
                'a' => params.push(simple("asnblfom", 'a')),
                'f' => params.push(simple("f", 'f')),
                'j' => params.push(simple("asnblom", 'j')),
                'x' => params.push(simple("asnblfom", 'x')),
                '-' => {
                    if let Some(p) = params.last_mut() {
                        p.context = true;
                        p.quant = Quant::Optional;
                    }
                }
                '?' => {
                    if let Some(p) = params.last_mut() {
                        p.quant = Quant::Optional;
                    }
                }
                '+' => {
                    if let Some(p) = params.last_mut() {
                        p.quant = Quant::Plus;
                    }
                }
                '(' => {
                    let end = closing(&chars, pos, '(', ')');
                    let choice: String = chars[pos + 1..end.min(chars.len())].iter().collect();
                    if choice.contains('<') {
                        return Err((Error::new("S0402").value(quote(&choice)), pos));
                    }
                    params.push(Param {
                        accepts: format!("{choice}m"),
                        quant: Quant::One,
                        context: false,
                        kind: format!("({choice})"),
                        subtype: None,
                    });
                    pos = end;
                }
                '<' => {
                    let prev_kind = params.last().map(|p| p.kind.clone()).unwrap_or_default();
                    if prev_kind == "a" || prev_kind == "f" {
                        let end = closing(&chars, pos, '<', '>');
                        let sub: String = chars[pos + 1..end.min(chars.len())].iter().collect();
                        if let Some(p) = params.last_mut() {
                            p.subtype = Some(sub);
                        }
                        pos = end;
                    } else {
                        return Err((Error::new("S0401").value(quote(&prev_kind)), pos));
                    }
                }
                _ => {}
            }
            pos += 1;
        }
        Ok(Signature { params })
    }

    /// Checks the arguments and returns them fixed up: the context value inserted where a
    /// `-` parameter is missing, and single values wrapped where an array is expected.
    pub fn validate<'a>(
        &self,
        args: &[Value<'a>],
        context: &Value<'a>,
    ) -> Result<Vec<Value<'a>>, Error> {
        let supplied: Vec<char> = args.iter().map(Value::type_symbol).collect();
        let Some(lens) = self.match_from(&supplied, 0, 0, true) else {
            return Err(self.validation_error(args, &supplied));
        };
        let mut out = Vec::with_capacity(self.params.len());
        let mut arg_index = 0;
        let mut sig_pos = 0;
        for (param, len) in self.params.iter().zip(lens) {
            if len == 0 {
                if param.context {
                    let ctype = context.type_symbol();
                    if param.accepts.contains(ctype) {
                        out.push(context.clone());
                    } else {
                        return Err(Error::new("T0411")
                            .value(crate::functions::json_repr(context))
                            .index(arg_index + 1));
                    }
                } else {
                    out.push(args.get(arg_index).cloned().unwrap_or_default());
                    arg_index += 1;
                }
                continue;
            }
            for single in &supplied[sig_pos..sig_pos + len] {
                let arg = args.get(arg_index).cloned().unwrap_or_default();
                if param.kind == "a" {
                    if *single == 'm' {
                        out.push(Value::Undefined);
                    } else {
                        let mut ok = true;
                        if let Some(sub) = &param.subtype {
                            if *single != 'a' {
                                ok = single.to_string() == *sub;
                            } else if arg.len() > 0 {
                                let items = arg.items();
                                let first = items[0].type_symbol();
                                ok = sub.starts_with(first)
                                    && items.iter().all(|v| v.type_symbol() == first);
                            }
                        }
                        if !ok {
                            let type_name = match param.subtype.as_deref() {
                                Some("a") => "arrays",
                                Some("b") => "booleans",
                                Some("f") => "functions",
                                Some("n") => "numbers",
                                Some("o") => "objects",
                                Some("s") => "strings",
                                _ => "values",
                            };
                            return Err(Error::new("T0412")
                                .value(crate::functions::json_repr(&arg))
                                .index(arg_index + 1)
                                .type_name(type_name));
                        }
                        if *single == 'a' {
                            out.push(arg);
                        } else {
                            out.push(Value::array(vec![arg]));
                        }
                    }
                } else {
                    out.push(arg);
                }
                arg_index += 1;
            }
            sig_pos += len;
        }
        Ok(out)
    }

    /// Matches the parameters from `index` on against `sig` from `pos`; greedy, backtracking.
    /// Returns the number of letters each parameter took.
    fn match_from(
        &self,
        sig: &[char],
        index: usize,
        pos: usize,
        anchored: bool,
    ) -> Option<Vec<usize>> {
        self.match_upto(sig, index, pos, anchored, self.params.len())
    }

    fn match_upto(
        &self,
        sig: &[char],
        index: usize,
        pos: usize,
        anchored: bool,
        upto: usize,
    ) -> Option<Vec<usize>> {
        if index == upto {
            return if !anchored || pos == sig.len() {
                Some(Vec::new())
            } else {
                None
            };
        }
        let param = &self.params[index];
        let fits = |c: char| param.accepts.contains(c);
        let mut candidates: Vec<usize> = Vec::new();
        match param.quant {
            Quant::One => {
                if pos < sig.len() && fits(sig[pos]) {
                    candidates.push(1);
                }
            }
            Quant::Optional => {
                if pos < sig.len() && fits(sig[pos]) {
                    candidates.push(1);
                }
                candidates.push(0);
            }
            Quant::Plus => {
                let mut n = 0;
                while pos + n < sig.len() && fits(sig[pos + n]) {
                    n += 1;
                }
                candidates.extend((1..=n).rev());
            }
        }
        for len in candidates {
            if let Some(mut rest) = self.match_upto(sig, index + 1, pos + len, anchored, upto) {
                rest.insert(0, len);
                return Some(rest);
            }
        }
        None
    }

    fn validation_error(&self, args: &[Value<'_>], sig: &[char]) -> Error {
        // Find the first argument that stops the signature from matching, as the reference
        // does by matching ever longer prefixes of its regular expression.
        let mut good_to = 0;
        for i in 0..self.params.len() {
            match self.match_upto(sig, 0, 0, false, i + 1) {
                None => break,
                Some(lens) => good_to = lens.iter().sum(),
            }
        }
        let value = args
            .get(good_to)
            .map_or_else(|| "undefined".to_string(), crate::functions::json_repr);
        Error::new("T0410").value(value).index(good_to + 1)
    }
}

fn closing(chars: &[char], start: usize, open: char, close: char) -> usize {
    let mut depth = 1;
    let mut pos = start;
    while pos < chars.len() {
        pos += 1;
        match chars.get(pos) {
            Some(c) if *c == close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Some(c) if *c == open => depth += 1,
            _ => {}
        }
    }
    pos
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}
