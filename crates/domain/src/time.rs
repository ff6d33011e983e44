//! Times: UTC offsets, window times, blackout windows, send times, content URLs, and the
//! timestamp format of `/sms/v1` responses (API.md §1, §4). Times are UTC epoch milliseconds.

use jiff::civil::DateTime;
use jiff::SignedDuration;

/// 1970-01-01T00:00:00, the civil time of epoch millisecond 0 in UTC.
const UNIX_EPOCH: DateTime = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const DAY_MINUTES: i32 = 1440;

/// The value of one ASCII digit.
fn digit(b: u8) -> Option<i32> {
    b.is_ascii_digit().then(|| i32::from(b - b'0'))
}

/// The value of two ASCII digits.
fn two_digits(tens: u8, ones: u8) -> Option<i32> {
    Some(digit(tens)? * 10 + digit(ones)?)
}

/// `±HHMM`, `±HH:MM`, or whole hours `±H`, `±HH`, `H`, `HH`; −12:00…+14:00 (API.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcOffset {
    minutes: i32,
}

impl UtcOffset {
    /// The most westerly offset, −12:00, in minutes.
    pub const MIN_MINUTES: i32 = -12 * 60;
    /// The most easterly offset, +14:00, in minutes.
    pub const MAX_MINUTES: i32 = 14 * 60;

    pub fn parse(s: &str) -> Option<UtcOffset> {
        let bytes = s.as_bytes();
        let (sign, rest) = match bytes.split_first() {
            Some((b'+', rest)) => (Some(1), rest),
            Some((b'-', rest)) => (Some(-1), rest),
            _ => (None, bytes),
        };
        let (hours, minutes) = match (sign, rest) {
            (Some(_), &[h1, h2, m1, m2]) | (Some(_), &[h1, h2, b':', m1, m2]) => {
                (two_digits(h1, h2)?, two_digits(m1, m2)?)
            }
            (_, &[h]) => (digit(h)?, 0),
            (_, &[h1, h2]) => (two_digits(h1, h2)?, 0),
            _ => return None,
        };
        if minutes > 59 {
            return None;
        }
        UtcOffset::from_minutes(sign.unwrap_or(1) * (hours * 60 + minutes))
    }
    pub fn from_minutes(minutes: i32) -> Option<UtcOffset> {
        (UtcOffset::MIN_MINUTES..=UtcOffset::MAX_MINUTES)
            .contains(&minutes)
            .then_some(UtcOffset { minutes })
    }
    /// Minutes east of UTC.
    pub fn minutes(self) -> i32 {
        self.minutes
    }
}

/// A time of day: `HHMM` or `H:MM`/`HH:MM`, hours 00–23, minutes 00–59 (API.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockTime {
    minute_of_day: i32,
}

impl ClockTime {
    pub fn parse(s: &str) -> Option<ClockTime> {
        let (hours, minutes) = match *s.as_bytes() {
            [h, b':', m1, m2] => (digit(h)?, two_digits(m1, m2)?),
            [h1, h2, m1, m2] | [h1, h2, b':', m1, m2] => (two_digits(h1, h2)?, two_digits(m1, m2)?),
            _ => return None,
        };
        if hours > 23 || minutes > 59 {
            return None;
        }
        ClockTime::from_minute_of_day(hours * 60 + minutes)
    }
    pub fn from_minute_of_day(m: i32) -> Option<ClockTime> {
        (0..DAY_MINUTES)
            .contains(&m)
            .then_some(ClockTime { minute_of_day: m })
    }
    pub fn minute_of_day(self) -> i32 {
        self.minute_of_day
    }
}

/// A daily quiet period `[start, end)` in a fixed UTC offset; an end earlier than the start
/// crosses midnight; `start == end` means no blackout (API.md §4 "When").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlackoutWindow {
    pub offset: UtcOffset,
    pub start: ClockTime,
    pub end: ClockTime,
}

impl BlackoutWindow {
    /// True when the window is empty (`start == end`).
    pub fn is_none(&self) -> bool {
        self.start == self.end
    }
    /// Start and end as milliseconds after UTC midnight.
    fn utc_bounds(&self) -> (i128, i128) {
        let to_utc = |t: ClockTime| {
            i128::from((t.minute_of_day - self.offset.minutes).rem_euclid(DAY_MINUTES))
                * i128::from(MINUTE_MS)
        };
        (to_utc(self.start), to_utc(self.end))
    }
    /// When `at` falls inside the window: the instant the window ends (a whole minute).
    /// Otherwise `None`.
    pub fn deferral(&self, at: i64) -> Option<i64> {
        if self.is_none() {
            return None;
        }
        let (start, end) = self.utc_bounds();
        let (midnight, into_day) = split_day(at);
        let day = i128::from(DAY_MS);
        let until = if start < end {
            (start <= into_day && into_day < end).then_some(midnight + end)
        } else if into_day >= start {
            Some(midnight + day + end)
        } else {
            (into_day < end).then_some(midnight + end)
        }?;
        Some(saturate(until))
    }
    /// The next instant at or after `at` when the window opens (for pausing a running send).
    /// `None` for an empty window.
    pub fn next_start(&self, at: i64) -> Option<i64> {
        if self.is_none() {
            return None;
        }
        let (start, _) = self.utc_bounds();
        let (midnight, into_day) = split_day(at);
        let next = if into_day <= start {
            midnight + start
        } else {
            midnight + i128::from(DAY_MS) + start
        };
        Some(saturate(next))
    }
}

/// UTC midnight before `at`, and the milliseconds since then (wide enough never to overflow).
fn split_day(at: i64) -> (i128, i128) {
    let at = i128::from(at);
    let into_day = at.rem_euclid(i128::from(DAY_MS));
    (at - into_day, into_day)
}

fn saturate(ms: i128) -> i64 {
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// `yyyy-MM-dd HH:mm` UTC, also with `T` instead of the space and with `:ss`; zero-padded; a real
/// calendar date (API.md §4).
pub struct SendTime;

impl SendTime {
    /// Epoch milliseconds of the send time.
    ///
    /// Years 0001–9999 (the range of the original .NET `DateTime`); seconds 00–59.
    pub fn parse(s: &str) -> Option<i64> {
        let (date, time) = match s.as_bytes() {
            [date @ .., b' ' | b'T', h1, h2, b':', n1, n2] if date.len() == 10 => {
                (date, (*h1, *h2, *n1, *n2, b'0', b'0'))
            }
            [date @ .., b' ' | b'T', h1, h2, b':', n1, n2, b':', s1, s2] if date.len() == 10 => {
                (date, (*h1, *h2, *n1, *n2, *s1, *s2))
            }
            _ => return None,
        };
        let &[y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = date else {
            return None;
        };
        let year = two_digits(y1, y2)? * 100 + two_digits(y3, y4)?;
        let month = two_digits(m1, m2)?;
        let day = two_digits(d1, d2)?;
        let (h1, h2, n1, n2, s1, s2) = time;
        let hour = two_digits(h1, h2)?;
        let minute = two_digits(n1, n2)?;
        let second = two_digits(s1, s2)?;
        if year < 1 {
            return None;
        }
        // jiff checks the calendar (month lengths, leap years) and the clock ranges.
        let datetime = DateTime::new(
            i16::try_from(year).ok()?,
            i8::try_from(month).ok()?,
            i8::try_from(day).ok()?,
            i8::try_from(hour).ok()?,
            i8::try_from(minute).ok()?,
            i8::try_from(second).ok()?,
            0,
        )
        .ok()?;
        // Civil arithmetic (UTC has no transitions), valid up to 9999-12-31T23:59:59.
        i64::try_from(datetime.duration_since(UNIX_EPOCH).as_millis()).ok()
    }
}

/// An absolute `http` or `https` URL with a host.
pub struct ContentUrl;

impl ContentUrl {
    /// The URL exactly as given. Whitespace, control characters or backslashes anywhere (which
    /// a lenient URL parser would strip or rewrite) make it invalid, and `//` and a host must
    /// follow the scheme.
    pub fn parse(s: &str) -> Option<String> {
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
        {
            return None;
        }
        // An authority must follow `//` (the WHATWG parser would take `http:/x` or
        // `http:///x` as host `x`).
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        let after_scheme = if lower.starts_with("https://") {
            &s[8..]
        } else if lower.starts_with("http://") {
            &s[7..]
        } else {
            return None;
        };
        if after_scheme.is_empty() || after_scheme.starts_with(['/', '?', '#']) {
            return None;
        }
        let url = url::Url::parse(s).ok()?;
        let has_host = url.host_str().is_some_and(|host| !host.is_empty());
        (matches!(url.scheme(), "http" | "https") && has_host).then(|| s.to_owned())
    }
}

/// CST, fixed UTC−06:00, in milliseconds east of UTC.
const CST_MS: i64 = -6 * 3_600_000;

/// The earliest instant [`format_timestamp`] shows: 0001-01-01T00:00:00.000 in CST.
const FORMAT_MIN_MS: i64 = -62_135_596_800_000 - CST_MS;
/// The latest instant [`format_timestamp`] shows: 9999-12-31T23:59:59.999Z.
const FORMAT_MAX_MS: i64 = 253_402_300_799_999;

/// `yyyy-MM-ddTHH:mm:ss.fff` in CST (fixed UTC−06:00, no suffix), or with `utc` the same in UTC
/// with a `Z` suffix (API.md §1).
///
/// Instants outside years 0001–9999 are clamped to that range.
pub fn format_timestamp(ms: i64, utc: bool) -> String {
    let (shift, suffix) = if utc { (0, "Z") } else { (CST_MS, "") };
    let local = ms.clamp(FORMAT_MIN_MS, FORMAT_MAX_MS) + shift;
    // Fixed offsets: civil arithmetic from the epoch is exact (and spans years 1–9999, beyond
    // jiff's `Timestamp` range).
    let dt = UNIX_EPOCH
        .checked_add(SignedDuration::from_millis(local))
        .unwrap_or(if local < 0 {
            DateTime::MIN
        } else {
            DateTime::MAX
        });
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{suffix}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.millisecond(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;
    use std::sync::OnceLock;

    /// Every valid offset spelling, generated from the grammar rather than parsed.
    fn all_offsets() -> &'static HashSet<String> {
        static SET: OnceLock<HashSet<String>> = OnceLock::new();
        SET.get_or_init(|| {
            let mut set = HashSet::new();
            for total in -720..=840i32 {
                let (h, m) = (total.abs() / 60, total.abs() % 60);
                let signs: &[&str] = if total < 0 {
                    &["-"]
                } else if total > 0 {
                    &["+"]
                } else {
                    &["+", "-"]
                };
                for sign in signs {
                    set.insert(format!("{sign}{h:02}{m:02}"));
                    set.insert(format!("{sign}{h:02}:{m:02}"));
                    if m == 0 {
                        set.insert(format!("{sign}{h}"));
                        set.insert(format!("{sign}{h:02}"));
                    }
                }
                if total >= 0 && m == 0 {
                    set.insert(format!("{h}"));
                    set.insert(format!("{h:02}"));
                }
            }
            set
        })
    }

    /// Every valid clock-time spelling.
    fn all_clock_times() -> &'static HashSet<String> {
        static SET: OnceLock<HashSet<String>> = OnceLock::new();
        SET.get_or_init(|| {
            let mut set = HashSet::new();
            for h in 0..24 {
                for m in 0..60 {
                    set.insert(format!("{h:02}{m:02}"));
                    set.insert(format!("{h:02}:{m:02}"));
                    set.insert(format!("{h}:{m:02}"));
                }
            }
            set
        })
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), as an
    /// independent check of jiff.
    fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    fn days_in_month(y: i64, m: i64) -> i64 {
        match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            _ => 28,
        }
    }

    /// An independent send-time reader: split on the separators, then check each piece.
    fn reference_send_time(s: &str) -> Option<i64> {
        if !s.is_ascii() {
            return None;
        }
        let (date, time) = if s.len() > 10 && (&s[10..11] == " " || &s[10..11] == "T") {
            (&s[..10], &s[11..])
        } else {
            return None;
        };
        let num = |p: &str, len: usize| -> Option<i64> {
            (p.len() == len && p.chars().all(|c| c.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
        };
        let d: Vec<&str> = date.split('-').collect();
        let t: Vec<&str> = time.split(':').collect();
        if d.len() != 3 || !(t.len() == 2 || t.len() == 3) {
            return None;
        }
        let (y, mo, da) = (num(d[0], 4)?, num(d[1], 2)?, num(d[2], 2)?);
        let (h, mi) = (num(t[0], 2)?, num(t[1], 2)?);
        let sec = if t.len() == 3 { num(t[2], 2)? } else { 0 };
        if y < 1
            || !(1..=12).contains(&mo)
            || da < 1
            || da > days_in_month(y, mo)
            || h > 23
            || mi > 59
            || sec > 59
        {
            return None;
        }
        Some(((days_from_civil(y, mo, da) * 24 + h) * 60 + mi) * 60_000 + sec * 1000)
    }

    fn window(offset: &str, start: &str, end: &str) -> BlackoutWindow {
        BlackoutWindow {
            offset: UtcOffset::parse(offset).unwrap(),
            start: ClockTime::parse(start).unwrap(),
            end: ClockTime::parse(end).unwrap(),
        }
    }

    fn at(s: &str) -> i64 {
        SendTime::parse(s).unwrap()
    }

    #[test]
    fn utc_offsets() {
        for (s, m) in [
            ("-0500", -300),
            ("+0530", 330),
            ("-05:00", -300),
            ("-5", -300),
            ("+10", 600),
            ("5", 300),
            ("05", 300),
            ("0", 0),
            ("-0", 0),
            ("+00:00", 0),
            ("-1200", -720),
            ("+14:00", 840),
            ("+1345", 825),
            ("-12", -720),
            ("14", 840),
        ] {
            assert_eq!(
                UtcOffset::parse(s).map(UtcOffset::minutes),
                Some(m),
                "{s:?}"
            );
        }
        for s in [
            "0500",
            "+5:30",
            "Z",
            "+0560",
            "",
            "+",
            "-",
            "-1201",
            "+1401",
            "+15",
            "15",
            "-13",
            " -5",
            "-5 ",
            "+05:0",
            "+050",
            "05:00",
            "+05:60",
            "++5",
            "+05:00:00",
            "UTC",
            "−5",
        ] {
            assert_eq!(UtcOffset::parse(s), None, "{s:?}");
        }
        assert_eq!(UtcOffset::from_minutes(-721), None);
        assert_eq!(UtcOffset::from_minutes(841), None);
        assert_eq!(UtcOffset::from_minutes(-720).unwrap().minutes(), -720);
    }

    #[test]
    fn clock_times() {
        for (s, m) in [
            ("1500", 900),
            ("9:30", 570),
            ("09:30", 570),
            ("15:00", 900),
            ("0000", 0),
            ("23:59", 1439),
            ("0:00", 0),
        ] {
            assert_eq!(
                ClockTime::parse(s).map(ClockTime::minute_of_day),
                Some(m),
                "{s:?}"
            );
        }
        for s in [
            "930", "2400", "15", "24:00", "12:60", "", ":30", "9:3", "09:3", " 9:30", "9:30 ",
            "009:30", "9.30", "12:00:00",
        ] {
            assert_eq!(ClockTime::parse(s), None, "{s:?}");
        }
        assert_eq!(ClockTime::from_minute_of_day(1440), None);
        assert_eq!(ClockTime::from_minute_of_day(-1), None);
    }

    #[test]
    fn send_times() {
        assert_eq!(SendTime::parse("1970-01-01 00:00"), Some(0));
        assert_eq!(SendTime::parse("1970-01-01T00:01:02"), Some(62_000));
        assert_eq!(SendTime::parse("2012-10-17 17:01"), Some(1_350_493_260_000));
        assert!(SendTime::parse("2024-02-29 12:00").is_some());
        for s in [
            "2030-1-5 9:00",
            "2030-02-30 10:00",
            "2023-02-29 10:00",
            "2100-02-29 00:00",
            "2030-13-01 00:00",
            "2030-00-10 00:00",
            "2030-01-00 00:00",
            "2030-01-01 24:00",
            "2030-01-01 23:60",
            "2030-01-01 23:59:60",
            "2030-01-01",
            "2030-01-01 10",
            "2030-01-01  10:00",
            " 2030-01-01 10:00",
            "2030-01-01 10:00 ",
            "2030-01-01t10:00",
            "2030-01-01 10:00Z",
            "2030-01-01 10:00:00.000",
            "0000-01-01 00:00",
            "2030/01/01 10:00",
            "20300-01-01 10:00",
            "",
        ] {
            assert_eq!(SendTime::parse(s), None, "{s:?}");
        }
        assert!(SendTime::parse("0001-01-01 00:00").is_some());
        assert!(SendTime::parse("9999-12-31T23:59:59").is_some());
    }

    #[test]
    fn content_urls() {
        for s in [
            "http://example.com",
            "https://example.com/a.png?x=1#f",
            "HTTPS://EXAMPLE.COM/A",
            "http://127.0.0.1:8080/x",
        ] {
            assert_eq!(ContentUrl::parse(s).as_deref(), Some(s));
        }
        for s in [
            "",
            "example.com/a.png",
            "/a.png",
            "ftp://example.com/a",
            "http://",
            "https:///a",
            "mailto:a@b.c",
            "http:// example.com",
            " http://example.com",
            "http://example.com/a b",
            "data:image/png;base64,AAAA",
            "file:///etc/passwd",
            "http:/x.com",
            "http:x.com",
            "http:\\\\x.com",
            "http://x.com\\a",
            "http://?x",
            "http://#x",
            "https://",
            "http://:80",
        ] {
            assert_eq!(ContentUrl::parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp(0, true), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_timestamp(0, false), "1969-12-31T18:00:00.000");
        let t = at("2026-11-26 16:01:04") + 147;
        assert_eq!(format_timestamp(t, false), "2026-11-26T10:01:04.147");
        assert_eq!(format_timestamp(t, true), "2026-11-26T16:01:04.147Z");
        // Summer: still UTC−06:00, no daylight saving.
        assert_eq!(
            format_timestamp(at("2026-07-01 12:00"), false),
            "2026-07-01T06:00:00.000"
        );
        assert_eq!(format_timestamp(i64::MIN, false), "0001-01-01T00:00:00.000");
        assert_eq!(format_timestamp(i64::MAX, true), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn send_inside_blackout_is_deferred_to_window_end() {
        // 22:00–06:00 at −05:00 is 03:00–11:00 UTC.
        let w = window("-05:00", "2200", "6:00");
        assert_eq!(w.deferral(at("2030-01-05 02:59:59")), None);
        assert_eq!(
            w.deferral(at("2030-01-05 03:00")),
            Some(at("2030-01-05 11:00"))
        );
        assert_eq!(
            w.deferral(at("2030-01-05 10:59:59") + 999),
            Some(at("2030-01-05 11:00"))
        );
        assert_eq!(w.deferral(at("2030-01-05 11:00")), None);
        assert_eq!(
            w.next_start(at("2030-01-05 11:00")),
            Some(at("2030-01-06 03:00"))
        );
        assert_eq!(
            w.next_start(at("2030-01-05 03:00")),
            Some(at("2030-01-05 03:00"))
        );
        assert_eq!(
            w.next_start(at("2030-01-05 01:00")),
            Some(at("2030-01-05 03:00"))
        );
    }

    #[test]
    fn window_crossing_utc_midnight() {
        // 18:00–23:00 at −06:00 is 00:00–05:00 UTC; 20:00–02:00 at +00:00 crosses midnight.
        let w = window("-6", "1800", "2300");
        assert_eq!(
            w.deferral(at("2030-01-05 00:00")),
            Some(at("2030-01-05 05:00"))
        );
        assert_eq!(w.deferral(at("2030-01-04 23:59")), None);
        let w = window("0", "20:00", "02:00");
        assert_eq!(
            w.deferral(at("2030-01-05 21:00")),
            Some(at("2030-01-06 02:00"))
        );
        assert_eq!(
            w.deferral(at("2030-01-05 01:00")),
            Some(at("2030-01-05 02:00"))
        );
        assert_eq!(w.deferral(at("2030-01-05 02:00")), None);
        assert_eq!(w.deferral(at("2030-01-05 19:59")), None);
        assert_eq!(
            w.next_start(at("2030-01-05 21:00")),
            Some(at("2030-01-06 20:00"))
        );
        // +05:30 shifts by half an hour: 01:00–02:00 local is 19:30–20:30 UTC the day before.
        let w = window("+05:30", "0100", "0200");
        assert_eq!(
            w.deferral(at("2030-01-05 19:30")),
            Some(at("2030-01-05 20:30"))
        );
    }

    #[test]
    fn empty_window_defers_nothing() {
        let w = window("+1", "1200", "12:00");
        assert!(w.is_none());
        assert_eq!(w.deferral(at("2030-01-05 11:00")), None);
        assert_eq!(w.next_start(0), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn offset_parse_matches_grammar(s in "[+-]?[0-9:Z ]{0,6}") {
            prop_assert_eq!(UtcOffset::parse(&s).is_some(), all_offsets().contains(&s));
        }

        #[test]
        fn offset_parse_never_panics(s in any::<String>()) {
            prop_assert_eq!(UtcOffset::parse(&s).is_some(), all_offsets().contains(&s));
        }

        #[test]
        fn clock_parse_matches_grammar(s in "[0-9: ]{0,6}") {
            prop_assert_eq!(ClockTime::parse(&s).is_some(), all_clock_times().contains(&s));
        }

        #[test]
        fn clock_parse_never_panics(s in any::<String>()) {
            prop_assert_eq!(ClockTime::parse(&s).is_some(), all_clock_times().contains(&s));
        }

        #[test]
        fn send_time_matches_reference(
            s in "[0-9]{4}-[0-9]{2}-[0-3][0-9][ T][0-2][0-9]:[0-6][0-9](:[0-6][0-9])?"
        ) {
            prop_assert_eq!(SendTime::parse(&s), reference_send_time(&s));
        }

        #[test]
        fn send_time_matches_reference_on_noise(s in "[0-9 T:-]{0,20}") {
            prop_assert_eq!(SendTime::parse(&s), reference_send_time(&s));
        }

        #[test]
        fn send_time_never_panics(s in any::<String>()) {
            prop_assert_eq!(SendTime::parse(&s), reference_send_time(&s));
        }

        #[test]
        fn format_timestamp_round_trips(ms in FORMAT_MIN_MS..=FORMAT_MAX_MS) {
            let utc = format_timestamp(ms, true);
            prop_assert_eq!(utc.len(), 24);
            let (body, z) = utc.split_at(23);
            prop_assert_eq!(z, "Z");
            let (whole, frac) = body.split_at(19);
            let back = reference_send_time(whole).unwrap() + frac[1..].parse::<i64>().unwrap();
            prop_assert_eq!(back, ms);
            let cst = format_timestamp(ms, false);
            prop_assert_eq!(cst.len(), 23);
            let (whole, frac) = cst.split_at(19);
            let back = reference_send_time(whole).unwrap() + frac[1..].parse::<i64>().unwrap() + 6 * 3_600_000;
            prop_assert_eq!(back, ms);
        }

        #[test]
        fn format_timestamp_never_panics(ms in any::<i64>(), utc in any::<bool>()) {
            let _ = format_timestamp(ms, utc);
        }

        #[test]
        fn content_url_never_panics(s in any::<String>()) {
            if let Some(u) = ContentUrl::parse(&s) {
                prop_assert_eq!(u, s);
            }
        }

        #[test]
        fn deferral_agrees_with_minute_scan(
            offset in -720..=840i32,
            start in 0..1440i32,
            end in 0..1440i32,
            at in -10_000_000_000_000i64..10_000_000_000_000,
        ) {
            let w = BlackoutWindow {
                offset: UtcOffset::from_minutes(offset).unwrap(),
                start: ClockTime::from_minute_of_day(start).unwrap(),
                end: ClockTime::from_minute_of_day(end).unwrap(),
            };
            // Local minute of day of `at`, independently of utc_bounds.
            let local = (at.div_euclid(MINUTE_MS) + i64::from(offset)).rem_euclid(1440) as i32;
            let inside = if start <= end { start <= local && local < end } else { local >= start || local < end };
            let deferral = w.deferral(at);
            prop_assert_eq!(deferral.is_some(), inside);
            if let Some(until) = deferral {
                prop_assert!(until > at);
                prop_assert_eq!(until % MINUTE_MS, 0);
                prop_assert!(until - at <= DAY_MS);
                let end_local = (until.div_euclid(MINUTE_MS) + i64::from(offset)).rem_euclid(1440) as i32;
                prop_assert_eq!(end_local, end);
                // Just before the end is still inside; the end itself is outside.
                prop_assert!(w.deferral(until - 1).is_some());
                prop_assert!(w.deferral(until).is_none());
            }
            let next = w.next_start(at);
            prop_assert_eq!(next.is_some(), start != end);
            if let Some(next) = next {
                prop_assert!(next >= at && next - at < DAY_MS);
                prop_assert_eq!(next % MINUTE_MS, 0);
                let start_local = (next.div_euclid(MINUTE_MS) + i64::from(offset)).rem_euclid(1440) as i32;
                prop_assert_eq!(start_local, start);
                prop_assert!(w.deferral(next).is_some());
            }
        }

        #[test]
        fn window_math_never_panics(at in any::<i64>(), offset in -720..=840i32, start in 0..1440i32, end in 0..1440i32) {
            let w = BlackoutWindow {
                offset: UtcOffset::from_minutes(offset).unwrap(),
                start: ClockTime::from_minute_of_day(start).unwrap(),
                end: ClockTime::from_minute_of_day(end).unwrap(),
            };
            let _ = w.deferral(at);
            let _ = w.next_start(at);
        }
    }
}
