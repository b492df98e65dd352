//! PostgreSQL connections and the catalog facts stepwise needs.

use crate::tls::{self, Mode};
use crate::{Blocker, DbError, DbUrl};
use tokio::task::JoinHandle;
use tokio_postgres::config::SslMode;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, NoTls, Row, Socket};

pub struct PgConn {
    pub client: Client,
    task: JoinHandle<()>,
    /// Backend process id of this session.
    pub pid: i32,
    /// `server_version_num`, e.g. 150020.
    pub version_num: i32,
    url: DbUrl,
    application: String,
}

/// Connect with `tls` and drive the connection on a task of its own.
async fn open<T>(config: &Config, tls: T) -> Result<(Client, JoinHandle<()>), tokio_postgres::Error>
where
    T: MakeTlsConnect<Socket>,
    T::Stream: Send + 'static,
    T::TlsConnect: Send,
    <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
{
    let (client, connection) = config.connect(tls).await?;
    let task = tokio::spawn(async move {
        // The connection ends with the client; its error surfaces on the client's calls.
        let _ = connection.await;
    });
    Ok((client, task))
}

impl Drop for PgConn {
    fn drop(&mut self) {
        crate::sessions::own::forget(self.pid as i64);
        self.task.abort();
    }
}

impl PgConn {
    /// Connect and identify the session as `application` unless the URL names one.
    pub async fn connect(url: &DbUrl, application: &str) -> Result<PgConn, DbError> {
        // sslmode and sslrootcert are read here, as libpq reads them (the
        // driver knows neither verify-ca nor verify-full).
        let (plain, tls) = tls::postgres(url.expose())?;
        let mut config: Config =
            plain.parse().map_err(|e: tokio_postgres::Error| DbError::Config(format!("bad PostgreSQL URL {}: {e}", url.redacted())))?;
        if config.get_application_name().is_none() {
            config.application_name(application);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        let connected = match tls.mode {
            Mode::Disable => {
                config.ssl_mode(SslMode::Disable);
                open(&config, NoTls).await
            }
            mode => {
                config.ssl_mode(if mode == Mode::Prefer { SslMode::Prefer } else { SslMode::Require });
                open(&config, tokio_postgres_rustls::MakeRustlsConnect::new(tls::client_config(&tls)?)).await
            }
        };
        let (client, task) = connected.map_err(|e| DbError::Connect { url: url.redacted(), message: connect_message(&e) })?;
        let row = client.query_one("SELECT pg_backend_pid(), current_setting('server_version_num')::int", &[]).await?;
        let pid: i32 = row.get(0);
        crate::sessions::own::register(pid as i64);
        Ok(PgConn { pid, version_num: row.get(1), client, task, url: url.clone(), application: application.into() })
    }

    /// A second session to the same database, for work done side by side.
    pub async fn another(&self) -> Result<PgConn, DbError> {
        PgConn::connect(&self.url, &self.application).await
    }

    pub async fn batch(&self, sql: &str) -> Result<(), DbError> {
        Ok(self.client.batch_execute(sql).await?)
    }

    pub async fn rows(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Result<Vec<Row>, DbError> {
        Ok(self.client.query(sql, params).await?)
    }

    /// Human server version, e.g. "PostgreSQL 15.20".
    pub fn version_text(&self) -> String {
        format!("PostgreSQL {}.{}", self.version_num / 10000, self.version_num % 100)
    }

    /// The sessions blocking backend `pid` right now.
    pub async fn blockers_of(&self, pid: i32) -> Result<Vec<Blocker>, DbError> {
        let rows = self
            .rows(
                "SELECT a.pid::int8, coalesce(a.usename::text, ''), coalesce(a.application_name, ''), coalesce(a.state, ''),
                        coalesce(extract(epoch FROM now() - coalesce(a.xact_start, a.query_start))::float8, 0),
                        coalesce(a.query, '')
                   FROM pg_stat_activity a
                  WHERE a.pid = ANY (pg_blocking_pids($1))
                  ORDER BY a.xact_start NULLS LAST",
                &[&pid],
            )
            .await?;
        Ok(rows.iter().map(blocker_from_row).collect())
    }

    /// Transactions older than backend `pid`'s current statement (what a
    /// `CREATE INDEX CONCURRENTLY` waits for), excluding `pid` itself.
    pub async fn older_transactions(&self, pid: i32) -> Result<Vec<Blocker>, DbError> {
        let rows = self
            .rows(
                "SELECT a.pid::int8, coalesce(a.usename::text, ''), coalesce(a.application_name, ''), coalesce(a.state, ''),
                        coalesce(extract(epoch FROM now() - a.xact_start)::float8, 0), coalesce(a.query, '')
                   FROM pg_stat_activity a, pg_stat_activity me
                  WHERE me.pid = $1 AND a.pid <> $1 AND a.xact_start IS NOT NULL
                    AND a.xact_start < me.query_start AND a.backend_type = 'client backend'
                  ORDER BY a.xact_start",
                &[&pid],
            )
            .await?;
        Ok(rows.iter().map(blocker_from_row).collect())
    }

    /// Whether backend `pid` is still running a statement.
    pub async fn is_active(&self, pid: i32) -> Result<bool, DbError> {
        let rows = self.rows("SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", &[&pid]).await?;
        Ok(!rows.is_empty())
    }

    /// Index state: None when it does not exist, else whether it is valid.
    /// `schema` None means "visible on the search_path".
    pub async fn index_valid(&self, schema: Option<&str>, name: &str) -> Result<Option<bool>, DbError> {
        let rows = self
            .rows(
                "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.relname = $2 AND (CASE WHEN $1::text IS NULL THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1 END)",
                &[&schema, &name],
            )
            .await?;
        Ok(rows.first().map(|r| r.get(0)))
    }

    /// Invalid indexes that a failed `REINDEX CONCURRENTLY` leaves behind
    /// (`<name>_ccnew`, `<name>_ccnew1`, ...), on `table` or for `index`.
    pub async fn reindex_leftovers(
        &self,
        schema: Option<&str>,
        index: Option<&str>,
        table: Option<&str>,
    ) -> Result<Vec<(String, String)>, DbError> {
        let rows = self
            .rows(
                "SELECT n.nspname::text, c.relname::text FROM pg_index i
                   JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_class t ON t.oid = i.indrelid
                  WHERE NOT i.indisvalid AND c.relname ~ '_ccnew[0-9]*$'
                    AND (CASE WHEN $1::text IS NULL THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1 END)
                    AND ($2::text IS NULL OR (left(c.relname, length($2)) = $2 AND substr(c.relname, length($2) + 1) ~ '^_ccnew[0-9]*$'))
                    AND ($3::text IS NULL OR t.relname = $3)",
                &[&schema, &index, &table],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

fn blocker_from_row(r: &Row) -> Blocker {
    Blocker { pid: r.get(0), user: r.get(1), application: r.get(2), state: r.get(3), age_secs: r.get(4), query: r.get(5) }
}

/// The driver's error text, which names the server's reason but never the password.
fn connect_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            msg
        }
    }
}

/// Quote an identifier for PostgreSQL.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Quote a string literal for PostgreSQL (standard_conforming_strings on).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
