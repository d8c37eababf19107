//! `voiceflow history`: the encrypted store's records, as a person or a
//! script reads them (`--format json`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Subcommand, ValueEnum};
use serde_json::json;
use voiceflow_core::store::{Backend, Cursor, Query, Record, RecordContext, RecordId, Store};
use voiceflow_core::{Error, Result};

use crate::settings::{ConfigArgs, StoreArgs};

/// Characters of text on a record's line in `list` and `search`.
const LINE_TEXT_CHARS: usize = 72;

#[derive(clap::Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    command: HistoryCommand,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    store: StoreArgs,
    /// Output: lines for people, or JSON.
    #[arg(long, value_enum, default_value = "text", global = true)]
    format: Output,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Subcommand)]
enum HistoryCommand {
    /// Records, newest first, a page at a time.
    List {
        /// Only records from this time on: RFC 3339 (2026-12-01T09:00:00Z),
        /// a date (2026-12-01, UTC) or an age (7d, 12h).
        #[arg(long, value_parser = parse_time)]
        since: Option<SystemTime>,
        /// Only records before this time (same forms as --since).
        #[arg(long, value_parser = parse_time)]
        until: Option<SystemTime>,
        /// Only records of this context (general, email, chat, document,
        /// code, or a custom label).
        #[arg(long)]
        context: Option<String>,
        /// Records per page.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// The page after this cursor (printed at the end of a page).
        #[arg(long)]
        after: Option<Cursor>,
    },
    /// Records holding every one of these words (in the raw or enhanced text).
    Search {
        /// The words.
        #[arg(required = true)]
        words: Vec<String>,
        /// Most records shown.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One record, whole.
    Show {
        /// The record's id.
        id: RecordId,
    },
    /// Every record, oldest first, as JSON Lines into FILE (decrypted text:
    /// protect the file).
    Export {
        /// The file written (replaced when it exists).
        file: PathBuf,
    },
    /// Deletes one record.
    Delete {
        /// The record's id.
        id: RecordId,
    },
    /// Copies a closed store into a new folder on another key-value engine
    /// (an earlier version's sled store to redb, the default): every record,
    /// the index and the key, byte for byte; no passphrase needed, and the
    /// source is only read.
    Migrate {
        /// The store to copy.
        #[arg(long)]
        from: PathBuf,
        /// The new store's folder (missing or empty).
        #[arg(long)]
        to: PathBuf,
        /// The new store's engine: redb or sled.
        #[arg(long, default_value = "redb")]
        backend: Backend,
    },
}

/// Runs a history command; exit 1 when a record is missing, 2 on a usage or
/// store error.
pub fn run(args: &HistoryArgs) -> ExitCode {
    if let HistoryCommand::Migrate { from, to, backend } = &args.command {
        return match Store::migrate(from, to, *backend) {
            Ok(report) => {
                eprintln!(
                    "voiceflow: {} record(s) ({} keys) copied from the {} store {} to the {} store {}",
                    report.records,
                    report.keys,
                    report.from,
                    from.display(),
                    report.to,
                    to.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
                ExitCode::from(2)
            }
        };
    }
    let store = match args
        .config
        .load()
        .and_then(|config| args.store.open(&config))
    {
        Ok(store) => store,
        Err(e) => {
            eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
            return ExitCode::from(2);
        }
    };
    match command(&store, &args.command, args.format) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ Error::NotFound(_)) => {
            eprintln!("voiceflow: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("voiceflow: {}", voiceflow_core::error::chain(&e));
            ExitCode::from(2)
        }
    }
}

fn command(store: &Store, command: &HistoryCommand, format: Output) -> Result<()> {
    match command {
        HistoryCommand::List {
            since,
            until,
            context,
            limit,
            after,
        } => {
            let mut query = Query::new().limit(*limit);
            if let Some(time) = since {
                query = query.since(*time);
            }
            if let Some(time) = until {
                query = query.until(*time);
            }
            if let Some(label) = context {
                query = query.context(RecordContext::from_label(label));
            }
            if let Some(cursor) = after {
                query = query.after(*cursor);
            }
            let page = store.query(&query)?;
            match format {
                Output::Json => println!(
                    "{}",
                    json!({
                        "records": page.records,
                        "next": page.next.map(|c| c.to_string()),
                        "unreadable": page.unreadable.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    })
                ),
                Output::Text => {
                    page.records.iter().for_each(print_line);
                    for id in &page.unreadable {
                        println!("{id}  (unreadable: failed its integrity check)");
                    }
                    if let Some(next) = page.next {
                        println!("-- more: --after {next}");
                    }
                }
            }
        }
        HistoryCommand::Search { words, limit } => {
            let records = store.search(&words.join(" "), *limit)?;
            match format {
                Output::Json => println!("{}", json!({ "records": records })),
                Output::Text => records.iter().for_each(print_line),
            }
        }
        HistoryCommand::Show { id } => {
            let record = store.get(id)?;
            match format {
                Output::Json => println!("{}", json!(record)),
                Output::Text => print_record(&record),
            }
        }
        HistoryCommand::Export { file } => {
            let report = store.export_jsonl(file)?;
            eprintln!(
                "voiceflow: {} record(s) written to {}",
                report.exported,
                file.display()
            );
        }
        HistoryCommand::Delete { id } => {
            store.delete(id)?;
            store.flush()?;
            eprintln!("voiceflow: deleted {id}");
        }
        HistoryCommand::Migrate { .. } => {
            unreachable!("run handles migrate before opening a store")
        }
    }
    Ok(())
}

/// A record on one line: id, time, context, duration and the start of its
/// (enhanced, else raw) text.
fn print_line(record: &Record) {
    let data = &record.data;
    let text = data.enhanced_text.as_deref().unwrap_or(&data.raw_text);
    let mut short: String = text
        .replace('\n', " ")
        .chars()
        .take(LINE_TEXT_CHARS)
        .collect();
    if text.chars().count() > LINE_TEXT_CHARS {
        short.push('…');
    }
    println!(
        "{}  {}  {:<8} {:>5.1} s  {short}",
        record.id,
        time_of(record),
        data.context,
        data.audio_duration_s
    );
}

fn print_record(record: &Record) {
    let data = &record.data;
    println!("id:        {}", record.id);
    println!("created:   {}", time_of(record));
    println!("context:   {}", data.context);
    println!("language:  {}", data.language);
    println!("model:     {}", data.model);
    println!("duration:  {:.2} s", data.audio_duration_s);
    println!("raw:       {}", data.raw_text);
    if let Some(enhanced) = &data.enhanced_text {
        println!("enhanced:  {}", enhanced.replace('\n', "\n           "));
    }
    for segment in &data.segments {
        println!(
            "  [{:7.2} -> {:7.2}] {}",
            segment.start, segment.end, segment.text
        );
    }
    for (key, value) in &data.metadata {
        println!("  {key} = {value}");
    }
}

fn time_of(record: &Record) -> humantime::Rfc3339Timestamp {
    humantime::format_rfc3339_seconds(
        SystemTime::UNIX_EPOCH + Duration::from_millis(record.created_at_ms),
    )
}

/// RFC 3339, a UTC date, or an age before now.
fn parse_time(text: &str) -> std::result::Result<SystemTime, String> {
    if let Ok(age) = humantime::parse_duration(text) {
        return SystemTime::now()
            .checked_sub(age)
            .ok_or_else(|| format!("{text:?} reaches before 1970"));
    }
    let with_time = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    humantime::parse_rfc3339_weak(&with_time).map_err(|e| {
        format!("{text:?} is not a time ({e}): write 2026-12-01T09:00:00Z, 2026-12-01 or 7d")
    })
}
