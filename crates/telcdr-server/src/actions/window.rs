//! The rules shared by actions that take a time window and a page:
//! DescribeTelCdr, DescribeProtectedTelCdr, DescribeSessionDetail (windows and
//! pages) and DescribeTelCallInfo (a span only: statistics may reach back as
//! far as the records go).

use super::ActionError;
use crate::QueryLimits;

const DAY: i64 = 86_400;

/// Names of the two window parameters, which differ between actions
/// (`StartTimeStamp` vs `StartTimestamp`).
pub(crate) struct WindowNames {
    pub start: &'static str,
    pub end: &'static str,
}

pub(crate) const TIME_STAMP: WindowNames = WindowNames {
    start: "StartTimeStamp",
    end: "EndTimeStamp",
};

/// Checks `start <= end`, `end - start < max_span_days`, and that `start`
/// reaches back at most `max_lookback_days` before `now` (0 = unlimited).
pub(crate) fn check_window(
    start: i64,
    end: i64,
    now: i64,
    limits: &QueryLimits,
    names: &WindowNames,
) -> Result<(), ActionError> {
    check_span(start, end, limits, names)?;
    let s = names.start;
    let lookback_days = i64::from(limits.max_lookback_days);
    if lookback_days > 0 {
        let earliest = now.saturating_sub(lookback_days * DAY);
        if start < earliest {
            return Err(ActionError::invalid(
                format!(
                    "{s} may reach back at most {lookback_days} days, to {earliest} or later, got {start}."
                ),
                format!(
                    "{s} 最多只能查询 {lookback_days} 天内的数据（不早于 {earliest}），当前为 {start}。"
                ),
            ));
        }
    }
    Ok(())
}

/// Checks `start <= end` and `end - start < max_span_days`.
pub(crate) fn check_span(
    start: i64,
    end: i64,
    limits: &QueryLimits,
    names: &WindowNames,
) -> Result<(), ActionError> {
    let (s, e) = (names.start, names.end);
    if end < start {
        return Err(ActionError::invalid(
            format!("{e} ({end}) must not be earlier than {s} ({start})."),
            format!("{e}（{end}）不能早于 {s}（{start}）。"),
        ));
    }
    let span_days = i64::from(limits.max_span_days);
    let span = end.saturating_sub(start);
    if span >= span_days * DAY {
        return Err(ActionError::invalid(
            format!(
                "{e} - {s} must be less than {span_days} days ({} seconds), got {span} seconds.",
                span_days * DAY
            ),
            format!(
                "{e} 与 {s} 的间隔必须小于 {span_days} 天（{} 秒），当前为 {span} 秒。",
                span_days * DAY
            ),
        ));
    }
    Ok(())
}

/// Checks `PageSize` in 1..=100 and `PageNumber >= 0`; returns (offset, limit).
pub(crate) fn check_page(page_size: i64, page_number: i64) -> Result<(u64, u32), ActionError> {
    if !(1..=100).contains(&page_size) {
        return Err(ActionError::invalid(
            format!("PageSize must be between 1 and 100, got {page_size}."),
            format!("PageSize 取值范围为 1 到 100，当前为 {page_size}。"),
        ));
    }
    if page_number < 0 {
        return Err(ActionError::invalid(
            format!("PageNumber must be 0 or greater, got {page_number}."),
            format!("PageNumber 必须大于或等于 0，当前为 {page_number}。"),
        ));
    }
    // A page number so large that the offset overflows is simply past the end.
    let offset = (page_number as u64).saturating_mul(page_size as u64);
    Ok((offset, page_size as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn limits() -> QueryLimits {
        QueryLimits::default()
    }

    #[test]
    fn window_rules() {
        let ok = |s, e| check_window(s, e, NOW, &limits(), &TIME_STAMP).is_ok();
        assert!(ok(NOW - DAY, NOW));
        assert!(ok(NOW, NOW), "a single second is a valid window");
        assert!(!ok(NOW, NOW - 1), "end before start");
        assert!(ok(NOW - 90 * DAY + 1, NOW), "just under 90 days");
        assert!(
            !ok(NOW - 90 * DAY, NOW),
            "exactly 90 days is not less than 90 days"
        );
        assert!(ok(NOW - 180 * DAY, NOW - 180 * DAY + DAY));
        assert!(
            !ok(NOW - 180 * DAY - 1, NOW - 170 * DAY),
            "older than 180 days"
        );
        let archive = QueryLimits {
            max_lookback_days: 0,
            max_span_days: 90,
        };
        assert!(check_window(1, DAY, NOW, &archive, &TIME_STAMP).is_ok());
    }

    #[test]
    fn window_messages_say_what_is_allowed() {
        let err = check_window(NOW - 100 * DAY, NOW, NOW, &limits(), &TIME_STAMP).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("less than 90 days"), "{text}");
    }

    #[test]
    fn page_rules() {
        assert_eq!(check_page(10, 0).unwrap(), (0, 10));
        assert_eq!(check_page(100, 3).unwrap(), (300, 100));
        assert_eq!(check_page(1, i64::MAX).unwrap(), (i64::MAX as u64, 1));
        assert_eq!(check_page(100, i64::MAX).unwrap(), (u64::MAX, 100));
        for bad in [0, 101, -1] {
            let text = check_page(bad, 0).unwrap_err().to_string();
            assert!(text.contains("between 1 and 100"), "{text}");
        }
        assert!(
            check_page(10, -1)
                .unwrap_err()
                .to_string()
                .contains("PageNumber")
        );
    }
}
