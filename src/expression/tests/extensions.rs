//! n8n's extension functions on strings, numbers, arrays, objects and booleans.

use serde_json::json;

use super::{check, error};

#[test]
fn strings() {
    check(&[
        ("={{ ''.isEmpty() }}", json!(true)),
        ("={{ $json.name.isNotEmpty() }}", json!(true)),
        (
            "={{ 'Mail ada@example.com now'.extractEmail() }}",
            json!("ada@example.com"),
        ),
        (
            "={{ 'ada@example.com'.extractDomain() }}",
            json!("example.com"),
        ),
        (
            "={{ 'https://www.n8n.io/workflows?a=1'.extractDomain() }}",
            json!("www.n8n.io"),
        ),
        (
            "={{ 'see https://n8n.io/path now'.extractUrl() }}",
            json!("https://n8n.io/path"),
        ),
        (
            "={{ 'https://example.com/orders/1/details'.extractUrlPath() }}",
            json!("/orders/1/details"),
        ),
        ("={{ 'ada@example.com'.isEmail() }}", json!(true)),
        ("={{ 'not an email'.isEmail() }}", json!(false)),
        ("={{ 'https://n8n.io'.isUrl() }}", json!(true)),
        ("={{ 'n8n.io'.isUrl() }}", json!(false)),
        ("={{ 'n8n.io'.isDomain() }}", json!(true)),
        ("={{ '123.5'.isNumeric() }}", json!(true)),
        ("={{ '12a'.isNumeric() }}", json!(false)),
        (
            "={{ 'the lord of the rings'.toTitleCase() }}",
            json!("The Lord of the Rings"),
        ),
        (
            "={{ 'hello WORLD. bye now'.toSentenceCase() }}",
            json!("Hello world. Bye now"),
        ),
        (
            "={{ 'Hello World-Wide web!'.toSnakeCase() }}",
            json!("hello_world_wide_web"),
        ),
        (
            "={{ '<p>Hi <b>there</b></p>'.removeTags() }}",
            json!("Hi there"),
        ),
        (
            "={{ 'Crème brûlée'.replaceSpecialChars() }}",
            json!("Creme brulee"),
        ),
        (
            "={{ 'hello'.hash() }}",
            json!("5d41402abc4b2a76b9719d911017c592"),
        ),
        (
            "={{ 'hello'.hash('sha256') }}",
            json!("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
        ),
        ("={{ 'hello'.base64Encode() }}", json!("aGVsbG8=")),
        ("={{ 'aGVsbG8='.base64Decode() }}", json!("hello")),
        ("={{ 'a b&c'.urlEncode() }}", json!("a%20b%26c")),
        ("={{ 'a%20b%26c'.urlDecode() }}", json!("a b&c")),
        ("={{ 'say \"hi\"'.quote() }}", json!("\"say \\\"hi\\\"\"")),
        ("={{ '42'.toInt() }}", json!(42)),
        ("={{ '3.75'.toFloat() }}", json!(3.75)),
        ("={{ '$12'.toNumber() }}", json!(12)),
        ("={{ 'yes'.toBoolean() }}", json!(true)),
        ("={{ 'no'.toBoolean() }}", json!(false)),
        ("={{ '0'.toBoolean() }}", json!(false)),
        ("={{ '{\"a\":1}'.parseJson().a }}", json!(1)),
        ("={{ 'x'.toJsonString() }}", json!("\"x\"")),
        ("={{ 'abc'.length }}", json!(3)),
        ("={{ 'abc'.toUpperCase() }}", json!("ABC")),
    ]);
}

#[test]
fn string_conversion_failures_are_errors() {
    assert_eq!(error("={{ 'abc'.toInt() }}"), "cannot convert to integer");
    assert_eq!(
        error("={{ '1,5'.toFloat() }}"),
        "cannot convert to float, expected . as decimal separator"
    );
    assert_eq!(
        error("={{ \"{'a':1}\".parseJson() }}"),
        "Parsing failed. Check you're using double quotes"
    );
    assert_eq!(
        error("={{ 'x'.toDateTime() }}"),
        "cannot convert to Luxon DateTime"
    );
}

#[test]
fn numbers() {
    check(&[
        ("={{ (1.2345).round(2) }}", json!(1.23)),
        ("={{ (1.5).round() }}", json!(2)),
        ("={{ (1.7).floor() }}", json!(1)),
        ("={{ (1.2).ceil() }}", json!(2)),
        ("={{ (-3).abs() }}", json!(3)),
        ("={{ (4).isEven() }}", json!(true)),
        ("={{ (5).isOdd() }}", json!(true)),
        ("={{ (5).isInteger() }}", json!(true)),
        ("={{ (0).toBoolean() }}", json!(false)),
        ("={{ (2.6).toInt() }}", json!(3)),
        ("={{ (1234567.891).format() }}", json!("1,234,567.891")),
        (
            "={{ (0.256).format('en-US', {style: 'percent'}) }}",
            json!("26%"),
        ),
        (
            "={{ (1710513045123).toDateTime().toISO() }}",
            json!("2024-03-15T10:30:45.123-04:00"),
        ),
        (
            "={{ (1710513045).toDateTime('s').toMillis() }}",
            json!(1_710_513_045_000_i64),
        ),
    ]);
    assert_eq!(
        error("={{ (1.5).isEven() }}"),
        "isEven() is only callable on integers"
    );
}

#[test]
fn arrays() {
    check(&[
        ("={{ $json.tags.first() }}", json!("math")),
        ("={{ $json.tags.last() }}", json!("math")),
        ("={{ $json.tags.unique() }}", json!(["math", "poetry"])),
        (
            "={{ $json.tags.removeDuplicates() }}",
            json!(["math", "poetry"]),
        ),
        ("={{ [].isEmpty() }}", json!(true)),
        ("={{ [1].isNotEmpty() }}", json!(true)),
        ("={{ [1, 2, 3.5].sum() }}", json!(6.5)),
        ("={{ [1, 2, 3].average() }}", json!(2)),
        ("={{ [4, 2, 9].max() }}", json!(9)),
        ("={{ [4, 2, 9].min() }}", json!(2)),
        (
            "={{ [1, null, '', 'nil', {}, 2].compact() }}",
            json!([1, 2]),
        ),
        (
            "={{ [1, 2, 3, 4, 5].chunk(2) }}",
            json!([[1, 2], [3, 4], [5]]),
        ),
        ("={{ [{a: 1, b: 2}, {a: 3}].pluck('a') }}", json!([1, 3])),
        (
            "={{ [{k: 'x', v: 1}, {k: 'y', v: 2}].smartJoin('k', 'v') }}",
            json!({"x": 1, "y": 2}),
        ),
        (
            "={{ [{a: 1}, {a: 1, b: 2}].unique('a') }}",
            json!([{"a": 1}]),
        ),
        ("={{ [{a: 1}].renameKeys('a', 'z') }}", json!([{"z": 1}])),
        ("={{ [{a: 1}, {b: 2}].merge() }}", json!({"a": 1, "b": 2})),
        ("={{ [1, 2].union([2, 3]) }}", json!([1, 2, 3])),
        ("={{ [1, 2, 3].difference([2]) }}", json!([1, 3])),
        ("={{ [1, 2, 3].intersection([3, 2, 5]) }}", json!([2, 3])),
        ("={{ [1].append(2, 3) }}", json!([1, 2, 3])),
        ("={{ [1, 'a'].toJsonString() }}", json!("[1,\"a\"]")),
        (
            "={{ [3, 1, 2].toSorted ? 'native' : 'none' }}",
            json!("native"),
        ),
    ]);
    assert_eq!(
        error("={{ ['a', 1].sum() }}"),
        "sum(): all array elements must be numbers"
    );
    assert_eq!(
        error("={{ [1].chunk(0) }}"),
        "chunk(): expected non-zero numeric arg, e.g. .chunk(5)"
    );
}

#[test]
fn objects_and_booleans() {
    check(&[
        ("={{ $json.nested.isEmpty() }}", json!(false)),
        ("={{ ({}).isEmpty() }}", json!(true)),
        ("={{ ({a: 1, b: 2}).keys() }}", json!(["a", "b"])),
        ("={{ ({a: 1, b: 2}).values() }}", json!([1, 2])),
        ("={{ ({a: 1}).hasField('a') }}", json!(true)),
        ("={{ ({a: 1, b: 2}).removeField('a') }}", json!({"b": 2})),
        ("={{ ({a: 1, b: null, c: ''}).compact() }}", json!({"a": 1})),
        ("={{ ({a: 'x y', b: 2}).urlEncode() }}", json!("a=x+y&b=2")),
        ("={{ ({a: 1}).toJsonString() }}", json!("{\"a\":1}")),
        (
            "={{ ({a: 'keep me', b: 'drop'}).keepFieldsContaining('keep') }}",
            json!({"a": "keep me"}),
        ),
        (
            "={{ ({a: 'keep me', b: 'drop'}).removeFieldsContaining('keep') }}",
            json!({"b": "drop"}),
        ),
        ("={{ true.toInt() }}", json!(1)),
        ("={{ false.toNumber() }}", json!(0)),
    ]);
}

#[test]
fn calling_an_extension_on_the_wrong_type_or_on_nothing_fails() {
    assert_eq!(
        error("={{ (5).pluck('a') }}"),
        "pluck() is only callable on type \"Array\""
    );
    assert_eq!(
        error("={{ $json.missing.toInt() }}"),
        "toInt can't be used on undefined value"
    );
    // isEmpty and isNotEmpty answer for nothing at all; `?.` stops before calling.
    check(&[
        ("={{ $json.missing.isEmpty() }}", json!(true)),
        ("={{ $json.nothing.isNotEmpty() }}", json!(false)),
        ("={{ $json.missing?.isEmpty() }}", json!(null)),
    ]);
}
