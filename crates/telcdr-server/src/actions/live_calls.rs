//! DescribeCallInMetrics and DescribePSTNActiveSessionList describe calls
//! in progress (spec 6.7, 6.8). telcdr keeps records of finished calls and
//! never sees a live one, so it answers `UnsupportedOperation` and says why,
//! after the usual parameter and tenancy checks, rather than an empty list
//! that would read as "no calls right now".

use serde::Deserialize;
use serde_json::{Map, Value};
use tcapi::{Field, Ty};

use super::{ActionContext, ActionDef, ActionError, typed};

#[rustfmt::skip]
const METRICS_FIELDS: &[Field] = &[
    Field { name: "SdkAppId", ty: Ty::Int, required: true },
    Field { name: "EnabledSkillGroup", ty: Ty::Bool, required: false },
    Field { name: "EnabledNumber", ty: Ty::Bool, required: false },
    Field { name: "GroupIdList", ty: Ty::List(&Ty::Int), required: false },
];

#[rustfmt::skip]
const SESSIONS_FIELDS: &[Field] = &[
    Field { name: "SdkAppId", ty: Ty::Int, required: true },
    Field { name: "Offset", ty: Ty::Int, required: true },
    Field { name: "Limit", ty: Ty::Int, required: true },
];

pub(crate) const CALL_IN_METRICS: ActionDef = ActionDef {
    name: "DescribeCallInMetrics",
    fields: METRICS_FIELDS,
    run,
};

pub(crate) const ACTIVE_SESSIONS: ActionDef = ActionDef {
    name: "DescribePSTNActiveSessionList",
    fields: SESSIONS_FIELDS,
    run,
};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Request {
    sdk_app_id: i64,
}

fn run(ctx: &ActionContext, params: Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    let req: Request = typed(params)?;
    ctx.app(req.sdk_app_id)?;
    Err(ActionError::Unsupported {
        en: "telcdr keeps records of finished calls and never sees calls in progress, so it \
             cannot report live metrics or active sessions; ask Tencent Cloud CCC for them. \
             Finished calls: DescribeTelCdr, DescribeSessionDetail."
            .into(),
        zh: "telcdr 只保存已结束通话的话单，看不到进行中的通话，无法提供实时指标或活动会话；\
             请向腾讯云联络中心查询。已结束通话请用 DescribeTelCdr、DescribeSessionDetail。"
            .into(),
    })
}
