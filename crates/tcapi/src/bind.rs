//! Binding parameters to an action's declared fields: presence
//! (`MissingParameter`), then types (`InvalidParameter`), then names
//! (`UnknownParameter`), the order of design.md section 3.
//!
//! Text from flattened forms is coerced to the declared type (`10` to an
//! integer, `True`/`false` to a boolean); JSON must already have the type,
//! as the typed SDKs send it. The result is plain JSON the action
//! deserialises into its own request struct.

use serde_json::{Map, Value};

use crate::{ApiError, Param, Params};

/// A declared parameter of an action.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// Exact name, e.g. `SdkAppId`.
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
}

/// The types of spec 6 (`Integer` is int64, `uint64` where documented).
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Int,
    UInt,
    Bool,
    Str,
    List(&'static Ty),
    Object(&'static [Field]),
}

impl Ty {
    fn en(self) -> String {
        match self {
            Ty::Int => "an integer (Integer)".into(),
            Ty::UInt => "a non-negative integer".into(),
            Ty::Bool => "a boolean (true or false)".into(),
            Ty::Str => "a string".into(),
            Ty::List(inner) => format!("a list of {}", inner.en_plural()),
            Ty::Object(_) => "an object".into(),
        }
    }

    fn en_plural(self) -> String {
        match self {
            Ty::Int | Ty::UInt => "integers".into(),
            Ty::Bool => "booleans".into(),
            Ty::Str => "strings".into(),
            Ty::List(_) => "lists".into(),
            Ty::Object(_) => "objects".into(),
        }
    }

    fn zh(self) -> String {
        match self {
            Ty::Int => "整数（Integer）".into(),
            Ty::UInt => "非负整数".into(),
            Ty::Bool => "布尔值（true 或 false）".into(),
            Ty::Str => "字符串".into(),
            Ty::List(inner) => format!("{}列表", inner.zh()),
            Ty::Object(_) => "对象".into(),
        }
    }
}

/// What was sent, for messages.
fn describe(param: &Param) -> (String, String) {
    match param {
        Param::Text(s) => (format!("{s:?}"), format!("{s:?}")),
        Param::Json(Value::String(s)) => (format!("the string {s:?}"), format!("字符串 {s:?}")),
        Param::Json(Value::Bool(b)) => (format!("the boolean {b}"), format!("布尔值 {b}")),
        Param::Json(Value::Number(n)) => (format!("the number {n}"), format!("数值 {n}")),
        Param::Json(Value::Null) => ("null".into(), "null".into()),
        Param::Json(other) => (other.to_string(), other.to_string()),
        Param::List(_) => ("a list".into(), "列表".into()),
        Param::Object(_) => ("an object".into(), "对象".into()),
    }
}

fn is_absent(param: Option<&Param>) -> bool {
    matches!(param, None | Some(Param::Json(Value::Null)))
}

fn names(fields: &[Field], required_only: bool) -> String {
    fields
        .iter()
        .filter(|f| f.required || !required_only)
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks `params` against `fields` and returns them as typed JSON.
pub fn bind(
    action: &str,
    params: &Params,
    fields: &[Field],
) -> Result<Map<String, Value>, ApiError> {
    bind_object(action, "", params, fields)
}

fn bind_object(
    action: &str,
    prefix: &str,
    params: &Params,
    fields: &[Field],
) -> Result<Map<String, Value>, ApiError> {
    for field in fields.iter().filter(|f| f.required) {
        if is_absent(params.get(field.name)) {
            let name = format!("{prefix}{}", field.name);
            let scope = if prefix.is_empty() {
                action.to_owned()
            } else {
                prefix.trim_end_matches('.').to_owned()
            };
            return Err(ApiError::missing_parameter(
                &name,
                &format!(" {scope} requires {}.", names(fields, true)),
                &format!("{scope} 的必填参数为 {}。", names(fields, true)),
            ));
        }
    }
    let mut out = Map::new();
    for field in fields {
        let Some(param) = params.get(field.name).filter(|p| !is_absent(Some(p))) else {
            continue;
        };
        let path = format!("{prefix}{}", field.name);
        out.insert(
            field.name.to_owned(),
            coerce(action, &path, field.ty, param)?,
        );
    }
    if let Some(unknown) = params
        .keys()
        .find(|k| !fields.iter().any(|f| f.name == k.as_str()))
    {
        let scope = if prefix.is_empty() {
            action.to_owned()
        } else {
            prefix.trim_end_matches('.').to_owned()
        };
        return Err(ApiError::unknown_parameter(
            &format!("{prefix}{unknown}"),
            &scope,
            &names(fields, false),
        ));
    }
    Ok(out)
}

fn wrong_type(path: &str, ty: Ty, param: &Param) -> ApiError {
    let (en_got, zh_got) = describe(param);
    ApiError::invalid_parameter(
        format!("{path} must be {}, got {en_got}.", ty.en()),
        format!("{path} 必须是{}，当前为 {zh_got}。", ty.zh()),
    )
}

fn coerce(action: &str, path: &str, ty: Ty, param: &Param) -> Result<Value, ApiError> {
    let fail = || wrong_type(path, ty, param);
    match ty {
        Ty::Int => match param {
            Param::Json(Value::Number(n)) => n.as_i64().map(Value::from).ok_or_else(fail),
            Param::Text(s) => s.parse::<i64>().map(Value::from).map_err(|_| fail()),
            _ => Err(fail()),
        },
        Ty::UInt => match param {
            Param::Json(Value::Number(n)) => n.as_u64().map(Value::from).ok_or_else(fail),
            Param::Text(s) => s.parse::<u64>().map(Value::from).map_err(|_| fail()),
            _ => Err(fail()),
        },
        Ty::Bool => match param {
            Param::Json(Value::Bool(b)) => Ok(Value::Bool(*b)),
            // Python flattens False as "False", Node as "false" (spec 1.4).
            Param::Text(s) => match s.as_str() {
                "true" | "True" => Ok(Value::Bool(true)),
                "false" | "False" => Ok(Value::Bool(false)),
                _ => Err(fail()),
            },
            _ => Err(fail()),
        },
        Ty::Str => match param {
            Param::Json(Value::String(s)) => Ok(Value::String(s.clone())),
            Param::Text(s) => Ok(Value::String(s.clone())),
            _ => Err(fail()),
        },
        Ty::List(inner) => match param {
            Param::List(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| coerce(action, &format!("{path}.{i}"), *inner, item))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => {
                let (en_got, zh_got) = describe(param);
                Err(ApiError::invalid_parameter(
                    format!(
                        "{path} must be {} (in a query or form: {path}.0, {path}.1, ...), got {en_got}.",
                        ty.en()
                    ),
                    format!(
                        "{path} 必须是{}（查询串或表单中写作 {path}.0、{path}.1……），当前为 {zh_got}。",
                        ty.zh()
                    ),
                ))
            }
        },
        Ty::Object(fields) => match param {
            Param::Object(members) => {
                bind_object(action, &format!("{path}."), members, fields).map(Value::Object)
            }
            _ => Err(fail()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes;
    use serde_json::json;

    #[rustfmt::skip]
    const FILTER: &[Field] = &[
        Field { name: "Name", ty: Ty::Str, required: true },
        Field { name: "Values", ty: Ty::List(&Ty::Str), required: false },
    ];

    #[rustfmt::skip]
    const FIELDS: &[Field] = &[
        Field { name: "SdkAppId", ty: Ty::Int, required: true },
        Field { name: "PageSize", ty: Ty::Int, required: true },
        Field { name: "Size", ty: Ty::UInt, required: false },
        Field { name: "Flag", ty: Ty::Bool, required: false },
        Field { name: "Phones", ty: Ty::List(&Ty::Str), required: false },
        Field { name: "Ids", ty: Ty::List(&Ty::Int), required: false },
        Field { name: "Filters", ty: Ty::List(&Ty::Object(FILTER)), required: false },
    ];

    fn json_params(v: Value) -> Params {
        match Param::from_json(v) {
            Param::Object(m) => m,
            _ => unreachable!(),
        }
    }

    fn flat(pairs: &[(&str, &str)]) -> Params {
        crate::params::unflatten(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
    }

    #[test]
    fn json_binds_with_its_own_types() {
        let out = bind(
            "Act",
            &json_params(
                json!({"SdkAppId": 1, "PageSize": 10, "Flag": false, "Phones": ["a"],
                                "Filters": [{"Name": "n", "Values": ["x"]}], "Size": null}),
            ),
            FIELDS,
        )
        .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"SdkAppId": 1, "PageSize": 10, "Flag": false, "Phones": ["a"],
                   "Filters": [{"Name": "n", "Values": ["x"]}]})
        );
    }

    #[test]
    fn text_is_coerced() {
        let out = bind(
            "Act",
            &flat(&[
                ("SdkAppId", "1400000000"),
                ("PageSize", "10"),
                ("Flag", "True"),
                ("Ids.0", "7"),
                ("Ids.1", "-8"),
                ("Filters.0.Name", "n"),
                ("Size", "3"),
            ]),
            FIELDS,
        )
        .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"SdkAppId": 1400000000, "PageSize": 10, "Size": 3, "Flag": true, "Ids": [7, -8],
                   "Filters": [{"Name": "n"}]})
        );
        for b in ["true", "True", "false", "False"] {
            let p = flat(&[("SdkAppId", "1"), ("PageSize", "1"), ("Flag", b)]);
            assert!(bind("Act", &p, FIELDS).is_ok(), "{b}");
        }
    }

    #[test]
    fn wrong_types_name_the_field_and_the_type() {
        for (params, needle) in [
            (
                json!({"SdkAppId": 1, "PageSize": "10"}),
                "PageSize must be an integer",
            ),
            (json!({"SdkAppId": 1, "PageSize": 1.5}), "PageSize"),
            (
                json!({"SdkAppId": 1, "PageSize": 1, "Phones": [1]}),
                "Phones.0 must be a string",
            ),
            (
                json!({"SdkAppId": 1, "PageSize": 1, "Phones": "x"}),
                "Phones.0, Phones.1",
            ),
            (json!({"SdkAppId": 1, "PageSize": 1, "Size": -1}), "Size"),
            (
                json!({"SdkAppId": 1, "PageSize": 1, "Flag": "yes"}),
                "Flag must be a boolean",
            ),
            (
                json!({"SdkAppId": 1, "PageSize": 1, "Filters": [{"Name": 3}]}),
                "Filters.0.Name",
            ),
            (
                json!({"SdkAppId": 9223372036854775808u64, "PageSize": 1}),
                "SdkAppId",
            ),
        ] {
            let e = bind("Act", &json_params(params.clone()), FIELDS).unwrap_err();
            assert_eq!(e.code, codes::INVALID_PARAMETER, "{params}");
            assert!(e.en.contains(needle), "{params}: {}", e.en);
        }
        let e = bind(
            "Act",
            &flat(&[("SdkAppId", "1"), ("PageSize", "ten")]),
            FIELDS,
        )
        .unwrap_err();
        assert!(
            e.en.contains("PageSize") && e.zh.contains("PageSize"),
            "{e}"
        );
    }

    #[test]
    fn order_is_missing_then_type_then_unknown() {
        let e = bind(
            "Act",
            &json_params(json!({"PageSize": "x", "Colour": 1})),
            FIELDS,
        )
        .unwrap_err();
        assert_eq!(e.code, codes::MISSING_PARAMETER);
        assert!(
            e.en.contains("SdkAppId") && e.en.contains("Act requires SdkAppId, PageSize"),
            "{}",
            e.en
        );
        let e = bind(
            "Act",
            &json_params(json!({"SdkAppId": 1, "PageSize": "x", "Colour": 1})),
            FIELDS,
        )
        .unwrap_err();
        assert_eq!(e.code, codes::INVALID_PARAMETER);
        let e = bind(
            "Act",
            &json_params(json!({"SdkAppId": 1, "PageSize": 1, "Colour": 1})),
            FIELDS,
        )
        .unwrap_err();
        assert_eq!(e.code, codes::UNKNOWN_PARAMETER);
        assert!(
            e.en.contains("Colour") && e.en.contains("Phones"),
            "{}",
            e.en
        );
        let e = bind(
            "Act",
            &json_params(json!({"SdkAppId": null, "PageSize": 1})),
            FIELDS,
        )
        .unwrap_err();
        assert_eq!(e.code, codes::MISSING_PARAMETER, "null is absent");
    }

    #[test]
    fn nested_presence_and_names() {
        let e = bind(
            "Act",
            &json_params(json!({"SdkAppId": 1, "PageSize": 1, "Filters": [{"Values": []}]})),
            FIELDS,
        )
        .unwrap_err();
        assert_eq!(e.code, codes::MISSING_PARAMETER);
        assert!(e.en.contains("Filters.0.Name"), "{}", e.en);
        let e = bind(
            "Act",
            &json_params(json!({"SdkAppId": 1, "PageSize": 1, "Filters": [{"Name": "a", "X": 1}]})),
            FIELDS,
        )
        .unwrap_err();
        assert_eq!(e.code, codes::UNKNOWN_PARAMETER);
        assert!(e.en.contains("Filters.0.X"), "{}", e.en);
    }
}
