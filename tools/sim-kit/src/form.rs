//! `application/x-www-form-urlencoded` bodies (Xiaomi, OPPO and Meizu send
//! forms; Xiaomi posts its receipts as one), and media types.

use std::fmt;

/// Why a form body could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormError {
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// The decoded bytes of a name or value are not UTF-8.
    NotUtf8,
}

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FormError::BadEscape => "a % is not followed by two hex digits",
            FormError::NotUtf8 => "a decoded name or value is not UTF-8",
        })
    }
}

impl std::error::Error for FormError {}

/// Reads a form body strictly: pairs separated by `&` (empty pairs
/// skipped), name and value split at the first `=` (a pair without one is a
/// name with an empty value), `+` is a space, `%XX` a byte; a malformed
/// escape or a result that is not UTF-8 is an error. Pairs keep their order,
/// repeats included.
pub fn decode(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    body.split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            };
            Ok((unescape(name)?, unescape(value)?))
        })
        .collect()
}

fn unescape(text: &[u8]) -> Result<String, FormError> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = text.get(i + 1..i + 3).ok_or(FormError::BadEscape)?;
                let hex = std::str::from_utf8(hex).map_err(|_| FormError::BadEscape)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(FormError::BadEscape);
                }
                bytes.push(u8::from_str_radix(hex, 16).map_err(|_| FormError::BadEscape)?);
                i += 2;
            }
            b => bytes.push(b),
        }
        i += 1;
    }
    String::from_utf8(bytes).map_err(|_| FormError::NotUtf8)
}

/// Writes a form body as Java's `URLEncoder` and HTML forms do: ASCII
/// letters, digits and `*-._` as they are, a space as `+`, every other byte
/// of the UTF-8 text as `%XX` (upper-case hex).
pub fn encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut body = String::new();
    for (n, (name, value)) in pairs.into_iter().enumerate() {
        if n > 0 {
            body.push('&');
        }
        escape_into(&mut body, name);
        body.push('=');
        escape_into(&mut body, value);
    }
    body
}

/// One name or value escaped as [`encode`] does.
pub fn escape(text: &str) -> String {
    let mut escaped = String::new();
    escape_into(&mut escaped, text);
    escaped
}

fn escape_into(out: &mut String, text: &str) {
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// A `Content-Type` value split into its media type (lower case, trimmed)
/// and its parameters (names lower case; values trimmed, unquoted).
pub fn media_type(content_type: &str) -> (String, Vec<(String, String)>) {
    let mut parts = content_type.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = parts
        .filter(|part| !part.trim().is_empty())
        .map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            (name.trim().to_ascii_lowercase(), value.to_owned())
        })
        .collect();
    (mime, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn decoding_reads_escapes_plus_and_repeats() {
        assert_eq!(
            decode(b"a=1&b=x+y%2Bz&&c&extra.k=%E4%BD%A0&a=2&d=").unwrap(),
            pairs(&[
                ("a", "1"),
                ("b", "x y+z"),
                ("c", ""),
                ("extra.k", "你"),
                ("a", "2"),
                ("d", "")
            ])
        );
        assert_eq!(decode(b"").unwrap(), pairs(&[]));
        assert_eq!(decode(b"a=%zz"), Err(FormError::BadEscape));
        assert_eq!(decode(b"a=%4"), Err(FormError::BadEscape));
        assert_eq!(decode(b"a=%ff"), Err(FormError::NotUtf8));
    }

    #[test]
    fn encoding_round_trips() {
        let list = [
            ("data", "{\"id\":\"a b\",\"t\":\"你+&=%\"}"),
            ("x.y", "*-._~"),
        ];
        let body = encode(list);
        assert!(body.starts_with("data=%7B%22id%22%3A%22a+b%22"), "{body}");
        assert!(body.ends_with("&x.y=*-._%7E"), "{body}");
        assert_eq!(decode(body.as_bytes()).unwrap(), pairs(&list));
    }

    #[test]
    fn media_types_split_their_parameters() {
        assert_eq!(
            media_type(" Application/X-WWW-Form-URLEncoded ; Charset=\"UTF-8\" "),
            (
                "application/x-www-form-urlencoded".to_owned(),
                vec![("charset".to_owned(), "UTF-8".to_owned())]
            )
        );
        assert_eq!(media_type("text/plain"), ("text/plain".to_owned(), vec![]));
    }
}
