//! `pattern` regular expressions with Go's RE2 semantics on the Rust
//! `regex` engine: Perl classes (`\d`, `\w`, `\s`, `\b`) are ASCII-only as
//! in Go, `\Q...\E` quotes, brackets inside classes are literal, and syntax
//! errors read as Go's `error parsing regexp: <code>: `<expr>``.

use regex::Regex;

/// Compile a schema `pattern`; the error is Go's `regexp.Compile` error
/// text (codes mapped from the Rust parser's, approximately).
pub(crate) fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern);
    let mut parser = regex_syntax::ast::parse::ParserBuilder::new()
        .nest_limit(1000)
        .build();
    if let Err(e) = parser.parse(&translated) {
        let span = e.span();
        let fragment = translated
            .get(span.start.offset..span.end.offset)
            .filter(|f| !f.is_empty())
            .unwrap_or(pattern);
        return Err(go_error(e.kind(), pattern, fragment));
    }
    regex::RegexBuilder::new(&translated)
        .size_limit(8 << 20)
        .build()
        .map_err(|_| format!("error parsing regexp: expression too large: `{pattern}`"))
}

fn go_error(kind: &regex_syntax::ast::ErrorKind, pattern: &str, fragment: &str) -> String {
    use regex_syntax::ast::ErrorKind as K;
    let (code, expr) = match kind {
        K::ClassUnclosed => ("missing closing ]", fragment),
        K::GroupUnclosed => ("missing closing )", pattern),
        K::GroupUnopened => ("unexpected )", pattern),
        K::RepetitionMissing => ("missing argument to repetition operator", fragment),
        K::RepetitionCountInvalid
        | K::RepetitionCountDecimalEmpty
        | K::RepetitionCountUnclosed
        | K::DecimalEmpty
        | K::DecimalInvalid => ("invalid repeat count", fragment),
        K::ClassRangeInvalid | K::ClassRangeLiteral | K::UnicodeClassInvalid => {
            ("invalid character class range", fragment)
        }
        K::EscapeUnexpectedEof => ("trailing backslash at end of expression", ""),
        K::ClassEscapeInvalid
        | K::EscapeHexEmpty
        | K::EscapeHexInvalid
        | K::EscapeHexInvalidDigit
        | K::EscapeUnrecognized
        | K::UnsupportedBackreference => ("invalid escape sequence", fragment),
        K::GroupNameDuplicate { .. } => ("duplicate capture group name", fragment),
        K::GroupNameEmpty | K::GroupNameInvalid | K::GroupNameUnexpectedEof => {
            ("invalid named capture", fragment)
        }
        K::NestLimitExceeded(_) => ("expression nests too deeply", pattern),
        K::CaptureLimitExceeded => ("expression too large", pattern),
        _ => ("invalid or unsupported Perl syntax", fragment),
    };
    format!("error parsing regexp: {code}: `{expr}`")
}

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = "\\t\\n\\x0C\\r ";

/// Rewrite a Go regular expression for the Rust engine.
fn translate(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    // Inside a class: the index where it started (for a leading `]`).
    let mut class_start: Option<usize> = None;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&n) = chars.get(i + 1) else {
                out.push('\\');
                break;
            };
            i += 2;
            if n == 'Q' {
                let mut lit = String::new();
                while i < chars.len() {
                    if chars[i] == '\\' && chars.get(i + 1) == Some(&'E') {
                        i += 2;
                        break;
                    }
                    lit.push(chars[i]);
                    i += 1;
                }
                if class_start.is_some() {
                    for ch in lit.chars() {
                        out.push_str(&regex::escape(&ch.to_string()));
                    }
                } else {
                    out.push_str(&regex::escape(&lit));
                }
                continue;
            }
            let inside = class_start.is_some();
            let set = |positive: &str, negated: bool| -> String {
                match (inside, negated) {
                    (true, false) => positive.to_owned(),
                    _ => format!("[{}{positive}]", if negated { "^" } else { "" }),
                }
            };
            match n {
                'd' => out.push_str(&set(DIGIT, false)),
                'D' => out.push_str(&set(DIGIT, true)),
                'w' => out.push_str(&set(WORD, false)),
                'W' => out.push_str(&set(WORD, true)),
                's' => out.push_str(&set(SPACE, false)),
                'S' => out.push_str(&set(SPACE, true)),
                'b' if !inside => out.push_str("(?-u:\\b)"),
                'B' if !inside => out.push_str("(?-u:\\B)"),
                _ => {
                    out.push('\\');
                    out.push(n);
                }
            }
            continue;
        }
        match class_start {
            None => {
                if c == '[' {
                    class_start = Some(i);
                    out.push('[');
                    if chars.get(i + 1) == Some(&'^') {
                        out.push('^');
                        i += 1;
                    }
                    // A `]` right after `[` or `[^` is literal.
                    if chars.get(i + 1) == Some(&']') {
                        out.push_str("\\]");
                        i += 1;
                    }
                } else {
                    out.push(c);
                }
            }
            Some(_) => match c {
                ']' => {
                    class_start = None;
                    out.push(']');
                }
                '[' if chars.get(i + 1) == Some(&':') => {
                    // A POSIX class, `[:alpha:]`, copied through `:]`.
                    let rest: String = chars[i..].iter().collect();
                    match rest.find(":]") {
                        Some(end) if end >= 2 => {
                            out.push_str(&rest[..end + 2]);
                            i += rest[..end + 2].chars().count();
                            continue;
                        }
                        _ => out.push_str("\\["),
                    }
                }
                '[' | '&' | '~' => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            },
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_semantics() {
        let re = compile(r"^\d+$").unwrap();
        assert!(re.is_match("123"));
        assert!(!re.is_match("١٢٣"), "Go's \\d is ASCII");
        assert!(compile(r"^[\w.-]+$").unwrap().is_match("a_b.c-d"));
        assert!(compile(r"^[[]+$").unwrap().is_match("[["));
        assert!(compile(r"^[]a]+$").unwrap().is_match("]a"));
        assert!(compile(r"^\Qa.b\E$").unwrap().is_match("a.b"));
        assert!(!compile(r"^\Qa.b\E$").unwrap().is_match("axb"));
        assert!(compile(r"^[[:alpha:]]+$").unwrap().is_match("abc"));
        assert!(compile(r"[a&&b]").unwrap().is_match("&"));
    }

    #[test]
    fn errors_read_as_go() {
        assert_eq!(
            compile("(a").unwrap_err(),
            "error parsing regexp: missing closing ): `(a`"
        );
        assert_eq!(
            compile("a)").unwrap_err(),
            "error parsing regexp: unexpected ): `a)`"
        );
        assert!(
            compile("*a")
                .unwrap_err()
                .starts_with("error parsing regexp: missing argument to repetition operator")
        );
        assert!(compile("(?=a)").is_err());
        assert!(compile(r"\").is_err());
    }
}
