//! One generated call: the life of an inbound, outbound or internal call
//! (IVR, queue, ringing, talk, transfers, survey), turned into a TelCdrInfo.
//!
//! Every random choice comes from the call's own generator, seeded from the
//! call's index, so a call does not depend on the calls before it.

use super::clock::is_work_time;
use super::pools::{Agent, Pools};
use crate::cdr::{IvrKeyPressedElement, ServeParticipant, TelCdrInfo};
use crate::end_status::end_status_string;
use crate::rng::{SplitMix64, mix64};

/// Everything a call needs besides its index and time.
pub(super) struct Context {
    pub pools: Pools,
    pub sdk_app_id: i64,
    pub key: u64,
    pub until: i64,
    /// Tenant copies recordings to its own COS bucket (`CustomRecordURL`).
    pub cos_bucket: Option<String>,
    /// Tenant has the offline ASR package.
    pub asr: bool,
}

// Salts that separate the id spaces derived from one key.
const SESSION_SALT: u64 = 0x5345_5353_494f_4e00;
const RECORD_SALT: u64 = 0x5245_434f_5244_0000;
const LEG_SALT: u64 = 0x4c45_4700_0000_0000;
const VOICEMAIL_SALT: u64 = 0x564d_0000_0000_0000;

/// A version-4-shaped UUID that is unique per `(key, index)` for a fixed key:
/// 64 of its 122 free bits are `mix64(index ^ key)`, a bijection of `index`.
pub(super) fn unique_uuid(key: u64, index: u64) -> String {
    let h = mix64(index ^ key);
    let r = mix64(h ^ 0x0123_4567_89ab_cdef);
    // Layout (u128, most significant first): 48 bits of h, version 4, 12 bits
    // of h, variant 0b10, the last 4 bits of h, 58 bits of r.
    let a = h >> 4; // the 60 bits of h before the variant field
    let hi: u64 = ((a >> 12) << 16) | 0x4000 | (a & 0x0fff);
    let lo: u64 = (0b10 << 62) | ((h & 0xf) << 58) | (r >> 6);
    // Hand-rolled hex: this runs several times per generated record, and
    // `format!` with five width specs showed up in profiles.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, nibble) in (0..32).rev().enumerate() {
        if matches!(i, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        let word = if nibble >= 16 { hi } else { lo };
        let shift = (nibble % 16) * 4;
        out.push(char::from(HEX[((word >> shift) & 0xf) as usize]));
    }
    out
}

#[derive(Clone, Copy)]
enum Kind {
    Inbound,
    Outbound,
    Internal,
}

fn status(code: i64) -> String {
    end_status_string(code)
        .expect("generator uses documented codes")
        .to_owned()
}

/// Talk time in seconds: log-normal, clamped to 10 s – 30 min.
fn talk_time(rng: &mut SplitMix64, median: f64) -> i64 {
    let t = median * (0.9 * rng.normal()).exp();
    (t as i64).clamp(10, 1800)
}

/// An agent leg (a ServeParticipant) with its timestamps.
struct Leg {
    agent: usize,
    group: usize,
    start: i64,
    ring: i64,
    accept: i64,
    ended: i64,
    status: String,
}

pub(super) fn build(ctx: &Context, index: u64, time: i64) -> TelCdrInfo {
    let mut rng = SplitMix64::new(mix64(ctx.key ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03)));
    let mut cdr = TelCdrInfo {
        session_id: unique_uuid(ctx.key ^ SESSION_SALT, index),
        time,
        start_timestamp: time,
        ..Default::default()
    };
    let kind = rng.weighted(&[
        (Kind::Inbound, 65),
        (Kind::Outbound, 30),
        (Kind::Internal, 5),
    ]);
    let (legs, owner) = match kind {
        Kind::Inbound => (inbound(ctx, &mut rng, &mut cdr), None),
        Kind::Outbound => (outbound(ctx, &mut rng, &mut cdr), None),
        Kind::Internal => internal(ctx, &mut rng, &mut cdr),
    };
    finish(ctx, &mut rng, &mut cdr, index, &legs, owner);
    cdr
}

/// Inbound: IVR, queue, ringing, talk (perhaps with transfers), survey.
fn inbound(ctx: &Context, rng: &mut SplitMix64, cdr: &mut TelCdrInfo) -> Vec<Leg> {
    let pools = &ctx.pools;
    let customer = pools.customer(rng);
    cdr.caller = customer.number;
    cdr.caller_location = customer.location;
    cdr.callee = rng.pick(&pools.hotlines).number.clone();
    cdr.direction = 0;
    cdr.call_type = 2;
    let start = cdr.start_timestamp;

    let code = if is_work_time(start) {
        rng.weighted(&[
            (1, 800),
            (102, 50),
            (103, 60),
            (104, 30),
            (105, 15),
            (100, 5),
            (107, 20),
            (17, 10),
            (211, 5),
        ])
    } else {
        rng.weighted(&[(106, 80), (102, 12), (107, 8)])
    };
    cdr.end_status = code;
    cdr.end_status_string = status(code);

    if code == 100 {
        // Blacklisted: rejected before the IVR.
        cdr.ended_timestamp = start + rng.range(0, 2);
        cdr.hung_up_side = "system".into();
        return Vec::new();
    }
    if code == 106 {
        // Closed: an announcement, sometimes a voicemail.
        cdr.ended_timestamp = start + rng.range(8, 25);
        cdr.ivr_duration = cdr.ended_timestamp - start;
        cdr.hung_up_side = if rng.chance(0.2) {
            // The caller left a message after the announcement.
            cdr.ended_timestamp += rng.range(10, 60);
            cdr.voicemail_record_url = vec![String::new()]; // filled in `finish`
            "user".into()
        } else {
            "system".into()
        };
        return Vec::new();
    }

    // IVR: a menu choice picks the skill group, sometimes by voice.
    let group = rng.below(pools.groups.len() as u64) as usize;
    let ivr_len = rng.range(6, 40);
    let give_up_in_ivr = code == 102;
    let presses = if give_up_in_ivr {
        rng.below(2)
    } else {
        1 + rng.below(2)
    };
    let mut at_ms = start * 1000 + rng.range(2500, 5000);
    for p in 0..presses {
        let element = if p == 0 {
            if rng.chance(0.12) {
                let name = pools.groups[group].name;
                IvrKeyPressedElement {
                    key: name.into(),
                    label: name.into(),
                    timestamp: at_ms,
                    node_label: "语音识别导航".into(),
                    original_content: format!("我要{name}。"),
                    tts_prompt: "请说出您要办理的业务".into(),
                }
            } else {
                IvrKeyPressedElement {
                    key: (group % 9 + 1).to_string(),
                    label: pools.groups[group].name.into(),
                    timestamp: at_ms,
                    node_label: "主菜单".into(),
                    original_content: String::new(),
                    tts_prompt: "欢迎致电，请按业务对应的数字键选择服务".into(),
                }
            }
        } else {
            let (key, label) =
                *rng.pick(&[("0", "人工服务"), ("1", "订单查询"), ("2", "返回上级")]);
            IvrKeyPressedElement {
                key: key.into(),
                label: label.into(),
                timestamp: at_ms,
                node_label: "二级菜单".into(),
                original_content: String::new(),
                tts_prompt: "转人工请按0，查询订单请按1，返回上级请按2".into(),
            }
        };
        cdr.ivr_key_pressed.push(element.key.clone());
        cdr.ivr_key_pressed_ex.push(element);
        at_ms += rng.range(3000, 12_000);
    }
    if give_up_in_ivr {
        cdr.ended_timestamp = start + rng.range(3, ivr_len);
        cdr.ivr_duration = cdr.ended_timestamp - start;
        cdr.hung_up_side = "user".into();
        return Vec::new();
    }
    if code == 107 {
        // Self-service finished in the IVR, no agent needed.
        cdr.ended_timestamp = start + ivr_len + rng.range(3, 30);
        cdr.ivr_duration = cdr.ended_timestamp - start;
        cdr.hung_up_side = "system".into();
        return Vec::new();
    }

    // Queue.
    let queued = start + ivr_len;
    cdr.queued_timestamp = queued;
    cdr.ivr_duration = ivr_len;
    cdr.queued_skill_group_id = pools.groups[group].id;
    cdr.queued_skill_group_name = pools.groups[group].name.into();
    cdr.skill_group_id = cdr.queued_skill_group_id;
    cdr.skill_group = cdr.queued_skill_group_name.clone();
    match code {
        103 => {
            cdr.ended_timestamp = queued + rng.range(5, 180);
            cdr.hung_up_side = "user".into();
            return Vec::new();
        }
        105 => {
            cdr.ended_timestamp = queued + rng.range(3, 15);
            cdr.hung_up_side = "system".into();
            return Vec::new();
        }
        _ => {}
    }

    // Ringing an agent of the group.
    let wait = (rng.unit() * rng.unit() * 90.0) as i64;
    let agent = *rng.pick(&pools.group_agents[group]);
    let ring = queued + wait;
    cdr.ring_timestamp = ring;
    let mut first = Leg {
        agent,
        group,
        start: ring,
        ring,
        accept: 0,
        ended: 0,
        status: String::new(),
    };
    match code {
        104 | 17 | 211 => {
            let (len, side) = match code {
                104 => (rng.range(2, 20), "user"),
                17 => (rng.range(15, 30), "system"),
                _ => (rng.range(1, 3), "system"),
            };
            first.ended = ring + len;
            first.status = cdr.end_status_string.clone();
            cdr.ended_timestamp = first.ended;
            cdr.hung_up_side = side.into();
            return vec![first];
        }
        _ => {}
    }

    // Answered (code 1).
    first.accept = ring + rng.range(2, 15);
    let talk = talk_time(rng, 150.0);
    let mut legs = vec![first];
    if rng.chance(0.08) {
        // Transfer: the talk time is split over 2–3 agents.
        let n = if rng.chance(0.75) { 2 } else { 3 };
        // Each leg talks about `talk / n`; a new leg starts ringing when the
        // previous agent forwards.
        for _ in 1..n {
            let prev = legs.last_mut().expect("one leg");
            prev.ended = prev.accept + talk / n + rng.range(0, 20);
            prev.status = "seatForward".into();
            let ring = prev.ended;
            let group = if rng.chance(0.5) {
                prev.group
            } else {
                rng.below(pools.groups.len() as u64) as usize
            };
            let prev_agent = prev.agent;
            let mut next = *rng.pick(&pools.group_agents[group]);
            if next == prev_agent {
                next = (next + 1) % pools.agents.len();
            }
            legs.push(Leg {
                agent: next,
                group,
                start: ring,
                ring,
                accept: ring + rng.range(3, 15),
                ended: 0,
                status: String::new(),
            });
        }
    }
    let n_legs = legs.len() as i64;
    let last = legs.last_mut().expect("one leg");
    last.ended = last.accept + talk / n_legs;
    last.status = "ok".into();
    cdr.ended_timestamp = last.ended;
    cdr.accept_timestamp = legs[0].accept;
    cdr.hung_up_side = rng
        .weighted(&[("user", 55), ("seat", 42), ("system", 3)])
        .into();

    // Satisfaction survey after the agent hangs up.
    if rng.chance(0.45) {
        let (key, label) = rng.weighted(&[
            (("1", "满意"), 60),
            (("2", "一般"), 15),
            (("3", "不满意"), 8),
            (("noInput", ""), 17),
        ]);
        let element = IvrKeyPressedElement {
            key: key.into(),
            label: label.into(),
            timestamp: cdr.ended_timestamp * 1000 + rng.range(2000, 9000),
            node_label: "满意度调查".into(),
            original_content: String::new(),
            tts_prompt: "请对本次服务进行评价，满意请按1，一般请按2，不满意请按3".into(),
        };
        cdr.post_ivr_key_pressed = vec![element.clone()];
        cdr.post_ivr_key_pressed_ex = vec![element];
    }
    if rng.chance(0.1) {
        cdr.uui = format!("order={}", rng.range(10_000_000, 99_999_999));
        cdr.uui_deprecated = cdr.uui.clone();
    }
    legs
}

/// Outbound: an agent dials a customer from a display number.
fn outbound(ctx: &Context, rng: &mut SplitMix64, cdr: &mut TelCdrInfo) -> Vec<Leg> {
    let pools = &ctx.pools;
    let agent = rng.below(pools.agents.len() as u64) as usize;
    let group = pools.agents[agent].groups[0];
    let display = rng.pick(&pools.display_numbers);
    cdr.caller = display.number.clone();
    cdr.caller_location = display.location.clone();
    cdr.callee = pools.customer(rng).number;
    cdr.direction = 1;
    cdr.call_type = 1;
    // Spec 7.4: outbound QueuedSkillGroupId is the agent's (first) group.
    cdr.queued_skill_group_id = pools.groups[group].id;
    cdr.queued_skill_group_name = pools.groups[group].name.into();
    cdr.skill_group_id = cdr.queued_skill_group_id;
    cdr.skill_group = cdr.queued_skill_group_name.clone();
    let start = cdr.start_timestamp;

    let code = rng.weighted(&[
        (1, 550),
        (202, 170),
        (203, 70),
        (206, 60),
        (204, 40),
        (205, 20),
        (210, 20),
        (220, 20),
        (209, 15),
        (222, 10),
        (207, 5),
        (208, 5),
        (211, 5),
        (215, 4),
        (213, 3),
        (108, 2),
        (109, 1),
    ]);
    cdr.end_status = code;
    cdr.end_status_string = status(code);
    let ring = start + rng.range(1, 4);
    let mut leg = Leg {
        agent,
        group,
        start,
        ring: 0,
        accept: 0,
        ended: 0,
        status: cdr.end_status_string.clone(),
    };
    let (ring, accept, ended, side) = match code {
        1 => {
            let accept = ring + rng.range(3, 25);
            let ended = accept + talk_time(rng, 100.0);
            let side = rng.weighted(&[("seat", 50), ("user", 48), ("system", 2)]);
            (ring, accept, ended, side)
        }
        202 => (ring, 0, ring + rng.range(30, 60), "system"),
        203 => (ring, 0, ring + rng.range(2, 15), "user"),
        220 => (ring, 0, ring + rng.range(3, 20), "seat"),
        222 => (ring, 0, ring + rng.range(15, 30), "system"),
        209 => (0, 0, start + rng.range(1, 3), "seat"),
        108 | 109 => (0, 0, start, "system"),
        211 => (0, 0, start + rng.range(0, 2), "system"),
        // Carrier announcements: busy, power off, no such number, ...
        _ => (0, 0, start + rng.range(3, 15), "system"),
    };
    cdr.ring_timestamp = ring;
    cdr.accept_timestamp = accept;
    cdr.ended_timestamp = ended;
    cdr.hung_up_side = side.into();
    leg.ring = start;
    leg.accept = accept;
    leg.ended = ended;
    vec![leg]
}

/// Internal: one agent calls another by extension or phone. Returns the leg
/// of the called agent and the calling agent, whom the record belongs to.
fn internal(
    ctx: &Context,
    rng: &mut SplitMix64,
    cdr: &mut TelCdrInfo,
) -> (Vec<Leg>, Option<usize>) {
    let pools = &ctx.pools;
    let n = pools.agents.len();
    let from = rng.below(n as u64) as usize;
    let to = (from + 1 + rng.below(n as u64 - 1) as usize) % n;
    let (a, b): (&Agent, &Agent) = (&pools.agents[from], &pools.agents[to]);
    cdr.caller = if rng.chance(0.6) {
        a.extension.clone()
    } else {
        a.seat.phone.clone()
    };
    cdr.callee = b.extension.clone();
    cdr.direction = 1;
    cdr.call_type = 6;
    let group = a.groups[0];
    cdr.skill_group_id = pools.groups[group].id;
    cdr.skill_group = pools.groups[group].name.into();
    let start = cdr.start_timestamp;
    let code = rng.weighted(&[(1, 85), (202, 10), (220, 5)]);
    cdr.end_status = code;
    cdr.end_status_string = status(code);
    let ring = start + rng.range(0, 2);
    let (accept, ended, side) = match code {
        1 => {
            let accept = ring + rng.range(2, 10);
            (accept, accept + talk_time(rng, 60.0), "seat")
        }
        202 => (0, ring + rng.range(30, 45), "system"),
        _ => (0, ring + rng.range(2, 15), "seat"),
    };
    cdr.ring_timestamp = ring;
    cdr.accept_timestamp = accept;
    cdr.ended_timestamp = ended;
    cdr.hung_up_side = side.into();
    let leg = Leg {
        agent: to,
        group: b.groups[0],
        start: ring,
        ring,
        accept,
        ended,
        status: cdr.end_status_string.clone(),
    };
    (vec![leg], Some(from))
}

/// Fields common to every kind: agent, legs, recordings, ASR, remark.
fn finish(
    ctx: &Context,
    rng: &mut SplitMix64,
    cdr: &mut TelCdrInfo,
    index: u64,
    legs: &[Leg],
    owner: Option<usize>,
) {
    let pools = &ctx.pools;
    let sdk = ctx.sdk_app_id;
    let answered = cdr.accept_timestamp > 0;
    cdr.duration = if answered {
        cdr.ended_timestamp - cdr.accept_timestamp
    } else {
        0
    };

    // The record's agent is the last one on the call (spec 6.1), except for
    // internal calls, which belong to the calling agent.
    if let Some(last) = legs.last() {
        let agent = &pools.agents[owner.unwrap_or(last.agent)];
        cdr.seat_user = agent.seat.clone();
        if cdr.call_type == 2 {
            cdr.skill_group_id = pools.groups[last.group].id;
            cdr.skill_group = pools.groups[last.group].name.into();
        }
    }

    let custom_url = |id: &str| match &ctx.cos_bucket {
        Some(bucket) => format!("https://{bucket}.cos.ap-guangzhou.myqcloud.com/ccc/{id}.mp3"),
        None => String::new(),
    };
    if answered {
        let record_id = unique_uuid(ctx.key ^ RECORD_SALT, index);
        cdr.record_url = format!("https://recordings.example.com/{sdk}/{record_id}.mp3");
        cdr.custom_record_url = custom_url(&record_id);
        if ctx.asr {
            cdr.asr_status = if cdr.ended_timestamp > ctx.until - 600 {
                "Processing".into()
            } else {
                "Complete".into()
            };
            cdr.asr_url = format!("https://recordings.example.com/{sdk}/{record_id}.asr.json");
        } else {
            cdr.asr_status = "NotExists".into();
        }
        cdr.record_id = record_id;
    }
    if !cdr.voicemail_record_url.is_empty() {
        let id = unique_uuid(ctx.key ^ VOICEMAIL_SALT, index);
        cdr.voicemail_record_url = vec![format!(
            "https://recordings.example.com/{sdk}/voicemail/{id}.mp3"
        )];
        if ctx.asr {
            cdr.voicemail_asr_url = vec![format!(
                "https://recordings.example.com/{sdk}/voicemail/{id}.asr.json"
            )];
        }
    }

    let n = legs.len();
    cdr.serve_participants = legs
        .iter()
        .enumerate()
        .map(|(seq, leg)| {
            let agent = &pools.agents[leg.agent];
            let group = &pools.groups[leg.group];
            let (record_id, record_url, custom) = if leg.accept > 0 {
                // One id space per call, wide enough for any leg count:
                // XOR-ing the leg number into the key would make leg 1 of
                // call i collide with leg 0 of call i ^ 1.
                let id = unique_uuid(ctx.key ^ LEG_SALT, index.wrapping_mul(1 << 16) + seq as u64);
                let url = format!("https://recordings.example.com/{sdk}/{id}.mp3");
                let custom = custom_url(&id);
                (id, url, custom)
            } else {
                Default::default()
            };
            let (transfer_from, transfer_from_type) = if seq > 0 {
                let prev = &pools.agents[legs[seq - 1].agent];
                (prev.seat.mail.clone(), prev.seat_type.to_owned())
            } else {
                Default::default()
            };
            let (transfer_to, transfer_to_type) = if seq + 1 < n {
                let next = &pools.agents[legs[seq + 1].agent];
                (next.seat.mail.clone(), next.seat_type.to_owned())
            } else {
                Default::default()
            };
            ServeParticipant {
                mail: agent.seat.mail.clone(),
                phone: if agent.seat_type == "staffPhoneSeat" {
                    agent.seat.phone.clone()
                } else {
                    String::new()
                },
                ring_timestamp: leg.ring,
                accept_timestamp: leg.accept,
                ended_timestamp: leg.ended,
                record_id,
                r#type: agent.seat_type.into(),
                transfer_from,
                transfer_from_type,
                transfer_to,
                transfer_to_type,
                skill_group_id: group.id,
                skill_group_name: group.name.into(),
                end_status_string: leg.status.clone(),
                record_url,
                sequence: seq as i64,
                custom_record_url: custom,
                start_timestamp: leg.start,
            }
        })
        .collect();

    if answered && rng.chance(0.05) {
        cdr.remark = (*rng.pick(&[
            "客户要求回电",
            "已登记工单",
            "VIP客户",
            "重复来电",
            "follow up",
        ]))
        .to_owned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_look_like_v4_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..20_000 {
            let u = unique_uuid(42, i);
            assert_eq!(u.len(), 36);
            let b = u.as_bytes();
            assert_eq!((b[8], b[13], b[18], b[23]), (b'-', b'-', b'-', b'-'));
            assert_eq!(b[14], b'4', "{u}");
            assert!(matches!(b[19], b'8' | b'9' | b'a' | b'b'), "{u}");
            assert!(seen.insert(u));
        }
    }
}
