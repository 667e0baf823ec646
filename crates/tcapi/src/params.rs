//! An action's parameters, from whichever form carried them, as one tree
//! ([`Params`]): a JSON body as it is, a flattened form (`Phones.0=...`,
//! `Filters.0.Name=...`) rebuilt into lists and objects (spec 1.4).
//!
//! Values keep where they came from ([`Param::Json`] is typed,
//! [`Param::Text`] is a string to coerce), so [`crate::bind`] can accept
//! `PageSize=10` from a query but not `"PageSize":"10"` in JSON.

use std::collections::BTreeMap;

use http::Method;
use serde_json::Value;

use crate::request::{form_pairs, media_type};
use crate::{ApiError, Auth, Envelope, RawRequest, multipart};

/// One parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// A JSON scalar (number, string, bool, null) from a JSON body or part.
    Json(Value),
    /// Text from a flattened form or a plain multipart part.
    Text(String),
    List(Vec<Param>),
    Object(BTreeMap<String, Param>),
}

impl Param {
    /// A JSON value as a tree of params.
    pub fn from_json(value: Value) -> Param {
        match value {
            Value::Array(items) => Param::List(items.into_iter().map(Param::from_json).collect()),
            Value::Object(map) => Param::Object(
                map.into_iter()
                    .map(|(k, v)| (k, Param::from_json(v)))
                    .collect(),
            ),
            scalar => Param::Json(scalar),
        }
    }
}

/// The top-level parameters of a request, by name.
pub type Params = BTreeMap<String, Param>;

/// Common parameters of v1 requests: part of the envelope, never the
/// action's (so never `UnknownParameter`).
const V1_COMMON: &[&str] = &[
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
];

/// Extracts the action's parameters. With GET they come from the query; with
/// POST from the body, whose Content-Type says how it is encoded.
pub fn params(envelope: &Envelope, raw: &RawRequest) -> Result<Params, ApiError> {
    if let Auth::V1 { params, .. } = &envelope.auth {
        let own = params
            .iter()
            .filter(|(k, _)| !V1_COMMON.contains(&k.as_str()))
            .cloned();
        return unflatten(own);
    }
    if raw.method == Method::GET {
        return unflatten(form_pairs(raw));
    }
    match media_type(raw.headers).as_str() {
        "application/json" | "" => json_body(raw.body),
        "application/x-www-form-urlencoded" => unflatten(form_pairs(raw)),
        "multipart/form-data" => multipart::parse(raw.headers, raw.body),
        other => Err(ApiError::invalid_request(
            format!(
                "Content-Type {other} is not supported; send application/json, multipart/form-data or application/x-www-form-urlencoded."
            ),
            format!(
                "不支持 Content-Type {other}，请使用 application/json、multipart/form-data 或 application/x-www-form-urlencoded。"
            ),
        )),
    }
}

fn json_body(body: &[u8]) -> Result<Params, ApiError> {
    if body.trim_ascii().is_empty() {
        return Ok(Params::new());
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_parameter(
            format!("The request body is not valid JSON ({e}); send one JSON object of the action's parameters."),
            format!("请求体不是合法的 JSON（{e}），请发送由接口参数组成的 JSON 对象。"),
        )
    })?;
    match Param::from_json(value) {
        Param::Object(map) => Ok(map),
        _ => Err(ApiError::invalid_parameter(
            "The request body must be a JSON object of the action's parameters, like {\"SdkAppId\": 1400000000}.",
            "请求体必须是由接口参数组成的 JSON 对象，例如 {\"SdkAppId\": 1400000000}。",
        )),
    }
}

fn flat_error(en: String, zh: String) -> ApiError {
    ApiError::invalid_parameter(en, zh)
}

/// Rebuilds lists and objects from flattened keys: `.N` indices from 0 make
/// a list, other segments make object members.
pub(crate) fn unflatten(
    pairs: impl IntoIterator<Item = (String, String)>,
) -> Result<Params, ApiError> {
    let mut root: BTreeMap<String, Param> = BTreeMap::new();
    for (key, value) in pairs {
        let segments: Vec<&str> = key.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(flat_error(
                format!(
                    "The parameter name {key:?} is malformed; write lists as Name.0, Name.1 and members as Name.Member."
                ),
                format!(
                    "参数名 {key:?} 格式错误；列表写作 Name.0、Name.1，对象成员写作 Name.Member。"
                ),
            ));
        }
        insert(&mut root, &segments, &key, value)?;
    }
    root.into_iter()
        .map(|(k, v)| Ok((k.clone(), listify(v, &k)?)))
        .collect()
}

fn insert(
    node: &mut BTreeMap<String, Param>,
    segments: &[&str],
    full: &str,
    value: String,
) -> Result<(), ApiError> {
    let (head, rest) = segments
        .split_first()
        .expect("split('.') yields one segment");
    let conflict = || {
        flat_error(
            format!(
                "The parameter {full} is given twice, or both as a value and as a list or object; give each name once."
            ),
            format!("参数 {full} 重复，或同时以单值和列表/对象形式出现；每个参数只能出现一次。"),
        )
    };
    if rest.is_empty() {
        if node.contains_key(*head) {
            return Err(conflict());
        }
        node.insert((*head).to_owned(), Param::Text(value));
        return Ok(());
    }
    let child = node
        .entry((*head).to_owned())
        .or_insert_with(|| Param::Object(BTreeMap::new()));
    match child {
        Param::Object(map) => insert(map, rest, full, value),
        _ => Err(conflict()),
    }
}

/// Turns objects whose members are all indices into lists, checking that the
/// indices run 0, 1, 2, ... without gaps.
fn listify(param: Param, path: &str) -> Result<Param, ApiError> {
    let Param::Object(map) = param else {
        return Ok(param);
    };
    let all_indices = !map.is_empty() && map.keys().all(|k| k.bytes().all(|b| b.is_ascii_digit()));
    if !all_indices {
        return map
            .into_iter()
            .map(|(k, v)| {
                let child = format!("{path}.{k}");
                Ok((k, listify(v, &child)?))
            })
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map(Param::Object);
    }
    let mut items: Vec<(usize, String, Param)> = Vec::with_capacity(map.len());
    for (k, v) in map {
        let index = k.parse::<usize>().ok().filter(|i| i.to_string() == k);
        let Some(index) = index else {
            return Err(flat_error(
                format!(
                    "{path}.{k} is not a valid list index; indices are 0, 1, 2, ... without leading zeros."
                ),
                format!("{path}.{k} 不是合法的列表下标；下标应为 0、1、2……且不带前导零。"),
            ));
        };
        items.push((index, k, v));
    }
    items.sort_by_key(|(i, _, _)| *i);
    let mut list = Vec::with_capacity(items.len());
    for (expected, (index, k, v)) in items.into_iter().enumerate() {
        if index != expected {
            return Err(flat_error(
                format!(
                    "{path}.{expected} is missing: list indices must run 0, 1, 2, ... without gaps (found {path}.{index})."
                ),
                format!(
                    "缺少 {path}.{expected}：列表下标必须从 0 开始连续编号（出现了 {path}.{index}）。"
                ),
            ));
        }
        list.push(listify(v, &format!("{path}.{k}"))?);
    }
    Ok(Param::List(list))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes;

    fn flat(pairs: &[(&str, &str)]) -> Result<Params, ApiError> {
        unflatten(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn text(s: &str) -> Param {
        Param::Text(s.to_owned())
    }

    #[test]
    fn lists_and_objects_are_rebuilt() {
        let p = flat(&[
            ("Phones.1", "b"),
            ("Phones.0", "a"),
            ("Filters.0.Name", "n"),
            ("Filters.0.Values.0", "x"),
            ("Filters.0.Values.1", "y"),
            ("PageSize", "10"),
        ])
        .unwrap();
        assert_eq!(p["Phones"], Param::List(vec![text("a"), text("b")]));
        assert_eq!(p["PageSize"], text("10"));
        let Param::List(filters) = &p["Filters"] else {
            panic!()
        };
        let Param::Object(f) = &filters[0] else {
            panic!()
        };
        assert_eq!(f["Name"], text("n"));
        assert_eq!(f["Values"], Param::List(vec![text("x"), text("y")]));
    }

    #[test]
    fn ten_or_more_elements_sort_numerically() {
        let pairs: Vec<(String, String)> = (0..12)
            .map(|i| (format!("Phones.{i}"), i.to_string()))
            .collect();
        let p = unflatten(pairs).unwrap();
        let Param::List(items) = &p["Phones"] else {
            panic!()
        };
        assert_eq!(items[10], text("10"));
    }

    #[test]
    fn gaps_duplicates_and_conflicts_are_refused() {
        for bad in [
            &[("Phones.0", "a"), ("Phones.2", "b")][..],
            &[("Phones.1", "a")],
            &[("PageSize", "1"), ("PageSize", "2")],
            &[("Phones", "1"), ("Phones.0", "2")],
            &[("Phones.0", "2"), ("Phones", "1")],
            &[("Phones.01", "a")],
            &[("Phones..0", "a")],
        ] {
            let e = flat(bad).unwrap_err();
            assert_eq!(e.code, codes::INVALID_PARAMETER, "{bad:?}");
        }
    }

    #[test]
    fn json_bodies() {
        let p = json_body(br#"{"A": [1, "x"], "B": {"C": true}}"#).unwrap();
        assert_eq!(
            p["A"],
            Param::List(vec![Param::Json(1.into()), Param::Json("x".into())])
        );
        assert!(json_body(b"").unwrap().is_empty());
        assert_eq!(
            json_body(b"[1]").unwrap_err().code,
            codes::INVALID_PARAMETER
        );
        assert_eq!(json_body(b"{").unwrap_err().code, codes::INVALID_PARAMETER);
    }
}
