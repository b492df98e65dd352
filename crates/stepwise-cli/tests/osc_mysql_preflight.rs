//! `stepwise osc --dry-run` on MariaDB 10.11: the checks osc makes before
//! anything is created, against the real server. A new unique key over
//! duplicate values is refused with the values and their counts (where
//! pt-online-schema-change's `INSERT IGNORE` copy drops the extra rows
//! silently); hostile clauses, child foreign keys, the table's own triggers
//! and a non-InnoDB table are refused; in every case nothing is created.

mod common;
use common::*;

/// Tables of the database whose names are not in `keep` (what osc left).
fn leftovers(db: &MyDb, keep: &str) -> String {
    db.sql(&format!(
        "SELECT COALESCE(GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME), '') FROM information_schema.TABLES
          WHERE TABLE_SCHEMA = DATABASE() AND FIND_IN_SET(TABLE_NAME, '{keep}') = 0"
    ))
}

fn accounts(db: &MyDb) {
    db.sql(
        "CREATE TABLE accounts (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100), name VARCHAR(50) NOT NULL) ENGINE=InnoDB;
         INSERT INTO accounts (email, name) VALUES
           ('a@x', 'one'), ('a@x', 'two'), ('a@x', 'three'), ('b@x', 'four'), ('b@x', 'five'),
           (NULL, 'six'), (NULL, 'seven'), ('c@x', 'eight'), ('it''s@x', 'nine')",
    );
}

#[test]
fn a_new_unique_key_over_duplicates_is_refused_with_the_values_before_anything_is_created() {
    let (db, p) = (MyDb::new(), Project::new());
    accounts(&db);
    let run = p.run(&db.url, &["osc", "accounts", "--alter", "ADD UNIQUE KEY uk_email (email)", "--dry-run"]);
    run.code(1)
        .contains("the new UNIQUE KEY `uk_email` (`email`) would not hold")
        .contains("2 value(s) of (`email`) occur more than once")
        .contains("in 5 rows")
        .contains("('a@x') x3, ('b@x') x2")
        .contains("Nothing was created");
    // NULLs do not collide in a unique key; in a primary key they are refused too.
    assert!(!run.all().contains("NULL) x2"), "{}", run.all());
    p.run(&db.url, &["osc", "accounts", "--alter", "DROP PRIMARY KEY, ADD PRIMARY KEY (email, name)", "--dry-run"]).code(0);
    p.run(&db.url, &["osc", "accounts", "--alter", "DROP PRIMARY KEY, ADD PRIMARY KEY (email)", "--dry-run"])
        .code(1)
        .contains("3 value(s) of (`email`)")
        .contains("(NULL) x2");
    assert_eq!(leftovers(&db, "accounts"), "");
    assert_eq!(db.sql("SELECT COUNT(*) FROM accounts"), "9");

    // With the duplicates resolved, the plan: the checks passed and the shadow's statements.
    db.sql("DELETE FROM accounts WHERE name IN ('two', 'three', 'five')");
    p.run(
        &db.url,
        &["osc", "accounts", "--alter", "ADD UNIQUE KEY uk_email (email), MODIFY id BIGINT NOT NULL AUTO_INCREMENT", "--dry-run"],
    )
    .ok()
    .contains(&format!("CREATE TABLE `{0}`.`accounts_sw0_new` LIKE `{0}`.`accounts`;", db.name))
    .contains(&format!("ALTER TABLE `{}`.`accounts_sw0_new` ADD UNIQUE KEY uk_email (email), MODIFY id BIGINT", db.name))
    .contains("-- checked: no duplicates in")
    .contains("key (id)");
    assert_eq!(leftovers(&db, "accounts"), "");
}

#[test]
fn hostile_clauses_child_foreign_keys_triggers_and_other_engines_are_refused() {
    let (db, p) = (MyDb::new(), Project::new());
    accounts(&db);
    for (alter, why) in [
        ("ADD COLUMN x INT; DROP TABLE accounts", "`;`"),
        ("ADD COLUMN x INT /*!50000 , DROP COLUMN name */", "executable comment"),
        ("ADD COLUMN x INT DEFAULT 1--1, RENAME TO gone", "renames"),
        ("CHANGE COLUMN name full_name VARCHAR(50)", "renames"),
        ("ALGORITHM=INSTANT, ADD COLUMN x INT", "ALGORITHM"),
        ("ADD COLUMN", "does not parse"),
    ] {
        p.run(&db.url, &["osc", "accounts", "--alter", alter, "--dry-run"]).code(2).contains(why);
    }
    assert_eq!(db.sql("SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'accounts'"), "id,email,name");

    db.sql("CREATE TABLE logins (id INT PRIMARY KEY, account_id INT, CONSTRAINT logins_account FOREIGN KEY (account_id) REFERENCES accounts (id)) ENGINE=InnoDB");
    p.run(&db.url, &["osc", "accounts", "--alter", "MODIFY id BIGINT NOT NULL AUTO_INCREMENT", "--dry-run"])
        .code(1)
        .contains("`logins` (`logins_account`)")
        .contains("would point at the old table");
    // The child itself: its own foreign key goes with the copy.
    p.run(&db.url, &["osc", "logins", "--alter", "ADD COLUMN seen INT", "--dry-run"])
        .ok()
        .contains("its own foreign keys go to the new table as they are, named as now after `osc finish`: `logins_account` (to ");
    db.sql("DROP TABLE logins");

    db.sql("CREATE TRIGGER accounts_audit AFTER INSERT ON accounts FOR EACH ROW SET @n = 1");
    p.run(&db.url, &["osc", "accounts", "--alter", "ADD COLUMN note TEXT", "--dry-run"])
        .code(1)
        .contains("triggers of its own (`accounts_audit`)");
    db.sql("DROP TRIGGER accounts_audit");

    db.sql("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT) ENGINE=MyISAM");
    p.run(&db.url, &["osc", "notes", "--alter", "ENGINE=InnoDB", "--dry-run"]).code(1).contains("is a MyISAM table");
    db.sql("CREATE TABLE bare (a INT, b INT) ENGINE=InnoDB");
    p.run(&db.url, &["osc", "bare", "--alter", "FORCE", "--dry-run"]).code(1).contains("neither a primary key");
    p.run(&db.url, &["osc", "missing", "--alter", "FORCE", "--dry-run"]).code(2).contains("no table named missing");
    assert_eq!(leftovers(&db, "accounts,notes,bare"), "");
}
