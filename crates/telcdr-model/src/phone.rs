//! Phone number normalisation for matching (design.md, "DescribeTelCdr
//! semantics"): `+8613012345678`, `008613012345678`, `8613012345678` and
//! `86 130-1234-5678` are the same number.
//!
//! Only the indexed copy is normalised; the served body keeps numbers exactly
//! as they were recorded.

/// Digits only, then any leading `00` (international dialling prefix) dropped.
///
/// Returns `""` when the input has no ASCII digit.
///
/// The spec speaks of "a leading `00`"; we drop it repeatedly so that the
/// function is idempotent (`normalize_phone(normalize_phone(x)) ==
/// normalize_phone(x)`), which lets callers normalise a number that may
/// already be normalised without a second meaning creeping in. No real
/// number starts with `0000`, so this changes nothing in practice.
pub fn normalize_phone(s: &str) -> String {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let mut rest = digits.as_str();
    while let Some(stripped) = rest.strip_prefix("00") {
        rest = stripped;
    }
    if rest.len() == digits.len() {
        digits
    } else {
        rest.to_owned()
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
        assert_eq!(normalize_phone("0"), "0");
        // Non-ASCII digits are not dialable digits.
        assert_eq!(normalize_phone("１２３"), "");
    }

    proptest! {
        #[test]
        fn idempotent(s in ".{0,40}") {
            let once = normalize_phone(&s);
            prop_assert_eq!(normalize_phone(&once), once.clone());
            prop_assert!(once.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!once.starts_with("00"));
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
