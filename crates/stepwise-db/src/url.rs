//! Database URLs: which engine, and a form that is safe to print.

use crate::DbError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Postgres,
    MySql,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::MySql => "MySQL/MariaDB",
        }
    }
}

/// A database URL. `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl {
    raw: String,
    pub engine: Engine,
}

impl DbUrl {
    #[allow(clippy::result_large_err)] // parsed once per run
    pub fn parse(raw: &str) -> Result<DbUrl, DbError> {
        let scheme = raw.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        let engine = match scheme.as_deref() {
            Some("postgres" | "postgresql") => Engine::Postgres,
            Some("mysql" | "mariadb") => Engine::MySql,
            _ => {
                return Err(DbError::Config(format!(
                    "database URL `{}` must start with postgres://, postgresql://, mysql:// or mariadb://",
                    redact(raw)
                )))
            }
        };
        Ok(DbUrl { raw: raw.to_string(), engine })
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    pub fn redacted(&self) -> String {
        redact(&self.raw)
    }

    /// The same server with another database name (path), keeping query options.
    pub fn with_database(&self, db: &str) -> DbUrl {
        let (scheme, rest) = self.raw.split_once("://").unwrap_or(("", &self.raw));
        let (before_query, query) = match rest.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (rest, None),
        };
        let authority = before_query.split_once('/').map(|(a, _)| a).unwrap_or(before_query);
        let mut raw = format!("{scheme}://{authority}/{db}");
        if let Some(q) = query {
            raw.push('?');
            raw.push_str(q);
        }
        DbUrl { raw, engine: self.engine }
    }

    /// The database name in the path, if any.
    pub fn database(&self) -> Option<String> {
        let rest = self.raw.split_once("://")?.1;
        let path = rest.split_once('?').map(|(b, _)| b).unwrap_or(rest);
        let db = path.split_once('/')?.1;
        (!db.is_empty()).then(|| db.to_string())
    }
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbUrl({})", self.redacted())
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replace the password in `scheme://user:password@host` and in
/// `password=...` query or key/value parameters with `***`.
///
/// The drivers do not agree on where a password with an unencoded `/`, `?`
/// or `@` ends (tokio-postgres takes the user info up to the first `@`, the
/// `url` crate behind mysql_async ends the authority at the first `/` or
/// `?`), so everything from the first `:` of the user info to the last `@`
/// of the URL is hidden: whatever a driver takes as the password is in it.
pub fn redact(raw: &str) -> String {
    let mut out = raw.to_string();
    if let Some((scheme, rest)) = raw.split_once("://") {
        let end = rest.find('#').unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                out = format!("{scheme}://{}:***{}", &rest[..colon], &rest[at..]);
            }
        }
    }
    redact_params(&out)
}

/// `password=value` in a URL query (up to `&` or `#`) or a key/value
/// connection string (up to white space, or a quoted value with `\'` escapes).
fn redact_params(s: &str) -> String {
    let lower = s.to_ascii_lowercase();
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while let Some(found) = lower[i..].find("password") {
        let key_end = i + found + "password".len();
        // `password = 'x'` is allowed in key/value strings.
        let mut start = key_end;
        while bytes.get(start) == Some(&b' ') {
            start += 1;
        }
        if bytes.get(start) != Some(&b'=') {
            out.push_str(&s[i..key_end]);
            i = key_end;
            continue;
        }
        start += 1;
        while bytes.get(start) == Some(&b' ') {
            start += 1;
        }
        out.push_str(&s[i..start]);
        out.push_str("***");
        let end = if bytes.get(start) == Some(&b'\'') {
            let mut j = start + 1;
            while j < bytes.len() && bytes[j] != b'\'' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(bytes.len())
        } else {
            s[start..].find(['&', ' ', '#', '\t', '\n']).map(|e| start + e).unwrap_or(s.len())
        };
        i = end;
    }
    out.push_str(&s[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_from_schemes() {
        assert_eq!(DbUrl::parse("postgres://u@h/db").unwrap().engine, Engine::Postgres);
        assert_eq!(DbUrl::parse("mariadb://root@127.0.0.1/db").unwrap().engine, Engine::MySql);
        assert!(DbUrl::parse("sqlite://x").is_err());
    }

    #[test]
    fn passwords_never_print() {
        let u = DbUrl::parse("postgres://app:s3cr%40t@db.local:5432/shop?sslmode=disable&password=other").unwrap();
        let shown = format!("{u} {u:?} {}", u.redacted());
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(!shown.contains("other"), "{shown}");
        assert!(shown.contains("postgres://app:***@db.local:5432/shop"), "{shown}");
        let err = DbUrl::parse("foo://a:hunter2@h/d").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn every_url_shape_the_drivers_accept_keeps_its_password_hidden() {
        for (url, secret) in [
            ("postgres://u:hu/nter2@host/db", "hu/nter2"),
            ("postgres://u:hu?nter2@host/db", "hu?nter2"),
            ("postgres://u:hu@nter2@host/db", "hu@nter2"),
            ("postgres://u:hu:nter2@host/db", "hu:nter2"),
            ("postgres://u:hu%2Fnter2@host:5432/db?sslmode=require", "hu%2Fnter2"),
            ("postgresql://u:pw123@[::1]:5432/db", "pw123"),
            ("postgres://u:pw123@h1:5432,h2:5433/db?target_session_attrs=read-write", "pw123"),
            ("postgres://u@h/db?password=pw123&sslmode=require", "pw123"),
            ("postgres:///db?host=/run/postgresql&password=pw123", "pw123"),
            ("mysql://root:hu/nter2@127.0.0.1:3306/db", "hu/nter2"),
            ("mysql://root:hu?nter2@127.0.0.1:3306/db", "hu?nter2"),
            ("mysql://root:p%40ss@127.0.0.1/db?password=pw123", "p%40ss"),
            ("mariadb://root:pw123@localhost/db#frag", "pw123"),
            ("host=h user=u password=pw123 dbname=db", "pw123"),
            ("host=h user=u password = 'pw 123' dbname=db", "pw 123"),
            ("host=h password='pw\\' 123' dbname=db", "123"),
        ] {
            let shown = redact(url);
            assert!(!shown.contains(secret), "{url} -> {shown}");
            assert!(shown.contains("***"), "{url} -> {shown}");
        }
        // Nothing to hide: left as it is.
        assert_eq!(redact("postgres://u@h:5432/db"), "postgres://u@h:5432/db");
        assert_eq!(redact("mysql://root@127.0.0.1:3306/db"), "mysql://root@127.0.0.1:3306/db");
    }

    #[test]
    fn swap_database() {
        let u = DbUrl::parse("postgres://a:b@h:1/one?x=1").unwrap();
        assert_eq!(u.with_database("two").expose(), "postgres://a:b@h:1/two?x=1");
        assert_eq!(u.database().as_deref(), Some("one"));
        assert_eq!(DbUrl::parse("mysql://root@h").unwrap().with_database("d").expose(), "mysql://root@h/d");
    }
}
