//! The two languages of error messages (spec 4.5): only `Error.Message` is
//! localised; codes and field names never change.

/// `zh-CN` or `en-US`, as `X-TC-Language` / `Language` name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    EnUs,
    ZhCn,
}

impl Language {
    /// Parses the exact values the SDKs send; anything else is `None` (the
    /// server's default applies).
    pub fn parse(s: &str) -> Option<Language> {
        match s {
            "en-US" => Some(Language::EnUs),
            "zh-CN" => Some(Language::ZhCn),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::EnUs => "en-US",
            Language::ZhCn => "zh-CN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_the_two_documented_values() {
        assert_eq!(Language::parse("zh-CN"), Some(Language::ZhCn));
        assert_eq!(Language::parse("en-US"), Some(Language::EnUs));
        assert_eq!(Language::parse("en"), None);
        assert_eq!(Language::parse("zh-cn"), None);
        for l in [Language::EnUs, Language::ZhCn] {
            assert_eq!(Language::parse(l.as_str()), Some(l));
        }
    }
}
