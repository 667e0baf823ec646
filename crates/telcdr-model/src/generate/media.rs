//! The demo's media: a recording and a transcript for an answered call,
//! derived from the record alone, so that `telcdr serve --demo` can let a
//! newcomer play a call and watch the transcript follow along.
//!
//! * [`demo_transcript`] picks a contact-center dialogue (billing, delivery,
//!   password reset, complaint, ...; some in Chinese) from a hash of the
//!   `SessionId` and lays its sentences out on the recording's timeline.
//! * [`demo_recording_wav`] renders that timeline as an 8 kHz 16-bit mono
//!   WAV: each sentence is a voice-like tone burst (the agent lower, the
//!   customer higher, syllable-rate loudness changes, short fades) exactly
//!   over the sentence's `Start..End`, faint line noise elsewhere.
//!
//! The recording starts when the call is answered (`AcceptTimestamp`) and
//! lasts [`recording_secs`]: the talk time, capped at
//! [`MAX_DEMO_RECORDING_SECS`] to keep the demo small. Everything is a pure
//! function of the record: same record, same bytes.

use std::sync::OnceLock;

use crate::asr::AsrData;
use crate::cdr::TelCdrInfo;
use crate::rng::{SplitMix64, mix64};

/// Longest demo recording, in seconds (a 45 s WAV is 720 KB).
pub const MAX_DEMO_RECORDING_SECS: i64 = 45;

/// Sample rate of the demo WAVs, Hz (telephone quality).
pub const DEMO_SAMPLE_RATE: u32 = 8000;

/// Samples per millisecond at [`DEMO_SAMPLE_RATE`].
const SAMPLES_PER_MS: i64 = DEMO_SAMPLE_RATE as i64 / 1000;

/// Length of the demo recording of `cdr` in seconds: `Duration` capped at
/// [`MAX_DEMO_RECORDING_SECS`], 0 when the call was not answered
/// (`AcceptTimestamp` or `Duration` not positive).
pub fn recording_secs(cdr: &TelCdrInfo) -> i64 {
    if cdr.accept_timestamp > 0 && cdr.duration > 0 {
        cdr.duration.min(MAX_DEMO_RECORDING_SECS)
    } else {
        0
    }
}

/// The demo transcript of `cdr`: empty for an unanswered call, else a
/// dialogue between the agent (`User` = `SeatUser.Mail`, else the last
/// participant's `Mail`, else `agent`) and the customer (`User` = `user`; on
/// an internal call, the called agent's `Mail`).
///
/// The dialogue is chosen from the `SessionId`'s hash among those that fit
/// the call (inbound, outbound, internal). Sentences follow each other with
/// pauses, starting after the recording starts (`AcceptTimestamp` × 1000 ms)
/// and ending before it ends ([`recording_secs`] later). When the recording
/// is a little short for the whole dialogue, it is spoken faster (up to 30%);
/// when it is much too short, middle sentences are dropped (the greeting, and
/// the goodbye when there is room, stay). `Timestamp` equals
/// `Start`, as [`parse_transcript`](crate::parse_transcript) fills it.
pub fn demo_transcript(cdr: &TelCdrInfo) -> Vec<AsrData> {
    dialogue(cdr)
        .into_iter()
        .map(|line| line.sentence)
        .collect()
}

/// The demo recording of `cdr`: a WAV file (RIFF/WAVE, PCM 16-bit mono,
/// 8000 Hz) of [`recording_secs`] seconds in which every sentence of
/// [`demo_transcript`] is audible exactly over its `Start..End`. An
/// unanswered call gives a valid WAV with no samples.
pub fn demo_recording_wav(cdr: &TelCdrInfo) -> Vec<u8> {
    let secs = recording_secs(cdr);
    let samples = (secs * i64::from(DEMO_SAMPLE_RATE)) as usize;
    let origin_ms = cdr.accept_timestamp.saturating_mul(1000);
    let hash = session_hash(&cdr.session_id);

    let mut pcm = line_noise(samples, hash);
    let mut rng = SplitMix64::new(mix64(hash ^ VOICE_SALT));
    for line in dialogue(cdr) {
        let at = |ms: i64| ((ms - origin_ms) * SAMPLES_PER_MS).clamp(0, samples as i64) as usize;
        let (from, to) = (at(line.sentence.start), at(line.sentence.end));
        let (pitch, loudness) = match line.who {
            Who::Agent => (220.0, 10_500.0),
            Who::Other => (330.0, 9_000.0),
        };
        // A little variety from sentence to sentence, as in a real voice.
        let voice = Voice {
            pitch: pitch * (0.95 + 0.1 * rng.unit() as f32),
            question: line.question,
            syllables_per_sec: 3.8 + 1.6 * rng.unit() as f32,
            loudness: loudness * (0.9 + 0.2 * rng.unit() as f32),
        };
        speak(&mut pcm[from..to], &voice);
    }
    wav(&pcm)
}

// ---------------------------------------------------------------------------
// The transcript.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// The record's agent (SeatUser).
    Agent,
    /// The customer, or the called colleague on an internal call.
    Other,
}

use Who::{Agent as A, Other as O};

/// A sentence and what the recording needs to voice it.
struct Line {
    who: Who,
    question: bool,
    sentence: AsrData,
}

type Script = &'static [(Who, &'static str)];

/// Inbound calls: the agent answers.
const INBOUND: &[Script] = &[
    // Billing question.
    &[
        (
            A,
            "Thank you for calling customer service. How can I help you today?",
        ),
        (
            O,
            "Hi, I was charged twice on my last bill and I'd like to know why.",
        ),
        (
            A,
            "I'm sorry to hear that. Could you confirm the phone number on the account?",
        ),
        (O, "Sure, it's the number I'm calling from."),
        (
            A,
            "Thank you. I can see two payments of forty-nine ninety on the third.",
        ),
        (O, "Yes, that's exactly the problem."),
        (
            A,
            "The automatic payment ran twice because of a system retry.",
        ),
        (
            A,
            "I've requested a refund of the duplicate charge. It takes up to five working days.",
        ),
        (O, "Great. Will I get a confirmation?"),
        (
            A,
            "Yes, you'll receive a text message with the reference number shortly.",
        ),
        (O, "Perfect, thank you for your help."),
        (A, "You're welcome. Have a nice day, goodbye."),
    ],
    // Delivery status.
    &[
        (A, "Good morning, customer service, how may I help you?"),
        (
            O,
            "Hello, I ordered a washing machine last week and it still hasn't arrived.",
        ),
        (
            A,
            "I'm sorry about the wait. May I have your order number, please?",
        ),
        (O, "It's four seven one eight, two zero three nine."),
        (A, "Thank you, one moment while I check the shipment."),
        (
            A,
            "The parcel is now at the local depot and is scheduled for tomorrow morning.",
        ),
        (O, "Can the driver call me before coming?"),
        (
            A,
            "Of course, I've added a note asking the driver to call you half an hour ahead.",
        ),
        (O, "And can they take the old machine away?"),
        (
            A,
            "Yes, removal of the old appliance is included at no extra cost.",
        ),
        (O, "Wonderful, thanks a lot."),
        (A, "My pleasure. Goodbye."),
    ],
    // Password reset.
    &[
        (
            A,
            "Hello, thanks for calling technical support. What can I do for you?",
        ),
        (
            O,
            "I can't log in to my account, it says my password is wrong.",
        ),
        (
            A,
            "I can help with that. What's the email address on the account?",
        ),
        (O, "It's my first name dot last name at example dot com."),
        (
            A,
            "Thank you. I've just sent a verification code to that address.",
        ),
        (
            O,
            "Okay, I got it. The code is five eight three one nine zero.",
        ),
        (
            A,
            "That's correct. You'll now receive a link to set a new password.",
        ),
        (O, "Does the new password need special characters?"),
        (A, "At least twelve characters, with a number and a symbol."),
        (O, "All right, I'm in now. Thanks."),
        (
            A,
            "Glad it worked. Please never share the code with anyone.",
        ),
        (O, "Will do. Goodbye."),
    ],
    // Complaint.
    &[
        (A, "Thank you for calling, how can I help you?"),
        (
            O,
            "I want to make a complaint. The technician didn't show up yesterday.",
        ),
        (O, "I took the afternoon off work and waited four hours."),
        (
            A,
            "I'm really sorry, that shouldn't have happened. Let me check the appointment.",
        ),
        (
            A,
            "The visit was cancelled because the technician was ill, and nobody told you.",
        ),
        (O, "That's not acceptable. Nobody called me."),
        (
            A,
            "You're right, and I apologise. I'm registering a formal complaint for you.",
        ),
        (
            A,
            "I can offer a priority visit tomorrow morning and a credit on your next bill.",
        ),
        (O, "Tomorrow morning works. What time?"),
        (
            A,
            "Between eight and ten. The technician will call you on the way.",
        ),
        (O, "Okay. I hope it actually happens this time."),
        (A, "It will. Thank you for your patience, goodbye."),
    ],
    // Plan change.
    &[
        (A, "Good afternoon, customer care, how can I help?"),
        (
            O,
            "Hi, I'd like to change my mobile plan. I keep running out of data.",
        ),
        (
            A,
            "Sure. You're on the ten gigabyte plan. How much do you usually use?",
        ),
        (O, "About fifteen, sometimes more when I travel."),
        (
            A,
            "Then the unlimited plan at thirty-nine a month might suit you better.",
        ),
        (O, "Does it include roaming in Europe?"),
        (A, "Yes, up to twenty gigabytes of roaming data each month."),
        (O, "Sounds good. Will it start right away?"),
        (
            A,
            "It starts today, and your next bill is adjusted for the remaining days.",
        ),
        (O, "Okay, let's do it."),
        (
            A,
            "Done. You'll get a confirmation message shortly. Anything else?",
        ),
        (O, "No, thanks. Bye."),
    ],
    // Billing question, in Chinese.
    &[
        (A, "您好，很高兴为您服务，请问有什么可以帮您？"),
        (O, "你好，我想问一下这个月的话费怎么比平时多了五十块。"),
        (A, "好的，请您提供一下机主姓名和身份证后四位。"),
        (O, "张伟，后四位是三六一八。"),
        (A, "核实成功。您本月有一笔国际漫游流量费用。"),
        (O, "哦，上周去香港出差，忘了关流量。"),
        (A, "我可以帮您申请漫游优惠包，减免一部分费用。"),
        (O, "那太好了，谢谢。"),
        (A, "已经为您提交，三个工作日内返还到您的账户。"),
        (O, "好的，没有其他问题了。"),
        (A, "感谢您的来电，祝您生活愉快，再见。"),
    ],
    // Delivery status, in Chinese.
    &[
        (A, "您好，客服中心，请问有什么可以帮您？"),
        (O, "我前天下的订单，到现在还没发货。"),
        (A, "非常抱歉让您久等了，请问您的订单号是多少？"),
        (O, "订单号是二零二四一零二三八八六。"),
        (A, "好的，请稍等，我帮您查一下。"),
        (A, "您的商品今天上午已经出库，预计明天下午送达。"),
        (O, "能不能送到公司？我白天不在家。"),
        (A, "可以的，请告诉我公司地址，我帮您修改。"),
        (O, "深圳市南山区科技园路一号。"),
        (A, "已经修改好了，快递员送货前会给您打电话。"),
        (O, "好的，谢谢你。"),
        (A, "不客气，再见。"),
    ],
    // Return and refund, in Chinese.
    &[
        (A, "您好，请问有什么可以帮您？"),
        (O, "我买的耳机左边没有声音，想退货。"),
        (A, "很抱歉给您带来不便。商品是七天内收到的吗？"),
        (O, "是的，上周五收到的。"),
        (A, "符合七天无理由退货，我帮您登记退货申请。"),
        (A, "快递员明天上门取件，请把耳机和包装盒准备好。"),
        (O, "退款多久能到账？"),
        (A, "仓库收到商品后，一到三个工作日原路退回。"),
        (O, "好的，明白了。"),
        (A, "感谢您的耐心，还有其他可以帮您的吗？"),
        (O, "没有了，谢谢，再见。"),
    ],
];

/// Outbound calls: the customer picks up.
const OUTBOUND: &[Script] = &[
    // Delivery appointment.
    &[
        (O, "Hello?"),
        (
            A,
            "Hello, this is the delivery team calling about your new sofa. Is now a good time?",
        ),
        (O, "Yes, go ahead."),
        (
            A,
            "We'd like to schedule the delivery. Would Thursday or Friday suit you better?",
        ),
        (O, "Friday, please. Preferably in the morning."),
        (
            A,
            "Friday between eight and eleven is available. Shall I book it?",
        ),
        (
            O,
            "Yes, please. Will you carry it upstairs? I live on the third floor.",
        ),
        (
            A,
            "Yes, two people will bring it in and take the packaging away.",
        ),
        (O, "Great."),
        (
            A,
            "You're booked for Friday morning. You'll get a reminder the day before.",
        ),
        (O, "Thank you, bye."),
    ],
    // Follow-up after a repair.
    &[
        (O, "Hello, who's calling?"),
        (
            A,
            "Good afternoon, I'm calling from customer service about last week's repair.",
        ),
        (A, "We'd like to make sure everything is working well now."),
        (
            O,
            "Oh yes, the internet has been fine since the technician came.",
        ),
        (
            A,
            "Good to hear. How would you rate the visit, from one to five?",
        ),
        (O, "I'd say five, he was on time and very friendly."),
        (
            A,
            "Thank you, I'll pass that on. Is there anything else we can help with?",
        ),
        (O, "Actually, can I add a second TV box to my subscription?"),
        (A, "Of course, I'll email you the offer so you can choose."),
        (O, "Perfect, thanks for calling."),
        (A, "Have a great day. Goodbye."),
    ],
    // Service follow-up, in Chinese.
    &[
        (O, "喂，你好？"),
        (A, "您好，这里是客服中心，打扰您一分钟做个服务回访。"),
        (O, "好的，你说。"),
        (A, "您上周反映的宽带断线问题，现在恢复正常了吗？"),
        (O, "恢复了，这几天都挺稳定的。"),
        (A, "太好了。请问您对这次维修服务满意吗？"),
        (O, "挺满意的，师傅很专业。"),
        (A, "感谢您的认可，我们会继续改进服务。"),
        (O, "好的。"),
        (A, "不打扰您了，祝您生活愉快，再见。"),
    ],
];

/// Internal calls: the record's agent calls a colleague, who picks up.
const INTERNAL: &[Script] = &[
    &[
        (O, "Second line support, go ahead."),
        (
            A,
            "Hi, I have a customer on hold who was charged a cancellation fee by mistake.",
        ),
        (O, "Okay, what's the account number?"),
        (A, "It ends in seven seven four two."),
        (
            O,
            "I see it. The fee was added when the contract was transferred.",
        ),
        (
            A,
            "Can you reverse it, or do I need a supervisor's approval?",
        ),
        (O, "I can reverse it from here. Give me a second."),
        (O, "Done, the credit will show on the next bill."),
        (A, "Great, thanks. I'll let the customer know."),
        (O, "No problem, talk later."),
    ],
    &[
        (O, "你好，二线支持。"),
        (
            A,
            "你好，我这边有个客户要求加急维修，系统里约不到明天的时间。",
        ),
        (O, "客户是哪个区的？"),
        (A, "南山区，在科技园附近。"),
        (O, "我看看，明天下午两点还有一个临时空位。"),
        (A, "太好了，帮我锁定一下吧。"),
        (O, "已经锁定了，你在工单里备注加急就行。"),
        (A, "收到，谢谢！"),
        (O, "不客气。"),
    ],
];

// Salts separating the random streams drawn from one session hash.
const PICK_SALT: u64 = 0x7363_7269_7074_0000;
const TIMING_SALT: u64 = 0x7469_6d69_6e67_0000;
const VOICE_SALT: u64 = 0x766f_6963_6500_0000;
const NOISE_SALT: u64 = 0x6e6f_6973_6500_0000;

/// Silence kept at the end of the recording, ms.
const TAIL_MS: i64 = 300;

/// FNV-1a over the bytes, then mixed: the seed of everything about a
/// session's media.
fn session_hash(session_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in session_id.as_bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h)
}

/// Time a sentence takes to say, ms: about 15 characters a second in
/// English, 4.5 in Chinese, with some variation.
fn speech_ms(text: &str, rng: &mut SplitMix64) -> i64 {
    let base: i64 = text
        .chars()
        .map(|c| if u32::from(c) >= 0x2e80 { 220 } else { 62 })
        .sum();
    (base * rng.range(90, 112) / 100).clamp(600, 9_000)
}

fn dialogue(cdr: &TelCdrInfo) -> Vec<Line> {
    let secs = recording_secs(cdr);
    if secs == 0 {
        return Vec::new();
    }
    let agent = if !cdr.seat_user.mail.is_empty() {
        cdr.seat_user.mail.as_str()
    } else {
        cdr.serve_participants
            .iter()
            .rev()
            .map(|p| p.mail.as_str())
            .find(|m| !m.is_empty())
            .unwrap_or("agent")
    };
    let internal = cdr.call_type == 6;
    let other = if internal {
        cdr.serve_participants
            .iter()
            .map(|p| p.mail.as_str())
            .find(|m| !m.is_empty() && *m != agent)
            .unwrap_or("user")
    } else {
        "user"
    };
    let family = if internal {
        INTERNAL
    } else if cdr.direction == 1 {
        OUTBOUND
    } else {
        INBOUND
    };
    let hash = session_hash(&cdr.session_id);
    let script = family[(mix64(hash ^ PICK_SALT) % family.len() as u64) as usize];

    // Each line costs the pause before it plus the time to say it.
    let mut rng = SplitMix64::new(mix64(hash ^ TIMING_SALT));
    let timing: Vec<(i64, i64)> = script
        .iter()
        .map(|&(_, text)| (rng.range(350, 1_100), speech_ms(text, &mut rng)))
        .collect();
    let total_ms = secs * 1000;
    let budget = total_ms - TAIL_MS;
    // Nearly fits: speak up to 30% faster rather than drop anything.
    let whole: i64 = timing.iter().map(|(pause, speech)| pause + speech).sum();
    let timing: Vec<(i64, i64)> = if whole > budget && whole * 10 <= budget * 13 {
        let squeeze = |ms: i64| ms * budget / whole;
        timing
            .iter()
            .map(|&(pause, speech)| (squeeze(pause), squeeze(speech)))
            .collect()
    } else {
        timing
    };

    // Keep the greeting, then the goodbye, then the middle in order for as
    // long as it fits (stopping at the first that does not, so no answer is
    // kept without its question).
    let n = script.len();
    let mut keep = vec![false; n];
    let mut used = 0;
    for (rank, i) in std::iter::once(0)
        .chain(std::iter::once(n - 1))
        .chain(1..n - 1)
        .enumerate()
    {
        let cost = timing[i].0 + timing[i].1;
        if used + cost <= budget {
            keep[i] = true;
            used += cost;
        } else if rank >= 2 {
            break;
        }
    }

    let origin = cdr.accept_timestamp.saturating_mul(1000);
    let line = |i: usize, start: i64, end: i64| {
        let (who, text) = script[i];
        Line {
            who,
            question: text.ends_with('?') || text.ends_with('？'),
            sentence: AsrData {
                user: match who {
                    Who::Agent => agent,
                    Who::Other => other,
                }
                .to_owned(),
                message: text.to_owned(),
                timestamp: origin + start,
                start: origin + start,
                end: origin + end,
            },
        }
    };
    if !keep[0] {
        // Too short even for the greeting: say it fast, in the middle.
        return vec![line(0, total_ms / 5, total_ms - total_ms / 5)];
    }
    let mut at = 0;
    let mut lines = Vec::with_capacity(n);
    for (i, &(pause, speech)) in timing.iter().enumerate() {
        if keep[i] {
            at += pause;
            lines.push(line(i, at, at + speech));
            at += speech;
        }
    }
    lines
}

// ---------------------------------------------------------------------------
// The recording.

/// How one sentence sounds.
struct Voice {
    /// Fundamental frequency, Hz.
    pitch: f32,
    /// Rising intonation at the end instead of falling.
    question: bool,
    /// Rate of the loudness ripple that stands in for syllables.
    syllables_per_sec: f32,
    /// Peak amplitude (of 32767).
    loudness: f32,
}

const TABLE_BITS: u32 = 10;
const TABLE_LEN: usize = 1 << TABLE_BITS;

/// Fade in and out over 15 ms so no sentence starts or stops with a click.
const FADE_SAMPLES: usize = 120;

/// One period of a sine and of a vowel-like wave (a few harmonics falling
/// off), both of peak 1, indexed by the top bits of a 32-bit phase.
struct Tables {
    sine: Vec<f32>,
    voice: Vec<f32>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        const HARMONICS: [f32; 8] = [1.0, 0.75, 0.55, 0.45, 0.3, 0.2, 0.12, 0.08];
        let angle = |i: usize| std::f32::consts::TAU * i as f32 / TABLE_LEN as f32;
        let sine: Vec<f32> = (0..TABLE_LEN).map(|i| angle(i).sin()).collect();
        let mut voice: Vec<f32> = (0..TABLE_LEN)
            .map(|i| {
                HARMONICS
                    .iter()
                    .enumerate()
                    .map(|(k, a)| a * (angle(i) * (k + 1) as f32).sin())
                    .sum()
            })
            .collect();
        let peak = voice.iter().fold(0f32, |m, v| m.max(v.abs()));
        voice.iter_mut().for_each(|v| *v /= peak);
        Tables { sine, voice }
    })
}

/// Phase increment per sample for `hz`, in units of 2^-32 of a cycle.
fn phase_step(hz: f32) -> f32 {
    hz * (4_294_967_296.0 / DEMO_SAMPLE_RATE as f32)
}

/// Mix a sentence into `out`: the voice wave gliding from 5% above the
/// pitch to 8% below it (or up 15% for a question), loudness rippling
/// between 30% and 100% at the syllable rate, faded at both ends.
fn speak(out: &mut [i16], voice: &Voice) {
    let Tables { sine, voice: wave } = tables();
    let len = out.len();
    if len == 0 {
        return;
    }
    let shift = 32 - TABLE_BITS;
    let from = phase_step(voice.pitch * 1.05);
    let to = phase_step(voice.pitch * if voice.question { 1.15 } else { 0.92 });
    let glide = (to - from) / len as f32;
    let syllable_step = phase_step(voice.syllables_per_sec) as u32;
    let mut step = from;
    let mut phase: u32 = 0;
    // Start at the ripple's trough: the first syllable swells in.
    let mut syllable: u32 = 3 << 30;
    for (i, sample) in out.iter_mut().enumerate() {
        let edge = i.min(len - 1 - i).min(FADE_SAMPLES) as f32 / FADE_SAMPLES as f32;
        let ripple = 0.65 + 0.35 * sine[(syllable >> shift) as usize];
        let v = wave[(phase >> shift) as usize] * ripple * edge * voice.loudness;
        *sample = (f32::from(*sample) + v).clamp(-32_768.0, 32_767.0) as i16;
        phase = phase.wrapping_add(step as u32);
        syllable = syllable.wrapping_add(syllable_step);
        step += glide;
    }
}

/// Faint hiss (peak 32 of 32767, about -60 dBFS) so the pauses sound like
/// an open line rather than a dead one. Xorshift32, seeded per session.
fn line_noise(samples: usize, hash: u64) -> Vec<i16> {
    let mut x = (mix64(hash ^ NOISE_SALT) as u32) | 1;
    (0..samples)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 26) as i16 - 32
        })
        .collect()
}

/// A canonical 44-byte-header PCM WAV of `pcm` (mono, 16-bit, 8 kHz).
fn wav(pcm: &[i16]) -> Vec<u8> {
    let data_len = (pcm.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + pcm.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&DEMO_SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(DEMO_SAMPLE_RATE * 2).to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in pcm {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdr::{SeatUserInfo, ServeParticipant};
    use crate::{GenerateOptions, generate, parse_transcript};

    const ACCEPT: i64 = 1_729_756_307;

    fn answered(session: &str, duration: i64) -> TelCdrInfo {
        TelCdrInfo {
            session_id: session.into(),
            time: ACCEPT - 20,
            accept_timestamp: ACCEPT,
            ended_timestamp: ACCEPT + duration,
            duration,
            seat_user: SeatUserInfo {
                mail: "bob@example.com".into(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// The samples of a WAV, after checking every header field.
    fn parse_wav(b: &[u8]) -> Vec<i16> {
        assert_eq!(&b[0..4], b"RIFF");
        assert_eq!(u32_at(b, 4) as usize, b.len() - 8);
        assert_eq!(&b[8..16], b"WAVEfmt ");
        assert_eq!(u32_at(b, 16), 16);
        assert_eq!(u16_at(b, 20), 1, "PCM");
        assert_eq!(u16_at(b, 22), 1, "mono");
        assert_eq!(u32_at(b, 24), 8000, "sample rate");
        assert_eq!(u32_at(b, 28), 16_000, "byte rate");
        assert_eq!(u16_at(b, 32), 2, "block align");
        assert_eq!(u16_at(b, 34), 16, "bits per sample");
        assert_eq!(&b[36..40], b"data");
        let data = u32_at(b, 40) as usize;
        assert_eq!(data, b.len() - 44);
        b[44..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect()
    }

    fn rms(samples: &[i16]) -> f64 {
        let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
        (sum / samples.len().max(1) as f64).sqrt()
    }

    #[test]
    fn recording_length() {
        assert_eq!(recording_secs(&answered("s", 8)), 8);
        assert_eq!(recording_secs(&answered("s", 45)), 45);
        assert_eq!(recording_secs(&answered("s", 600)), 45);
        assert_eq!(recording_secs(&answered("s", 0)), 0);
        assert_eq!(recording_secs(&answered("s", -3)), 0);
        let unanswered = TelCdrInfo {
            duration: 30,
            ..Default::default()
        };
        assert_eq!(recording_secs(&unanswered), 0);
    }

    #[test]
    fn wav_header_and_size() {
        for (duration, secs) in [(1, 1), (8, 8), (44, 44), (300, 45)] {
            let wav = demo_recording_wav(&answered("a0b1", duration));
            let pcm = parse_wav(&wav);
            assert_eq!(pcm.len(), secs * 8000);
            assert_eq!(wav.len(), 44 + secs * 8000 * 2);
        }
    }

    #[test]
    fn unanswered_call_has_no_transcript_and_an_empty_wav() {
        let mut cdr = answered("x", 30);
        cdr.accept_timestamp = 0;
        assert!(demo_transcript(&cdr).is_empty());
        assert!(parse_wav(&demo_recording_wav(&cdr)).is_empty());
        let cdr = answered("x", 0);
        assert!(demo_transcript(&cdr).is_empty());
    }

    #[test]
    fn sentences_lie_inside_the_recording_in_order() {
        for duration in [1, 2, 3, 5, 10, 20, 45, 120, 1800] {
            for i in 0..50 {
                let cdr = answered(&format!("session-{i}"), duration);
                let list = demo_transcript(&cdr);
                assert!(!list.is_empty(), "{duration} s");
                let begin = ACCEPT * 1000;
                let end = begin + recording_secs(&cdr) * 1000;
                let mut last_end = begin;
                for s in &list {
                    assert!(s.start > last_end, "{s:?} after {last_end}");
                    assert!(s.end > s.start && s.end <= end, "{s:?} within {end}");
                    assert_eq!(s.timestamp, s.start);
                    assert!(s.user == "bob@example.com" || s.user == "user", "{s:?}");
                    last_end = s.end;
                }
                // A transcript the demo serves can be imported back.
                let json = serde_json::to_vec(&list).unwrap();
                assert_eq!(parse_transcript(&json), Ok(list));
            }
        }
    }

    #[test]
    fn long_calls_get_the_whole_dialogue_short_ones_keep_greeting_and_goodbye() {
        for i in 0..100 {
            let session = format!("s-{i}");
            let long = demo_transcript(&answered(&session, 600));
            let script = INBOUND
                .iter()
                .find(|script| script[0].1 == long[0].message)
                .expect("an inbound script");
            // A 45 s recording holds a whole dialogue, word for word.
            let said: Vec<&str> = long.iter().map(|s| s.message.as_str()).collect();
            let written: Vec<&str> = script.iter().map(|&(_, text)| text).collect();
            assert_eq!(said, written);
            // Both speakers take part.
            assert!(long.iter().any(|s| s.user == "user"));
            assert!(long.iter().any(|s| s.user == "bob@example.com"));

            let short = demo_transcript(&answered(&session, 12));
            assert!(short.len() < long.len());
            assert_eq!(short[0].message, long[0].message);
            if short.len() > 1 {
                assert_eq!(short.last().unwrap().message, long.last().unwrap().message);
            }
        }
        // Outbound and internal dialogues fit too.
        for call_type in [1, 6] {
            for i in 0..50 {
                let mut cdr = answered(&format!("o-{i}"), 600);
                cdr.direction = 1;
                cdr.call_type = call_type;
                let list = demo_transcript(&cdr);
                let family = if call_type == 6 { INTERNAL } else { OUTBOUND };
                let script = family
                    .iter()
                    .find(|script| script[0].1 == list[0].message)
                    .expect("a script of the family");
                assert_eq!(list.len(), script.len());
            }
        }
    }

    #[test]
    fn speakers_and_dialogue_kinds() {
        // No SeatUser mail: the last participant's, else "agent".
        let mut cdr = answered("s", 60);
        cdr.seat_user.mail.clear();
        assert!(demo_transcript(&cdr).iter().any(|s| s.user == "agent"));
        cdr.serve_participants = vec![
            ServeParticipant {
                mail: "first@example.com".into(),
                ..Default::default()
            },
            ServeParticipant {
                mail: "last@example.com".into(),
                ..Default::default()
            },
        ];
        assert!(
            demo_transcript(&cdr)
                .iter()
                .all(|s| s.user == "last@example.com" || s.user == "user")
        );

        // Outbound: the customer speaks first.
        let mut cdr = answered("s", 60);
        cdr.direction = 1;
        cdr.call_type = 1;
        assert_eq!(demo_transcript(&cdr)[0].user, "user");
        // Internal: the colleague answers, by mail.
        cdr.call_type = 6;
        cdr.serve_participants = vec![ServeParticipant {
            mail: "carol@example.com".into(),
            ..Default::default()
        }];
        let list = demo_transcript(&cdr);
        assert_eq!(list[0].user, "carol@example.com");
        assert!(list.iter().any(|s| s.user == "bob@example.com"));
    }

    #[test]
    fn picked_from_the_session_id_and_deterministic() {
        let a = answered("0955de87-c86d-4457-aac2-bee3d0a0b67a", 45);
        assert_eq!(demo_transcript(&a), demo_transcript(&a));
        assert_eq!(demo_recording_wav(&a), demo_recording_wav(&a));
        let openings: std::collections::HashSet<String> = (0..200)
            .map(|i| {
                demo_transcript(&answered(&format!("s{i}"), 45))[0]
                    .message
                    .clone()
            })
            .collect();
        // Every inbound script shows up (their opening lines differ).
        assert_eq!(openings.len(), INBOUND.len());
        assert!(openings.iter().any(|m| m.starts_with("您好")));
    }

    #[test]
    fn loud_during_sentences_quiet_between() {
        for i in 0..20 {
            let cdr = answered(&format!("loud-{i}"), 45);
            let list = demo_transcript(&cdr);
            let pcm = parse_wav(&demo_recording_wav(&cdr));
            let origin = ACCEPT * 1000;
            let at = |ms: i64| ((ms - origin) * 8) as usize;
            let mut quiet_from = 0;
            for s in &list {
                let (from, to) = (at(s.start), at(s.end));
                // Quiet between sentences (and before the first).
                let gap = &pcm[quiet_from..from];
                assert!(rms(gap) < 40.0, "gap before {s:?}: {}", rms(gap));
                // Loud in every 100 ms window of the sentence.
                for window in pcm[from..to].chunks_exact(800) {
                    assert!(rms(window) > 1_000.0, "{s:?}: {}", rms(window));
                }
                // Nothing leaks outside the span, not even a click.
                if from > 0 {
                    assert!(pcm[from - 1].abs() <= 32);
                }
                if to < pcm.len() {
                    assert!(pcm[to].abs() <= 32);
                }
                quiet_from = to;
            }
            assert!(rms(&pcm[quiet_from..]) < 40.0);
        }
    }

    #[test]
    fn fades_avoid_clicks() {
        let cdr = answered("fade", 45);
        let pcm = parse_wav(&demo_recording_wav(&cdr));
        let origin = ACCEPT * 1000;
        for s in demo_transcript(&cdr) {
            let from = ((s.start - origin) * 8) as usize;
            let to = ((s.end - origin) * 8) as usize;
            // The first and last 2 ms stay well below full loudness.
            for &v in pcm[from..from + 16].iter().chain(&pcm[to - 16..to]) {
                assert!(v.abs() < 2_000, "{v}");
            }
        }
    }

    #[test]
    fn every_generated_answered_call_has_media() {
        let options = GenerateOptions {
            count: 400,
            sdk_app_id: 1_400_000_000,
            days: 3,
            seed: 5,
            until: 1_795_000_000,
        };
        let mut answered = 0;
        for r in generate(&options) {
            let list = demo_transcript(&r.cdr);
            assert_eq!(list.is_empty(), r.cdr.accept_timestamp == 0, "{:?}", r.cdr);
            if let Some(first) = list.first() {
                answered += 1;
                assert!(first.start >= r.cdr.accept_timestamp * 1000);
                assert!(
                    list.last().unwrap().end
                        <= (r.cdr.accept_timestamp + recording_secs(&r.cdr)) * 1000
                );
                if answered <= 20 {
                    let pcm = parse_wav(&demo_recording_wav(&r.cdr));
                    assert_eq!(pcm.len() as i64, recording_secs(&r.cdr) * 8000);
                }
            }
        }
        assert!(answered > 200, "{answered}");
    }
}
