//! Which server the migrations will run on: the flavour (MySQL or MariaDB)
//! and its version decide which ALTER algorithms exist.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerFlavor {
    MySql,
    MariaDb,
}

/// A server flavour and version, e.g. `mariadb-10.11` or `mysql-8.0.35`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Server {
    pub flavor: ServerFlavor,
    /// (major, minor, patch); a version written without a patch level
    /// (`mariadb-10.11`) is taken as its newest, 999.
    pub version: (u32, u32, u32),
}

impl Default for Server {
    /// MariaDB 10.11, the long-term release most MySQL-protocol teams run
    /// when nothing says otherwise (and the one tested here).
    fn default() -> Self {
        Server { flavor: ServerFlavor::MariaDb, version: (10, 11, 999) }
    }
}

impl Server {
    pub fn mariadb(&self) -> bool {
        self.flavor == ServerFlavor::MariaDb
    }

    pub fn mysql(&self) -> bool {
        self.flavor == ServerFlavor::MySql
    }

    /// Whether this server is this flavour at `v` or later.
    pub fn at_least(&self, flavor: ServerFlavor, v: (u32, u32, u32)) -> bool {
        self.flavor == flavor && self.version >= v
    }

    /// `mariadb-10.11`, `mysql-8.0.35`, `mariadb-11.4.2`: flavour, a dash,
    /// then two or three numbers.
    pub fn parse(text: &str) -> Result<Server, String> {
        let bad = || format!("`{text}`: expected a flavour and a version, like `mariadb-10.11` or `mysql-8.0.35`");
        let (flavor, version) = text.trim().split_once('-').ok_or_else(bad)?;
        let flavor = match flavor.to_ascii_lowercase().as_str() {
            "mysql" => ServerFlavor::MySql,
            "mariadb" => ServerFlavor::MariaDb,
            _ => return Err(bad()),
        };
        let parts: Vec<&str> = version.split('.').collect();
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        let num = |s: &str| s.parse::<u32>().ok().filter(|n| *n < 1000 && !s.is_empty());
        let major = num(parts[0]).ok_or_else(bad)?;
        let minor = num(parts[1]).ok_or_else(bad)?;
        let patch = match parts.get(2) {
            Some(p) => num(p).ok_or_else(bad)?,
            None => 999,
        };
        Ok(Server { flavor, version: (major, minor, patch) })
    }

    /// From the server's `SELECT VERSION()`: `10.11.6-MariaDB-0+deb12u1`,
    /// `8.0.35`, `8.0.35-0ubuntu0.22.04.1`, `5.5.5-10.11.6-MariaDB` (the
    /// prefix old clients were given).
    pub fn from_version_string(v: &str) -> Option<Server> {
        let mariadb = v.to_ascii_lowercase().contains("mariadb");
        let v = v.strip_prefix("5.5.5-").unwrap_or(v);
        let numbers: Vec<u32> =
            v.split(|c: char| !c.is_ascii_digit() && c != '.').next()?.split('.').filter_map(|p| p.parse().ok()).collect();
        let version = (*numbers.first()?, *numbers.get(1)?, numbers.get(2).copied().unwrap_or(0));
        Some(Server { flavor: if mariadb { ServerFlavor::MariaDb } else { ServerFlavor::MySql }, version })
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let name = if self.mariadb() { "MariaDB" } else { "MySQL" };
        let (a, b, c) = self.version;
        if c == 999 {
            write!(f, "{name} {a}.{b}")
        } else {
            write!(f, "{name} {a}.{b}.{c}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_flags_and_from_servers() {
        assert_eq!(Server::parse("mariadb-10.11").unwrap(), Server::default());
        assert_eq!(Server::parse("mysql-8.0.35").unwrap(), Server { flavor: ServerFlavor::MySql, version: (8, 0, 35) });
        for bad in ["", "mariadb", "postgres-15", "mysql-8", "mysql-8.x.1", "mysql-8.0.35.1", "mysql-8..1"] {
            assert!(Server::parse(bad).is_err(), "{bad}");
        }
        let s = Server::from_version_string("10.11.6-MariaDB-0+deb12u1").unwrap();
        assert_eq!((s.flavor, s.version), (ServerFlavor::MariaDb, (10, 11, 6)));
        let s = Server::from_version_string("5.5.5-10.6.12-MariaDB-log").unwrap();
        assert_eq!((s.flavor, s.version), (ServerFlavor::MariaDb, (10, 6, 12)));
        let s = Server::from_version_string("8.0.35-0ubuntu0.22.04.1").unwrap();
        assert_eq!((s.flavor, s.version), (ServerFlavor::MySql, (8, 0, 35)));
        assert_eq!(Server::parse("mysql-8.0.35").unwrap().to_string(), "MySQL 8.0.35");
        assert_eq!(Server::default().to_string(), "MariaDB 10.11");
    }
}
