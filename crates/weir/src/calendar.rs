//! The proleptic Gregorian calendar on day numbers: days since 1970-01-01 from a civil date and
//! back, leap years, month lengths, weekdays and ISO weeks.
//!
//! Written once for the two places that count days: expressions (`expr/`, DuckDB's dates, day 0
//! is 1970-01-01) and schemas (`schema/temporal.rs`, Python's dates, day 0 is 0001-01-01, which
//! is [`DAYS_0001_TO_1970`] earlier). It imports nothing from the crate.

/// Microseconds in a day.
pub(crate) const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Days from 0001-01-01 (Python's `toordinal() - 1`, the schema's day 0) to 1970-01-01.
pub(crate) const DAYS_0001_TO_1970: i64 = 719_162;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    // 719,468 days from 0000-03-01 to 1970-01-01.
    era * 146_097 + doe - 719_468
}

/// The date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`): year, month, day.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Whether `y` has a February 29th.
pub(crate) fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// The number of days in month `m` (1 to 12) of year `y`.
pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// The weekday of a day since 1970-01-01 (a Thursday), counted from Monday: Monday 0 .. Sunday 6.
pub(crate) fn weekday_from_monday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// The first day of ISO year `y`, in days since 1970-01-01: the Monday of the week that holds
/// January 4th.
pub(crate) fn iso_year_start(y: i64) -> i64 {
    let jan4 = days_from_civil(y, 1, 4);
    jan4 - weekday_from_monday(jan4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 3, 15), 19797);
        assert_eq!(days_from_civil(1, 1, 1), -DAYS_0001_TO_1970);
        for days in [-1_000_000, -719_468, -1, 0, 1, 19797, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn months_weekdays_and_iso_years() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2023, 4), 30);
        // 2024-03-17 was a Sunday; 0001-01-01 a Monday.
        assert_eq!(weekday_from_monday(days_from_civil(2024, 3, 17)), 6);
        assert_eq!(weekday_from_monday(-DAYS_0001_TO_1970), 0);
        // ISO 2021 began on Monday 2021-01-04, ISO 2020 on Monday 2019-12-30.
        assert_eq!(iso_year_start(2021), days_from_civil(2021, 1, 4));
        assert_eq!(iso_year_start(2020), days_from_civil(2019, 12, 30));
    }
}
