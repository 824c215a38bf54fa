//! The six functions AWS Step Functions adds to JSONata: `$partition`, `$range`, `$hash`,
//! `$random` (with an optional seed), `$uuid` and `$parse`.
//!
//! [`install`] binds them in an [`Environment`]; `$random` then replaces the standard one.
//!
//! Errors: an argument of the wrong type is `T0410`, as for the built-in functions; a
//! value the function cannot work with has its own code:
//!
//! | code    | cause |
//! |---------|-------|
//! | `D3300` | `$partition`: the size is not a positive integer |
//! | `D3301` | `$range`: the step is zero or not a number, or the range has more than 1000 items |
//! | `D3302` | `$hash`: the algorithm is not one of MD5, SHA-1, SHA-256, SHA-384, SHA-512 |
//! | `D3303` | `$parse`: the text is not valid JSON |

use serde_json::{json, Value};

use crate::{Environment, Error, Host};

/// The most items `$range` makes, as for `States.ArrayRange`.
pub const MAX_RANGE_ITEMS: usize = 1000;

/// Binds the Step Functions functions in `env`.
pub fn install(env: &mut Environment<'_>) {
    env.bind_function("partition", Box::new(|args, _| partition(args)));
    env.bind_function("range", Box::new(|args, _| range(args)));
    env.bind_function("hash", Box::new(|args, _| hash(args)));
    env.bind_function("random", Box::new(random));
    env.bind_function(
        "uuid",
        Box::new(|_, host| Ok(Some(Value::String(uuid(host))))),
    );
    env.bind_function("parse", Box::new(|args, _| parse(args)));
}

fn type_error(function: &str, index: usize) -> Error {
    let mut e = Error::with_message(
        "T0410",
        format!("Argument {index} of function {function} does not match function signature"),
    );
    e.token = Some(function.to_string());
    e
}

fn arg(args: &[Option<Value>], i: usize) -> Option<&Value> {
    args.get(i).and_then(Option::as_ref)
}

fn partition(args: &[Option<Value>]) -> Result<Option<Value>, Error> {
    let Some(array) = arg(args, 0) else {
        return Ok(None);
    };
    let items: Vec<Value> = match array {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let size = match arg(args, 1) {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        _ => return Err(type_error("partition", 2)),
    };
    if size < 1.0 || size.fract() != 0.0 {
        return Err(Error::with_message(
            "D3300",
            format!("The size argument of $partition must be a positive integer, got {size}"),
        ));
    }
    let size = size as usize;
    let chunks: Vec<Value> = items
        .chunks(size)
        .map(|c| Value::Array(c.to_vec()))
        .collect();
    Ok(Some(Value::Array(chunks)))
}

fn number(args: &[Option<Value>], i: usize, function: &str) -> Result<f64, Error> {
    match arg(args, i) {
        Some(Value::Number(n)) => n.as_f64().ok_or_else(|| type_error(function, i + 1)),
        _ => Err(type_error(function, i + 1)),
    }
}

fn range(args: &[Option<Value>]) -> Result<Option<Value>, Error> {
    let start = number(args, 0, "range")?;
    let end = number(args, 1, "range")?;
    let step = number(args, 2, "range")?;
    if step == 0.0 || !step.is_finite() {
        return Err(Error::with_message(
            "D3301",
            "The step argument of $range must not be zero",
        ));
    }
    let mut out = Vec::new();
    let mut i = 0usize;
    loop {
        let v = start + step * i as f64;
        if (step > 0.0 && v > end) || (step < 0.0 && v < end) {
            break;
        }
        if out.len() >= MAX_RANGE_ITEMS {
            return Err(Error::with_message(
                "D3301",
                format!("$range can make at most {MAX_RANGE_ITEMS} items"),
            ));
        }
        out.push(num_json(v));
        i += 1;
    }
    // Recorded on AWS: `$range(1, 9, 9)` gives `1`, not `[1]`. AWS's `$range` returns a
    // JSONata sequence, and a sequence of one value is that value.
    if out.len() == 1 {
        return Ok(out.pop());
    }
    Ok(Some(Value::Array(out)))
}

fn num_json(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hash(args: &[Option<Value>]) -> Result<Option<Value>, Error> {
    use md5::Digest as _;
    let Some(data) = arg(args, 0) else {
        return Ok(None);
    };
    let Value::String(data) = data else {
        return Err(type_error("hash", 1));
    };
    let Some(Value::String(algorithm)) = arg(args, 1) else {
        return Err(type_error("hash", 2));
    };
    let bytes = data.as_bytes();
    let digest = match algorithm.as_str() {
        "MD5" => hex(&md5::Md5::digest(bytes)),
        "SHA-1" => hex(&sha1::Sha1::digest(bytes)),
        "SHA-256" => hex(&sha2::Sha256::digest(bytes)),
        "SHA-384" => hex(&sha2::Sha384::digest(bytes)),
        "SHA-512" => hex(&sha2::Sha512::digest(bytes)),
        other => {
            return Err(Error::with_message(
                "D3302",
                format!(
                "Unsupported hash algorithm {other:?}: use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"
            ),
            ))
        }
    };
    Ok(Some(Value::String(digest)))
}

fn random(args: &[Option<Value>], host: &mut dyn Host) -> Result<Option<Value>, Error> {
    match arg(args, 0) {
        None => Ok(Some(json!(host.random()))),
        Some(Value::Number(n)) => {
            // The same seed always gives the same number: a splitmix64 step of the seed's bits.
            let seed = n.as_f64().unwrap_or(0.0).to_bits();
            let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            Ok(Some(json!((z >> 11) as f64 / (1u64 << 53) as f64)))
        }
        Some(_) => Err(type_error("random", 1)),
    }
}

/// A version 4 UUID from the host's random numbers.
fn uuid(host: &mut dyn Host) -> String {
    let mut bytes = [0u8; 16];
    for b in &mut bytes {
        *b = (host.random() * 256.0).floor().clamp(0.0, 255.0) as u8;
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn parse(args: &[Option<Value>]) -> Result<Option<Value>, Error> {
    let Some(v) = arg(args, 0) else {
        return Ok(None);
    };
    let Value::String(s) = v else {
        return Err(type_error("parse", 1));
    };
    serde_json::from_str(s).map(Some).map_err(|e| {
        Error::with_message("D3303", format!("$parse: the text is not valid JSON: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Expression, FixedHost};

    fn eval(expr: &str) -> Result<Option<Value>, Error> {
        let mut host = FixedHost::new(0, 7);
        let mut env = Environment::new(&mut host);
        install(&mut env);
        Expression::parse(expr)?.evaluate(None, &mut env)
    }

    #[test]
    fn partition_chunks_arrays() {
        assert_eq!(
            eval("$partition([1,2,3,4,5,6,7,8,9], 3)").unwrap(),
            Some(json!([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))
        );
        assert_eq!(
            eval("$partition([1,2,3,4,5], 2)").unwrap(),
            Some(json!([[1, 2], [3, 4], [5]]))
        );
        assert_eq!(eval("$partition([], 2)").unwrap(), Some(json!([])));
        assert_eq!(eval("$partition([1,2], 0)").unwrap_err().code, "D3300");
    }

    #[test]
    fn range_is_inclusive() {
        assert_eq!(
            eval("$range(0, 10, 2)").unwrap(),
            Some(json!([0, 2, 4, 6, 8, 10]))
        );
        assert_eq!(eval("$range(1, 0, 1)").unwrap(), Some(json!([])));
        assert_eq!(eval("$range(1, 9, 9)").unwrap(), Some(json!(1)));
        assert_eq!(eval("$range(5, 1, -2)").unwrap(), Some(json!([5, 3, 1])));
        assert_eq!(eval("$range(0, 1, 0)").unwrap_err().code, "D3301");
        assert_eq!(eval("$range(0, 5000, 1)").unwrap_err().code, "D3301");
    }

    #[test]
    fn hash_gives_lowercase_hex() {
        assert_eq!(
            eval("$hash('abc', 'MD5')").unwrap(),
            Some(json!("900150983cd24fb0d6963f7d28e17f72"))
        );
        assert_eq!(
            eval("$hash('abc', 'SHA-1')").unwrap(),
            Some(json!("a9993e364706816aba3e25717850c26c9cd0d89d"))
        );
        assert_eq!(
            eval("$hash('abc', 'SHA-256')").unwrap(),
            Some(json!(
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            ))
        );
        assert_eq!(
            eval("$hash('abc', 'SHA-384')").unwrap(),
            Some(json!("cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"))
        );
        assert_eq!(
            eval("$hash('abc', 'SHA-512')").unwrap(),
            Some(json!("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"))
        );
        assert_eq!(eval("$hash('abc', 'SHA-3')").unwrap_err().code, "D3302");
        assert_eq!(eval("$hash(1, 'MD5')").unwrap_err().code, "T0410");
    }

    #[test]
    fn random_with_a_seed_repeats() {
        let a = eval("$random(42)").unwrap();
        assert_eq!(a, eval("$random(42)").unwrap());
        assert_ne!(a, eval("$random(43)").unwrap());
        let r = eval("$random()").unwrap().and_then(|v| v.as_f64()).unwrap();
        assert!((0.0..1.0).contains(&r));
    }

    #[test]
    fn uuid_is_version_4() {
        let u = eval("$uuid()").unwrap().unwrap();
        let u = u.as_str().unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
        // Deterministic given the host's seed.
        assert_eq!(Some(json!(u)), eval("$uuid()").unwrap());
    }

    #[test]
    fn parse_reads_json() {
        assert_eq!(
            eval("$parse('{\"a\": [1, true]}')").unwrap(),
            Some(json!({"a": [1, true]}))
        );
        assert_eq!(eval("$parse('{')").unwrap_err().code, "D3303");
    }
}
