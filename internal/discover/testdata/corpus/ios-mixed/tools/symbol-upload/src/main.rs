//! Collects the dSYM bundles produced by `xcodebuild archive` into a zip that
//! the release pipeline uploads. Failures of the tool itself go to Sentry.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Parser;
use walkdir::WalkDir;
use zip::write::SimpleFileOptions;

#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Path to the .xcarchive.
    archive: PathBuf,
    /// Output zip.
    #[arg(short, long, default_value = "dsyms.zip")]
    out: PathBuf,
    /// DSN for reporting tool failures.
    #[arg(long, env = "SENTRY_DSN")]
    sentry_dsn: Option<String>,
}

fn main() -> Result<()> {
    let args = Args::parse();

    let _guard = sentry::init((
        args.sentry_dsn.clone().unwrap_or_default(),
        sentry::ClientOptions {
            release: sentry::release_name!(),
            ..Default::default()
        },
    ));
    sentry::configure_scope(|scope| {
        scope.set_tag("archive", args.archive.display().to_string());
    });

    let count = package(&args.archive, &args.out).map_err(|e| {
        sentry::integrations::anyhow::capture_anyhow(&e);
        e
    })?;
    println!("packed {count} dSYM files into {}", args.out.display());
    Ok(())
}

fn package(archive: &Path, out: &Path) -> Result<usize> {
    let dsyms = archive.join("dSYMs");
    let file = File::create(out).with_context(|| format!("create {}", out.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = SimpleFileOptions::default();
    let mut count = 0;
    for entry in WalkDir::new(&dsyms) {
        let entry = entry?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(&dsyms)?.to_string_lossy().into_owned();
        zip.start_file(rel, opts)?;
        let mut buf = Vec::new();
        File::open(entry.path())?.read_to_end(&mut buf)?;
        zip.write_all(&buf)?;
        count += 1;
    }
    zip.finish()?;
    Ok(count)
}
