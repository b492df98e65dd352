//! MySQL/MariaDB connections and the catalog facts stepwise needs.

use crate::{Blocker, DbError, DbUrl};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder};

pub struct MyConn {
    pub conn: Conn,
    /// CONNECTION_ID() of this session.
    pub id: u64,
    /// `@@version`, e.g. "10.11.19-MariaDB-0+deb12u1".
    pub version: String,
}

/// The driver's TLS options for `tls` (None: plain).
fn ssl_opts(tls: &crate::tls::Tls) -> Result<Option<mysql_async::SslOpts>, DbError> {
    use crate::tls::Mode;
    let base = mysql_async::SslOpts::default();
    let with_ca = |o: mysql_async::SslOpts| -> Result<mysql_async::SslOpts, DbError> {
        let ca = tls
            .root_cert
            .clone()
            .ok_or_else(|| DbError::Config("ssl-mode=VERIFY_CA and VERIFY_IDENTITY need the root certificate: add ssl-ca=<file>".into()))?;
        if !ca.exists() {
            return Err(DbError::Config(format!("ssl-ca {}: no such file", ca.display())));
        }
        Ok(o.with_root_certs(vec![ca.into()]).with_disable_built_in_roots(true))
    };
    Ok(match tls.mode {
        Mode::Disable => None,
        Mode::Prefer | Mode::Require => Some(base.with_danger_accept_invalid_certs(true).with_danger_skip_domain_validation(true)),
        Mode::VerifyCa => Some(with_ca(base)?.with_danger_skip_domain_validation(true)),
        Mode::VerifyFull => Some(with_ca(base)?),
    })
}

impl Drop for MyConn {
    fn drop(&mut self) {
        crate::sessions::own::forget(self.id as i64);
    }
}

/// The driver's options for `url` (which it only knows as mysql://), and
/// the TLS settings (`ssl-mode`, `ssl-ca`), read as the mysql client reads them.
pub(crate) fn driver_opts(url: &DbUrl) -> Result<(Opts, crate::tls::Tls), DbError> {
    let raw = url.expose();
    let raw = match raw.split_once("://") {
        Some((_, rest)) => format!("mysql://{rest}"),
        None => raw.to_string(),
    };
    let (raw, tls) = crate::tls::mysql(&raw)?;
    let opts = Opts::from_url(&raw).map_err(|e| DbError::Config(format!("bad MySQL URL {}: {e}", url.redacted())))?;
    Ok((opts, tls))
}

impl MyConn {
    pub async fn connect(url: &DbUrl) -> Result<MyConn, DbError> {
        let (opts, tls) = driver_opts(url)?;
        let plain = OptsBuilder::from_opts(opts).prefer_socket(false);
        let failed = |e: mysql_async::Error| DbError::Connect { url: url.redacted(), message: e.to_string() };
        let mut conn = match ssl_opts(&tls)? {
            None => Conn::new(plain).await.map_err(failed)?,
            Some(ssl) => match Conn::new(plain.clone().ssl_opts(ssl)).await {
                Ok(conn) => conn,
                // PREFERRED: a server without TLS gets a plain connection.
                Err(mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer))
                    if tls.mode == crate::tls::Mode::Prefer =>
                {
                    Conn::new(plain).await.map_err(failed)?
                }
                Err(e) => return Err(failed(e)),
            },
        };
        let (id, version): (u64, String) = conn
            .query_first("SELECT CONNECTION_ID(), @@version")
            .await?
            .ok_or_else(|| DbError::Other("SELECT CONNECTION_ID() returned no row".into()))?;
        crate::sessions::own::register(id as i64);
        Ok(MyConn { conn, id, version })
    }

    /// A second session with the same options (a helper working beside this one).
    pub async fn another(&self) -> Result<MyConn, DbError> {
        let mut conn = Conn::new(self.conn.opts().clone()).await?;
        let id: Option<u64> = conn.query_first("SELECT CONNECTION_ID()").await?;
        let id = id.unwrap_or_default();
        crate::sessions::own::register(id as i64);
        Ok(MyConn { conn, id, version: self.version.clone() })
    }

    pub fn is_mariadb(&self) -> bool {
        self.version.to_ascii_lowercase().contains("mariadb")
    }

    pub fn version_text(&self) -> String {
        let v = self.version.split('-').next().unwrap_or(&self.version);
        if self.is_mariadb() {
            format!("MariaDB {v}")
        } else {
            format!("MySQL {v}")
        }
    }

    pub async fn exec(&mut self, sql: &str) -> Result<(), DbError> {
        Ok(self.conn.query_drop(sql).await?)
    }

    /// Sessions that may hold what session `waiter` waits for: every other
    /// session with an open transaction or a running statement. MySQL has no
    /// `pg_blocking_pids`; metadata-lock owners are only visible with
    /// performance_schema, which MariaDB leaves off by default.
    pub async fn possible_blockers(&mut self, waiter: u64) -> Result<Vec<Blocker>, DbError> {
        let me = self.id;
        let rows: Vec<(u64, String, String, String, f64, String)> = self
            .conn
            .exec(
                "SELECT p.ID, COALESCE(p.USER, ''), COALESCE(p.HOST, ''),
                        CASE WHEN t.trx_id IS NOT NULL AND p.COMMAND = 'Sleep' THEN 'idle in transaction' ELSE COALESCE(p.COMMAND, '') END,
                        CAST(COALESCE(TIMESTAMPDIFF(MICROSECOND, t.trx_started, NOW(6)) / 1e6, p.TIME) AS DOUBLE),
                        COALESCE(p.INFO, t.trx_query, '')
                   FROM information_schema.PROCESSLIST p
                   LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
                  WHERE p.ID NOT IN (?, ?) AND (t.trx_id IS NOT NULL OR p.COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump'))
                  ORDER BY 5 DESC",
                (waiter, me),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(pid, user, host, state, age, query)| Blocker { pid: pid as i64, user, application: host, state, age_secs: age, query })
            .collect())
    }
}

/// Quote an identifier for MySQL.
pub fn quote_ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

/// Quote a string literal for MySQL (backslashes are escapes there).
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}
