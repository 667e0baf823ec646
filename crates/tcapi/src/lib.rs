//! Tencent Cloud API 3.0, seen from the server: what a request says, whether
//! its signature holds, what its parameters are, and how an answer is
//! wrapped.
//!
//! This crate knows nothing of call records or storage: an action hands it a
//! list of declared [`Field`]s and gets back type-checked JSON; a server hands
//! it a [`RawRequest`] and gets an [`Envelope`] (who is calling, for which
//! action), a verdict from [`verify`], and the bytes of the answer from
//! [`success_body`] / [`error_body`]. Every failure is an [`ApiError`] that
//! already carries its Tencent code and both message languages.
//!
//! The request forms (spec section 1): TC3-HMAC-SHA256 over POST JSON, GET
//! with flattened parameters, POST multipart and POST form; v1 HmacSHA1 /
//! HmacSHA256 over GET and POST form. [`sign`] holds the pure signing
//! functions shared by the verifier, the tests and the load generator.

mod bind;
pub mod codes;
mod error;
mod language;
mod multipart;
mod params;
mod request;
mod response;
pub mod sign;
mod verify;

pub use bind::{Field, Ty, bind};
pub use error::ApiError;
pub use language::Language;
pub use params::{Param, Params, params};
pub use request::{Auth, Envelope, Limits, RawRequest, check_transport, decode, language_hint};
pub use response::{CONTENT_TYPE, error_body, new_request_id, success_body};
pub use sign::SignatureMethod;
pub use verify::{verify, verify_with_token};
