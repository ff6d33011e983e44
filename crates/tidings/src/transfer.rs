//! `tidings export` / `tidings import`: moving an installation between databases (SQLite and
//! PostgreSQL) as JSON lines, streaming both ways, with no third-party tool.
//!
//! The file is one JSON object per line: a header, one line per row of every table (parents
//! before children), and an end mark with the row count.
//!
//! ```text
//! {"tidings_export":1,"tables":["accounts","clients",...]}
//! {"table":"accounts","row":{"pk":1,"id":"acme","id_key":"acme",...}}
//! ...
//! {"end":true,"rows":1234}
//! ```
//!
//! An import loads everything in one transaction and commits only at a matching end mark, so a
//! truncated or corrupt file loads nothing.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};
use store::{ImportItem, Store, TableRow};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// The format version written in the header.
pub const FORMAT_VERSION: u32 = 1;
/// Rows buffered between the database and the file.
const CHANNEL_ROWS: usize = 1024;

#[derive(Serialize, Deserialize)]
struct Header {
    tidings_export: u32,
    tables: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct End {
    end: bool,
    rows: u64,
}

/// Writes the whole store to `out`; returns the number of rows written.
pub async fn export<W: AsyncWrite + Unpin>(store: Arc<dyn Store>, out: W) -> anyhow::Result<u64> {
    let mut out = tokio::io::BufWriter::new(out);
    let tables = store.tables().await.context("reading the schema")?;
    let header = Header {
        tidings_export: FORMAT_VERSION,
        tables,
    };
    write_line(&mut out, &header).await?;

    let (sink, mut rows) = tokio::sync::mpsc::channel::<TableRow>(CHANNEL_ROWS);
    let reading = tokio::spawn({
        let store = Arc::clone(&store);
        async move { store.export(sink).await }
    });
    let mut written = 0u64;
    while let Some(row) = rows.recv().await {
        write_line(&mut out, &row).await?;
        written += 1;
    }
    let exported = reading
        .await
        .context("the export task stopped")?
        .context("reading the database")?;
    if exported != written {
        bail!("the database sent {exported} rows but {written} were written");
    }
    write_line(
        &mut out,
        &End {
            end: true,
            rows: written,
        },
    )
    .await?;
    out.flush().await.context("writing the export")?;
    Ok(written)
}

async fn write_line<W: AsyncWrite + Unpin, T: Serialize>(out: &mut W, v: &T) -> anyhow::Result<()> {
    let mut line = serde_json::to_vec(v).context("encoding a line")?;
    line.push(b'\n');
    out.write_all(&line).await.context("writing the export")
}

/// Loads an export from `input` into the (empty) store; returns the number of rows loaded.
pub async fn import<R: AsyncBufRead + Unpin>(
    store: Arc<dyn Store>,
    input: R,
) -> anyhow::Result<u64> {
    let (feed, source) = tokio::sync::mpsc::channel::<ImportItem>(CHANNEL_ROWS);
    let loading = tokio::spawn({
        let store = Arc::clone(&store);
        async move { store.import(source).await }
    });
    // Reading stops at the first bad line; dropping `feed` without an end mark makes the load
    // roll back. The load's own error (e.g. a non-empty database) is the one worth reporting.
    let read = feed_lines(input, &feed).await;
    drop(feed);
    let loaded = loading.await.context("the import task stopped")?;
    match (read, loaded) {
        (Ok(()), Ok(rows)) => Ok(rows),
        (Err(e), Ok(_)) => Err(e),
        (Err(read), Err(store::StoreError::Other(_))) => Err(read),
        (_, Err(e)) => Err(anyhow!(e).context("loading the database")),
    }
}

async fn feed_lines<R: AsyncBufRead + Unpin>(
    input: R,
    feed: &tokio::sync::mpsc::Sender<ImportItem>,
) -> anyhow::Result<()> {
    let mut lines = input.lines();
    let mut number = 0u64;
    let mut next = || {
        number += 1;
        number
    };
    let first = lines.next_line().await.context("reading the export")?;
    let line_no = next();
    let header: Header = match first {
        Some(line) => serde_json::from_str(&line)
            .map_err(|e| anyhow!("line {line_no}: not a Tidings export header: {e}"))?,
        None => bail!("the file is empty: not a Tidings export"),
    };
    if header.tidings_export != FORMAT_VERSION {
        bail!(
            "line 1: export format {} is not supported (this build reads format {FORMAT_VERSION})",
            header.tidings_export
        );
    }
    let mut ended = false;
    while let Some(line) = lines.next_line().await.context("reading the export")? {
        let line_no = next();
        if ended {
            bail!("line {line_no}: data after the end mark");
        }
        if line.trim().is_empty() {
            continue;
        }
        let item = if let Ok(row) = serde_json::from_str::<TableRow>(&line) {
            ImportItem::Row(row)
        } else {
            let end: End = serde_json::from_str(&line)
                .map_err(|e| anyhow!("line {line_no}: neither a row nor the end mark: {e}"))?;
            if !end.end {
                bail!("line {line_no}: an end mark must say \"end\": true");
            }
            ended = true;
            ImportItem::End { rows: end.rows }
        };
        if feed.send(item).await.is_err() {
            // The load stopped; its error says why.
            return Ok(());
        }
    }
    if !ended {
        bail!("the export ends without its end mark (truncated?): nothing was imported");
    }
    Ok(())
}
