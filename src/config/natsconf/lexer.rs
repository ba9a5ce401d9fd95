//! Reading the characters of one file: positions, whitespace and comments,
//! keys, quoted and bare strings. What a bare word *means* (number, size,
//! boolean, string) is decided here too, since it depends only on the word.
//!
//! The parser drives this cursor; it holds no state beyond the position,
//! so a parse error anywhere can name `file:line:column`.

use super::value::{Kind, Pos};
use std::path::Path;
use std::sync::Arc;

pub(super) struct Cursor {
    chars: Vec<char>,
    at: usize,
    line: u32,
    column: u32,
    file: Arc<Path>,
}

/// Characters that end a bare (unquoted) value. As in nats-server, `#` and
/// `//` inside a bare word belong to it (`nats://host:4222`); a comment
/// after a value needs whitespace before it.
fn ends_bare_value(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | '}' | ']')
}

/// Characters that end a bare key.
fn ends_bare_key(c: char) -> bool {
    c.is_whitespace() || matches!(c, '=' | ':' | '{' | '[' | '}' | ']' | ',' | ';' | '#')
}

impl Cursor {
    pub(super) fn new(text: &str, file: Arc<Path>) -> Cursor {
        Cursor {
            chars: text.chars().collect(),
            at: 0,
            line: 1,
            column: 1,
            file,
        }
    }

    pub(super) fn pos(&self) -> Pos {
        Pos {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
        }
    }

    pub(super) fn file(&self) -> &Arc<Path> {
        &self.file
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    pub(super) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn at_comment(&self) -> bool {
        self.peek() == Some('#') || (self.peek() == Some('/') && self.peek_at(1) == Some('/'))
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
        }
    }

    /// Skips spaces, tabs and a trailing comment, stopping at a newline.
    pub(super) fn skip_inline_space(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c != '\n' && c.is_whitespace() => {
                    self.bump();
                }
                Some(_) if self.at_comment() => self.skip_comment(),
                _ => return,
            }
        }
    }

    /// Skips whitespace (newlines too), comments and the separators that
    /// may stand between entries or elements (`,` and `;`).
    pub(super) fn skip_between_items(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() || c == ',' || c == ';' => {
                    self.bump();
                }
                Some(_) if self.at_comment() => self.skip_comment(),
                _ => return,
            }
        }
    }

    /// A key: quoted (`"a b"`, `'a'`) or bare, up to a separator; and
    /// whether it was quoted (a quoted `"include"` is an ordinary key).
    pub(super) fn key(&mut self) -> Result<(String, bool), String> {
        match self.peek() {
            Some(q @ ('"' | '\'')) => {
                self.bump();
                self.quoted(q).map(|k| (k, true))
            }
            _ => {
                let mut key = String::new();
                while let Some(c) = self.peek().filter(|c| !ends_bare_key(*c)) {
                    key.push(c);
                    self.bump();
                }
                if key.is_empty() {
                    let found = self
                        .peek()
                        .map_or("end of file".into(), |c| format!("`{c}`"));
                    return Err(format!("expected a key, found {found}"));
                }
                Ok((key, false))
            }
        }
    }

    /// The rest of a quoted string whose opening quote `quote` was read.
    /// Double quotes take escapes (`\"`, `\\`, `\n`, `\t`, `\r`, `\uXXXX`);
    /// single quotes are raw.
    pub(super) fn quoted(&mut self, quote: char) -> Result<String, String> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err("unterminated string".into()),
                Some(c) if c == quote => return Ok(out),
                Some('\\') if quote == '"' => out.push(self.escape()?),
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, String> {
        Ok(match self.bump() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some(c @ ('"' | '\\' | '/' | '$')) => c,
            Some('u') => {
                let mut code = 0u32;
                for _ in 0..4 {
                    let digit = self
                        .bump()
                        .and_then(|c| c.to_digit(16))
                        .ok_or("`\\u` needs four hex digits")?;
                    code = code * 16 + digit;
                }
                char::from_u32(code).ok_or("`\\u` escape is not a character")?
            }
            Some(c) => return Err(format!("unknown escape `\\{c}` in a string")),
            None => return Err("unterminated string".into()),
        })
    }

    /// A block string: `(` then raw text up to a line that starts with `)`.
    pub(super) fn block(&mut self) -> Result<String, String> {
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(
                        "unterminated block string (end it with `)` on a line of its own)".into(),
                    );
                }
                Some('\n') if self.peek() == Some(')') => {
                    self.bump();
                    return Ok(out.trim().to_string());
                }
                Some(c) => out.push(c),
            }
        }
    }

    /// A bare word, up to whitespace or `,` `;` `}` `]`.
    pub(super) fn bare_word(&mut self) -> String {
        let mut word = String::new();
        while let Some(c) = self.peek().filter(|c| !ends_bare_value(*c)) {
            word.push(c);
            self.bump();
        }
        word
    }

    /// Whether the cursor is at the start of a key-value separator or
    /// value rather than more of the same line.
    pub(super) fn at_line_end(&self) -> bool {
        matches!(self.peek(), None | Some('\n'))
    }
}

/// What a bare word means: a boolean, an integer (with an optional size
/// suffix: `k` = 1000, `kb`/`ki`/`kib` = 1024, and so on to `t`), a
/// decimal number, or else a string (`2s`, `127.0.0.1`, `nats://h:4222`).
/// A number too large for 64 bits is an error rather than a string, since
/// it was meant as a number.
pub(super) fn classify(word: &str) -> Result<Kind, String> {
    match word.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => return Ok(Kind::Bool(true)),
        "false" | "no" | "off" => return Ok(Kind::Bool(false)),
        _ => {}
    }
    let unsigned = word.strip_prefix('-').unwrap_or(word);
    let digits = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Ok(Kind::String(word.to_string()));
    }
    let (number, suffix) = unsigned.split_at(digits);
    let negative = unsigned.len() != word.len();
    if suffix.is_empty() {
        let n: i64 = word
            .parse()
            .map_err(|_| format!("`{word}` does not fit a 64-bit integer"))?;
        return Ok(Kind::Integer(n));
    }
    if let Some(factor) = size_factor(suffix) {
        let n: i64 = number
            .parse()
            .ok()
            .and_then(|n: i64| n.checked_mul(factor))
            .ok_or_else(|| format!("`{word}` does not fit a 64-bit integer"))?;
        return Ok(Kind::Integer(if negative { -n } else { n }));
    }
    if is_decimal(unsigned)
        && let Ok(f) = word.parse::<f64>()
        && f.is_finite()
    {
        return Ok(Kind::Float(f));
    }
    Ok(Kind::String(word.to_string()))
}

/// `1.5`, `2e3`, `0.5E-2`: digits, an optional fraction, an optional
/// exponent. Anything else with digits (`1.2.3.4`) is a string.
fn is_decimal(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole)
        && fraction.is_none_or(all_digits)
        && exponent.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)))
        && (fraction.is_some() || exponent.is_some())
}

/// nats-server's size suffixes, any case: powers of 1000 for the bare
/// letter, powers of 1024 with `b`, `i` or `ib`.
fn size_factor(suffix: &str) -> Option<i64> {
    let lower = suffix.to_ascii_lowercase();
    let (letter, binary) = match lower.as_str() {
        s if s.len() == 1 => (s, false),
        s if s.len() == 2 && (s.ends_with('b') || s.ends_with('i')) => (&s[..1], true),
        s if s.len() == 3 && s.ends_with("ib") => (&s[..1], true),
        _ => return None,
    };
    let power = match letter {
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        _ => return None,
    };
    let base: i64 = if binary { 1024 } else { 1000 };
    Some(base.pow(power))
}
