//! Session events of DescribeSessionDetail (spec 6.4, `Events`): the agent
//! put the customer on hold, took them off, muted, unmuted.
//!
//! They arrive on an import line as `Events` beside the `TelCdrInfo` members
//! and are kept in [`ImportedRecord::events`](crate::ImportedRecord::events),
//! not in `TelCdrInfo`: DescribeTelCdr does not return them.
//!
//! Type names follow Tencent's SDKs (`SessionEvent`, `EventStaffDetail`,
//! `EventStaffElement`); member names and JSON types are the documents'. As
//! everywhere in the wire types, every member is always serialised and every
//! member defaults when absent on the way in.

use serde::{Deserialize, Serialize};

/// One event of a call (spec 6.4, "SessionEvent").
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct SessionEvent {
    /// When it happened, Unix **seconds**.
    #[serde(rename = "Timestamp")]
    pub timestamp: i64,
    /// `StaffHold`, `StaffUnhold`, `StaffMute` or `StaffUnmute` (see
    /// [`SESSION_EVENT_TYPES`]). Other strings are kept as given: Tencent may
    /// add types, and an importer should not lose them.
    #[serde(rename = "EventType")]
    pub event_type: String,
    /// The agents the event concerns.
    #[serde(
        rename = "StaffEventDetail",
        deserialize_with = "crate::strict::object"
    )]
    pub staff_event_detail: EventStaffDetail,
}

/// The agents an event concerns (Tencent's `EventStaffDetail`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct EventStaffDetail {
    /// One entry per agent.
    #[serde(rename = "Staffs", deserialize_with = "crate::strict::objects")]
    pub staffs: Vec<EventStaffElement>,
}

/// One agent of an event (Tencent's `EventStaffElement`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
#[serde(default)]
pub struct EventStaffElement {
    /// Agent email (the agent's identity).
    #[serde(rename = "Mail")]
    pub mail: String,
    /// Employee number.
    #[serde(rename = "StaffNumber")]
    pub staff_number: String,
}

/// The event types the documents list.
pub const SESSION_EVENT_TYPES: [&str; 4] = ["StaffHold", "StaffUnhold", "StaffMute", "StaffUnmute"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_every_member_with_exact_names() {
        let json = serde_json::to_string(&SessionEvent::default()).unwrap();
        assert_eq!(
            json,
            r#"{"Timestamp":0,"EventType":"","StaffEventDetail":{"Staffs":[]}}"#
        );
        let e = SessionEvent {
            timestamp: 1_729_756_310,
            event_type: "StaffHold".into(),
            staff_event_detail: EventStaffDetail {
                staffs: vec![EventStaffElement {
                    mail: "bob@example.com".into(),
                    staff_number: "1001".into(),
                }],
            },
        };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"Timestamp":1729756310,"EventType":"StaffHold","StaffEventDetail":{"Staffs":[{"Mail":"bob@example.com","StaffNumber":"1001"}]}}"#
        );
        assert_eq!(serde_json::from_str::<SessionEvent>(&json).unwrap(), e);
    }

    #[test]
    fn absent_members_default() {
        let e: SessionEvent = serde_json::from_str(r#"{"EventType":"StaffMute"}"#).unwrap();
        assert_eq!(e.event_type, "StaffMute");
        assert_eq!(e.timestamp, 0);
        assert!(e.staff_event_detail.staffs.is_empty());
    }
}
