//! Numeric functions: `abs`, `round`, `trunc`, `sign`, `sqrt`, logarithms, `exp`, `power`
//! (`floor` and `ceil` are one line each in the table's dispatch). Text arguments are read as
//! DOUBLE; BIGINT stays BIGINT where DuckDB keeps it.

use super::{integer, number, Func, FuncError, FuncResult};
use crate::expr::convert::Num;
use crate::expr::Value;

/// `abs(x)`.
pub(super) fn abs(x: &Value<'_>) -> FuncResult<Value<'static>> {
    match number(x, 0)? {
        Num::Int(i) => i
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| FuncError::invalid(0, &x.to_text(), format!("Overflow on abs({i})"))),
        Num::Float(f) => Ok(Value::Float(f.abs())),
    }
}

/// `round(x[, digits])`.
pub(super) fn round(x: &Value<'_>, digits: Option<&Value<'_>>) -> FuncResult<Value<'static>> {
    let digits = match digits {
        Some(d) => integer(d, 1)?,
        None => 0,
    };
    match number(x, 0)? {
        Num::Int(i) => round_int(i, digits).map(Value::Int).ok_or_else(|| {
            FuncError::invalid(0, &x.to_text(), "Overflow in ROUND of integer".into())
        }),
        Num::Float(f) => Ok(Value::Float(round_float(f, digits))),
    }
}

/// `trunc(x)`: toward zero; a BIGINT as it is.
pub(super) fn trunc(x: &Value<'_>) -> FuncResult<Value<'static>> {
    Ok(match number(x, 0)? {
        Num::Int(i) => Value::Int(i),
        Num::Float(f) => Value::Float(f.trunc()),
    })
}

/// `sign(x)`: -1, 0 or 1.
pub(super) fn sign(x: &Value<'_>) -> FuncResult<Value<'static>> {
    Ok(Value::Int(match number(x, 0)? {
        Num::Int(i) => i.signum(),
        Num::Float(f) if f > 0.0 => 1,
        Num::Float(f) if f < 0.0 => -1,
        Num::Float(_) => 0,
    }))
}

/// `sqrt`, `ln`, `log10`, `exp` of one DOUBLE.
pub(super) fn unary(func: Func, x: &Value<'_>) -> FuncResult<Value<'static>> {
    let x = number(x, 0)?.as_f64();
    Ok(Value::Float(match func {
        Func::Sqrt => x.sqrt(),
        Func::Ln => x.ln(),
        Func::Log10 => x.log10(),
        _ => x.exp(),
    }))
}

/// `log(x)` is `log10(x)`; `log(b, x)` the logarithm of `x` in base `b`.
pub(super) fn log(first: &Value<'_>, second: Option<&Value<'_>>) -> FuncResult<Value<'static>> {
    let x = number(first, 0)?.as_f64();
    let Some(second) = second else {
        return Ok(Value::Float(x.log10()));
    };
    let y = number(second, 1)?.as_f64();
    Ok(Value::Float(y.ln() / x.ln()))
}

/// `power(x, y)`.
pub(super) fn power(x: &Value<'_>, y: &Value<'_>) -> FuncResult<Value<'static>> {
    let x = number(x, 0)?.as_f64();
    let y = number(y, 1)?.as_f64();
    Ok(Value::Float(x.powf(y)))
}

/// `round(BIGINT, digits)`: unchanged for digits >= 0, else half away from zero.
fn round_int(i: i64, digits: i64) -> Option<i64> {
    if digits >= 0 {
        return Some(i);
    }
    if digits < -18 {
        return Some(0);
    }
    let p = 10i128.pow((-digits) as u32);
    let v = i128::from(i);
    let q = v / p;
    let r = v % p;
    let q = if r.abs() * 2 >= p { q + v.signum() } else { q };
    i64::try_from(q * p).ok()
}

/// `round(DOUBLE, digits)` as DuckDB rounds: on the exact value of the double, half away from
/// zero, so 5.55 (stored as 5.5499999...) rounds to 5.5 and 0.125 (exact) to 0.13.
fn round_float(x: f64, digits: i64) -> f64 {
    let digits = digits.clamp(-400, 400) as i32;
    if digits < 0 {
        let m = 10f64.powi(-digits);
        let q = x / m;
        let mut r = q.round();
        if (q - q.trunc()).abs() == 0.5 {
            // The quotient may have been rounded onto the tie: the exact remainder decides.
            let rem = (-q).mul_add(m, x);
            if q > 0.0 && rem < 0.0 {
                r -= 1.0;
            } else if q < 0.0 && rem > 0.0 {
                r += 1.0;
            }
        }
        let out = r * m;
        if out.is_finite() {
            out
        } else {
            0.0
        }
    } else {
        let m = 10f64.powi(digits);
        let p = x * m;
        let mut r = p.round();
        if (p - p.trunc()).abs() == 0.5 {
            // Only a product rounded onto a tie can round the wrong way; its exact error
            // (x * m - p, exact with a fused multiply-add) decides.
            let err = x.mul_add(m, -p);
            if p > 0.0 && err < 0.0 {
                r -= 1.0;
            } else if p < 0.0 && err > 0.0 {
                r += 1.0;
            }
        }
        let out = r / m;
        if out.is_finite() {
            out
        } else {
            x
        }
    }
}
