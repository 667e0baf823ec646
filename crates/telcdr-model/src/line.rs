//! One pass over an import line for the typed fast path: the line's
//! `TelCdrInfo` and, from the same walk, the two members that are not
//! TelCdrInfo's (`SdkAppId`, `Events`).
//!
//! Reading the line twice (once for the line-only members, once for the
//! record) cost about a sixth of an import's parse time, and `#[serde(flatten)]`
//! would buffer every member into a generic tree first. Instead the record's
//! derived `Deserialize` walks the object through [`LineMembers`], a thin
//! wrapper that takes the two line-only members out as they pass and hands
//! every other key on unchanged.

use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};

use crate::cdr::TelCdrInfo;
use crate::session_event::SessionEvent;
use crate::strict::Object;

/// The line-only members met during the walk.
#[derive(Default)]
pub(crate) struct LineExtras {
    /// `SdkAppId`, when present and an integer.
    pub sdk_app_id: Option<i64>,
    /// `Events`; `null` reads as absent, as in the checked path.
    pub events: Option<Vec<SessionEvent>>,
    seen_events: bool,
}

/// Reads `line` (one JSON object) into a `TelCdrInfo` and its extras, or
/// `None` on any error: the caller's checked path words the reason.
pub(crate) fn read_line(line: &str) -> Option<(TelCdrInfo, LineExtras)> {
    let mut extras = LineExtras::default();
    let mut de = serde_json::Deserializer::from_str(line);
    let cdr = TelCdrInfo::deserialize(LineMembers {
        inner: &mut de,
        extras: &mut extras,
    })
    .ok()?;
    de.end().ok()?;
    Some((cdr, extras))
}

/// A deserializer for the top-level object that diverts the line-only
/// members into `extras`.
struct LineMembers<'a, D> {
    inner: D,
    extras: &'a mut LineExtras,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for LineMembers<'_, D> {
    type Error = D::Error;

    // A record is an object and nothing else: the derived impl would also
    // take an array of members in declaration order.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_map(Divert {
            visitor,
            extras: self.extras,
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The visitor wrapper: hands the record's visitor a filtered map.
struct Divert<'a, V> {
    visitor: V,
    extras: &'a mut LineExtras,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Divert<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(Filtered {
            map,
            extras: self.extras,
        })
    }
}

/// The object's members minus `SdkAppId` and `Events`.
struct Filtered<'a, A> {
    map: A,
    extras: &'a mut LineExtras,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Filtered<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.map.next_key::<Key<'de>>()? else {
                return Ok(None);
            };
            match key.as_str() {
                // A repeated member is an error, as for the record's own
                // members (the derived impl reports `duplicate field`).
                "SdkAppId" if self.extras.sdk_app_id.is_some() => {
                    return Err(de::Error::duplicate_field("SdkAppId"));
                }
                "SdkAppId" => self.extras.sdk_app_id = Some(self.map.next_value()?),
                "Events" if self.extras.seen_events => {
                    return Err(de::Error::duplicate_field("Events"));
                }
                "Events" => {
                    self.extras.seen_events = true;
                    let events: Option<Vec<Object<SessionEvent>>> = self.map.next_value()?;
                    self.extras.events = events.map(|list| list.into_iter().map(|o| o.0).collect());
                }
                _ => {
                    return match key {
                        Key::Borrowed(s) => seed.deserialize(BorrowedStrDeserializer::new(s)),
                        Key::Owned(s) => seed.deserialize(StrDeserializer::new(&s)),
                    }
                    .map(Some);
                }
            }
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A member name, borrowed from the line unless it had escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;

        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(s))
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s.to_owned()))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(s))
            }
        }

        deserializer.deserialize_str(KeyVisitor)
    }
}
