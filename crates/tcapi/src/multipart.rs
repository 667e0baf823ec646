//! `multipart/form-data` bodies (spec 1.3): one part per top-level
//! parameter; a part with `Content-Type: application/json` holds JSON, any
//! other part holds text. Malformed bodies are `InvalidRequest`.

use http::HeaderMap;
use serde_json::Value;

use crate::request::header_str;
use crate::{ApiError, Param, Params};

fn malformed(what: &str) -> ApiError {
    ApiError::invalid_request(
        format!("The multipart/form-data body is malformed: {what}."),
        format!("multipart/form-data 请求体格式错误：{what}。"),
    )
}

fn boundary(headers: &HeaderMap) -> Option<String> {
    let content_type = header_str(headers, "content-type")?;
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses the body into top-level parameters.
pub(crate) fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Params, ApiError> {
    let boundary = boundary(headers)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| malformed("the Content-Type has no boundary"))?;
    let delimiter = format!("--{boundary}").into_bytes();
    let start =
        find(body, &delimiter).ok_or_else(|| malformed("no part starts with the boundary"))?;
    let mut rest = &body[start + delimiter.len()..];
    let mut params = Params::new();
    let next_delimiter = [b"\r\n".as_slice(), &delimiter].concat();
    loop {
        if rest.starts_with(b"--") {
            return Ok(params);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or_else(|| malformed("a boundary line is not followed by CRLF"))?;
        let head_end =
            find(rest, b"\r\n\r\n").ok_or_else(|| malformed("a part has no header end"))?;
        let head = std::str::from_utf8(&rest[..head_end])
            .map_err(|_| malformed("a part header is not UTF-8"))?;
        let after_head = &rest[head_end + 4..];
        let end = find(after_head, &next_delimiter)
            .ok_or_else(|| malformed("the closing boundary is missing"))?;
        let content = &after_head[..end];
        rest = &after_head[end + next_delimiter.len()..];

        let (mut name, mut is_json) = (None, false);
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                name = v.split(';').find_map(|p| {
                    let (pk, pv) = p.trim().split_once('=')?;
                    (pk.trim() == "name").then(|| pv.trim().trim_matches('"').to_owned())
                });
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                is_json = v
                    .trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json");
            }
        }
        let name = name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| malformed("a part has no Content-Disposition name"))?;
        let text = std::str::from_utf8(content)
            .map_err(|_| malformed(&format!("part {name} is not UTF-8")))?;
        let value = if is_json {
            let v: Value = serde_json::from_str(text)
                .map_err(|e| malformed(&format!("part {name} is not valid JSON ({e})")))?;
            Param::from_json(v)
        } else {
            Param::Text(text.to_owned())
        };
        if params.insert(name.clone(), value).is_some() {
            return Err(malformed(&format!("part {name} appears twice")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes;
    use http::HeaderValue;

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_str(ct).unwrap());
        h
    }

    #[test]
    fn python_sdk_style_body() {
        let body = "--b1\r\nContent-Disposition: form-data; name=\"PageSize\"\r\n\r\n10\r\n--b1\r\nContent-Disposition: form-data; name=\"Phones\"\r\nContent-Type: application/json\r\n\r\n[\"0086130\", \"0086131\"]\r\n--b1--\r\n";
        let p = parse(
            &headers("multipart/form-data; boundary=b1"),
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(p["PageSize"], Param::Text("10".into()));
        assert_eq!(
            p["Phones"],
            Param::List(vec![
                Param::Json("0086130".into()),
                Param::Json("0086131".into())
            ])
        );
    }

    #[test]
    fn malformed_bodies_are_invalid_requests() {
        for (ct, body) in [
            ("multipart/form-data", "--b1--"),
            ("multipart/form-data; boundary=b1", "nothing"),
            (
                "multipart/form-data; boundary=b1",
                "--b1\r\nContent-Disposition: form-data; name=\"A\"\r\n\r\n1",
            ),
            (
                "multipart/form-data; boundary=b1",
                "--b1\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b1--",
            ),
            (
                "multipart/form-data; boundary=b1",
                "--b1\r\nContent-Disposition: form-data; name=\"A\"\r\nContent-Type: application/json\r\n\r\n{\r\n--b1--",
            ),
        ] {
            let e = parse(&headers(ct), body.as_bytes()).unwrap_err();
            assert_eq!(e.code, codes::INVALID_REQUEST, "{body}");
        }
    }
}
