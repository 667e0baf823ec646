//! The actions of CCC's call-record API, as a dispatch table keyed by action
//! name: adding an action is one module and one line in [`ACTIONS`].
//!
//! An action receives parameters already type-checked against its declared
//! fields (`tcapi::bind`) and returns the JSON object of its output fields;
//! it knows nothing of HTTP, signatures or SQL. Its errors are
//! [`ActionError`], converted into Tencent error codes at this boundary.

mod console;
mod describe_call_info;
mod describe_protected_tel_cdr;
mod describe_session_detail;
mod describe_tel_cdr;
mod describe_tel_record_asr;
mod describe_tel_session;
mod live_calls;
mod records;
mod window;

use serde_json::{Map, Value};
use tcapi::{ApiError, Field};
use telcdr_media::{LinkSigner, MediaError, MediaStore};
use telcdr_store::{AppView, Store, StoreError};
use tracing::error;

use crate::QueryLimits;
use crate::present::{LinkMinter, Presenter};
use crate::protect::NumberProtector;
use crate::temp_credentials::TempCredentials;

/// What an action sees of the request and the server.
pub struct ActionContext<'a> {
    pub store: &'a dyn Store,
    /// Recordings, voicemails and transcripts.
    pub media: &'a MediaStore,
    /// The verified caller's account.
    pub account_id: i64,
    /// The caller signed with temporary credentials (the console's).
    pub temporary: bool,
    /// Issues temporary credentials.
    pub temp_credentials: &'a TempCredentials,
    /// Unix seconds, from the server's clock.
    pub now: i64,
    pub query_limits: &'a QueryLimits,
    pub signer: &'a LinkSigner,
    /// How long a minted `/media` link stays valid, seconds.
    pub link_ttl_seconds: i64,
    /// Scheme and authority links point at (`http://host:port`).
    pub base_url: &'a str,
    pub protector: &'a NumberProtector,
}

impl ActionContext<'_> {
    /// Tenancy: the caller's account must own `sdk_app_id`. An SdkAppId that
    /// does not exist gets the same answer, so existence does not leak.
    /// Returns the app's settings.
    pub fn app(&self, sdk_app_id: i64) -> Result<AppView, ActionError> {
        self.store
            .app_view(self.account_id, sdk_app_id)?
            .ok_or(ActionError::InstanceNotExist { sdk_app_id })
    }

    /// How records of `sdk_app_id` are shown to this request; `protect`
    /// masks numbers.
    pub fn presenter(&self, sdk_app_id: i64, protect: bool) -> Presenter<'_> {
        Presenter {
            links: LinkMinter {
                signer: self.signer,
                base: self.base_url,
                expires: self.now.saturating_add(self.link_ttl_seconds),
            },
            protector: protect.then_some(self.protector),
            sdk_app_id,
        }
    }
}

/// An action's body: bound parameters in, its output object's JSON out.
pub type RunAction = fn(&ActionContext, Map<String, Value>) -> Result<Vec<u8>, ActionError>;

/// One entry of the dispatch table.
pub struct ActionDef {
    pub name: &'static str,
    /// Declared parameters; anything else is `UnknownParameter`.
    pub fields: &'static [Field],
    /// Runs the action; returns the output fields as a JSON object.
    pub run: RunAction,
}

/// Every action this server answers.
pub static ACTIONS: &[ActionDef] = &[
    describe_tel_cdr::ACTION,
    describe_protected_tel_cdr::ACTION,
    describe_tel_session::ACTION,
    describe_session_detail::ACTION,
    describe_tel_record_asr::ACTION,
    describe_call_info::ACTION,
    live_calls::CALL_IN_METRICS,
    live_calls::ACTIVE_SESSIONS,
    // telcdr's own, for the console.
    console::ISSUE_CREDENTIALS,
    console::SEARCH,
    console::OVERVIEW,
];

/// Looks an action up by its exact name.
pub fn find(name: &str) -> Option<&'static ActionDef> {
    ACTIONS.iter().find(|a| a.name == name)
}

/// Why an action failed, in the actions' own words.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// A parameter value outside what is allowed (`InvalidParameterValue`).
    #[error("{en}")]
    InvalidValue { en: String, zh: String },
    /// The SdkAppId is unknown or not the caller's.
    #[error("SdkAppId {sdk_app_id} does not exist or is not accessible with this key")]
    InstanceNotExist { sdk_app_id: i64 },
    /// The session has no record in the window asked about.
    #[error("session {session_id} does not exist")]
    SessionNotExists { session_id: String },
    /// A thing asked for is not there (`ResourceNotFound`).
    #[error("{en}")]
    NotFound { en: String, zh: String },
    /// The caller may not do this (`UnauthorizedOperation`).
    #[error("{en}")]
    Unauthorized { en: String, zh: String },
    /// An action telcdr cannot answer by its nature (`UnsupportedOperation`).
    #[error("{en}")]
    Unsupported { en: String, zh: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Media(#[from] MediaError),
    /// A bug: parameters that passed `bind` did not fit the action's struct.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ActionError {
    pub(crate) fn invalid(en: impl Into<String>, zh: impl Into<String>) -> ActionError {
        ActionError::InvalidValue {
            en: en.into(),
            zh: zh.into(),
        }
    }
}

impl From<ActionError> for ApiError {
    fn from(err: ActionError) -> ApiError {
        match err {
            ActionError::InvalidValue { en, zh } => ApiError::invalid_parameter_value(en, zh),
            ActionError::InstanceNotExist { sdk_app_id } => ApiError::new(
                tcapi::codes::INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST,
                format!("SdkAppId {sdk_app_id} does not exist or is not accessible with this key."),
                format!("SdkAppId {sdk_app_id} 不存在或当前密钥无权访问。"),
            ),
            ActionError::SessionNotExists { session_id } => ApiError::new(
                tcapi::codes::FAILED_OPERATION_SESSION_NOT_EXISTS,
                format!("Session {session_id} does not exist in this SdkAppId and time range."),
                format!("会话 {session_id} 在该 SdkAppId 和时间范围内不存在。"),
            ),
            ActionError::NotFound { en, zh } => {
                ApiError::new(tcapi::codes::RESOURCE_NOT_FOUND, en, zh)
            }
            ActionError::Unauthorized { en, zh } => {
                ApiError::new(tcapi::codes::UNAUTHORIZED_OPERATION, en, zh)
            }
            ActionError::Unsupported { en, zh } => {
                ApiError::new(tcapi::codes::UNSUPPORTED_OPERATION, en, zh)
            }
            ActionError::Media(e) => {
                error!(error = %e, "media store failure");
                ApiError::internal(tcapi::codes::INTERNAL_ERROR)
            }
            ActionError::Store(e) => {
                error!(error = %e, "store failure");
                ApiError::internal(tcapi::codes::INTERNAL_ERROR_DB_ERROR)
            }
            ActionError::Internal(e) => {
                error!(error = %e, "action failure");
                ApiError::internal(tcapi::codes::INTERNAL_ERROR)
            }
        }
    }
}

/// Deserialises bound parameters into an action's request struct.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    params: Map<String, Value>,
) -> Result<T, ActionError> {
    serde_json::from_value(Value::Object(params)).map_err(|e| ActionError::Internal(e.to_string()))
}
