//! The error codes this server answers with (spec section 5), as constants so
//! a typo is a compile error rather than a code no SDK recognises.

pub const UNSUPPORTED_PROTOCOL: &str = "UnsupportedProtocol";
pub const REQUEST_SIZE_LIMIT_EXCEEDED: &str = "RequestSizeLimitExceeded";
pub const MISSING_PARAMETER: &str = "MissingParameter";
pub const INVALID_AUTHORIZATION: &str = "AuthFailure.InvalidAuthorization";
pub const SECRET_ID_NOT_FOUND: &str = "AuthFailure.SecretIdNotFound";
pub const SIGNATURE_EXPIRE: &str = "AuthFailure.SignatureExpire";
pub const SIGNATURE_FAILURE: &str = "AuthFailure.SignatureFailure";
pub const TOKEN_FAILURE: &str = "AuthFailure.TokenFailure";
pub const INVALID_ACTION: &str = "InvalidAction";
pub const NO_SUCH_VERSION: &str = "NoSuchVersion";
pub const REQUEST_LIMIT_EXCEEDED: &str = "RequestLimitExceeded";
pub const INVALID_PARAMETER: &str = "InvalidParameter";
pub const UNKNOWN_PARAMETER: &str = "UnknownParameter";
pub const INVALID_PARAMETER_VALUE: &str = "InvalidParameterValue";
pub const INVALID_PARAMETER_VALUE_INSTANCE_NOT_EXIST: &str =
    "InvalidParameterValue.InstanceNotExist";
pub const INVALID_REQUEST: &str = "InvalidRequest";
pub const INTERNAL_ERROR: &str = "InternalError";
pub const INTERNAL_ERROR_DB_ERROR: &str = "InternalError.DBError";
pub const UNSUPPORTED_OPERATION: &str = "UnsupportedOperation";
pub const RESOURCE_NOT_FOUND: &str = "ResourceNotFound";
pub const FAILED_OPERATION_SESSION_NOT_EXISTS: &str = "FailedOperation.SessionNotExists";
pub const UNAUTHORIZED_OPERATION: &str = "UnauthorizedOperation";
