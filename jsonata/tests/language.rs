//! Exact results for the tricky parts of the language: key order, sequences and singleton
//! flattening, the parent operator, partial application, closures, errors, and the API.

use jsonata::{Environment, Expression, FixedHost};
use serde_json::{json, Value};

fn eval_with(expr: &str, input: Option<Value>) -> Result<Option<Value>, jsonata::Error> {
    let mut host = FixedHost::new(1_500_000_000_000, 42);
    let mut env = Environment::new(&mut host);
    Expression::parse(expr)?.evaluate(input.as_ref(), &mut env)
}

fn eval(expr: &str, input: Value) -> Value {
    eval_with(expr, Some(input)).unwrap().unwrap()
}

/// The result serialised, so key order is compared too.
fn text(expr: &str, input: Value) -> String {
    serde_json::to_string(&eval(expr, input)).unwrap()
}

fn orders() -> Value {
    json!({"Account": {"Order": [
        {"OrderID": "o1", "Product": [{"Name": "Hat", "Price": 5, "Qty": 2}, {"Name": "Cap", "Price": 3, "Qty": 1}]},
        {"OrderID": "o2", "Product": [{"Name": "Hat", "Price": 5, "Qty": 1}]}
    ]}})
}

#[test]
fn objects_keep_key_order() {
    assert_eq!(
        text("$", json!({"b": 1, "a": 2, "c": 3})),
        r#"{"b":1,"a":2,"c":3}"#
    );
    assert_eq!(
        text("{'z': 1, 'y': 2, 'x': 3}", json!(null)),
        r#"{"z":1,"y":2,"x":3}"#
    );
    assert_eq!(
        text("$merge([{'b': 1}, {'a': 2}, {'b': 3}])", json!(null)),
        r#"{"b":3,"a":2}"#
    );
    // Grouping keys appear in the order they are first met.
    assert_eq!(
        text("Account.Order.Product{Name: $sum(Price)}", orders()),
        r#"{"Hat":10,"Cap":3}"#
    );
    assert_eq!(text("$keys({'q': 1, 'p': 2})", json!(null)), r#"["q","p"]"#);
    // As in JavaScript, integer-like keys come first, in numeric order.
    assert_eq!(
        text("$", json!({"b": 1, "2": 2, "1": 3})),
        r#"{"1":3,"2":2,"b":1}"#
    );
    assert_eq!(
        text("{'b': 1, '10': 2, '9': 3, '01': 4}", json!(null)),
        r#"{"9":3,"10":2,"b":1,"01":4}"#
    );
    assert_eq!(text("$keys($)", json!({"x": 1, "7": 2})), r#"["7","x"]"#);
    // Transforms keep the order of the copy and append new keys.
    assert_eq!(
        text(
            "$ ~> |$|{'a': 9, 'd': 4}, ['c']|",
            json!({"c": 1, "a": 2, "b": 3})
        ),
        r#"{"a":9,"b":3,"d":4}"#
    );
}

#[test]
fn sequences_flatten_and_singletons_collapse() {
    // A one-item result is the item, not an array.
    assert_eq!(eval("Account.Order[0].OrderID", orders()), json!("o1"));
    assert_eq!(
        eval("Account.Order.Product.Name", orders()),
        json!(["Hat", "Cap", "Hat"])
    );
    // `[]` keeps a singleton as an array.
    assert_eq!(
        eval("Account.Order[1].Product.Name[]", orders()),
        json!(["Hat"])
    );
    assert_eq!(
        eval("Account.Order[1].Product[].Name", orders()),
        json!(["Hat"])
    );
    // Array constructors are values, not sequences: they are not collapsed.
    assert_eq!(eval("[Account.Order[1].OrderID]", orders()), json!(["o2"]));
    // Nested arrays in the input are flattened by path steps...
    assert_eq!(
        eval("a.b", json!({"a": [{"b": [1, 2]}, {"b": [3]}]})),
        json!([1, 2, 3])
    );
    // ...but a path that ends on a single array returns it as it is.
    assert_eq!(
        eval("a.b", json!({"a": {"b": [[1, 2], [3]]}})),
        json!([[1, 2], [3]])
    );
    // The top-level array input is one value.
    assert_eq!(eval("$[1]", json!([10, 20, 30])), json!(20));
    assert_eq!(eval("$count($)", json!([10, 20, 30])), json!(3));
    // Missing paths are undefined, and undefined disappears from arrays.
    assert_eq!(eval_with("nothing.here", Some(orders())).unwrap(), None);
    assert_eq!(eval("[1, nothing, 2]", orders()), json!([1, 2]));
    // Ranges and predicates.
    assert_eq!(eval("[1..5][$ % 2 = 1]", json!(null)), json!([1, 3, 5]));
    assert_eq!(eval("[1..5][-1]", json!(null)), json!(5));
    assert_eq!(eval("[1..5][[0, 2]]", json!(null)), json!([1, 3]));
}

#[test]
fn parent_operator_reaches_enclosing_objects() {
    assert_eq!(
        eval(
            "Account.Order.Product.{'order': %.OrderID, 'name': Name}",
            orders()
        ),
        json!([
            {"order": "o1", "name": "Hat"},
            {"order": "o1", "name": "Cap"},
            {"order": "o2", "name": "Hat"}
        ])
    );
    assert_eq!(
        eval("Account.Order.Product[%.OrderID = 'o2'].Qty", orders()),
        json!(1)
    );
    assert_eq!(
        eval("Account.Order.Product.%.OrderID", orders()),
        json!(["o1", "o1", "o2"])
    );
    assert_eq!(eval_with("%.x", None).unwrap_err().code, "S0217");
}

#[test]
fn focus_and_index_bindings_join() {
    assert_eq!(
        eval(
            "Account.Order#$i.Product@$p.{'i': $i, 'n': $p.Name}",
            orders()
        ),
        json!([
            {"i": 0, "n": "Hat"},
            {"i": 0, "n": "Cap"},
            {"i": 1, "n": "Hat"}
        ])
    );
}

#[test]
fn partial_application_and_closures() {
    assert_eq!(
        eval(
            "($add := function($a, $b){ $a + $b }; $inc := $add(?, 1); $inc(5))",
            json!(null)
        ),
        json!(6)
    );
    assert_eq!(
        eval("$substring(?, 0, 3)('abcdef')", json!(null)),
        json!("abc")
    );
    assert_eq!(
        eval(
            "($first3 := $substring(?, 0, 3); ['alpha', 'beta'].$first3($))",
            json!(null)
        ),
        json!(["alp", "bet"])
    );
    // Closures capture their scope.
    assert_eq!(
        eval("($mk := function($n){ function($x){ $x * $n } }; $double := $mk(2); $map([1, 2, 3], $double))", json!(null)),
        json!([2, 4, 6])
    );
    // Function chaining.
    assert_eq!(
        eval("('  Hi  ' ~> $trim ~> $uppercase)", json!(null)),
        json!("HI")
    );
    assert_eq!(
        eval("($f := $trim ~> $lowercase; $f('  AB '))", json!(null)),
        json!("ab")
    );
    // Tail calls do not grow the depth.
    assert_eq!(
        eval("($loop := function($n, $acc){ $n = 0 ? $acc : $loop($n - 1, $acc + $n) }; $loop(5000, 0))", json!(null)),
        json!(12_502_500)
    );
}

#[test]
fn numbers_and_strings_follow_javascript() {
    assert_eq!(eval("1 + 2", json!(null)), json!(3));
    assert!(eval("1 + 2", json!(null)).is_i64());
    assert_eq!(eval("0.1 + 0.2", json!(null)), json!(0.30000000000000004));
    assert_eq!(eval("$string(0.1 + 0.2)", json!(null)), json!("0.3"));
    assert_eq!(eval("$string(1e21)", json!(null)), json!("1e+21"));
    assert_eq!(eval("$round(2.5)", json!(null)), json!(2));
    assert_eq!(eval("$round(3.5)", json!(null)), json!(4));
    assert_eq!(eval("$round(1.255, 2)", json!(null)), json!(1.26));
    assert_eq!(
        eval("$formatNumber(1234.5678, '#,##0.00')", json!(null)),
        json!("1,234.57")
    );
    assert_eq!(
        eval("$formatInteger(1999, 'I')", json!(null)),
        json!("MCMXCIX")
    );
    assert_eq!(eval("$length('😀ab')", json!(null)), json!(3));
    assert_eq!(
        eval("'a' & 1 & true & null", json!(null)),
        json!("a1truenull")
    );
    assert_eq!(
        eval(
            "$replace('2024-01-05', /(\\d+)-(\\d+)-(\\d+)/, '$3/$2/$1')",
            json!(null)
        ),
        json!("05/01/2024")
    );
}

#[test]
fn clock_and_randomness_come_from_the_host() {
    assert_eq!(
        eval("$now()", json!(null)),
        json!("2017-07-14T02:40:00.000Z")
    );
    assert_eq!(eval("$millis()", json!(null)), json!(1_500_000_000_000_i64));
    assert_eq!(
        eval(
            "$fromMillis($millis(), '[D01]/[M01]/[Y0001] [H01]:[m01]')",
            json!(null)
        ),
        json!("14/07/2017 02:40")
    );
    // One timestamp per evaluation.
    assert_eq!(eval("$now() = $now()", json!(null)), json!(true));
    // The same seed gives the same shuffle.
    assert_eq!(
        eval("$shuffle([1,2,3,4,5,6])", json!(null)),
        eval("$shuffle([1,2,3,4,5,6])", json!(null))
    );
}

#[test]
fn errors_carry_code_token_and_position() {
    let e = eval_with("1 + 'a'", None).unwrap_err();
    assert_eq!(e.code, "T2002");
    assert_eq!(e.token.as_deref(), Some("+"));
    assert_eq!(e.position, Some(3));
    assert_eq!(
        e.message,
        "The right side of the \"+\" operator must evaluate to a number"
    );
    let e = eval_with("$uppercase(1)", None).unwrap_err();
    assert_eq!(e.code, "T0410");
    assert_eq!(e.token.as_deref(), Some("uppercase"));
    assert_eq!(eval_with("(", None).unwrap_err().code, "S0203");
    assert_eq!(
        eval_with("$error('boom')", None).unwrap_err().message,
        "boom"
    );
    assert_eq!(eval_with("$string(1/0)", None).unwrap_err().code, "D3001");
    assert_eq!(eval_with("1/0", None).unwrap_err().code, "D1001");
}

#[test]
fn bindings_functions_and_free_variables() {
    let mut host = FixedHost::new(0, 1);
    let mut env = Environment::new(&mut host);
    env.bind("states", json!({"input": {"n": 20}}));
    env.bind_function(
        "twice",
        Box::new(|args, _| {
            Ok(args
                .first()
                .cloned()
                .flatten()
                .and_then(|v| v.as_f64())
                .map(|n| json!(n * 2.0)))
        }),
    );
    let e = Expression::parse("$twice($states.input.n) + 1").unwrap();
    assert_eq!(e.evaluate(None, &mut env).unwrap(), Some(json!(41)));

    let e = Expression::parse("$x + $y.z + $count($w) + ($v := 1; $v) + $map([1], function($a){ $a + $q })[0] + Items@$i.($i)")
        .unwrap();
    assert_eq!(e.variables(), vec!["q", "w", "x", "y"]);
    assert_eq!(
        Expression::parse("$$.a + $.b").unwrap().variables(),
        Vec::<String>::new()
    );
}

#[test]
fn undefined_input_and_results() {
    assert_eq!(eval_with("$", None).unwrap(), None);
    assert_eq!(eval_with("a", None).unwrap(), None);
    assert_eq!(eval_with("$exists(a)", None).unwrap(), Some(json!(false)));
    assert_eq!(eval_with("function($x){$x}", None).unwrap(), None);
}

#[test]
fn expressions_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Expression>();
    assert_send_sync::<jsonata::Error>();
}
