"""JSON types of the answers (spec sections 6.1-6.6).

Fields the documents mark "not always returned" are optional here; every
other documented field must be present with its documented JSON type
(design.md: "" / 0 / [] when there is no value, never null). Only the
deprecated Uui is nullable.
"""

from __future__ import annotations

INT = "int"
STR = "str"
STR_OR_NULL = "str?"
STR_LIST = "[str]"

IVR_KEY = {
    "Key": STR, "Label": STR, "NodeLabel": STR, "OriginalContent": STR, "TTSPrompt": STR,
}
IVR_KEY_OPTIONAL = {"Timestamp": INT}

SEAT_USER = {
    "Name": STR, "Mail": STR, "StaffNumber": STR, "Phone": STR, "Nick": STR, "UserId": STR,
    "SkillGroupNameList": STR_LIST,
}
SEAT_USER_OPTIONAL = {"Role": INT, "ExtensionNumber": STR}

SERVE_PARTICIPANT = {
    "Mail": STR, "Phone": STR, "RingTimestamp": INT, "AcceptTimestamp": INT, "EndedTimestamp": INT,
    "RecordId": STR, "Type": STR, "TransferFrom": STR, "TransferFromType": STR, "TransferTo": STR,
    "TransferToType": STR, "SkillGroupId": INT, "SkillGroupName": STR, "EndStatusString": STR,
    "RecordURL": STR, "Sequence": INT, "CustomRecordURL": STR, "StartTimestamp": INT,
}

TEL_CDR_INFO = {
    "Caller": STR, "Callee": STR, "Time": INT, "Direction": INT, "Duration": INT, "RecordURL": STR,
    "RecordId": STR, "SeatUser": ("obj", SEAT_USER, SEAT_USER_OPTIONAL), "EndStatus": INT,
    "SkillGroup": STR, "CallerLocation": STR, "IVRDuration": INT, "RingTimestamp": INT,
    "AcceptTimestamp": INT, "EndedTimestamp": INT, "IVRKeyPressed": STR_LIST,
    "IVRKeyPressedEx": ("list", IVR_KEY, IVR_KEY_OPTIONAL), "HungUpSide": STR,
    "ServeParticipants": ("list", SERVE_PARTICIPANT, {}), "SkillGroupId": INT,
    "EndStatusString": STR, "StartTimestamp": INT, "QueuedTimestamp": INT,
    "PostIVRKeyPressed": ("list", IVR_KEY, IVR_KEY_OPTIONAL),
    "PostIVRKeyPressedEx": ("list", IVR_KEY, IVR_KEY_OPTIONAL), "QueuedSkillGroupId": INT,
    "SessionId": STR, "ProtectedCaller": STR, "ProtectedCallee": STR, "Uui": STR_OR_NULL, "UUI": STR,
    "AsrUrl": STR, "AsrStatus": STR, "CustomRecordURL": STR, "Remark": STR,
    "QueuedSkillGroupName": STR, "VoicemailRecordURL": STR_LIST,
}
TEL_CDR_INFO_OPTIONAL = {
    "CallType": INT, "VoicemailAsrURL": STR_LIST, "AIAgentId": INT, "AIAgentName": STR,
    "SysHangupReason": INT, "SysHangupReasonString": STR, "EndStatusV2": INT,
}

# DescribeTelSession (6.3): note SessionID with a capital ID.
PSTN_SESSION = {
    "SessionID": STR, "RoomID": STR, "Caller": STR, "Callee": STR, "StartTimestamp": INT,
    "RingTimestamp": INT, "AcceptTimestamp": INT, "StaffEmail": STR, "StaffNumber": STR,
    "SessionStatus": STR, "Direction": INT, "OutBoundCaller": STR, "OutBoundCallee": STR,
    "ProtectedCaller": STR, "ProtectedCallee": STR,
}

# DescribeSessionDetail (6.4): SessionEvent and its staff list.
EVENT_STAFF = {"Mail": STR, "StaffNumber": STR}
SESSION_EVENT = {
    "Timestamp": INT, "EventType": STR,
    "StaffEventDetail": ("obj", {"Staffs": ("list", EVENT_STAFF, {})}, {}),
}

# The flat output of DescribeSessionDetail (6.4). The documents flag none of
# these "always returned"; telcdr returns them all, so all are required
# here. Traps: StartTimeStamp (capital S), AsrURL (not AsrUrl), and
# IVRKeyPressed / PostIVRKeyPressed as arrays of objects (string[] in
# TelCdrInfo).
SESSION_DETAIL = {
    "Caller": STR, "Callee": STR, "CallType": INT, "StartTimeStamp": INT, "RingTimestamp": INT,
    "AcceptTimestamp": INT, "EndedTimestamp": INT, "QueuedTimestamp": INT, "StaffUserId": STR,
    "EndStatus": INT, "QueuedSkillGroupId": INT, "QueuedSkillGroupName": STR, "RecordURL": STR,
    "CustomRecordURL": STR, "AsrURL": STR, "VoicemailRecordURL": STR_LIST, "VoicemailAsrURL": STR_LIST,
    "IVRKeyPressed": ("list", IVR_KEY, IVR_KEY_OPTIONAL),
    "PostIVRKeyPressed": ("list", IVR_KEY, IVR_KEY_OPTIONAL),
    "HungUpSide": STR, "UUI": STR, "Events": ("list", SESSION_EVENT, {}),
    "ServeParticipants": ("list", SERVE_PARTICIPANT, {}),
    "SysHangupReason": INT, "SysHangupReasonString": STR,
}
SESSION_DETAIL_OPTIONAL = {"EndStatusV2": INT}

# DescribeTelRecordAsr (6.5): Start/End in Unix milliseconds.
ASR_DATA = {"User": STR, "Message": STR, "Timestamp": INT, "Start": INT, "End": INT}

# DescribeTelCallInfo (6.6): all int64.
TEL_CALL_INFO = {
    "TelCallOutCount": INT, "TelCallInCount": INT, "SeatUsedCount": INT, "VoipCallInCount": INT,
    "VOIPCallInCount": INT, "AsrOfflineCount": INT, "AsrRealtimeCount": INT,
}

# Fields whose value the server may legitimately rewrite (signed /media links).
URL_FIELDS = {"RecordURL", "AsrUrl", "CustomRecordURL", "VoicemailRecordURL", "VoicemailAsrURL"}


def _check_value(path, kind, value, problems):
    if isinstance(kind, tuple):
        shape, required, optional = kind
        if shape == "obj":
            if not isinstance(value, dict):
                problems.append(f"{path}: expected object, got {type(value).__name__} {value!r}")
                return
            check_object(path, value, required, optional, problems)
        else:
            if not isinstance(value, list):
                problems.append(f"{path}: expected array, got {type(value).__name__} {value!r}")
                return
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    problems.append(f"{path}[{i}]: expected object, got {item!r}")
                else:
                    check_object(f"{path}[{i}]", item, required, optional, problems)
        return
    if kind == INT:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind == STR:
        ok = isinstance(value, str)
    elif kind == STR_OR_NULL:
        ok = value is None or isinstance(value, str)
    elif kind == STR_LIST:
        ok = isinstance(value, list) and all(isinstance(x, str) for x in value)
    else:
        raise AssertionError(kind)
    if not ok:
        problems.append(f"{path}: expected {kind}, got {type(value).__name__} {value!r}")


def check_object(path, obj, required, optional, problems):
    for name, kind in required.items():
        if name not in obj:
            problems.append(f"{path}.{name}: missing")
        else:
            _check_value(f"{path}.{name}", kind, obj[name], problems)
    for name, kind in optional.items():
        if name in obj:
            _check_value(f"{path}.{name}", kind, obj[name], problems)


def tel_cdr_problems(cdr: dict, path="TelCdrInfo") -> list[str]:
    problems: list[str] = []
    check_object(path, cdr, TEL_CDR_INFO, TEL_CDR_INFO_OPTIONAL, problems)
    return problems


def _request_id_problems(resp: dict) -> list[str]:
    if not isinstance(resp.get("RequestId"), str) or not resp.get("RequestId"):
        return [f"Response.RequestId: expected non-empty string, got {resp.get('RequestId')!r}"]
    return []


def _no_error(resp: dict) -> list[str]:
    return [f"Response.Error: {resp['Error']!r}"] if "Error" in resp else []


def response_problems(resp: dict) -> list[str]:
    """Check a whole DescribeTelCdr (or DescribeProtectedTelCdr) ``Response`` object."""
    problems = _no_error(resp)
    if not (isinstance(resp.get("TotalCount"), int) and not isinstance(resp.get("TotalCount"), bool)):
        problems.append(f"Response.TotalCount: expected int, got {resp.get('TotalCount')!r}")
    problems += _request_id_problems(resp)
    lst = resp.get("TelCdrList")
    if not isinstance(lst, list):
        problems.append(f"Response.TelCdrList: expected array, got {lst!r}")
        return problems
    for i, cdr in enumerate(lst):
        problems.extend(tel_cdr_problems(cdr, f"TelCdrList[{i}]"))
    return problems


def tel_session_problems(resp: dict) -> list[str]:
    """A DescribeTelSession ``Response``: ``Session`` is a PSTNSession."""
    problems = _no_error(resp) + _request_id_problems(resp)
    _check_value("Response.Session", ("obj", PSTN_SESSION, {}), resp.get("Session"), problems)
    return problems


def session_detail_problems(resp: dict) -> list[str]:
    """A DescribeSessionDetail ``Response`` (flat, no wrapper object)."""
    problems = _no_error(resp) + _request_id_problems(resp)
    check_object("Response", resp, SESSION_DETAIL, SESSION_DETAIL_OPTIONAL, problems)
    # the TelCdrInfo spellings must not leak into this answer
    for wrong in ("StartTimestamp", "AsrUrl", "SessionID"):
        if wrong in resp:
            problems.append(f"Response.{wrong}: present (this action spells it differently)")
    return problems


def tel_record_asr_problems(resp: dict) -> list[str]:
    """A DescribeTelRecordAsr ``Response``: ``AsrDataList`` of AsrData."""
    problems = _no_error(resp) + _request_id_problems(resp)
    _check_value("Response.AsrDataList", ("list", ASR_DATA, {}), resp.get("AsrDataList"), problems)
    return problems


def tel_call_info_problems(resp: dict) -> list[str]:
    """A DescribeTelCallInfo ``Response``: seven int64 counters."""
    problems = _no_error(resp) + _request_id_problems(resp)
    check_object("Response", resp, TEL_CALL_INFO, {}, problems)
    return problems
