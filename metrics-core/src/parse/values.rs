//! Numbers, booleans and vendor durations as the data contract accepts them.

/// An integer, accepting whole-valued decimals like `2.0` (docs/data-contract.md, "Integers and booleans").
///
/// ```
/// use metrics_core::parse::values::parse_int;
/// assert_eq!(parse_int("2"), Some(2));
/// assert_eq!(parse_int(" 2.0 "), Some(2));
/// assert_eq!(parse_int("2.5"), None);
/// assert_eq!(parse_int("two"), None);
/// ```
pub fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(i) = s.parse::<i64>() {
        return Some(i);
    }
    let f: f64 = s.parse().ok()?;
    // Whole values within i64's exactly representable range only.
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// A finite float.
///
/// ```
/// use metrics_core::parse::values::parse_float;
/// assert_eq!(parse_float("1.5"), Some(1.5));
/// assert_eq!(parse_float("NaN"), None);
/// ```
pub fn parse_float(s: &str) -> Option<f64> {
    let f: f64 = s.trim().parse().ok()?;
    f.is_finite().then_some(f)
}

/// A boolean: `true/false`, `t/f`, `yes/no`, `y/n`, `1/0`, case-insensitive.
///
/// ```
/// use metrics_core::parse::values::parse_bool;
/// assert_eq!(parse_bool("Yes"), Some(true));
/// assert_eq!(parse_bool("0"), Some(false));
/// assert_eq!(parse_bool("maybe"), None);
/// ```
pub fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    const TRUE: [&str; 5] = ["true", "t", "yes", "y", "1"];
    const FALSE: [&str; 5] = ["false", "f", "no", "n", "0"];
    if TRUE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|t| s.eq_ignore_ascii_case(t)) {
        Some(false)
    } else {
        None
    }
}
