//! The EndStatus / EndStatusString table (spec 6.1).
//!
//! Tencent documents the code and the string as 1:1. Records carry both, but
//! data pushes and hand-written imports often carry only one, so validation
//! fills the other from this table and rejects a pair that contradicts it.

/// Every documented `(EndStatus, EndStatusString)` pair, in code order.
///
/// Exposed so that the console and docs can list them; use
/// [`end_status_string`] / [`end_status_code`] for look-ups.
pub const END_STATUS_TABLE: &[(i64, &str)] = &[
    (1, "ok"),
    (17, "seatGiveUp"),
    (100, "blackList"),
    (102, "ivrGiveUp"),
    (103, "waitingGiveUp"),
    (104, "ringingGiveUp"),
    (105, "noSeatOnline"),
    (106, "notWorkTime"),
    (107, "ivrEnd"),
    (108, "restrictedCallee"),
    (109, "tooManyRequest"),
    (110, "restrictedArea"),
    (111, "restrictedTime"),
    (202, "notAnswer"),
    (203, "userReject"),
    (204, "powerOff"),
    (205, "numberNotExist"),
    (206, "busy"),
    (207, "outOfCredit"),
    (208, "operatorError"),
    (209, "callerCancel"),
    (210, "notInService"),
    (211, "clientError"),
    (212, "carrierBlocked"),
    (213, "callReminder"),
    (215, "numberInvalid"),
    (216, "callRestricted"),
    (217, "calleeRestricted"),
    (218, "areaRestricted"),
    (219, "promptCallForwarding"),
    (220, "callerCancelWhileRing"),
    (221, "callerCancelWithoutRing"),
    (222, "voiceMailReached"),
    (501, "callConflict"),
    (502, "clientTimeout"),
    (503, "voipClientError"),
];

/// The documented string for an EndStatus code, e.g. `1` → `"ok"`.
pub fn end_status_string(code: i64) -> Option<&'static str> {
    // The table is sorted by code, so a binary search is enough.
    END_STATUS_TABLE
        .binary_search_by_key(&code, |&(c, _)| c)
        .ok()
        .map(|i| END_STATUS_TABLE[i].1)
}

/// The documented code for an EndStatusString, e.g. `"busy"` → `206`.
///
/// Case-sensitive: Tencent's values are exact camelCase strings. Legacy
/// push-only strings (`unconnected`, `seatForward`, ...) have no code.
pub fn end_status_code(s: &str) -> Option<i64> {
    END_STATUS_TABLE
        .iter()
        .find(|&&(_, name)| name == s)
        .map(|&(code, _)| code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_one_to_one() {
        assert!(END_STATUS_TABLE.windows(2).all(|w| w[0].0 < w[1].0));
        for &(code, name) in END_STATUS_TABLE {
            assert_eq!(end_status_string(code), Some(name));
            assert_eq!(end_status_code(name), Some(code));
        }
        assert_eq!(END_STATUS_TABLE.len(), 36);
    }

    #[test]
    fn spot_checks() {
        assert_eq!(end_status_string(1), Some("ok"));
        assert_eq!(end_status_string(17), Some("seatGiveUp"));
        assert_eq!(end_status_string(100), Some("blackList"));
        assert_eq!(end_status_string(206), Some("busy"));
        assert_eq!(end_status_string(222), Some("voiceMailReached"));
        assert_eq!(end_status_string(503), Some("voipClientError"));
        assert_eq!(end_status_string(0), None);
        assert_eq!(end_status_string(101), None);
        assert_eq!(end_status_string(214), None);
        assert_eq!(end_status_code("busy"), Some(206));
        assert_eq!(end_status_code("Busy"), None);
        assert_eq!(end_status_code("unconnected"), None);
        assert_eq!(end_status_code(""), None);
    }
}
