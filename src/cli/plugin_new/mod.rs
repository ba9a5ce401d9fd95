//! `switchyard plugin new`: writes a plugin project (source, build script,
//! README, test message) that builds against the SDKs of a Switchyard
//! checkout. The files come from `skeleton`; this module finds the
//! checkout, picks the directory and writes them.

mod skeleton;

use anyhow::{Context as _, bail};
use skeleton::{Context, Lang, World};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The plugin's name: lowercase ASCII letters, digits, `_` or `-`,
    /// starting with a letter. It names the directory, `NAME.wasm` and the
    /// package, and the default subjects are `NAME.>`.
    pub name: String,
    /// The language: its SDK is the checkout's plugins/sdk (Rust),
    /// plugins/sdk-python, plugins/sdk-js or plugins/sdk-c.
    #[arg(long, value_enum)]
    pub lang: Lang,
    /// The world the plugin implements.
    #[arg(long, value_enum, default_value = "transform")]
    pub world: World,
    /// Where to write the project [default: ./NAME]. Refused when it
    /// exists and is not empty.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The Switchyard checkout whose SDK, `wit/` and build scripts the
    /// project uses, recorded in its build.sh (and Cargo.toml) [default:
    /// the checkout containing the current directory, else the one this
    /// binary was built from].
    #[arg(long, value_name = "PATH")]
    pub sdk_root: Option<PathBuf>,
}

pub fn run(args: NewArgs) -> anyhow::Result<()> {
    skeleton::validate_name(&args.name, args.lang)?;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let sdk_root = match &args.sdk_root {
        Some(root) => {
            let root = absolute(&cwd, root);
            if !is_checkout(&root) {
                bail!(
                    "--sdk-root {}: not a Switchyard checkout (no wit/ and plugins/sdk*)",
                    root.display()
                );
            }
            root
        }
        None => find_checkout(&cwd).context(
            "cannot find a Switchyard checkout (wit/ and plugins/sdk*) above the current \
             directory or where this binary was built: pass --sdk-root PATH",
        )?,
    };
    let sdk_root = sdk_root.canonicalize().unwrap_or(sdk_root);
    let dir = absolute(&cwd, args.dir.as_deref().unwrap_or(Path::new(&args.name)));
    refuse_non_empty(&dir)?;
    let switchyard = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("switchyard"));
    let files = skeleton::render(&Context {
        name: &args.name,
        lang: args.lang,
        world: args.world,
        sdk_root: &sdk_root,
        project_dir: &dir,
        switchyard: &switchyard,
    })?;
    for file in &files {
        write(&dir.join(file.path), &file.text, file.executable)?;
    }
    let (trial_args, _) = skeleton::trial(&args.name, args.world);
    println!(
        "created {} ({} {} plugin, SDK from {})",
        dir.display(),
        format!("{:?}", args.lang).to_lowercase(),
        args.world,
        sdk_root.display()
    );
    println!("  cd {} && ./build.sh && ./test-message.sh", dir.display());
    println!(
        "  (test-message.sh runs: switchyard plugin check {}.wasm {trial_args})",
        args.name
    );
    Ok(())
}

fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

/// A checkout has the WIT package and the SDKs the templates use.
fn is_checkout(dir: &Path) -> bool {
    dir.join("wit/worlds.wit").is_file()
        && dir.join("plugins/sdk/Cargo.toml").is_file()
        && dir.join("scripts/build-plugins.sh").is_file()
}

/// The checkout containing `cwd`, else the one this binary was built from
/// (when it still exists).
fn find_checkout(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .find(|dir| is_checkout(dir))
        .map(Path::to_path_buf)
        .or_else(|| {
            let built = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            is_checkout(&built).then_some(built)
        })
}

fn refuse_non_empty(dir: &Path) -> anyhow::Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} exists and is not empty: pick another name or --dir",
                    dir.display()
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// Writes one file; scripts are made executable (where that means anything).
fn write(path: &Path, text: &str, executable: bool) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    if executable {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    Ok(())
}
