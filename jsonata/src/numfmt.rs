//! `$formatNumber`: XPath F&O `fn:format-number`, as the reference implements it.

use crate::error::Error;
use crate::functions::round_half_even;
use crate::value::Value;

struct Props {
    decimal: String,
    grouping: String,
    exponent: String,
    minus: String,
    percent: String,
    per_mille: String,
    zero: char,
    digit: String,
    pattern: String,
}

#[derive(Clone)]
struct Parts {
    prefix: Vec<char>,
    suffix: Vec<char>,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fractional: Vec<char>,
    sub: Vec<char>,
}

#[derive(Clone)]
struct Analysis {
    integer_grouping: Vec<usize>,
    regular_grouping: usize,
    min_integer: usize,
    scaling: usize,
    prefix: String,
    fractional_grouping: Vec<usize>,
    min_fraction: usize,
    max_fraction: usize,
    min_exponent: usize,
    suffix: String,
    picture: Vec<char>,
}

fn index_of(hay: &[char], needle: &str, from: usize) -> Option<usize> {
    let n: Vec<char> = needle.chars().collect();
    if n.is_empty() {
        return Some(from.min(hay.len()));
    }
    if hay.len() < n.len() {
        return None;
    }
    (from..=hay.len() - n.len()).find(|&i| hay[i..i + n.len()] == n[..])
}

fn last_index_of(hay: &[char], needle: &str) -> Option<usize> {
    let n: Vec<char> = needle.chars().collect();
    if hay.len() < n.len() || n.is_empty() {
        return None;
    }
    (0..=hay.len() - n.len())
        .rev()
        .find(|&i| hay[i..i + n.len()] == n[..])
}

fn is(c: char, prop: &str) -> bool {
    let mut it = prop.chars();
    it.next() == Some(c) && it.next().is_none()
}

/// Formats `value` with an XPath picture string; `options` may override the symbols.
pub(crate) fn format_number(
    value: f64,
    picture: &str,
    options: &Value<'_>,
) -> Result<String, Error> {
    let mut p = Props {
        decimal: ".".into(),
        grouping: ",".into(),
        exponent: "e".into(),
        minus: "-".into(),
        percent: "%".into(),
        per_mille: "\u{2030}".into(),
        zero: '0',
        digit: "#".into(),
        pattern: ";".into(),
    };
    for (k, v) in options.entries() {
        let Some(v) = v.as_str().map(str::to_string) else {
            continue;
        };
        match k.as_str() {
            "decimal-separator" => p.decimal = v,
            "grouping-separator" => p.grouping = v,
            "exponent-separator" => p.exponent = v,
            "minus-sign" => p.minus = v,
            "percent" => p.percent = v,
            "per-mille" => p.per_mille = v,
            "zero-digit" => p.zero = v.chars().next().unwrap_or('0'),
            "digit" => p.digit = v,
            "pattern-separator" => p.pattern = v,
            _ => {}
        }
    }
    let zero = p.zero as u32;
    let family: Vec<char> = (0..10).filter_map(|i| char::from_u32(zero + i)).collect();
    let in_family = |c: char| family.contains(&c);
    let active = |c: char| {
        in_family(c)
            || is(c, &p.decimal)
            || is(c, &p.exponent)
            || is(c, &p.grouping)
            || is(c, &p.digit)
            || is(c, &p.pattern)
    };

    let subs: Vec<&str> = picture.split(p.pattern.as_str()).collect();
    if subs.len() > 2 {
        return Err(Error::new("D3080"));
    }

    let split_parts = |sub: &str| -> Parts {
        let s: Vec<char> = sub.chars().collect();
        let prefix_len = s
            .iter()
            .position(|&c| active(c) && !is(c, &p.exponent))
            .unwrap_or(0);
        let prefix: Vec<char> = s[..prefix_len].to_vec();
        let suffix: Vec<char> = match s.iter().rposition(|&c| active(c) && !is(c, &p.exponent)) {
            Some(i) => s[i + 1..].to_vec(),
            None => Vec::new(),
        };
        let end = s.len() - suffix.len();
        let active_part: Vec<char> = if prefix.len() <= end {
            s[prefix.len()..end].to_vec()
        } else {
            Vec::new()
        };
        let exp_pos = index_of(&s, &p.exponent, prefix.len());
        let (mantissa, exponent) = match exp_pos {
            Some(e) if e <= end => {
                // The reference indexes the active part with a position in the whole
                // sub-picture; that is kept for identical results.
                let e1 = e.min(active_part.len());
                let e2 = (e + 1).min(active_part.len());
                (active_part[..e1].to_vec(), Some(active_part[e2..].to_vec()))
            }
            _ => (active_part.clone(), None),
        };
        let (integer, fractional) = match index_of(&mantissa, &p.decimal, 0) {
            None => (mantissa.clone(), suffix.clone()),
            Some(d) => (mantissa[..d].to_vec(), mantissa[d + 1..].to_vec()),
        };
        Parts {
            prefix,
            suffix,
            active: active_part,
            mantissa,
            exponent,
            integer,
            fractional,
            sub: s,
        }
    };

    let validate = |parts: &Parts| -> Result<(), Error> {
        let mut error = None;
        let s = &parts.sub;
        let decimal_pos = index_of(s, &p.decimal, 0);
        if decimal_pos != last_index_of(s, &p.decimal) {
            error = Some("D3081");
        }
        if index_of(s, &p.percent, 0) != last_index_of(s, &p.percent) {
            error = Some("D3082");
        }
        if index_of(s, &p.per_mille, 0) != last_index_of(s, &p.per_mille) {
            error = Some("D3083");
        }
        if index_of(s, &p.percent, 0).is_some() && index_of(s, &p.per_mille, 0).is_some() {
            error = Some("D3084");
        }
        if !parts
            .mantissa
            .iter()
            .any(|&c| in_family(c) || is(c, &p.digit))
        {
            error = Some("D3085");
        }
        if parts.active.iter().any(|&c| !active(c)) {
            error = Some("D3086");
        }
        if let Some(d) = decimal_pos {
            let before = d.checked_sub(1).and_then(|i| s.get(i)).copied();
            let after = s.get(d + 1).copied();
            if before.is_some_and(|c| is(c, &p.grouping))
                || after.is_some_and(|c| is(c, &p.grouping))
            {
                error = Some("D3087");
            }
        } else if parts.integer.last().is_some_and(|&c| is(c, &p.grouping)) {
            error = Some("D3088");
        }
        if index_of(s, &format!("{}{}", p.grouping, p.grouping), 0).is_some() {
            error = Some("D3089");
        }
        if let Some(opt) = index_of(&parts.integer, &p.digit, 0) {
            if parts.integer[..opt].iter().any(|&c| in_family(c)) {
                error = Some("D3090");
            }
        }
        if let Some(opt) = last_index_of(&parts.fractional, &p.digit) {
            if parts.fractional[opt..].iter().any(|&c| in_family(c)) {
                error = Some("D3091");
            }
        }
        if let Some(e) = &parts.exponent {
            if !e.is_empty()
                && (index_of(s, &p.percent, 0).is_some() || index_of(s, &p.per_mille, 0).is_some())
            {
                error = Some("D3092");
            }
            if e.is_empty() || e.iter().any(|&c| !in_family(c)) {
                error = Some("D3093");
            }
        }
        match error {
            Some(code) => Err(Error::new(code)),
            None => Ok(()),
        }
    };

    let analyse = |parts: &Parts| -> Analysis {
        let grouping_positions = |part: &[char], to_left: bool| -> Vec<usize> {
            let mut positions = Vec::new();
            let mut gp = index_of(part, &p.grouping, 0);
            while let Some(g) = gp {
                let region: &[char] = if to_left { &part[..g] } else { &part[g..] };
                positions.push(
                    region
                        .iter()
                        .filter(|&&c| in_family(c) || is(c, &p.digit))
                        .count(),
                );
                // The reference continues the search in the integer part.
                gp = index_of(&parts.integer, &p.grouping, g + 1);
            }
            positions
        };
        let integer_grouping = grouping_positions(&parts.integer, false);
        let regular = |idx: &[usize]| -> usize {
            if idx.is_empty() {
                return 0;
            }
            fn gcd(a: usize, b: usize) -> usize {
                if b == 0 {
                    a
                } else {
                    gcd(b, a % b)
                }
            }
            let factor = idx.iter().copied().reduce(gcd).unwrap_or(0);
            for i in 1..=idx.len() {
                if !idx.contains(&(i * factor)) {
                    return 0;
                }
            }
            factor
        };
        let regular_grouping = regular(&integer_grouping);
        let fractional_grouping = grouping_positions(&parts.fractional, true);
        let mut min_integer = parts.integer.iter().filter(|&&c| in_family(c)).count();
        let scaling = min_integer;
        let mut min_fraction = parts.fractional.iter().filter(|&&c| in_family(c)).count();
        let mut max_fraction = parts
            .fractional
            .iter()
            .filter(|&&c| in_family(c) || is(c, &p.digit))
            .count();
        let exponent_present = parts.exponent.is_some();
        if min_integer == 0 && max_fraction == 0 {
            if exponent_present {
                min_fraction = 1;
                max_fraction = 1;
            } else {
                min_integer = 1;
            }
        }
        if exponent_present && min_integer == 0 && index_of(&parts.integer, &p.digit, 0).is_some() {
            min_integer = 1;
        }
        if min_integer == 0 && min_fraction == 0 {
            min_fraction = 1;
        }
        let min_exponent = parts
            .exponent
            .as_ref()
            .map_or(0, |e| e.iter().filter(|&&c| in_family(c)).count());
        Analysis {
            integer_grouping,
            regular_grouping,
            min_integer,
            scaling,
            prefix: parts.prefix.iter().collect(),
            fractional_grouping,
            min_fraction,
            max_fraction,
            min_exponent,
            suffix: parts.suffix.iter().collect(),
            picture: parts.sub.clone(),
        }
    };

    let parts: Vec<Parts> = subs.iter().map(|s| split_parts(s)).collect();
    for part in &parts {
        validate(part)?;
    }
    let mut variables: Vec<Analysis> = parts.iter().map(analyse).collect();
    if variables.len() == 1 {
        let mut neg = variables[0].clone();
        neg.prefix = format!("{}{}", p.minus, neg.prefix);
        variables.push(neg);
    }
    let pic = if value >= 0.0 {
        &variables[0]
    } else {
        &variables[1]
    };
    let adjusted = if index_of(&pic.picture, &p.percent, 0).is_some() {
        value * 100.0
    } else if index_of(&pic.picture, &p.per_mille, 0).is_some() {
        value * 1000.0
    } else {
        value
    };
    let (mantissa, exponent) = if pic.min_exponent == 0 {
        (adjusted, None)
    } else {
        let max_m = 10f64.powi(pic.scaling as i32);
        let min_m = 10f64.powi(pic.scaling as i32 - 1);
        // The magnitude decides the exponent; the sign comes from the sub-picture's prefix.
        let mut m = adjusted.abs();
        let mut e: i32 = 0;
        if m != 0.0 {
            while m < min_m {
                m *= 10.0;
                e -= 1;
            }
            while m > max_m {
                m /= 10.0;
                e += 1;
            }
        }
        (m, Some(e))
    };
    let rounded = round_half_even(mantissa, pic.max_fraction as f64);
    let make_string = |v: f64, dp: usize| -> Vec<char> {
        let s = to_fixed(v.abs(), dp);
        s.chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    family[(c as u32 - '0' as u32) as usize]
                } else {
                    c
                }
            })
            .collect()
    };
    let dec: Vec<char> = p.decimal.chars().collect();
    let mut sv: Vec<char> = make_string(rounded, pic.max_fraction);
    match sv.iter().position(|&c| c == '.') {
        None => sv.extend(dec.iter()),
        Some(i) => {
            sv.splice(i..=i, dec.iter().copied());
        }
    }
    while sv.first() == Some(&p.zero) {
        sv.remove(0);
    }
    while sv.last() == Some(&p.zero) {
        sv.pop();
    }
    let mut decimal_pos = index_of(&sv, &p.decimal, 0).unwrap_or(0);
    let pad_left = pic.min_integer as isize - decimal_pos as isize;
    let pad_right = pic.min_fraction as isize - (sv.len() as isize - decimal_pos as isize - 1);
    if pad_left > 0 {
        for _ in 0..pad_left {
            sv.insert(0, p.zero);
        }
    }
    if pad_right > 0 {
        for _ in 0..pad_right {
            sv.push(p.zero);
        }
    }
    decimal_pos = index_of(&sv, &p.decimal, 0).unwrap_or(0);
    let grouping: Vec<char> = p.grouping.chars().collect();
    if let Some(group_count) = (decimal_pos.saturating_sub(1)).checked_div(pic.regular_grouping) {
        for group in 1..=group_count {
            let at = decimal_pos - group * pic.regular_grouping;
            sv.splice(at..at, grouping.iter().copied());
        }
    } else {
        for &pos in &pic.integer_grouping {
            if pos <= decimal_pos {
                let at = decimal_pos - pos;
                sv.splice(at..at, grouping.iter().copied());
                decimal_pos += grouping.len();
            }
        }
    }
    decimal_pos = index_of(&sv, &p.decimal, 0).unwrap_or(0);
    for &pos in &pic.fractional_grouping {
        let at = (pos + decimal_pos + 1).min(sv.len());
        sv.splice(at..at, grouping.iter().copied());
    }
    decimal_pos = index_of(&sv, &p.decimal, 0).unwrap_or(0);
    if index_of(&pic.picture, &p.decimal, 0).is_none() || decimal_pos + 1 == sv.len() {
        sv.pop();
    }
    let mut out: String = sv.iter().collect();
    if let Some(e) = exponent {
        let mut se: Vec<char> = make_string(f64::from(e), 0);
        let pad = pic.min_exponent as isize - se.len() as isize;
        if pad > 0 {
            for _ in 0..pad {
                se.insert(0, p.zero);
            }
        }
        out.push_str(&p.exponent);
        if e < 0 {
            out.push_str(&p.minus);
        }
        out.extend(se);
    }
    Ok(format!("{}{}{}", pic.prefix, out, pic.suffix))
}

/// JavaScript's `Number.prototype.toFixed` (ties round away from zero).
fn to_fixed(v: f64, dp: usize) -> String {
    let s = format!("{v:.dp$}");
    // Rust rounds exact ties to even; JavaScript picks the larger. Detect a tie by looking at
    // the exact expansion one digit further.
    let longer = format!("{v:.prec$}", prec = dp + 30);
    let (head, tail) = longer.split_at(longer.len() - 30);
    if tail.starts_with('5') && tail[1..].chars().all(|c| c == '0') {
        let head = head.trim_end_matches('.');
        let bumped = bump_last_digit(head);
        return bumped;
    }
    s
}

fn bump_last_digit(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let mut i = chars.len();
    loop {
        if i == 0 {
            chars.insert(0, '1');
            break;
        }
        i -= 1;
        match chars[i] {
            '.' => continue,
            '9' => chars[i] = '0',
            c => {
                chars[i] = char::from_u32(c as u32 + 1).unwrap_or(c);
                break;
            }
        }
    }
    chars.into_iter().collect()
}
