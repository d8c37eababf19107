//! Export and import as JSON Lines: one record a line, as its JSON form
//! ([`Record`]), oldest first. The export holds decrypted text: protect the
//! file accordingly.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use super::db::{record_id, Existing, Prepared, Store};
use super::id::RecordId;
use super::kv::{self, Scan, Tree};
use super::record::Record;
use crate::{Error, Result};

/// Records written per transaction by an import.
const IMPORT_BATCH: usize = 512;

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Records written to the file.
    pub exported: usize,
    /// Records left out because they failed the integrity check.
    pub unreadable: Vec<RecordId>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records added to the store.
    pub imported: usize,
    /// Records whose id the store already held (left as they were).
    pub skipped: usize,
}

impl Store {
    /// Writes every readable record to the file `path` (created or
    /// replaced) as JSON Lines, oldest first, and syncs it to disk.
    pub fn export_jsonl(&self, path: impl AsRef<Path>) -> Result<ExportReport> {
        let path = path.as_ref();
        let io_error = |e| Error::io(path, e);
        let mut out = BufWriter::new(File::create(path).map_err(io_error)?);
        let mut report = ExportReport::default();
        for entry in kv::entries(&*self.kv, &Scan::keys(Tree::Records).with_values()) {
            let (key, value) = entry?;
            let id = record_id(&key)?;
            let record = match self.read_value(&id, &value) {
                Ok(record) => record,
                Err(Error::Integrity { .. }) => {
                    report.unreadable.push(id);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut line = serde_json::to_vec(&record)
                .map_err(|e| Error::storage_from(format!("record {id} cannot be exported"), e))?;
            line.push(b'\n');
            out.write_all(&line).map_err(io_error)?;
            report.exported += 1;
        }
        let file = out.into_inner().map_err(|e| io_error(e.into_error()))?;
        file.sync_all().map_err(io_error)?;
        Ok(report)
    }

    /// Adds the records of a JSON Lines file written by
    /// [`Store::export_jsonl`], keeping their ids; records whose id is
    /// already stored are skipped, so importing twice is harmless.
    ///
    /// Records are written in transactions of up to 512; when a line is bad,
    /// the records before it stay imported and the error names the line.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a line that is not a valid record;
    /// [`Error::RecordTooLarge`] above the store's limit.
    pub fn import_jsonl(&self, path: impl AsRef<Path>) -> Result<ImportReport> {
        let path = path.as_ref();
        let reader = BufReader::new(File::open(path).map_err(|e| Error::io(path, e))?);
        let mut report = ImportReport::default();
        let mut batch = Vec::with_capacity(IMPORT_BATCH);
        for (number, line) in reader.lines().enumerate() {
            let line = line.map_err(|e| Error::io(path, e))?;
            if line.trim().is_empty() {
                continue;
            }
            let at_line = |reason: String| {
                Error::InvalidArgument(format!("{}:{}: {reason}", path.display(), number + 1))
            };
            let record: Record =
                serde_json::from_str(&line).map_err(|e| at_line(format!("not a record: {e}")))?;
            if record.created_at_ms != record.id.created_at_ms() {
                return Err(at_line(
                    "created_at_ms differs from the time in the id".into(),
                ));
            }
            batch.push(self.prepare(record.id, &record.data).map_err(|e| match e {
                Error::InvalidArgument(reason) => at_line(reason),
                other => other,
            })?);
            if batch.len() == IMPORT_BATCH {
                self.import_batch(&mut batch, &mut report)?;
            }
        }
        self.import_batch(&mut batch, &mut report)?;
        Ok(report)
    }

    fn import_batch(&self, batch: &mut Vec<Prepared>, report: &mut ImportReport) -> Result<()> {
        let written = self.write(batch, Existing::Skip)?;
        report.imported += written;
        report.skipped += batch.len() - written;
        batch.clear();
        Ok(())
    }
}
