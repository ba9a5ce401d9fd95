//! What `switchyard plugin new` writes: the files of a plugin project for
//! one language and world, rendered from the templates in `templates/`
//! (embedded in the binary). Pure: nothing here touches the filesystem.

use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Python,
    Js,
    C,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum World {
    Transform,
    Routing,
    Auth,
}

impl fmt::Display for World {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            World::Transform => "transform",
            World::Routing => "routing",
            World::Auth => "auth",
        })
    }
}

/// A file of the project: its path relative to the project directory.
pub struct File {
    pub path: &'static str,
    pub text: String,
    pub executable: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error(
        "plugin name `{0}`: use 1 to 64 lowercase ASCII letters, digits, `_` or `-`, \
         starting with a letter (it names the directory, the .wasm file and the package)"
    )]
    Invalid(String),
    #[error("plugin name `{0}` is reserved in Rust (a keyword or a built-in crate): pick another")]
    ReservedInRust(String),
    #[error(
        "path `{0}` cannot be written into a generated file (quotes, backslashes or non-UTF-8)"
    )]
    UnusablePath(PathBuf),
}

/// Rust keywords and the crate names cargo refuses for a package.
const RUST_RESERVED: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "gen",
    "macro",
    "override",
    "priv",
    "try",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "alloc",
    "core",
    "std",
    "test",
    "proc_macro",
    "proc-macro",
];

/// Checks a plugin name: one rule for every language, so a name that works
/// in one works in all (it becomes a directory, `NAME.wasm`, a Cargo
/// package, an npm-style file name and a default subject token).
pub fn validate_name(name: &str, lang: Lang) -> Result<(), NameError> {
    let ok = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        return Err(NameError::Invalid(name.to_string()));
    }
    if lang == Lang::Rust && RUST_RESERVED.contains(&name) {
        return Err(NameError::ReservedInRust(name.to_string()));
    }
    Ok(())
}

/// The plugin's type (Rust struct, Python class): `my-plugin` is `MyPlugin`.
fn type_name(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

/// What the project needs to know of the world outside it.
pub struct Context<'a> {
    pub name: &'a str,
    pub lang: Lang,
    pub world: World,
    /// The Switchyard checkout whose SDK and build scripts it uses.
    pub sdk_root: &'a Path,
    /// Where the project is written (absolute), for the README's snippet.
    pub project_dir: &'a Path,
    /// The switchyard binary `test-message.sh` runs by default.
    pub switchyard: &'a Path,
}

struct LangFiles {
    title: &'static str,
    source: &'static str,
    sdk_dir: &'static str,
    build_script: &'static str,
    toolchain: &'static str,
    build_sh: &'static str,
}

fn lang_files(lang: Lang) -> LangFiles {
    match lang {
        Lang::Rust => LangFiles {
            title: "Rust",
            source: "src/lib.rs",
            sdk_dir: "plugins/sdk",
            build_script: "scripts/build-plugins.sh",
            toolchain: "the wasm32-wasip2 target, with rustup",
            build_sh: include_str!("templates/rust/build.sh"),
        },
        Lang::Python => LangFiles {
            title: "Python",
            source: "app.py",
            sdk_dir: "plugins/sdk-python",
            build_script: "scripts/build-plugins-python.sh",
            toolchain: "componentize-py from PyPI into plugins/.venv",
            build_sh: include_str!("templates/python/build.sh"),
        },
        Lang::Js => LangFiles {
            title: "JavaScript",
            source: "plugin.js",
            sdk_dir: "plugins/sdk-js",
            build_script: "scripts/build-plugins-js.sh",
            toolchain: "`npm ci` in plugins/sdk-js",
            build_sh: include_str!("templates/js/build.sh"),
        },
        Lang::C => LangFiles {
            title: "C",
            source: "plugin.c",
            sdk_dir: "plugins/sdk-c",
            build_script: "scripts/build-plugins-c.sh",
            toolchain: "zig from PyPI ziglang into plugins/.tools, jco with `npm ci` in plugins/sdk-js",
            build_sh: include_str!("templates/c/build.sh"),
        },
    }
}

fn source_template(lang: Lang, world: World) -> &'static str {
    match (lang, world) {
        (Lang::Rust, World::Transform) => include_str!("templates/rust/transform.rs"),
        (Lang::Rust, World::Routing) => include_str!("templates/rust/routing.rs"),
        (Lang::Rust, World::Auth) => include_str!("templates/rust/auth.rs"),
        (Lang::Python, World::Transform) => include_str!("templates/python/transform.py"),
        (Lang::Python, World::Routing) => include_str!("templates/python/routing.py"),
        (Lang::Python, World::Auth) => include_str!("templates/python/auth.py"),
        (Lang::Js, World::Transform) => include_str!("templates/js/transform.js"),
        (Lang::Js, World::Routing) => include_str!("templates/js/routing.js"),
        (Lang::Js, World::Auth) => include_str!("templates/js/auth.js"),
        (Lang::C, World::Transform) => include_str!("templates/c/transform.c"),
        (Lang::C, World::Routing) => include_str!("templates/c/routing.c"),
        (Lang::C, World::Auth) => include_str!("templates/c/auth.c"),
    }
}

/// The arguments of `plugin check` that run the project's test message,
/// and what they describe.
pub fn trial(name: &str, world: World) -> (String, String) {
    match world {
        World::Transform | World::Routing => (
            format!("--message {name}.hello --payload hello"),
            format!("one message (`hello` on `{name}.hello`)"),
        ),
        World::Auth => (
            "--config token=s3cret --config tenant=demo --token s3cret".to_string(),
            "one login (token `s3cret`)".to_string(),
        ),
    }
}

/// A path for a shell script, in single quotes.
fn shell_quoted(path: &str) -> String {
    format!("'{}'", path.replace('\'', r"'\''"))
}

fn utf8(path: &Path) -> Result<&str, NameError> {
    path.to_str()
        .filter(|s| !s.contains(['"', '\\', '\n', '\r']))
        .ok_or_else(|| NameError::UnusablePath(path.to_path_buf()))
}

/// Every file of the project, rendered.
pub fn render(cx: &Context<'_>) -> Result<Vec<File>, NameError> {
    validate_name(cx.name, cx.lang)?;
    let sdk_root = utf8(cx.sdk_root)?;
    let project_dir = utf8(cx.project_dir)?;
    let switchyard = utf8(cx.switchyard)?;
    let lang = lang_files(cx.lang);
    let (trial_args, trial_what) = trial(cx.name, cx.world);
    let load_snippet = match cx.world {
        World::Auth => include_str!("templates/common/load-auth.md"),
        World::Transform | World::Routing => include_str!("templates/common/load-message.md"),
    };
    let root_note = if cx.lang == Lang::Rust {
        " and change the SDK's path in `Cargo.toml`"
    } else {
        ""
    };
    let world = cx.world.to_string();
    let ty = type_name(cx.name);
    let vars: [(&str, &str); 17] = [
        ("load_snippet", load_snippet),
        ("name", cx.name),
        ("type", &ty),
        ("world", &world),
        ("sdk_root_sh", &shell_quoted(sdk_root)),
        ("sdk_root_toml", sdk_root),
        ("sdk_root", sdk_root),
        ("project_dir", project_dir),
        ("switchyard_sh", &shell_quoted(switchyard)),
        ("trial_args", &trial_args),
        ("trial_what", &trial_what),
        ("lang_title", lang.title),
        ("source", lang.source),
        ("sdk_dir", lang.sdk_dir),
        ("build_script", lang.build_script),
        ("toolchain", lang.toolchain),
        ("root_note", root_note),
    ];
    let fill = |template: &str| fill(template, &vars);
    let mut files = vec![
        File {
            path: lang.source,
            text: fill(source_template(cx.lang, cx.world)),
            executable: false,
        },
        File {
            path: "build.sh",
            text: fill(lang.build_sh),
            executable: true,
        },
        File {
            path: "test-message.sh",
            text: fill(include_str!("templates/common/test-message.sh")),
            executable: true,
        },
        File {
            path: "README.md",
            text: fill(include_str!("templates/common/README.md")),
            executable: false,
        },
        File {
            path: ".gitignore",
            text: fill(include_str!("templates/common/gitignore")),
            executable: false,
        },
    ];
    if cx.lang == Lang::Rust {
        files.push(File {
            path: "Cargo.toml",
            text: fill(include_str!("templates/rust/Cargo.toml")),
            executable: false,
        });
        files.push(File {
            path: ".cargo/config.toml",
            text: fill(include_str!("templates/rust/cargo/config.toml")),
            executable: false,
        });
    }
    Ok(files)
}

/// Replaces each `{{key}}` by its value, in order: a value may itself hold
/// placeholders for the keys after it (the README's load snippet).
fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter()
        .fold(template.to_string(), |text, (key, value)| {
            text.replace(&format!("{{{{{key}}}}}"), value)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_once_for_every_language() {
        for good in ["a", "my_plugin", "my-plugin2", "x".repeat(64).as_str()] {
            assert_eq!(validate_name(good, Lang::C), Ok(()), "{good}");
        }
        for bad in [
            "",
            "1st",
            "My",
            "a.b",
            "a b",
            "a/b",
            "_a",
            "é",
            "x".repeat(65).as_str(),
        ] {
            assert!(
                matches!(validate_name(bad, Lang::Js), Err(NameError::Invalid(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            validate_name("fn", Lang::Rust),
            Err(NameError::ReservedInRust(_))
        ));
        assert_eq!(validate_name("fn", Lang::Python), Ok(()));
    }

    #[test]
    fn type_names_are_camel_case() {
        assert_eq!(type_name("my_plugin-two"), "MyPluginTwo");
        assert_eq!(type_name("a"), "A");
    }

    #[test]
    fn every_placeholder_is_filled() {
        for lang in [Lang::Rust, Lang::Python, Lang::Js, Lang::C] {
            for world in [World::Transform, World::Routing, World::Auth] {
                let cx = Context {
                    name: "demo-1",
                    lang,
                    world,
                    sdk_root: Path::new("/src/it's here"),
                    project_dir: Path::new("/tmp/demo-1"),
                    switchyard: Path::new("/bin/switchyard"),
                };
                for file in render(&cx).expect("render") {
                    assert!(
                        !file.text.contains("{{"),
                        "{lang:?} {world}: {} keeps a placeholder",
                        file.path
                    );
                }
            }
        }
    }

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(shell_quoted("/a/it's"), r"'/a/it'\''s'");
        assert!(matches!(
            utf8(Path::new("/a\"b")),
            Err(NameError::UnusablePath(_))
        ));
    }
}
