//! Serde helpers that accept a JSON object only where an object is meant.
//!
//! A derived `Deserialize` for a struct also accepts a JSON *array* of the
//! members in declaration order, and with `#[serde(default)]` an empty array
//! is the default struct. The import's typed fast path would then accept
//! `"SeatUser":[]` or `"Events":[[]]`, which the checked path rejects ("must
//! be an object"): the two paths must agree, so nested structs go through
//! these helpers (`#[serde(deserialize_with = "...")]`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A `T` read from a JSON object, never from an array.
pub(crate) struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Object)
    }
}

/// `deserialize_with` for a struct member that must be an object.
pub(crate) fn object<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Object::deserialize(deserializer).map(|Object(t)| t)
}

/// `deserialize_with` for an array member whose elements must be objects.
pub(crate) fn objects<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let items = Vec::<Object<T>>::deserialize(deserializer)?;
    Ok(items.into_iter().map(|Object(t)| t).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq, Default)]
    #[serde(default)]
    struct Inner {
        a: i64,
    }

    #[derive(Deserialize, Debug, PartialEq, Default)]
    #[serde(default)]
    struct Outer {
        #[serde(deserialize_with = "object")]
        one: Inner,
        #[serde(deserialize_with = "objects")]
        many: Vec<Inner>,
    }

    #[test]
    fn objects_yes_arrays_no() {
        let ok: Outer = serde_json::from_str(r#"{"one":{"a":1},"many":[{},{"a":2}]}"#).unwrap();
        assert_eq!(ok.one.a, 1);
        assert_eq!(ok.many, [Inner { a: 0 }, Inner { a: 2 }]);
        assert_eq!(
            serde_json::from_str::<Outer>("{}").unwrap(),
            Outer::default()
        );
        // What a derived impl alone would accept.
        assert_eq!(
            serde_json::from_str::<Inner>("[]").unwrap(),
            Inner::default()
        );
        for bad in [
            r#"{"one":[]}"#,
            r#"{"one":[1]}"#,
            r#"{"many":[[]]}"#,
            r#"{"one":null}"#,
        ] {
            assert!(serde_json::from_str::<Outer>(bad).is_err(), "{bad}");
        }
    }
}
