//! Whether a store takes phone orders at a moment, and when it opens next: its weekly hours in
//! its own time zone, its one-off closures and the merchant's pause switch.
//!
//! Pure: the moment is given (callers pass the webhook's time, tests a fixed one), so the answer
//! never depends on the machine's clock. Local times that a daylight-saving change skips (02:30
//! on the spring-forward night) are read as the first moment after the gap; repeated ones (the
//! fall-back hour) as their first occurrence.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;

use crate::store::{Store, Weekday};

/// Why a store is not taking orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedBecause {
    /// Outside its opening hours.
    Hours,
    /// A closure date (`closures`).
    Closure,
    /// The merchant paused phone orders.
    Paused,
}

impl ClosedBecause {
    /// The call outcome that records it (`calls.outcome`).
    #[must_use]
    pub fn outcome(self) -> &'static str {
        match self {
            ClosedBecause::Hours => "closed_hours",
            ClosedBecause::Closure => "closed_today",
            ClosedBecause::Paused => "paused",
        }
    }
}

/// A store's state at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// Open.
    Open {
        /// When it closes, store-local (`None`: no hours, always open).
        closes: Option<DateTime<Tz>>,
    },
    /// Closed.
    Closed {
        /// Why.
        because: ClosedBecause,
        /// When it opens next, store-local (`None`: paused, or not within two weeks).
        opens: Option<DateTime<Tz>>,
    },
}

impl Opening {
    /// Whether orders are taken.
    #[must_use]
    pub fn is_open(&self) -> bool {
        matches!(self, Opening::Open { .. })
    }
}

/// Why an order cannot be taken for a later time today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unschedulable {
    /// The store takes orders for as soon as possible only.
    NotOffered,
    /// The store is closed today.
    Closed,
    /// Already past, or outside today's hours (`until`: when it closes today).
    OutsideHours {
        /// Closing time today, store-local.
        until: Option<DateTime<Tz>>,
    },
}

/// How far ahead [`Store::opening_at`] looks for the next opening.
const LOOK_AHEAD_DAYS: i64 = 14;

impl Store {
    /// The store's time zone (validated at import; UTC if it somehow is not one).
    #[must_use]
    pub fn time_zone(&self) -> Tz {
        self.timezone.parse().unwrap_or(Tz::UTC)
    }

    /// Whether the store takes phone orders at `now`, and if not, why and when it opens next.
    #[must_use]
    pub fn opening_at(&self, now: DateTime<Utc>) -> Opening {
        let tz = self.time_zone();
        let local = now.with_timezone(&tz);
        if self.phone_orders_paused {
            return Opening::Closed {
                because: ClosedBecause::Paused,
                opens: None,
            };
        }
        let today = local.date_naive();
        let closed_today = self.is_closure(today);
        if !closed_today && let Some((open, close)) = self.window(today) {
            if open <= local && local < close {
                return Opening::Open {
                    closes: Some(close),
                };
            }
        } else if !closed_today && self.hours.is_empty() {
            return Opening::Open { closes: None };
        }
        Opening::Closed {
            because: if closed_today {
                ClosedBecause::Closure
            } else {
                ClosedBecause::Hours
            },
            opens: self.next_opening(local),
        }
    }

    /// When an order for `hour:minute` later today would be ready, store-local: `pm` says
    /// whether the caller said PM (`None`: the next such time, "at 6:30" at noon is 18:30). The
    /// store must take scheduled orders and be open then; the time must be after `now`.
    ///
    /// # Errors
    /// Why it cannot be taken for that time.
    pub fn schedule_today(
        &self,
        now: DateTime<Utc>,
        hour: u32,
        minute: u32,
        pm: Option<bool>,
    ) -> Result<DateTime<Tz>, Unschedulable> {
        if !self.scheduled_orders {
            return Err(Unschedulable::NotOffered);
        }
        let tz = self.time_zone();
        let local = now.with_timezone(&tz);
        let today = local.date_naive();
        let window = match self.window(today) {
            Some(w) if !self.is_closure(today) => Some(w),
            _ if self.hours.is_empty() && !self.is_closure(today) => None,
            _ => return Err(Unschedulable::Closed),
        };
        let hours: Vec<u32> = match (pm, hour) {
            (_, h) if h > 23 || minute > 59 => Vec::new(),
            (Some(true), h) if h <= 12 => vec![h % 12 + 12],
            (Some(false), h) if h <= 12 => vec![h % 12],
            (None, h) if (1..12).contains(&h) => vec![h, h + 12],
            (None, h) => vec![h],
            _ => Vec::new(),
        };
        let fits = |at: &DateTime<Tz>| {
            *at > local && window.is_none_or(|(open, close)| open <= *at && *at < close)
        };
        hours
            .into_iter()
            .filter_map(|h| NaiveTime::from_hms_opt(h, minute, 0))
            .map(|t| resolve(&tz, today.and_time(t)))
            .find(fits)
            .ok_or(Unschedulable::OutsideHours {
                until: window.map(|(_, close)| close),
            })
    }

    fn is_closure(&self, date: NaiveDate) -> bool {
        let text = date.format("%Y-%m-%d").to_string();
        self.closures.iter().any(|c| c.date == text)
    }

    /// A day's opening and closing moments, if it has hours.
    fn window(&self, date: NaiveDate) -> Option<(DateTime<Tz>, DateTime<Tz>)> {
        let tz = self.time_zone();
        let hours = self.hours.get(&weekday(date))?;
        let open = minutes(&hours.open)?;
        let close = minutes(&hours.close)?;
        let at = |m: u32| {
            let day = date + Duration::days(i64::from(m / 1440));
            let time = NaiveTime::from_hms_opt(m % 1440 / 60, m % 60, 0).unwrap_or_default();
            resolve(&tz, day.and_time(time))
        };
        Some((at(open), at(close)))
    }

    fn next_opening(&self, local: DateTime<Tz>) -> Option<DateTime<Tz>> {
        let today = local.date_naive();
        for ahead in 0..=LOOK_AHEAD_DAYS {
            let date = today + Duration::days(ahead);
            if self.is_closure(date) {
                continue;
            }
            if self.hours.is_empty() {
                // Open all day: the first moment of the first day that is not a closure.
                return Some(resolve(&local.timezone(), date.and_time(NaiveTime::MIN)));
            }
            if let Some((open, _)) = self.window(date)
                && open > local
            {
                return Some(open);
            }
        }
        None
    }
}

/// A local date and time in `tz`: the first moment after a daylight-saving gap, the earlier of
/// a repeated hour.
fn resolve(tz: &Tz, naive: NaiveDateTime) -> DateTime<Tz> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t,
        LocalResult::None => {
            let mut later = naive;
            for _ in 0..4 {
                later += Duration::minutes(30);
                if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) =
                    tz.from_local_datetime(&later)
                {
                    return t;
                }
            }
            tz.from_utc_datetime(&naive)
        }
    }
}

fn weekday(date: NaiveDate) -> Weekday {
    match date.weekday() {
        chrono::Weekday::Mon => Weekday::Mon,
        chrono::Weekday::Tue => Weekday::Tue,
        chrono::Weekday::Wed => Weekday::Wed,
        chrono::Weekday::Thu => Weekday::Thu,
        chrono::Weekday::Fri => Weekday::Fri,
        chrono::Weekday::Sat => Weekday::Sat,
        chrono::Weekday::Sun => Weekday::Sun,
    }
}

/// `"HH:MM"` as minutes since midnight (`"24:00"` is 1440).
fn minutes(time: &str) -> Option<u32> {
    let (h, m) = time.split_once(':')?;
    Some(h.parse::<u32>().ok()? * 60 + m.parse::<u32>().ok()?)
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Timelike};

    use super::*;
    use crate::fixtures;

    /// Tony's (America/New_York) with the hours given, as UTC instants of local times.
    fn tonys(hours: &[(&str, &str, &str)]) -> Store {
        let mut store = fixtures::store(fixtures::TONYS);
        store.hours.clear();
        for (day, open, close) in hours {
            let day = Weekday::ALL
                .into_iter()
                .find(|d| d.as_str() == *day)
                .unwrap_or(Weekday::Mon);
            store.hours.insert(
                day,
                crate::store::OpeningHours {
                    open: (*open).to_owned(),
                    close: (*close).to_owned(),
                },
            );
        }
        store
    }

    /// A New York local time as the UTC instant it is.
    fn ny(date: (i32, u32, u32), h: u32, m: u32) -> DateTime<Utc> {
        let naive = NaiveDate::from_ymd_opt(date.0, date.1, date.2)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .unwrap_or_default();
        resolve(&chrono_tz::America::New_York, naive).with_timezone(&Utc)
    }

    fn opens(o: &Opening) -> Option<(u32, u32, u32)> {
        match o {
            Opening::Closed { opens: Some(t), .. } => Some((t.day(), t.hour(), t.minute())),
            _ => None,
        }
    }

    const WEEK: &[(&str, &str, &str)] = &[
        ("mon", "11:00", "22:00"),
        ("tue", "11:00", "22:00"),
        ("wed", "11:00", "22:00"),
        ("thu", "11:00", "22:00"),
        ("fri", "11:00", "24:00"),
        ("sat", "00:00", "23:00"),
    ];

    #[test]
    fn open_within_hours_closed_before_and_after() {
        let store = tonys(WEEK);
        // Monday 2026-12-07.
        assert!(store.opening_at(ny((2026, 12, 7), 12, 0)).is_open());
        let early = store.opening_at(ny((2026, 12, 7), 10, 59));
        assert_eq!(opens(&early), Some((7, 11, 0)), "later today");
        let late = store.opening_at(ny((2026, 12, 7), 22, 0));
        assert_eq!(opens(&late), Some((8, 11, 0)), "tomorrow");
        assert!(matches!(
            late,
            Opening::Closed {
                because: ClosedBecause::Hours,
                ..
            }
        ));
    }

    #[test]
    fn across_midnight_and_a_closed_day() {
        let store = tonys(WEEK);
        // Friday until 24:00, Saturday from 00:00: open either side of midnight.
        assert!(store.opening_at(ny((2026, 12, 11), 23, 59)).is_open());
        assert!(store.opening_at(ny((2026, 12, 12), 0, 1)).is_open());
        // Saturday after 23:00: Sunday has no hours, so Monday.
        let sat = store.opening_at(ny((2026, 12, 12), 23, 30));
        assert_eq!(opens(&sat), Some((14, 11, 0)));
    }

    #[test]
    fn a_closure_date_and_the_pause_switch() {
        let mut store = tonys(WEEK);
        store.closures.push(crate::store::Closure {
            date: "2026-12-07".into(),
            note: Some("storm".into()),
        });
        let noon = store.opening_at(ny((2026, 12, 7), 12, 0));
        assert!(matches!(
            noon,
            Opening::Closed {
                because: ClosedBecause::Closure,
                ..
            }
        ));
        assert_eq!(opens(&noon), Some((8, 11, 0)));
        store.closures.clear();
        store.phone_orders_paused = true;
        assert_eq!(
            store.opening_at(ny((2026, 12, 7), 12, 0)),
            Opening::Closed {
                because: ClosedBecause::Paused,
                opens: None
            }
        );
    }

    #[test]
    fn daylight_saving_days_keep_local_hours() {
        // 2027-03-14: clocks go from 02:00 to 03:00 in New York; a store opening at 02:30
        // opens at 03:00 that day, and 11:00 is still 11:00 local (15:00 UTC, not 16:00).
        let store = tonys(&[("sun", "02:30", "12:00")]);
        let before = store.opening_at(ny((2027, 3, 14), 1, 30));
        assert_eq!(opens(&before), Some((14, 3, 0)));
        let at_eleven = Utc.with_ymd_and_hms(2027, 3, 14, 15, 0, 0).unwrap();
        assert!(store.opening_at(at_eleven).is_open());
        // 2026-11-01: 01:00–02:00 happens twice; a 01:30 opening is the first one.
        let fall = tonys(&[("sun", "01:30", "12:00")]);
        let first = Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap(); // 01:30 EDT
        assert!(fall.opening_at(first).is_open());
    }

    #[test]
    fn orders_for_later_today_within_hours() {
        let mut store = tonys(WEEK);
        let noon = ny((2026, 12, 7), 12, 0);
        assert_eq!(
            store.schedule_today(noon, 6, 30, None),
            Err(Unschedulable::NotOffered)
        );
        store.scheduled_orders = true;
        let at = |r: Result<DateTime<Tz>, Unschedulable>| r.map(|t| (t.hour(), t.minute()));
        assert_eq!(
            at(store.schedule_today(noon, 6, 30, None)),
            Ok((18, 30)),
            "6:30 at noon is PM"
        );
        assert_eq!(
            at(store.schedule_today(noon, 6, 30, Some(true))),
            Ok((18, 30))
        );
        assert_eq!(at(store.schedule_today(noon, 18, 30, None)), Ok((18, 30)));
        assert!(
            matches!(
                store.schedule_today(noon, 6, 30, Some(false)),
                Err(Unschedulable::OutsideHours { .. })
            ),
            "6:30 AM is past and before opening"
        );
        assert!(
            matches!(
                store.schedule_today(noon, 10, 30, Some(true)),
                Err(Unschedulable::OutsideHours { until: Some(_) })
            ),
            "after closing"
        );
        store.closures.push(crate::store::Closure {
            date: "2026-12-07".into(),
            note: None,
        });
        assert_eq!(
            store.schedule_today(noon, 6, 30, None),
            Err(Unschedulable::Closed)
        );
    }

    #[test]
    fn no_hours_means_always_open() {
        let store = tonys(&[]);
        assert_eq!(
            store.opening_at(ny((2026, 12, 7), 3, 0)),
            Opening::Open { closes: None }
        );
    }
}
