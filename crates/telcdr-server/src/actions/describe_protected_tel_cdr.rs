//! DescribeProtectedTelCdr: DescribeTelCdr's records with number protection
//! always on, whatever the app's setting (spec 6.2). It takes no filters;
//! its window follows DescribeTelCdr's rules (the documents state none, and
//! one rule for both is the least surprising).

use serde_json::{Map, Value};
use tcapi::{Field, Ty};
use telcdr_store::ExtraFilters;

use super::describe_tel_cdr::answer;
use super::{ActionContext, ActionDef, ActionError, typed};

#[rustfmt::skip]
const FIELDS: &[Field] = &[
    Field { name: "StartTimeStamp", ty: Ty::Int, required: true },
    Field { name: "EndTimeStamp", ty: Ty::Int, required: true },
    // uint64 in the SDKs' models.
    Field { name: "SdkAppId", ty: Ty::UInt, required: true },
    Field { name: "PageSize", ty: Ty::Int, required: true },
    Field { name: "PageNumber", ty: Ty::Int, required: true },
];

pub(crate) const ACTION: ActionDef = ActionDef {
    name: "DescribeProtectedTelCdr",
    fields: FIELDS,
    run,
};

fn run(ctx: &ActionContext, params: Map<String, Value>) -> Result<Vec<u8>, ActionError> {
    // uint64 beyond i64: no app can have that id; the usual answer.
    if params.get("SdkAppId").and_then(Value::as_i64).is_none() {
        return Err(ActionError::InstanceNotExist {
            sdk_app_id: i64::MAX,
        });
    }
    // DescribeTelCdr's request without its filters.
    answer(ctx, typed(params)?, &ExtraFilters::default(), true)
}
