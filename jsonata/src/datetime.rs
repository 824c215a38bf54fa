//! Integer and date/time formatting and parsing with XPath picture strings
//! (`$formatInteger`, `$parseInteger`, `$fromMillis`, `$toMillis`), as the reference's
//! `datetime.js` implements them.

use crate::error::Error;
use crate::value::{js_number_string, Value};

const FEW: [&str; 20] = [
    "Zero",
    "One",
    "Two",
    "Three",
    "Four",
    "Five",
    "Six",
    "Seven",
    "Eight",
    "Nine",
    "Ten",
    "Eleven",
    "Twelve",
    "Thirteen",
    "Fourteen",
    "Fifteen",
    "Sixteen",
    "Seventeen",
    "Eighteen",
    "Nineteen",
];
const ORDINALS: [&str; 20] = [
    "Zeroth",
    "First",
    "Second",
    "Third",
    "Fourth",
    "Fifth",
    "Sixth",
    "Seventh",
    "Eighth",
    "Ninth",
    "Tenth",
    "Eleventh",
    "Twelfth",
    "Thirteenth",
    "Fourteenth",
    "Fifteenth",
    "Sixteenth",
    "Seventeenth",
    "Eighteenth",
    "Nineteenth",
];
const DECADES: [&str; 9] = [
    "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred",
];
const MAGNITUDES: [&str; 4] = ["Thousand", "Million", "Billion", "Trillion"];
const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MILLIS_IN_DAY: f64 = 86_400_000.0;

fn number_to_words(value: f64, ordinal: bool) -> String {
    fn lookup(num: f64, prev: bool, ord: bool) -> String {
        if num <= 19.0 {
            let i = num as usize;
            format!(
                "{}{}",
                if prev { " and " } else { "" },
                if ord { ORDINALS[i] } else { FEW[i] }
            )
        } else if num < 100.0 {
            let tens = (num / 10.0).floor() as usize;
            let remainder = num % 10.0;
            let mut words = format!("{}{}", if prev { " and " } else { "" }, DECADES[tens - 2]);
            if remainder > 0.0 {
                words.push('-');
                words.push_str(&lookup(remainder, false, ord));
            } else if ord {
                words.pop();
                words.push_str("ieth");
            }
            words
        } else if num < 1000.0 {
            let hundreds = (num / 100.0).floor() as usize;
            let remainder = num % 100.0;
            let mut words = format!("{}{} Hundred", if prev { ", " } else { "" }, FEW[hundreds]);
            if remainder > 0.0 {
                words.push_str(&lookup(remainder, true, ord));
            } else if ord {
                words.push_str("th");
            }
            words
        } else {
            let mut mag = (num.log10() / 3.0).floor() as usize;
            if mag > MAGNITUDES.len() {
                mag = MAGNITUDES.len();
            }
            let factor = 10f64.powi(mag as i32 * 3);
            let mant = (num / factor).floor();
            let remainder = num - mant * factor;
            let mut words = format!(
                "{}{} {}",
                if prev { ", " } else { "" },
                lookup(mant, false, false),
                MAGNITUDES[mag - 1]
            );
            if remainder > 0.0 {
                words.push_str(&lookup(remainder, true, ord));
            } else if ord {
                words.push_str("th");
            }
            words
        }
    }
    lookup(value, false, ordinal)
}

fn word_values() -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = Vec::new();
    for (i, w) in FEW.iter().enumerate() {
        v.push((w.to_lowercase(), i as f64));
    }
    for (i, w) in ORDINALS.iter().enumerate() {
        v.push((w.to_lowercase(), i as f64));
    }
    for (i, w) in DECADES.iter().enumerate() {
        let lw = w.to_lowercase();
        let val = ((i + 2) * 10) as f64;
        let ieth = format!("{}ieth", &lw[..lw.len() - 1]);
        v.push((lw, val));
        v.push((ieth, val));
    }
    v.push(("hundredth".into(), 100.0));
    for (i, w) in MAGNITUDES.iter().enumerate() {
        let lw = w.to_lowercase();
        let val = 10f64.powi((i as i32 + 1) * 3);
        v.push((format!("{lw}th"), val));
        v.push((lw, val));
    }
    v
}

fn words_to_number(text: &str) -> f64 {
    let values = word_values();
    // Split on ", ", " and ", whitespace and hyphens.
    let normalised = text.replace(", ", " ").replace(" and ", " ");
    let parts = normalised.split(|c: char| c.is_whitespace() || c == '-' || c == '\\');
    let mut segs: Vec<f64> = vec![0.0];
    for part in parts {
        let value = values
            .iter()
            .find(|(w, _)| w == part)
            .map_or(f64::NAN, |(_, v)| *v);
        if value < 100.0 {
            let mut top = segs.pop().unwrap_or(0.0);
            if top >= 1000.0 {
                segs.push(top);
                top = 0.0;
            }
            segs.push(top + value);
        } else {
            let top = segs.pop().unwrap_or(0.0);
            segs.push(top * value);
        }
    }
    segs.iter().sum()
}

const ROMAN: [(f64, &str); 13] = [
    (1000.0, "m"),
    (900.0, "cm"),
    (500.0, "d"),
    (400.0, "cd"),
    (100.0, "c"),
    (90.0, "xc"),
    (50.0, "l"),
    (40.0, "xl"),
    (10.0, "x"),
    (9.0, "ix"),
    (5.0, "v"),
    (4.0, "iv"),
    (1.0, "i"),
];

fn decimal_to_roman(mut value: f64) -> String {
    let mut out = String::new();
    'outer: loop {
        for (n, s) in ROMAN {
            if value >= n {
                out.push_str(s);
                value -= n;
                continue 'outer;
            }
        }
        return out;
    }
}

fn roman_to_decimal(roman: &str) -> f64 {
    let mut decimal = 0.0;
    let mut max = 1.0;
    for c in roman.chars().rev() {
        let v = match c {
            'M' => 1000.0,
            'D' => 500.0,
            'C' => 100.0,
            'L' => 50.0,
            'X' => 10.0,
            'V' => 5.0,
            'I' => 1.0,
            _ => f64::NAN,
        };
        if v < max {
            decimal -= v;
        } else {
            max = v;
            decimal += v;
        }
    }
    decimal
}

fn decimal_to_letters(mut value: f64, a: char) -> String {
    let mut letters = Vec::new();
    while value > 0.0 {
        let d = ((value - 1.0) % 26.0) as u32;
        letters.insert(0, char::from_u32(a as u32 + d).unwrap_or(a));
        value = ((value - 1.0) / 26.0).floor();
    }
    letters.into_iter().collect()
}

fn letters_to_decimal(letters: &str, a: char) -> f64 {
    let chars: Vec<char> = letters.chars().collect();
    let mut decimal = 0.0;
    for (i, c) in chars.iter().rev().enumerate() {
        decimal += (f64::from(*c as u32) - f64::from(a as u32) + 1.0) * 26f64.powi(i as i32);
    }
    decimal
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Primary {
    Decimal,
    Letters,
    Roman,
    Words,
    Sequence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Upper,
    Lower,
    Title,
}

#[derive(Debug, Clone)]
struct IntFormat {
    primary: Primary,
    case: Case,
    ordinal: bool,
    zero_code: u32,
    mandatory: usize,
    optional: usize,
    regular: bool,
    /// Grouping separators: (digits to the right, separator).
    separators: Vec<(usize, char)>,
    token: String,
    /// The number of digits a component takes when parsing: (least, most).
    n: Option<(usize, usize)>,
}

const DECIMAL_GROUPS: [u32; 37] = [
    0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

fn analyse_integer_picture(picture: &str) -> Result<IntFormat, Error> {
    let mut f = IntFormat {
        primary: Primary::Decimal,
        case: Case::Lower,
        ordinal: false,
        zero_code: 0x30,
        mandatory: 0,
        optional: 0,
        regular: false,
        separators: Vec::new(),
        token: String::new(),
        n: None,
    };
    let primary = match picture.rfind(';') {
        None => picture,
        Some(i) => {
            if picture[i + 1..].starts_with('o') {
                f.ordinal = true;
            }
            &picture[..i]
        }
    };
    match primary {
        "A" => {
            f.case = Case::Upper;
            f.primary = Primary::Letters;
        }
        "a" => f.primary = Primary::Letters,
        "I" => {
            f.case = Case::Upper;
            f.primary = Primary::Roman;
        }
        "i" => f.primary = Primary::Roman,
        "W" => {
            f.case = Case::Upper;
            f.primary = Primary::Words;
        }
        "Ww" => {
            f.case = Case::Title;
            f.primary = Primary::Words;
        }
        "w" => f.primary = Primary::Words,
        _ => {
            let mut zero: Option<u32> = None;
            let mut mandatory = 0;
            let mut optional = 0;
            let mut separators: Vec<(usize, char)> = Vec::new();
            let mut sep_pos = 0;
            for c in primary.chars().rev() {
                let cp = c as u32;
                if let Some(group) = DECIMAL_GROUPS.iter().find(|g| cp >= **g && cp <= **g + 9) {
                    mandatory += 1;
                    sep_pos += 1;
                    match zero {
                        None => zero = Some(*group),
                        Some(z) if z != *group => return Err(Error::new("D3131")),
                        _ => {}
                    }
                } else if c == '#' {
                    sep_pos += 1;
                    optional += 1;
                } else {
                    separators.push((sep_pos, c));
                }
            }
            if mandatory > 0 {
                f.zero_code = zero.unwrap_or(0x30);
                f.mandatory = mandatory;
                f.optional = optional;
                let regular = regular_repeat(&separators);
                if regular > 0 {
                    f.regular = true;
                    f.separators = vec![(regular, separators[0].1)];
                } else {
                    f.separators = separators;
                }
            } else {
                f.primary = Primary::Sequence;
                f.token = primary.to_string();
            }
        }
    }
    Ok(f)
}

fn regular_repeat(seps: &[(usize, char)]) -> usize {
    if seps.is_empty() {
        return 0;
    }
    let ch = seps[0].1;
    if seps.iter().any(|s| s.1 != ch) {
        return 0;
    }
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let idx: Vec<usize> = seps.iter().map(|s| s.0).collect();
    let factor = idx.iter().copied().reduce(gcd).unwrap_or(0);
    for i in 1..=idx.len() {
        if !idx.contains(&(i * factor)) {
            return 0;
        }
    }
    factor
}

fn format_int(value: f64, f: &IntFormat) -> Result<String, Error> {
    let negative = value < 0.0;
    let value = value.abs();
    let mut s = match f.primary {
        Primary::Letters => {
            decimal_to_letters(value, if f.case == Case::Upper { 'A' } else { 'a' })
        }
        Primary::Roman => {
            let r = decimal_to_roman(value);
            if f.case == Case::Upper {
                r.to_uppercase()
            } else {
                r
            }
        }
        Primary::Words => {
            let w = number_to_words(value, f.ordinal);
            match f.case {
                Case::Upper => w.to_uppercase(),
                Case::Lower => w.to_lowercase(),
                Case::Title => w,
            }
        }
        Primary::Decimal => {
            let mut s = js_number_string(value);
            let len = s.chars().count();
            if f.mandatory > len {
                s = format!("{}{}", "0".repeat(f.mandatory - len), s);
            }
            if f.zero_code != 0x30 {
                s = s
                    .chars()
                    .map(|c| char::from_u32(c as u32 + f.zero_code - 0x30).unwrap_or(c))
                    .collect();
            }
            let mut chars: Vec<char> = s.chars().collect();
            if f.regular {
                let (pos, ch) = f.separators[0];
                if let Some(n) = (chars.len().saturating_sub(1)).checked_div(pos) {
                    for ii in (1..=n).rev() {
                        let at = chars.len() - ii * pos;
                        chars.insert(at, ch);
                    }
                }
            } else {
                for (pos, ch) in f.separators.iter().rev() {
                    if *pos <= chars.len() {
                        let at = chars.len() - pos;
                        chars.insert(at, *ch);
                    }
                }
            }
            let mut s: String = chars.into_iter().collect();
            if f.ordinal {
                let cs: Vec<char> = s.chars().collect();
                let last = cs.last().copied();
                let mut suffix = match last {
                    Some('1') => "st",
                    Some('2') => "nd",
                    Some('3') => "rd",
                    _ => "th",
                };
                if cs.len() > 1 && cs[cs.len() - 2] == '1' {
                    suffix = "th";
                }
                s.push_str(suffix);
            }
            s
        }
        Primary::Sequence => {
            return Err(
                Error::new("D3130").value(serde_json::to_string(&f.token).unwrap_or_default())
            );
        }
    };
    if negative {
        s.insert(0, '-');
    }
    Ok(s)
}

/// `$formatInteger`.
pub(crate) fn format_integer(value: f64, picture: &str) -> Result<String, Error> {
    let f = analyse_integer_picture(picture)?;
    format_int(value.floor(), &f)
}

/// Converts the text a picture component matched to its value.
type ParseFn = Box<dyn Fn(&str) -> f64>;

/// A parser for one picture component: a regex and a conversion of the matched text.
struct Matcher {
    regex: String,
    parse: ParseFn,
}

fn integer_matcher(f: &IntFormat) -> Result<Matcher, Error> {
    let upper = f.case == Case::Upper;
    Ok(match f.primary {
        Primary::Letters => Matcher {
            regex: if upper {
                "[A-Z]+".into()
            } else {
                "[a-z]+".into()
            },
            parse: Box::new(move |v| letters_to_decimal(v, if upper { 'A' } else { 'a' })),
        },
        Primary::Roman => Matcher {
            regex: if upper {
                "[MDCLXVI]+".into()
            } else {
                "[mdclxvi]+".into()
            },
            parse: Box::new(move |v| {
                roman_to_decimal(&if upper {
                    v.to_string()
                } else {
                    v.to_uppercase()
                })
            }),
        },
        Primary::Words => {
            let mut words: Vec<String> = word_values().into_iter().map(|(w, _)| w).collect();
            words.push("and".into());
            words.push("[\\-, ]".into());
            Matcher {
                regex: format!("(?:{})+", words.join("|")),
                parse: Box::new(|v| words_to_number(&v.to_lowercase())),
            }
        }
        Primary::Decimal => {
            let occurrences = match f.n {
                Some((a, b)) if a > 0 && a < b => format!("{{{a},{b}}}"),
                Some((_, b)) if b > 0 => format!("{{{b}}}"),
                _ => "+".into(),
            };
            let mut regex = format!("[0-9]{occurrences}");
            if f.ordinal {
                regex.push_str("(?:th|st|nd|rd)");
            }
            let f2 = f.clone();
            Matcher {
                regex,
                parse: Box::new(move |v| {
                    let mut digits: String = v.to_string();
                    if f2.ordinal {
                        let n = digits.chars().count();
                        digits = digits.chars().take(n.saturating_sub(2)).collect();
                    }
                    if f2.regular {
                        digits = digits.replace(',', "");
                    } else {
                        for (_, c) in &f2.separators {
                            digits = digits.replace(*c, "");
                        }
                    }
                    if f2.zero_code != 0x30 {
                        digits = digits
                            .chars()
                            .map(|c| {
                                let cp = c as u32;
                                if (f2.zero_code..f2.zero_code + 10).contains(&cp) {
                                    char::from_u32(cp - f2.zero_code + 0x30).unwrap_or(c)
                                } else {
                                    c
                                }
                            })
                            .collect();
                    }
                    parse_int(&digits)
                }),
            }
        }
        Primary::Sequence => {
            return Err(
                Error::new("D3130").value(serde_json::to_string(&f.token).unwrap_or_default())
            );
        }
    })
}

/// JavaScript's `parseInt(s, 10)`: leading digits, NaN if there are none.
fn parse_int(s: &str) -> f64 {
    let s = s.trim_start();
    let (neg, rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return f64::NAN;
    }
    let v: f64 = digits.parse().unwrap_or(f64::NAN);
    if neg {
        -v
    } else {
        v
    }
}

/// `$parseInteger`.
pub(crate) fn parse_integer<'a>(value: &str, picture: &str) -> Result<Value<'a>, Error> {
    let f = analyse_integer_picture(picture)?;
    let m = integer_matcher(&f)?;
    Ok(Value::Number((m.parse)(value)))
}

#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Marker(Marker),
}

#[derive(Debug, Clone)]
struct Marker {
    component: char,
    width_min: Option<usize>,
    width_max: Option<usize>,
    presentation1: String,
    presentation2: Option<char>,
    names: Option<Case>,
    integer: Option<IntFormat>,
    n: i64,
}

/// A width in a picture marker: a number, or `*` (none).
fn parse_width(w: &str) -> Option<usize> {
    if w == "*" {
        return None;
    }
    let n = parse_int(w);
    if n.is_nan() {
        None
    } else {
        Some(n as usize)
    }
}

fn default_presentation(c: char) -> Option<&'static str> {
    Some(match c {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

fn analyse_datetime_picture(picture: &str) -> Result<Vec<Part>, Error> {
    let chars: Vec<char> = picture.chars().collect();
    let mut spec = Vec::new();
    let add_literal = |spec: &mut Vec<Part>, start: usize, end: usize| {
        if end > start {
            let lit: String = chars[start..end].iter().collect();
            spec.push(Part::Literal(lit.replace("]]", "]")));
        }
    };
    let mut start = 0;
    let mut pos = 0;
    while pos < chars.len() {
        if chars[pos] == '[' {
            if chars.get(pos + 1) == Some(&'[') {
                add_literal(&mut spec, start, pos);
                spec.push(Part::Literal("[".into()));
                pos += 2;
                start = pos;
                continue;
            }
            add_literal(&mut spec, start, pos);
            start = pos;
            let Some(close) = chars[start..].iter().position(|&c| c == ']') else {
                return Err(Error::new("D3135"));
            };
            pos = start + close;
            let marker: String = chars[start + 1..pos]
                .iter()
                .filter(|c| !c.is_whitespace())
                .collect();
            let mchars: Vec<char> = marker.chars().collect();
            let component = mchars.first().copied().unwrap_or(' ');
            let mut def = Marker {
                component,
                width_min: None,
                width_max: None,
                presentation1: String::new(),
                presentation2: None,
                names: None,
                integer: None,
                n: -1,
            };
            let pres_mod: String = match mchars.iter().rposition(|&c| c == ',') {
                Some(comma) => {
                    let width: String = mchars[comma + 1..].iter().collect();
                    let (min, max) = match width.find('-') {
                        None => (width.as_str(), None),
                        Some(d) => (&width[..d], Some(&width[d + 1..])),
                    };
                    def.width_min = parse_width(min);
                    def.width_max = max.and_then(parse_width);
                    mchars[1..comma.max(1)].iter().collect()
                }
                None => mchars.iter().skip(1).collect(),
            };
            let pchars: Vec<char> = pres_mod.chars().collect();
            if pchars.len() == 1 {
                def.presentation1 = pres_mod.clone();
            } else if pchars.len() > 1 {
                let last = pchars[pchars.len() - 1];
                if "atco".contains(last) {
                    def.presentation2 = Some(last);
                    def.presentation1 = pchars[..pchars.len() - 1].iter().collect();
                } else {
                    def.presentation1 = pres_mod.clone();
                }
            } else {
                match default_presentation(component) {
                    Some(p) => def.presentation1 = p.to_string(),
                    None => {
                        return Err(Error::new("D3132").value(
                            serde_json::to_string(&component.to_string()).unwrap_or_default(),
                        ));
                    }
                }
            }
            let p1: Vec<char> = def.presentation1.chars().collect();
            if p1.first() == Some(&'n') {
                def.names = Some(Case::Lower);
            } else if p1.first() == Some(&'N') {
                def.names = Some(if p1.get(1) == Some(&'n') {
                    Case::Title
                } else {
                    Case::Upper
                });
            } else if "YMDdFWwXxHhmsf".contains(component) {
                let mut pattern = def.presentation1.clone();
                if let Some(p2) = def.presentation2 {
                    pattern.push(';');
                    pattern.push(p2);
                }
                let mut f = analyse_integer_picture(&pattern)?;
                if let Some(min) = def.width_min {
                    if f.mandatory < min {
                        f.mandatory = min;
                    }
                }
                // The width also fixes how many digits a component takes when parsing, so
                // `[Y0001][M01][D01]` reads `20180205`.
                def.n = -1;
                if let Some(max) = def.width_max {
                    def.n = max as i64;
                    if component == 'Y' {
                        f.mandatory = max;
                    }
                } else {
                    let w = f.mandatory + f.optional;
                    if w >= 2 {
                        def.n = w as i64;
                    }
                }
                def.integer = Some(f);
            }
            if component == 'Z' || component == 'z' {
                def.integer = Some(analyse_integer_picture(&def.presentation1)?);
            }
            spec.push(Part::Marker(def));
            start = pos + 1;
        }
        pos += 1;
    }
    add_literal(&mut spec, start, pos.min(chars.len()));
    Ok(spec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1-12).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// JavaScript's `Date.UTC` (month 0-based; out-of-range fields roll over).
fn date_utc(y: f64, m: f64, d: f64, h: f64, mi: f64, s: f64, ms: f64) -> f64 {
    let ym = y + (m / 12.0).floor();
    let mn = m.rem_euclid(12.0);
    let days = days_from_civil(ym as i64, mn as i64 + 1, 1) as f64 + d - 1.0;
    days * MILLIS_IN_DAY + h * 3_600_000.0 + mi * 60_000.0 + s * 1000.0 + ms
}

/// The UTC fields of a timestamp.
#[derive(Clone, Copy)]
struct Fields {
    year: i64,
    month: i64, // 0-based
    day: i64,
    hours: i64,
    minutes: i64,
    seconds: i64,
    millis: i64,
    weekday: i64, // 0 = Sunday
    time: f64,
}

fn fields(millis: f64) -> Fields {
    let days = (millis / MILLIS_IN_DAY).floor();
    let rem = (millis - days * MILLIS_IN_DAY) as i64;
    let (y, m, d) = civil_from_days(days as i64);
    Fields {
        year: y,
        month: m - 1,
        day: d,
        hours: rem / 3_600_000,
        minutes: (rem / 60_000) % 60,
        seconds: (rem / 1000) % 60,
        millis: rem % 1000,
        weekday: (days as i64 + 4).rem_euclid(7),
        time: millis,
    }
}

fn start_of_first_week(year: i64, month: i64) -> f64 {
    let (y, m) = (year + month.div_euclid(12), month.rem_euclid(12));
    let jan1 = date_utc(y as f64, m as f64, 1.0, 0.0, 0.0, 0.0, 0.0);
    let mut day = fields(jan1).weekday;
    if day == 0 {
        day = 7;
    }
    if day > 4 {
        jan1 + (8 - day) as f64 * MILLIS_IN_DAY
    } else {
        jan1 - (day - 1) as f64 * MILLIS_IN_DAY
    }
}

fn delta_weeks(start: f64, end: f64) -> f64 {
    (end - start) / (MILLIS_IN_DAY * 7.0) + 1.0
}

enum Frag {
    Num(f64),
    Text(&'static str),
    None,
}

fn fragment(f: &Fields, component: char) -> Frag {
    let today = || {
        date_utc(
            f.year as f64,
            f.month as f64,
            f.day as f64,
            0.0,
            0.0,
            0.0,
            0.0,
        )
    };
    Frag::Num(match component {
        'Y' => f.year as f64,
        'M' => (f.month + 1) as f64,
        'D' => f.day as f64,
        'd' => {
            let first = date_utc(f.year as f64, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0);
            (today() - first) / MILLIS_IN_DAY + 1.0
        }
        'F' => {
            if f.weekday == 0 {
                7.0
            } else {
                f.weekday as f64
            }
        }
        'W' => {
            let start = start_of_first_week(f.year, 0);
            let t = today();
            let mut week = delta_weeks(start, t);
            if week > 52.0 {
                if t >= start_of_first_week(f.year + 1, 0) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(f.year - 1, 0), t);
            }
            week.floor()
        }
        'w' => {
            let start = start_of_first_week(f.year, f.month);
            let t = today();
            let mut week = delta_weeks(start, t);
            if week > 4.0 {
                if t >= start_of_first_week(f.year, f.month + 1) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(f.year, f.month - 1), t);
            }
            week.floor()
        }
        'X' => {
            let start = start_of_first_week(f.year, 0);
            let end = start_of_first_week(f.year + 1, 0);
            if f.time < start {
                (f.year - 1) as f64
            } else if f.time >= end {
                (f.year + 1) as f64
            } else {
                f.year as f64
            }
        }
        'x' => {
            let start = start_of_first_week(f.year, f.month);
            let end = start_of_first_week(f.year, f.month + 1);
            if f.time < start {
                (f.month - 1).rem_euclid(12) as f64 + 1.0
            } else if f.time >= end {
                (f.month + 1).rem_euclid(12) as f64 + 1.0
            } else {
                (f.month + 1) as f64
            }
        }
        'H' => f.hours as f64,
        'h' => {
            let h = f.hours % 12;
            if h == 0 {
                12.0
            } else {
                h as f64
            }
        }
        'P' => return Frag::Text(if f.hours >= 12 { "pm" } else { "am" }),
        'm' => f.minutes as f64,
        's' => f.seconds as f64,
        'f' => f.millis as f64,
        'C' | 'E' => return Frag::Text("ISO"),
        _ => return Frag::None,
    })
}

fn format_datetime(
    millis: f64,
    picture: Option<&str>,
    timezone: Option<&str>,
) -> Result<String, Error> {
    let (mut off_h, mut off_m) = (0.0, 0.0);
    if let Some(tz) = timezone {
        let offset = parse_int(tz);
        off_h = (offset / 100.0).floor();
        off_m = offset % 100.0;
    }
    let spec = analyse_datetime_picture(
        picture.unwrap_or("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"),
    )?;
    let offset_millis = (60.0 * off_h + off_m) * 60.0 * 1000.0;
    let f = fields(millis + offset_millis);
    let mut out = String::new();
    for part in &spec {
        match part {
            Part::Literal(s) => out.push_str(s),
            Part::Marker(m) => out.push_str(&format_component(&f, m, off_h, off_m)?),
        }
    }
    Ok(out)
}

fn format_component(f: &Fields, m: &Marker, off_h: f64, off_m: f64) -> Result<String, Error> {
    let frag = fragment(f, m.component);
    if "YMDdFWwXxHhms".contains(m.component) {
        let Frag::Num(mut v) = frag else {
            return Ok(String::new());
        };
        if m.component == 'Y'
            && m.n != -1
            && (m.width_max.is_some()
                || m.integer
                    .as_ref()
                    .is_some_and(|f| f.mandatory + f.optional >= 2))
        {
            v %= 10f64.powi(m.n as i32);
        }
        if let Some(case) = m.names {
            let name = if m.component == 'M' || m.component == 'x' {
                MONTHS
                    .get((v as usize).wrapping_sub(1))
                    .copied()
                    .unwrap_or("")
            } else if m.component == 'F' {
                DAYS.get(v as usize).copied().unwrap_or("")
            } else {
                return Err(Error::new("D3133")
                    .value(serde_json::to_string(&m.component.to_string()).unwrap_or_default()));
            };
            let mut name = match case {
                Case::Upper => name.to_uppercase(),
                Case::Lower => name.to_lowercase(),
                Case::Title => name.to_string(),
            };
            if let Some(max) = m.width_max {
                if name.chars().count() > max {
                    name = name.chars().take(max).collect();
                }
            }
            return Ok(name);
        }
        return match &m.integer {
            Some(fmt) => format_int(v, fmt),
            None => Ok(js_number_string(v)),
        };
    }
    if m.component == 'f' {
        let Frag::Num(v) = frag else {
            return Ok(String::new());
        };
        return match &m.integer {
            Some(fmt) => format_int(v, fmt),
            None => Ok(js_number_string(v)),
        };
    }
    if m.component == 'Z' || m.component == 'z' {
        let offset = off_h * 100.0 + off_m;
        let fmt = m.integer.clone().unwrap_or_else(|| IntFormat {
            primary: Primary::Decimal,
            case: Case::Lower,
            ordinal: false,
            zero_code: 0x30,
            mandatory: 1,
            optional: 0,
            regular: false,
            separators: Vec::new(),
            token: String::new(),
            n: None,
        });
        let mut s = if fmt.regular {
            format_int(offset, &fmt)?
        } else {
            match fmt.mandatory {
                1 | 2 => {
                    let mut s = format_int(off_h, &fmt)?;
                    if off_m != 0.0 {
                        s.push(':');
                        s.push_str(&format_integer(off_m, "00")?);
                    }
                    s
                }
                3 | 4 => format_int(offset, &fmt)?,
                n => return Err(Error::new("D3134").value(n.to_string())),
            }
        };
        if offset >= 0.0 {
            s.insert(0, '+');
        }
        if m.component == 'z' {
            s.insert_str(0, "GMT");
        }
        if offset == 0.0 && m.presentation2 == Some('t') {
            s = "Z".into();
        }
        return Ok(s);
    }
    Ok(match frag {
        Frag::Text(t) if m.component == 'P' => match m.names {
            Some(Case::Upper) => t.to_uppercase(),
            _ => t.to_string(),
        },
        Frag::Text(t) => t.to_string(),
        Frag::Num(n) => js_number_string(n),
        Frag::None => String::new(),
    })
}

/// `$fromMillis`.
pub(crate) fn from_millis(
    millis: f64,
    picture: Option<&str>,
    timezone: Option<&str>,
) -> Result<String, Error> {
    format_datetime(millis, picture, timezone)
}

/// `$toMillis`.
pub(crate) fn to_millis<'a>(
    timestamp: &str,
    picture: Option<&str>,
    now: i64,
) -> Result<Value<'a>, Error> {
    match picture {
        None => match parse_iso8601(timestamp) {
            Some(ms) => Ok(Value::Number(ms)),
            None => {
                Err(Error::new("D3110").value(serde_json::to_string(timestamp).unwrap_or_default()))
            }
        },
        Some(p) => parse_datetime(timestamp, p, now),
    }
}

/// Parses the ISO 8601 forms the reference accepts; timestamps without an offset are UTC.
fn parse_iso8601(s: &str) -> Option<f64> {
    let re = iso_regex();
    let caps = re.captures(s)?;
    let num = |i: usize| {
        caps.get(i)
            .map(|m| m.as_str().parse::<f64>().unwrap_or(0.0))
    };
    let year = num(1)?;
    let month = num(2).unwrap_or(1.0);
    let day = num(3).unwrap_or(1.0);
    let hour = num(4).unwrap_or(0.0);
    let minute = num(5).unwrap_or(0.0);
    let second = num(6).unwrap_or(0.0);
    let millis = caps.get(7).map_or(0.0, |m| {
        let digits: String = m.as_str().chars().chain("000".chars()).take(3).collect();
        digits.parse().unwrap_or(0.0)
    });
    if !(1.0..=12.0).contains(&month)
        || !(1.0..=31.0).contains(&day)
        || hour > 24.0
        || minute > 59.0
        || second > 59.0
    {
        return None;
    }
    let mut t = date_utc(year, month - 1.0, day, hour, minute, second, millis);
    if let Some(tz) = caps.get(8) {
        let tz = tz.as_str();
        if tz != "Z" {
            let sign = if tz.starts_with('-') { -1.0 } else { 1.0 };
            let digits: String = tz.chars().filter(char::is_ascii_digit).collect();
            let h: f64 = digits.get(..2).and_then(|d| d.parse().ok()).unwrap_or(0.0);
            let m: f64 = digits.get(2..4).and_then(|d| d.parse().ok()).unwrap_or(0.0);
            t -= sign * (h * 60.0 + m) * 60_000.0;
        }
    }
    Some(t)
}

fn iso_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"^(\d{4})(?:-([01]\d))?(?:-([0-3]\d))?(?:T([0-2]\d):([0-5]\d):([0-5]\d))?(?:\.(\d+))?([+-][0-2]\d:?[0-5]\d|Z)?$",
        )
        .unwrap_or_else(|_| unreachable!("the ISO 8601 pattern is valid"))
    })
}

fn parse_datetime<'a>(timestamp: &str, picture: &str, now: i64) -> Result<Value<'a>, Error> {
    let spec = analyse_datetime_picture(picture)?;
    let mut regex = String::from("^");
    let mut parsers: Vec<(char, Option<ParseFn>)> = Vec::new();
    for part in &spec {
        match part {
            Part::Literal(l) => {
                regex.push('(');
                regex.push_str(&regex::escape(l));
                regex.push(')');
                parsers.push((' ', None));
            }
            Part::Marker(m) if m.component == 'Z' || m.component == 'z' => {
                let sep = match &m.integer {
                    Some(f) if f.regular => Some(f.separators[0].1),
                    _ => None,
                };
                let mut r = String::new();
                if m.component == 'z' {
                    r.push_str("GMT");
                }
                r.push_str("[-+][0-9]+");
                if let Some(c) = sep {
                    r.push_str(&regex::escape(&c.to_string()));
                    r.push_str("[0-9]+");
                }
                regex.push('(');
                regex.push_str(&r);
                regex.push(')');
                let z = m.component == 'z';
                parsers.push((
                    m.component,
                    Some(Box::new(move |v: &str| {
                        let v = if z { &v[3..] } else { v };
                        let (h, mi) = match sep {
                            Some(c) => {
                                let i = v.find(c).unwrap_or(v.len());
                                (
                                    parse_int(&v[..i]),
                                    parse_int(v.get(i + c.len_utf8()..).unwrap_or("")),
                                )
                            }
                            None => {
                                let digits = v.chars().count() - 1;
                                if digits <= 2 {
                                    (parse_int(v), 0.0)
                                } else {
                                    (parse_int(&v[..3]), parse_int(&v[3..]))
                                }
                            }
                        };
                        h * 60.0 + mi
                    })),
                ));
            }
            Part::Marker(m) if m.integer.is_some() => {
                let mut f = m.integer.clone().unwrap_or_else(|| unreachable!("checked"));
                f.n = if m.n > 0 {
                    let most = m.n as usize;
                    let least = if m.width_max.is_some() {
                        most
                    } else {
                        f.mandatory.min(most)
                    };
                    Some((least, most))
                } else {
                    None
                };
                let matcher = integer_matcher(&f)?;
                regex.push('(');
                regex.push_str(&matcher.regex);
                regex.push(')');
                if m.component == 'f' {
                    // Fractional seconds are a decimal fraction: `.01987` is 19 ms.
                    parsers.push((
                        'f',
                        Some(Box::new(|v: &str| {
                            let frac: f64 = format!("0.{v}").parse().unwrap_or(0.0);
                            (frac * 1000.0).floor()
                        })),
                    ));
                } else {
                    parsers.push((m.component, Some(matcher.parse)));
                }
            }
            Part::Marker(m) => {
                regex.push_str("([a-zA-Z]+)");
                let mut lookup: Vec<(String, f64)> = Vec::new();
                match m.component {
                    'M' | 'x' => {
                        for (i, name) in MONTHS.iter().enumerate() {
                            let n = match m.width_max {
                                Some(w) => name.chars().take(w).collect(),
                                None => name.to_string(),
                            };
                            lookup.push((n, (i + 1) as f64));
                        }
                    }
                    'F' => {
                        for (i, name) in DAYS.iter().enumerate().skip(1) {
                            let n = match m.width_max {
                                Some(w) => name.chars().take(w).collect(),
                                None => name.to_string(),
                            };
                            lookup.push((n, i as f64));
                        }
                    }
                    'P' => {
                        lookup = vec![
                            ("am".into(), 0.0),
                            ("AM".into(), 0.0),
                            ("pm".into(), 1.0),
                            ("PM".into(), 1.0),
                        ];
                    }
                    other => {
                        return Err(Error::new("D3133")
                            .value(serde_json::to_string(&other.to_string()).unwrap_or_default()));
                    }
                }
                parsers.push((
                    m.component,
                    Some(Box::new(move |v: &str| {
                        lookup
                            .iter()
                            .find(|(k, _)| k == v)
                            .map_or(f64::NAN, |(_, n)| *n)
                    })),
                ));
            }
        }
    }
    regex.push('$');
    let re = regex::RegexBuilder::new(&regex)
        .case_insensitive(true)
        .build()
        .map_err(|_| Error::new("D3136"))?;
    let Some(caps) = re.captures(timestamp) else {
        return Ok(Value::Undefined);
    };
    let mut comps: std::collections::HashMap<char, f64> = std::collections::HashMap::new();
    for (i, (c, parser)) in parsers.iter().enumerate() {
        if let (Some(p), Some(m)) = (parser, caps.get(i + 1)) {
            comps.insert(*c, p(m.as_str()));
        }
    }
    if comps.is_empty() {
        return Ok(Value::Undefined);
    }
    let mask_of = |parts: &str| -> u32 {
        let mut mask = 0;
        for p in parts.chars() {
            mask <<= 1;
            if comps.contains_key(&p) {
                mask += 1;
            }
        }
        mask
    };
    let is_type = |ty: u32, mask: u32| (!ty & mask) == 0 && (ty & mask) != 0;
    let dmask = mask_of("YXMxWwdD");
    let date_a = is_type(161, dmask);
    let date_b = !date_a && is_type(130, dmask);
    let date_c = is_type(84, dmask);
    let date_d = !date_c && is_type(72, dmask);
    let tmask = mask_of("PHhmsf");
    let time_a = is_type(23, tmask);
    let time_b = !time_a && is_type(47, tmask);
    let date_comps = if date_b {
        "YD"
    } else if date_c {
        "XxwF"
    } else if date_d {
        "XWF"
    } else {
        "YMD"
    };
    let time_comps = if time_b { "Phmsf" } else { "Hmsf" };
    let now_fields = fields(now as f64);
    let mut start_specified = false;
    let mut end_specified = false;
    for part in format!("{date_comps}{time_comps}").chars() {
        let value = if comps.contains_key(&part) {
            start_specified = true;
            if end_specified {
                return Err(Error::new("D3136"));
            }
            continue;
        } else if start_specified {
            end_specified = true;
            if "MDd".contains(part) {
                1.0
            } else {
                0.0
            }
        } else {
            match fragment(&now_fields, part) {
                Frag::Num(n) => n,
                Frag::Text(t) => {
                    if t == "pm" {
                        1.0
                    } else {
                        0.0
                    }
                }
                Frag::None => 0.0,
            }
        };
        comps.insert(part, value);
    }

    let get = |c: char, comps: &std::collections::HashMap<char, f64>| {
        comps.get(&c).copied().unwrap_or(0.0)
    };
    let m = get('M', &comps);
    comps.insert('M', if m > 0.0 { m - 1.0 } else { 0.0 });
    if date_b {
        let first = date_utc(get('Y', &comps), 0.0, 1.0, 0.0, 0.0, 0.0, 0.0);
        let derived = fields(first + (get('d', &comps) - 1.0) * MILLIS_IN_DAY);
        comps.insert('M', derived.month as f64);
        comps.insert('D', derived.day as f64);
    }
    if date_c || date_d {
        return Err(Error::new("D3136"));
    }
    if time_b {
        let h = get('h', &comps);
        let mut hh = if h == 12.0 { 0.0 } else { h };
        if get('P', &comps) == 1.0 {
            hh += 12.0;
        }
        comps.insert('H', hh);
    }
    let mut millis = date_utc(
        get('Y', &comps),
        get('M', &comps),
        get('D', &comps),
        get('H', &comps),
        get('m', &comps),
        get('s', &comps),
        get('f', &comps),
    );
    let tz = comps
        .get(&'Z')
        .or_else(|| comps.get(&'z'))
        .copied()
        .unwrap_or(0.0);
    if tz != 0.0 {
        millis -= tz * 60.0 * 1000.0;
    }
    Ok(Value::Number(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(days_from_civil(2024, 2, 29)), (2024, 2, 29));
        assert_eq!(
            date_utc(2018.0, 12.0, 1.0, 0.0, 0.0, 0.0, 0.0),
            date_utc(2019.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0)
        );
    }

    #[test]
    fn words() {
        assert_eq!(
            number_to_words(123.0, false),
            "One Hundred and Twenty-Three"
        );
        assert_eq!(words_to_number("one hundred and twenty-three"), 123.0);
    }
}
