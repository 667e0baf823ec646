//! Phone number normalisation for matching (design.md, "DescribeTelCdr
//! semantics"): `+8613012345678`, `008613012345678`, `8613012345678` and
//! `86 130-1234-5678` are the same number.
//!
//! Only the indexed copy is normalised; the served body keeps numbers exactly
//! as they were recorded.

/// Digits only, then one leading `00` (the international dialling prefix)
/// dropped, exactly as design.md words it.
///
/// Returns `""` when the input has no ASCII digit. Both sides of a match
/// (the stored copy and the filter) go through this once, so it need not be
/// idempotent: `0000...` is not a real number either way.
pub fn normalize_phone(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    match digits.strip_prefix("00") {
        Some(rest) => rest.to_owned(),
        None => digits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spec_forms_are_one_number() {
        for s in [
            "+8613012345678",
            "008613012345678",
            "8613012345678",
            "86 130-1234-5678",
            "+86 (130) 1234 5678",
        ] {
            assert_eq!(normalize_phone(s), "8613012345678", "{s}");
        }
    }

    #[test]
    fn other_shapes() {
        assert_eq!(normalize_phone(""), "");
        assert_eq!(normalize_phone("+"), "");
        assert_eq!(normalize_phone("anonymous"), "");
        assert_eq!(normalize_phone("0086075500000"), "86075500000");
        assert_eq!(normalize_phone("+14155550123"), "14155550123");
        assert_eq!(normalize_phone("001 415 555 0123"), "14155550123");
        // A domestic number keeps its single trunk 0.
        assert_eq!(normalize_phone("010-12345678"), "01012345678");
        assert_eq!(normalize_phone("00"), "");
        assert_eq!(normalize_phone("0000123"), "00123", "one 00 only");
        assert_eq!(normalize_phone("0"), "0");
        // Non-ASCII digits are not dialable digits.
        assert_eq!(normalize_phone("１２３"), "");
    }

    proptest! {
        #[test]
        fn digits_in_order_minus_one_leading_00(s in ".{0,40}") {
            let out = normalize_phone(&s);
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            prop_assert!(out.bytes().all(|b| b.is_ascii_digit()));
            if digits.starts_with("00") {
                prop_assert_eq!(format!("00{out}"), digits);
            } else {
                prop_assert_eq!(out, digits);
            }
        }

        #[test]
        fn format_insensitive(national in "[1-9][0-9]{4,12}", sep in "[ \\-.]?") {
            // Insert the separator in the middle of the number.
            let (a, b) = national.split_at(national.len() / 2);
            let spaced = format!("{a}{sep}{b}");
            let plain = normalize_phone(&national);
            prop_assert_eq!(&normalize_phone(&format!("+{spaced}")), &plain);
            prop_assert_eq!(&normalize_phone(&format!("00{spaced}")), &plain);
            prop_assert_eq!(&normalize_phone(&format!("+ {spaced}")), &plain);
            prop_assert_eq!(&normalize_phone(&format!("({a}) {b}")), &plain);
            prop_assert_eq!(plain, national);
        }
    }
}
