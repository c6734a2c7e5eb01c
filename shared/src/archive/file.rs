//! The `.tar.gz` container: written in one pass, read completely (and checked to its gzip
//! trailer) before anything is restored, so a truncated download is an error and not half an
//! import.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use super::{invalid, key_of_path, Archive, ArchiveError, DOCUMENTS, FILES_DIR};

/// More entries than any personal account has; a bound against a hostile archive.
pub const MAX_ENTRIES: usize = 200_000;
/// The largest JSON document read.
const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;
/// The most an archive may unpack to (it is held in memory while it is checked).
const MAX_TOTAL_BYTES: u64 = 8 * 1024 * 1024 * 1024;

impl Archive {
    /// Writes the archive as a gzip-compressed tar, documents first, entries in name order.
    pub fn write_tar_gz<W: Write>(&self, out: W) -> Result<W, ArchiveError> {
        let mut tar = tar::Builder::new(GzEncoder::new(out, flate2::Compression::default()));
        let mtime = (crate::clock::now_ms() / 1000).max(0) as u64;
        let mut append = |path: &str, bytes: &[u8]| -> std::io::Result<()> {
            let mut header = tar::Header::new_gnu();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(mtime);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, path, bytes)
        };
        for (name, doc) in &self.documents {
            let bytes = serde_json::to_vec_pretty(doc).map_err(|e| invalid(name, e.to_string()))?;
            append(name, &bytes)?;
        }
        for (path, bytes) in &self.files {
            append(path, bytes)?;
        }
        Ok(tar.into_inner()?.finish()?)
    }

    /// Reads a whole archive. Entries other than the known documents and media files (a
    /// Mastodon archive's `avatar.png`, directories) are skipped.
    pub fn read_tar_gz<R: Read>(input: R) -> Result<Archive, ArchiveError> {
        let mut gz = GzDecoder::new(input);
        let mut archive = Archive::default();
        let mut total: u64 = 0;
        {
            let mut tar = tar::Archive::new(&mut gz);
            let entries = tar.entries().map_err(read_error)?;
            for (n, entry) in entries.enumerate() {
                if n >= MAX_ENTRIES {
                    return Err(ArchiveError::TooLarge(format!("more than {MAX_ENTRIES} entries")));
                }
                let mut entry = entry.map_err(read_error)?;
                if entry.header().entry_type() != tar::EntryType::Regular {
                    continue;
                }
                let path = String::from_utf8_lossy(&entry.path_bytes()).trim_start_matches("./").to_string();
                let size = entry.size();
                total = total.saturating_add(size);
                if total > MAX_TOTAL_BYTES {
                    return Err(ArchiveError::TooLarge(format!("it unpacks to more than {MAX_TOTAL_BYTES} bytes")));
                }
                if DOCUMENTS.contains(&path.as_str()) {
                    if size > MAX_DOCUMENT_BYTES {
                        return Err(ArchiveError::TooLarge(format!("{path} is {size} bytes")));
                    }
                    let bytes = read_entry(&mut entry, size)?;
                    let doc = serde_json::from_slice(&bytes).map_err(|e| invalid(&path, e.to_string()))?;
                    archive.documents.insert(path, doc);
                } else if path.starts_with(FILES_DIR) {
                    if key_of_path(&path).is_none() {
                        return Err(invalid(&path, "not a valid media path"));
                    }
                    if size > crate::store::blobs::MAX_BLOB_BYTES as u64 {
                        return Err(ArchiveError::TooLarge(format!("{path} is {size} bytes")));
                    }
                    let bytes = read_entry(&mut entry, size)?;
                    archive.files.insert(path, Bytes::from(bytes));
                }
            }
        }
        // Reads to the gzip trailer, so a cut after the last tar entry is caught by its checksum.
        std::io::copy(&mut gz, &mut std::io::sink()).map_err(read_error)?;
        for required in [super::ACTOR, super::OUTBOX] {
            if !archive.documents.contains_key(required) {
                return Err(ArchiveError::Missing(required.into()));
            }
        }
        Ok(archive)
    }
}

fn read_entry(entry: &mut impl Read, size: u64) -> Result<Vec<u8>, ArchiveError> {
    let mut bytes = Vec::with_capacity(size.min(64 * 1024 * 1024) as usize);
    entry.read_to_end(&mut bytes).map_err(read_error)?;
    if bytes.len() as u64 != size {
        return Err(ArchiveError::Truncated(format!("an entry holds {} of its {size} bytes", bytes.len())));
    }
    Ok(bytes)
}

/// Sorts the reader's errors: an early end is a truncated archive, bad framing is not an archive.
fn read_error(e: std::io::Error) -> ArchiveError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => ArchiveError::Truncated(e.to_string()),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData | std::io::ErrorKind::Other => {
            ArchiveError::NotAnArchive(e.to_string())
        }
        _ => ArchiveError::Io(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Archive {
        let mut a = Archive::default();
        a.documents.insert("actor.json".into(), json!({"id": "https://x.example/users/a", "type": "Person"}));
        a.documents.insert("outbox.json".into(), json!({"type": "OrderedCollection", "orderedItems": []}));
        a.files.insert("media_attachments/files/media/1/original.png".into(), Bytes::from(vec![7u8; 70_000]));
        a
    }

    #[test]
    fn round_trips_and_refuses_every_truncation() {
        let bytes = sample().write_tar_gz(Vec::new()).unwrap();
        assert_eq!(Archive::read_tar_gz(bytes.as_slice()).unwrap(), sample());
        for cut in [bytes.len() - 1, bytes.len() - 8, bytes.len() / 2, 30, 5] {
            let err = Archive::read_tar_gz(&bytes[..cut]).unwrap_err();
            assert!(matches!(err, ArchiveError::Truncated(_) | ArchiveError::NotAnArchive(_)), "cut {cut}: {err:?}");
        }
    }

    #[test]
    fn other_files_and_missing_documents_are_clear_errors() {
        let err = Archive::read_tar_gz(&b"plain text, not gzip"[..]).unwrap_err();
        assert!(matches!(err, ArchiveError::NotAnArchive(_)), "{err:?}");
        let mut no_outbox = sample();
        no_outbox.documents.remove("outbox.json");
        let bytes = no_outbox.write_tar_gz(Vec::new()).unwrap();
        assert!(matches!(Archive::read_tar_gz(bytes.as_slice()), Err(ArchiveError::Missing(f)) if f == "outbox.json"));
    }
}
