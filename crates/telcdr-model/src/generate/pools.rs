//! Who takes part in generated calls: skill groups, agents, the company's own
//! numbers and a pool of customers, all derived from the seed (and the
//! SdkAppId, so two demo tenants do not share staff).
//!
//! Customers are not stored: customer `i`'s number is a pure function of the
//! key and `i`, so a pool of millions costs nothing. Picking `i` with a skewed
//! distribution makes some numbers call back many times, as real repeat
//! callers (and the odd robocaller) do.

use crate::cdr::SeatUserInfo;
use crate::rng::{SplitMix64, mix64};

/// A skill group (queue) of the tenant.
pub(super) struct SkillGroup {
    pub id: i64,
    pub name: &'static str,
}

/// An agent and the things calls need to know about them.
pub(super) struct Agent {
    pub seat: SeatUserInfo,
    /// Indices into `Pools::groups`; the first is the agent's main group.
    pub groups: Vec<usize>,
    /// `staffSeat` (softphone) or `staffPhoneSeat` (rings a phone).
    pub seat_type: &'static str,
    pub extension: String,
}

/// A number owned by the tenant: a hotline for inbound calls or a display
/// number for outbound calls.
pub(super) struct CompanyNumber {
    pub number: String,
    pub location: String,
}

/// A customer's number as written in one call, and where it is.
pub(super) struct Customer {
    pub number: String,
    pub location: String,
}

pub(super) struct Pools {
    pub groups: Vec<SkillGroup>,
    pub agents: Vec<Agent>,
    /// Agents in each group (every group has at least one).
    pub group_agents: Vec<Vec<usize>>,
    pub hotlines: Vec<CompanyNumber>,
    pub display_numbers: Vec<CompanyNumber>,
    customers: u64,
    customer_key: u64,
}

const GROUP_NAMES: &[&str] = &[
    "售前咨询",
    "售后服务",
    "VIP专线",
    "投诉建议",
    "技术支持",
    "账单查询",
    "物流查询",
    "会员服务",
    "Sales",
    "Support",
    "Billing",
    "Renewals",
];

const FAMILY: &[(&str, &str)] = &[
    ("wang", "王"),
    ("li", "李"),
    ("zhang", "张"),
    ("liu", "刘"),
    ("chen", "陈"),
    ("yang", "杨"),
    ("huang", "黄"),
    ("zhao", "赵"),
    ("wu", "吴"),
    ("zhou", "周"),
    ("xu", "徐"),
    ("sun", "孙"),
    ("ma", "马"),
    ("zhu", "朱"),
    ("hu", "胡"),
    ("guo", "郭"),
    ("he", "何"),
    ("lin", "林"),
    ("gao", "高"),
    ("luo", "罗"),
];

const GIVEN: &[(&str, &str)] = &[
    ("wei", "伟"),
    ("fang", "芳"),
    ("na", "娜"),
    ("min", "敏"),
    ("jing", "静"),
    ("lei", "磊"),
    ("qiang", "强"),
    ("yang", "洋"),
    ("jie", "杰"),
    ("tao", "涛"),
    ("ming", "明"),
    ("chao", "超"),
    ("xiu", "秀"),
    ("hua", "华"),
    ("ping", "平"),
    ("gang", "刚"),
    ("yan", "燕"),
    ("hui", "慧"),
    ("ting", "婷"),
    ("xin", "欣"),
];

const DOMAINS: &[&str] = &["example.com", "example.cn", "corp.example.net"];

/// Mainland mobile prefixes (China Mobile, Unicom, Telecom).
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "199",
];

/// (province, city, area code, relative weight).
const REGIONS: &[(&str, &str, &str, u32)] = &[
    ("北京", "北京", "010", 12),
    ("上海", "上海", "021", 12),
    ("广东", "广州", "020", 10),
    ("广东", "深圳", "0755", 12),
    ("广东", "东莞", "0769", 4),
    ("浙江", "杭州", "0571", 7),
    ("江苏", "南京", "025", 5),
    ("江苏", "苏州", "0512", 5),
    ("四川", "成都", "028", 6),
    ("湖北", "武汉", "027", 5),
    ("陕西", "西安", "029", 4),
    ("天津", "天津", "022", 3),
    ("重庆", "重庆", "023", 4),
    ("山东", "济南", "0531", 3),
    ("山东", "青岛", "0532", 3),
    ("福建", "厦门", "0592", 3),
    ("湖南", "长沙", "0731", 4),
    ("河南", "郑州", "0371", 4),
];

fn region_name(province: &str, city: &str) -> String {
    // Municipalities are written once: "北京", not "北京北京".
    if province == city {
        city.to_owned()
    } else {
        format!("{province}{city}")
    }
}

fn digits(rng: &mut SplitMix64, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

fn pick_region(rng: &mut SplitMix64) -> (&'static str, &'static str, &'static str) {
    let i = rng.weighted(&REGIONS_INDEXED);
    let (p, c, a, _) = REGIONS[i];
    (p, c, a)
}

const REGIONS_INDEXED: [(usize, u32); REGIONS.len()] = {
    let mut out = [(0usize, 0u32); REGIONS.len()];
    let mut i = 0;
    while i < REGIONS.len() {
        out[i] = (i, REGIONS[i].3);
        i += 1;
    }
    out
};

/// A mainland landline in Tencent's own format: `0086` + area code with its
/// trunk 0 + 8 digits (spec 6.1 example: `0086075500000`).
fn company_landline(rng: &mut SplitMix64) -> CompanyNumber {
    let (p, c, area) = pick_region(rng);
    CompanyNumber {
        number: format!("0086{area}{}", digits(rng, 8)),
        location: format!("{}固话", region_name(p, c)),
    }
}

impl Pools {
    pub(super) fn new(key: u64, expected_calls: u64) -> Self {
        let mut rng = SplitMix64::new(key ^ 0x0070_6f6f_6c73);

        // 4–8 distinct skill groups with ids spread over a plausible range.
        let n_groups = rng.range(4, 8) as usize;
        let mut names: Vec<&'static str> = GROUP_NAMES.to_vec();
        let mut groups = Vec::with_capacity(n_groups);
        let mut id = rng.range(1000, 9000);
        for _ in 0..n_groups {
            let name = names.swap_remove(rng.below(names.len() as u64) as usize);
            groups.push(SkillGroup { id, name });
            id += rng.range(1, 60);
        }

        // 12–60 agents: a small to mid-sized contact centre.
        let n_agents = rng.range(12, 60) as usize;
        let domain = *rng.pick(DOMAINS);
        let staff_base = rng.range(10_000, 80_000);
        let ext_first = rng.range(1, 8);
        let mut agents: Vec<Agent> = Vec::with_capacity(n_agents);
        let mut mails = std::collections::HashSet::new();
        for i in 0..n_agents {
            let (fam_py, fam_cn) = *rng.pick(FAMILY);
            let (giv_py, giv_cn) = *rng.pick(GIVEN);
            let chinese = rng.chance(0.7);
            let name = if chinese {
                format!("{fam_cn}{giv_cn}")
            } else {
                format!("{} {}", capitalise(giv_py), capitalise(fam_py))
            };
            let mut mail = format!("{giv_py}.{fam_py}@{domain}");
            let mut n = 2;
            while !mails.insert(mail.clone()) {
                mail = format!("{giv_py}.{fam_py}{n}@{domain}");
                n += 1;
            }
            let nick = if chinese {
                format!("小{giv_cn}")
            } else {
                giv_py.to_owned()
            };
            // Main group first, then up to two more.
            let mut member_of = vec![i % n_groups];
            for _ in 0..rng.below(3) {
                let g = rng.below(n_groups as u64) as usize;
                if !member_of.contains(&g) {
                    member_of.push(g);
                }
            }
            let role = match i {
                0 => 1,
                1 | 2 => 2,
                _ => 3,
            };
            let extension = (ext_first * 1000 + 1 + i as i64).to_string();
            let mobile = format!("{}{}", rng.pick(MOBILE_PREFIXES), digits(&mut rng, 8));
            let seat_type = if rng.chance(0.15) {
                "staffPhoneSeat"
            } else {
                "staffSeat"
            };
            agents.push(Agent {
                seat: SeatUserInfo {
                    name,
                    mail: mail.clone(),
                    staff_number: (staff_base + i as i64).to_string(),
                    phone: format!("0086{mobile}"),
                    nick,
                    user_id: mail,
                    skill_group_name_list: member_of
                        .iter()
                        .map(|&g| groups[g].name.to_owned())
                        .collect(),
                    role,
                    extension_number: extension.clone(),
                },
                groups: member_of,
                seat_type,
                extension,
            });
        }
        let mut group_agents = vec![Vec::new(); n_groups];
        for (a, agent) in agents.iter().enumerate() {
            for &g in &agent.groups {
                group_agents[g].push(a);
            }
        }

        let mut hotlines = vec![CompanyNumber {
            number: format!("400{}", digits(&mut rng, 7)),
            location: String::new(),
        }];
        for _ in 0..rng.range(1, 2) {
            hotlines.push(company_landline(&mut rng));
        }
        let display_numbers = (0..rng.range(1, 3))
            .map(|_| company_landline(&mut rng))
            .collect();

        Pools {
            groups,
            agents,
            group_agents,
            hotlines,
            display_numbers,
            // A third as many customers as calls: with the skewed pick below
            // most numbers call once and a few call very often.
            customers: (expected_calls / 3).max(50),
            customer_key: rng.next_u64(),
        }
    }

    /// A customer for one call. `rng` is the call's own generator; the
    /// customer's identity comes from the pool, the way the number is written
    /// in this call may vary between equivalent forms.
    pub(super) fn customer(&self, rng: &mut SplitMix64) -> Customer {
        // P(index < k) = sqrt(k / customers): index 0 takes about
        // 1/sqrt(customers) of all calls.
        let u = rng.unit();
        let index = ((u * u) * self.customers as f64) as u64;
        let mut c = SplitMix64::new(mix64(self.customer_key ^ index.wrapping_mul(0x9e37_79b9)));
        let kind = c.below(100);
        let style = c.below(100);
        let vary = rng.chance(0.1);
        if kind < 72 {
            let (p, city, _) = pick_region(&mut c);
            let national = format!("{}{}", c.pick(MOBILE_PREFIXES), digits(&mut c, 8));
            // Each customer has a usual style; 10% of calls use another
            // spelling of the same international form.
            let style = if vary { rng.below(100) } else { style };
            let number = match style {
                0..55 => format!("0086{national}"),
                55..70 => format!("+86{national}"),
                70..85 => format!("86{national}"),
                _ => national,
            };
            Customer {
                number,
                location: region_name(p, city),
            }
        } else if kind < 90 {
            let (p, city, area) = pick_region(&mut c);
            let local = digits(&mut c, if area.len() == 3 { 8 } else { 7 });
            let number = if style < 75 {
                format!("0086{area}{local}")
            } else {
                format!("{area}{local}")
            };
            Customer {
                number,
                location: format!("{}固话", region_name(p, city)),
            }
        } else {
            // International numbers from fictional / drama ranges.
            let (cc, national) = match c.below(5) {
                0 | 1 => ("1", format!("415555{}", digits(&mut c, 4))),
                2 => ("44", format!("207946{}", digits(&mut c, 4))),
                3 => ("81", format!("3{}", digits(&mut c, 8))),
                _ => ("852", format!("{}{}", c.range(5, 9), digits(&mut c, 7))),
            };
            let number = if (style < 60) != vary {
                format!("+{cc}{national}")
            } else {
                format!("00{cc}{national}")
            };
            Customer {
                number,
                location: String::new(),
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
