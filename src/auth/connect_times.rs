//! A user JWT's `times`: daily windows, in `times_location` (the server's
//! local zone when empty), in which the user may connect, and for how long.
//!
//! This follows nats-server's `validateTimes` exactly, including how it
//! reads a window that crosses midnight (start after end): from today's
//! start to tomorrow's end, so that shortly after midnight, before today's
//! start, such a window does not admit the user.

use super::jwt::TimeRange;
use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimesError {
    #[error("outside connect times")]
    Outside,
    #[error("unknown times_location `{0}`")]
    UnknownLocation(String),
    #[error("connect time `{0}` is not HH:MM:SS")]
    BadTime(String),
}

/// `Ok(None)` when `times` is empty (no restriction); `Ok(Some(end))` when
/// `now` is inside a window, which closes at `end`.
pub fn window_end(
    times: &[TimeRange],
    location: &str,
    now: Timestamp,
) -> Result<Option<Timestamp>, TimesError> {
    if times.is_empty() {
        return Ok(None);
    }
    let tz = if location.is_empty() {
        TimeZone::system()
    } else {
        TimeZone::get(location).map_err(|_| TimesError::UnknownLocation(location.into()))?
    };
    let today = now.to_zoned_datetime(tz.clone()).date();
    for range in times {
        let start = parse(&range.start)?;
        let end = parse(&range.end)?;
        let end_day = if start > end {
            today.tomorrow().map_err(|_| TimesError::Outside)?
        } else {
            today
        };
        let at = |day: jiff::civil::Date, time: Time| {
            tz.to_timestamp(day.to_datetime(time))
                .map_err(|_| TimesError::Outside)
        };
        let (opens, closes) = (at(today, start)?, at(end_day, end)?);
        if opens < now && closes > now {
            return Ok(Some(closes));
        }
    }
    Err(TimesError::Outside)
}

fn parse(text: &str) -> Result<Time, TimesError> {
    let bad = || TimesError::BadTime(text.to_string());
    let parts: Vec<&str> = text.split(':').collect();
    let [h, m, s] = parts[..] else {
        return Err(bad());
    };
    let number = |t: &str| {
        (t.len() == 2 && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<i8>().ok())
            .flatten()
            .ok_or_else(bad)
    };
    Time::new(number(h)?, number(m)?, number(s)?, 0).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::{TimesError, window_end};
    use crate::auth::jwt::TimeRange;
    use jiff::Timestamp;

    fn range(start: &str, end: &str) -> TimeRange {
        TimeRange {
            start: start.into(),
            end: end.into(),
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn windows_admit_inside_and_say_when_they_close() {
        let day = [range("09:00:00", "17:00:00")];
        let noon = at("2026-03-02T12:00:00Z");
        assert_eq!(
            window_end(&day, "UTC", noon),
            Ok(Some(at("2026-03-02T17:00:00Z")))
        );
        assert_eq!(
            window_end(&day, "UTC", at("2026-03-02T18:00:00Z")),
            Err(TimesError::Outside)
        );
        // 12:00 UTC is 13:00 in Paris in winter, 21:00 in Tokyo.
        assert!(window_end(&day, "Europe/Paris", noon).is_ok());
        assert_eq!(
            window_end(&day, "Asia/Tokyo", noon),
            Err(TimesError::Outside)
        );
        assert_eq!(window_end(&[], "", noon), Ok(None));
    }

    #[test]
    fn a_window_across_midnight_runs_from_todays_start_to_tomorrows_end() {
        let night = [range("22:00:00", "06:00:00")];
        assert_eq!(
            window_end(&night, "UTC", at("2026-03-02T23:00:00Z")),
            Ok(Some(at("2026-03-03T06:00:00Z")))
        );
        // As in nats-server: 02:00 is before today's 22:00 start.
        assert_eq!(
            window_end(&night, "UTC", at("2026-03-02T02:00:00Z")),
            Err(TimesError::Outside)
        );
    }

    #[test]
    fn bad_locations_and_times_refuse() {
        let noon = at("2026-03-02T12:00:00Z");
        assert_eq!(
            window_end(&[range("09:00:00", "17:00:00")], "Mars/Olympus", noon),
            Err(TimesError::UnknownLocation("Mars/Olympus".into()))
        );
        assert_eq!(
            window_end(&[range("9am", "17:00:00")], "UTC", noon),
            Err(TimesError::BadTime("9am".into()))
        );
    }
}
