//! The server is the oracle for the MySQL classifier: every prediction it
//! makes for MariaDB 10.11 (the rules' bad examples and safe recipes, and a
//! table of ALTERs that covers each branch of the classifier) is run on the
//! real server with the predicted `ALGORITHM=`/`LOCK=` written into it; the
//! server must accept it, and must refuse the next better algorithm (and
//! LOCK=NONE where the prediction is a blocking lock). A disagreement is a
//! bug in the classifier.

mod common;

use common::unique;
use std::process::Command;
use stepwise_lint::mysql::predict::predict;
use stepwise_lint::mysql::Server;

/// Run `sql` in database `db` with the mariadb client: Ok(stdout) or Err(stderr).
fn run(db: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", db, "-e", sql])
        .output()
        .expect("run mariadb client");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

struct Db(String);

impl Db {
    fn fresh(&self, setup: &str) {
        run("", &format!("DROP DATABASE IF EXISTS {0}; CREATE DATABASE {0}", self.0)).expect("recreate database");
        run(&self.0, setup).unwrap_or_else(|e| panic!("setup failed: {e}\n{setup}"));
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let _ = run("", &format!("DROP DATABASE IF EXISTS {}", self.0));
    }
}

/// Check every prediction of `migration` after `setup`; returns how many ALTERs were checked.
fn check(db: &Db, setup: &str, migration: &str) -> usize {
    let server = Server::parse("mariadb-10.11").unwrap();
    let predictions = predict(setup, migration, server).unwrap_or_else(|e| panic!("{e}\n{migration}"));
    let mut checked = 0;
    for (i, p) in predictions.iter().enumerate() {
        let Some(predicted) = &p.predicted else { continue };
        let earlier: Vec<String> = predictions[..i].iter().map(|p| format!("{};", p.sql.trim_end_matches(';'))).collect();
        // Session settings (foreign_key_checks) must be in the same session.
        let sets: String =
            earlier.iter().filter(|s| s.trim_start().to_ascii_uppercase().starts_with("SET ")).cloned().collect::<Vec<_>>().join("\n");
        db.fresh(&format!("{setup}\n{}", earlier.join("\n")));
        for better in &p.better {
            match run(&db.0, &format!("{sets}\n{better}")) {
                Ok(_) => panic!("the server accepted better than predicted ({:?}):\n{better}\nafter:\n{setup}", p.verdict),
                Err(e) => assert!(e.contains("is not supported"), "refused for another reason: {e}\n{better}"),
            }
        }
        if let Err(e) = run(&db.0, &format!("{sets}\n{predicted}")) {
            panic!("the server refused the prediction ({:?}): {e}\n{predicted}\nafter:\n{setup}", p.verdict);
        }
        checked += 1;
    }
    checked
}

#[test]
fn every_rules_examples_run_as_predicted_on_mariadb() {
    let db = Db(unique("sw_oracle"));
    let mut checked = 0;
    for m in stepwise_lint::rule_metas(stepwise_sql::Dialect::MySql) {
        checked += check(&db, m.setup, m.bad);
        let mut setup = m.setup.to_string();
        for step in m.safe {
            checked += check(&db, &setup, step);
            setup.push('\n');
            setup.push_str(step);
        }
    }
    assert!(checked >= 15, "only {checked} ALTERs were checked");
}

/// A table with what changes algorithms: indexed and plain columns, utf8mb4
/// and latin1 VARCHARs, an ENUM, TEXT, a foreign key; and one with FULLTEXT.
const SETUP: &str = "CREATE TABLE p (id int PRIMARY KEY, u int, UNIQUE KEY pu (u));
CREATE TABLE t (id int NOT NULL AUTO_INCREMENT PRIMARY KEY, a int, b varchar(50) CHARACTER SET utf8mb4, c varchar(50) CHARACTER SET latin1,
  d int NOT NULL DEFAULT 0, e enum('x','y'), f text, pid int, n int NOT NULL, s varchar(10) CHARACTER SET utf8mb3,
  KEY ka (a), KEY kb (b), CONSTRAINT fk_pid FOREIGN KEY (pid) REFERENCES p (id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE tf (id int PRIMARY KEY, body text, FULLTEXT KEY ft (body)) ENGINE=InnoDB;
CREATE TABLE np (a int NOT NULL, b int);
INSERT INTO p VALUES (1, 1), (2, 2);
INSERT INTO t (a, b, c, d, e, f, pid, n) VALUES (1, 'x', 'y', 1, 'x', 'z', 1, 1), (2, 'x2', 'y2', 2, 'y', 'z2', 2, 2);
INSERT INTO tf VALUES (1, 'hello world');
INSERT INTO np VALUES (1, 1);";

/// Each branch of the classifier, as one ALTER.
const ALTERS: &[&str] = &[
    "ALTER TABLE t ADD COLUMN x int",
    "ALTER TABLE t ADD COLUMN x int FIRST",
    "ALTER TABLE t ADD COLUMN x int NOT NULL DEFAULT 5 AFTER a",
    "ALTER TABLE t ADD COLUMN x datetime DEFAULT CURRENT_TIMESTAMP",
    "ALTER TABLE t ADD COLUMN x int AS (a + 1) VIRTUAL",
    "ALTER TABLE t ADD COLUMN x int AS (a + 1) STORED",
    "ALTER TABLE t ADD COLUMN x int DEFAULT (a + 1)",
    "ALTER TABLE t ADD COLUMN x int UNIQUE",
    "ALTER TABLE t ADD COLUMN x int, ADD INDEX kx (x)",
    "ALTER TABLE t ADD COLUMN x int, DROP COLUMN f",
    "ALTER TABLE np ADD COLUMN id int NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST",
    "ALTER TABLE tf ADD COLUMN x int",
    "ALTER TABLE t DROP COLUMN f",
    "ALTER TABLE t DROP COLUMN a",
    "ALTER TABLE tf DROP COLUMN body",
    "ALTER TABLE t RENAME COLUMN f TO f2",
    "ALTER TABLE t CHANGE f f2 text",
    "ALTER TABLE t MODIFY f text AFTER id",
    "ALTER TABLE t MODIFY a bigint",
    "ALTER TABLE t MODIFY a int unsigned",
    "ALTER TABLE t MODIFY b varchar(63) CHARACTER SET utf8mb4",
    "ALTER TABLE t MODIFY b varchar(64) CHARACTER SET utf8mb4",
    "ALTER TABLE t MODIFY b varchar(40) CHARACTER SET utf8mb4",
    "ALTER TABLE t MODIFY c varchar(300) CHARACTER SET latin1",
    "ALTER TABLE t MODIFY b varchar(50) CHARACTER SET utf8mb4 NOT NULL",
    "ALTER TABLE t MODIFY d int NULL DEFAULT 0",
    "ALTER TABLE t MODIFY b varchar(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    "ALTER TABLE t MODIFY f text CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    "ALTER TABLE t MODIFY c varchar(50) CHARACTER SET utf8mb4",
    "ALTER TABLE t MODIFY s varchar(10) CHARACTER SET utf8mb4",
    "ALTER TABLE t MODIFY e enum('x','y','z')",
    "ALTER TABLE t MODIFY e enum('z','x','y')",
    "ALTER TABLE t MODIFY f mediumtext",
    "ALTER TABLE t MODIFY id bigint NOT NULL AUTO_INCREMENT",
    "ALTER TABLE t ALTER COLUMN a SET DEFAULT 7",
    "ALTER TABLE t ALTER COLUMN d DROP DEFAULT",
    "ALTER TABLE t ADD INDEX kx (d)",
    "ALTER TABLE t ADD UNIQUE KEY ux (d)",
    "ALTER TABLE t ADD INDEX kf (f(10))",
    "ALTER TABLE t ADD FULLTEXT INDEX ft2 (f)",
    "ALTER TABLE tf ADD FULLTEXT INDEX ft2 (body)",
    "ALTER TABLE t DROP INDEX ka",
    "ALTER TABLE t RENAME INDEX ka TO ka2",
    "ALTER TABLE t ALTER INDEX ka IGNORED",
    "ALTER TABLE t DROP INDEX ka, ADD INDEX ka (a, d)",
    "ALTER TABLE t ADD CONSTRAINT fk2 FOREIGN KEY (a) REFERENCES p (id)",
    "SET foreign_key_checks = 0;\nALTER TABLE t ADD CONSTRAINT fk2 FOREIGN KEY (a) REFERENCES p (id)",
    "ALTER TABLE t DROP FOREIGN KEY fk_pid",
    "ALTER TABLE t ADD CONSTRAINT ck CHECK (d >= 0)",
    "ALTER TABLE np ADD PRIMARY KEY (a)",
    "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (id, d)",
    "ALTER TABLE np DROP COLUMN b",
    "ALTER TABLE t ENGINE=InnoDB",
    "ALTER TABLE t FORCE",
    "ALTER TABLE t ROW_FORMAT=COMPACT",
    "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
    "ALTER TABLE t DEFAULT CHARSET=latin1",
    "ALTER TABLE t AUTO_INCREMENT=1000",
    "ALTER TABLE t COMMENT 'x'",
    "ALTER TABLE t RENAME TO t2",
    "CREATE INDEX kx ON t (d)",
    "CREATE UNIQUE INDEX kx ON t (n)",
    "DROP INDEX kb ON t",
    "OPTIMIZE TABLE t",
];

#[test]
fn the_classifier_agrees_with_mariadb_on_each_kind_of_alter() {
    let db = Db(unique("sw_oracle"));
    let mut checked = 0;
    for alter in ALTERS {
        let n = check(&db, SETUP, &format!("{alter};"));
        assert!(n >= 1, "no prediction for {alter}");
        checked += n;
    }
    assert_eq!(checked, ALTERS.len());
}
