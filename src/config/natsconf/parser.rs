//! The grammar: blocks of entries, values, variables and includes, built
//! into a [`Map`]. Recursive descent with an explicit depth count, so a
//! file of ten thousand `{` gets an error, not a stack overflow.

use super::lexer::{Cursor, classify};
use super::value::{Entry, Kind, Map, Pos, Value};
use super::{Limits, NatsConfError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One block being filled, with an index of its keys for `$VAR` look-ups
/// (exact case, last assignment wins).
struct Scope {
    map: Map,
    by_key: HashMap<String, usize>,
}

impl Scope {
    fn new() -> Scope {
        Scope {
            map: Map::default(),
            by_key: HashMap::new(),
        }
    }

    fn push(&mut self, entry: Entry) {
        self.by_key
            .insert(entry.key.clone(), self.map.entries.len());
        self.map.entries.push(entry);
    }
}

/// State shared by a file and the files it includes.
pub(super) struct Parser<'l> {
    limits: &'l Limits,
    /// Blocks from the outermost (the file) to the one being filled;
    /// variables are looked up from the innermost outwards.
    scopes: Vec<Scope>,
    /// Nesting of maps and arrays, across included files.
    depth: usize,
    /// Values made so far, variable copies included.
    nodes: usize,
    /// Bytes read so far, included files included.
    bytes: usize,
    /// Files being read, outermost first: for include depth and cycles.
    including: Vec<PathBuf>,
    env: &'l dyn Fn(&str) -> Option<String>,
}

fn err(pos: Pos, message: impl Into<String>) -> NatsConfError {
    NatsConfError::Syntax {
        pos,
        message: message.into(),
    }
}

impl<'l> Parser<'l> {
    pub(super) fn new(limits: &'l Limits, env: &'l dyn Fn(&str) -> Option<String>) -> Parser<'l> {
        Parser {
            limits,
            scopes: vec![Scope::new()],
            depth: 0,
            nodes: 0,
            bytes: 0,
            including: Vec::new(),
            env,
        }
    }

    pub(super) fn finish(mut self) -> Map {
        self.scopes.pop().map(|s| s.map).unwrap_or_default()
    }

    /// Parses the text of `file` into the innermost scope. `at` is the
    /// include directive that named it, if any.
    pub(super) fn parse_text(
        &mut self,
        text: &str,
        file: &Path,
        at: Option<&Pos>,
    ) -> Result<(), NatsConfError> {
        self.bytes = self.bytes.saturating_add(text.len());
        if self.bytes > self.limits.max_bytes {
            let message = format!(
                "configuration larger than {} bytes (with its includes)",
                self.limits.max_bytes
            );
            return Err(match at {
                Some(pos) => err(pos.clone(), message),
                None => NatsConfError::TooLarge {
                    path: file.display().to_string(),
                    message,
                },
            });
        }
        self.including.push(file.to_path_buf());
        let mut cur = Cursor::new(text, Arc::from(file));
        let result = self.entries(&mut cur, None);
        self.including.pop();
        result
    }

    /// Entries up to `close` (`}`), or to the end of the file.
    fn entries(&mut self, cur: &mut Cursor, close: Option<char>) -> Result<(), NatsConfError> {
        loop {
            cur.skip_between_items();
            match cur.peek() {
                None if close.is_none() => return Ok(()),
                None => return Err(err(cur.pos(), "unexpected end of file: missing `}`")),
                Some(c) if Some(c) == close => {
                    cur.bump();
                    return Ok(());
                }
                Some(_) => self.entry(cur)?,
            }
        }
    }

    fn entry(&mut self, cur: &mut Cursor) -> Result<(), NatsConfError> {
        let key_pos = cur.pos();
        let (key, quoted_key) = cur.key().map_err(|m| err(key_pos.clone(), m))?;
        cur.skip_inline_space();
        if !quoted_key
            && key.eq_ignore_ascii_case("include")
            && !matches!(cur.peek(), Some('=' | ':' | '{' | '['))
        {
            return self.include(cur, &key_pos);
        }
        if matches!(cur.peek(), Some('=' | ':')) {
            cur.bump();
            cur.skip_inline_space();
        }
        if cur.at_line_end() {
            return Err(err(cur.pos(), format!("`{key}` has no value")));
        }
        let value = self.value(cur)?;
        cur.skip_inline_space();
        if !matches!(cur.peek(), None | Some('\n' | ',' | ';' | '}')) {
            return Err(err(
                cur.pos(),
                format!("expected a newline, `,` or `;` after the value of `{key}`"),
            ));
        }
        self.innermost().push(Entry {
            key,
            key_pos,
            value,
            used_as_variable: false,
        });
        Ok(())
    }

    fn innermost(&mut self) -> &mut Scope {
        if self.scopes.is_empty() {
            self.scopes.push(Scope::new());
        }
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }

    fn value(&mut self, cur: &mut Cursor) -> Result<Value, NatsConfError> {
        let pos = cur.pos();
        self.nodes += 1;
        if self.nodes > self.limits.max_values {
            return Err(err(
                pos,
                format!("more than {} values", self.limits.max_values),
            ));
        }
        let kind = match cur.peek() {
            Some('{') => {
                cur.bump();
                self.nested(&pos, |p| {
                    p.scopes.push(Scope::new());
                    let result = p.entries(cur, Some('}'));
                    let scope = p.scopes.pop().map(|s| s.map).unwrap_or_default();
                    result.map(|()| Kind::Map(scope))
                })?
            }
            Some('[') => {
                cur.bump();
                self.nested(&pos, |p| p.array(cur).map(Kind::Array))?
            }
            Some(q @ ('"' | '\'')) => {
                cur.bump();
                Kind::String(cur.quoted(q).map_err(|m| err(pos.clone(), m))?)
            }
            Some('(') => {
                cur.bump();
                Kind::String(cur.block().map_err(|m| err(pos.clone(), m))?)
            }
            Some('$') => {
                cur.bump();
                let name = cur.bare_word();
                return self.variable(&name, pos);
            }
            _ => {
                let word = cur.bare_word();
                if word.is_empty() {
                    let found = cur
                        .peek()
                        .map_or("end of file".into(), |c| format!("`{c}`"));
                    return Err(err(pos, format!("expected a value, found {found}")));
                }
                classify(&word).map_err(|m| err(pos.clone(), m))?
            }
        };
        Ok(Value { kind, pos })
    }

    fn nested<T>(
        &mut self,
        pos: &Pos,
        inner: impl FnOnce(&mut Self) -> Result<T, NatsConfError>,
    ) -> Result<T, NatsConfError> {
        if self.depth >= self.limits.max_depth {
            return Err(err(
                pos.clone(),
                format!("blocks nested deeper than {}", self.limits.max_depth),
            ));
        }
        self.depth += 1;
        let result = inner(self);
        self.depth -= 1;
        result
    }

    /// Elements up to `]`, separated by `,` or newlines.
    fn array(&mut self, cur: &mut Cursor) -> Result<Vec<Value>, NatsConfError> {
        let mut items = Vec::new();
        loop {
            cur.skip_between_items();
            match cur.peek() {
                None => return Err(err(cur.pos(), "unexpected end of file: missing `]`")),
                Some(']') => {
                    cur.bump();
                    return Ok(items);
                }
                Some(_) => {
                    items.push(self.value(cur)?);
                    cur.skip_inline_space();
                    if !matches!(cur.peek(), None | Some('\n' | ',' | ']')) {
                        return Err(err(cur.pos(), "expected `,`, a newline or `]` in an array"));
                    }
                }
            }
        }
    }

    /// `$NAME`: the innermost enclosing block's `NAME`, else the
    /// environment variable (read as a bare word would be: `4222` is a
    /// number). The copy counts against the value cap, so variables
    /// doubling each other cannot blow up memory.
    fn variable(&mut self, name: &str, pos: Pos) -> Result<Value, NatsConfError> {
        if name.is_empty() {
            return Err(err(pos, "`$` without a variable name"));
        }
        let found = self.scopes.iter_mut().rev().find_map(|scope| {
            let i = *scope.by_key.get(name)?;
            let entry = &mut scope.map.entries[i];
            entry.used_as_variable = true;
            Some(entry.value.kind.clone())
        });
        let kind = match found {
            Some(kind) => kind,
            None => {
                let text = (self.env)(name).ok_or_else(|| {
                    err(
                        pos.clone(),
                        format!("variable `${name}` is not defined in an enclosing block or the environment"),
                    )
                })?;
                if text.len() > self.limits.max_bytes {
                    return Err(err(
                        pos,
                        format!("environment variable `{name}` is too long"),
                    ));
                }
                if text.trim().is_empty() || text.contains(char::is_whitespace) {
                    Kind::String(text)
                } else {
                    classify(&text).map_err(|m| err(pos.clone(), format!("`${name}`: {m}")))?
                }
            }
        };
        self.nodes = self.nodes.saturating_add(kind.node_count());
        if self.nodes > self.limits.max_values {
            return Err(err(
                pos,
                format!(
                    "more than {} values (through variables)",
                    self.limits.max_values
                ),
            ));
        }
        Ok(Value { kind, pos })
    }

    /// `include PATH`: the file's entries join the current block. The
    /// path is relative to the including file.
    fn include(&mut self, cur: &mut Cursor, at: &Pos) -> Result<(), NatsConfError> {
        let path_pos = cur.pos();
        let name = match cur.peek() {
            Some(q @ ('"' | '\'')) => {
                cur.bump();
                cur.quoted(q).map_err(|m| err(path_pos.clone(), m))?
            }
            _ => cur.bare_word(),
        };
        if name.is_empty() {
            return Err(err(path_pos, "`include` needs a file name"));
        }
        if self.including.len() > self.limits.max_include_depth {
            return Err(err(
                at.clone(),
                format!(
                    "includes nested deeper than {}",
                    self.limits.max_include_depth
                ),
            ));
        }
        let base = cur
            .file()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let path = base.join(&name);
        if self.including.contains(&path) {
            return Err(err(
                at.clone(),
                format!("`{}` includes itself", path.display()),
            ));
        }
        let text = super::read_bounded(&path, self.limits.max_bytes).map_err(|e| {
            err(
                at.clone(),
                format!("cannot include `{}`: {e}", path.display()),
            )
        })?;
        self.parse_text(&text, &path, Some(at))
    }
}
