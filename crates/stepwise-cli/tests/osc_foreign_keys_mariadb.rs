//! `stepwise osc` on MariaDB 10.11 and foreign keys.
//!
//! Other tables' keys pointing at the altered table: refused with the list
//! by default; with `--rebuild-child-keys` each key points at the new table
//! after the swap, keeps its name and actions, and holds (an orphan is
//! refused, RESTRICT refuses a delete, CASCADE deletes), through `finish`
//! and through `revert`.
//!
//! The table's own keys: carried to the new table, holding throughout (a
//! parent's CASCADE during the copy reaches the copy too), and named as
//! before after `finish`.

mod common;
use common::*;
use std::process::Command;

/// The server's error for a statement that must fail ("" when it succeeds).
fn error_of(db: &MyDb, sql: &str) -> String {
    let out = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", &db.name, "-e", sql])
        .output()
        .expect("mariadb client");
    if out.status.success() {
        String::new()
    } else {
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
}

fn setup(db: &MyDb) {
    db.sql(
        "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, a INT NOT NULL) ENGINE = InnoDB;
         INSERT INTO items (id, a) SELECT seq, seq FROM seq_1_to_3000;
         CREATE TABLE line_items (id INT PRIMARY KEY, item_id INT NOT NULL,
           CONSTRAINT fk_lines_item FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE) ENGINE = InnoDB;
         CREATE TABLE notes (id INT PRIMARY KEY, item_id INT NOT NULL,
           CONSTRAINT fk_notes_item FOREIGN KEY (item_id) REFERENCES items (id)) ENGINE = InnoDB;
         INSERT INTO line_items SELECT seq, seq FROM seq_1_to_100;
         INSERT INTO notes SELECT seq, seq + 100 FROM seq_1_to_100;",
    );
}

/// `constraint -> referenced table, delete rule` for both children.
fn child_keys(db: &MyDb) -> String {
    db.sql(
        "SELECT GROUP_CONCAT(CONCAT(CONSTRAINT_NAME, '->', REFERENCED_TABLE_NAME, ':', DELETE_RULE) ORDER BY CONSTRAINT_NAME)
           FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    )
}

fn leftovers(db: &MyDb) -> String {
    db.osc_leftovers()
}

/// The keys hold against `items` as it is now.
fn assert_keys_hold(db: &MyDb) {
    assert!(error_of(db, "INSERT INTO line_items VALUES (100000, 999999)").contains("1452"), "an orphan line item was accepted");
    assert!(error_of(db, "DELETE FROM items WHERE id = 150").contains("1451"), "RESTRICT let a noted item go");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE id = 150"), "1");
    db.sql("DELETE FROM items WHERE id = 50");
    assert_eq!(db.sql("SELECT COUNT(*) FROM line_items WHERE item_id = 50"), "0", "CASCADE did not delete the line item");
}

#[test]
fn child_foreign_keys_are_refused_with_the_list_by_default_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db);
    let run = p.run(&db.url, &["osc", "items", "--alter", "MODIFY id BIGINT NOT NULL AUTO_INCREMENT"]);
    run.code(1).contains("fk_lines_item").contains("fk_notes_item").contains("--rebuild-child-keys");
    assert_eq!(leftovers(&db), "|");
    assert_eq!(child_keys(&db), "fk_lines_item->items:CASCADE,fk_notes_item->items:RESTRICT");
    // Even with the option, a change to the referenced column's type is
    // refused before any row is copied: the children's INT could not
    // reference a BIGINT.
    let run = p.run(&db.url, &["osc", "items", "--alter", "MODIFY id BIGINT NOT NULL AUTO_INCREMENT", "--rebuild-child-keys"]);
    run.code(2).contains("fk_lines_item").contains("int(11) becomes bigint(20)").contains("nothing was left behind");
    assert_eq!(leftovers(&db), "|");
    assert_eq!(child_keys(&db), "fk_lines_item->items:CASCADE,fk_notes_item->items:RESTRICT");
}

#[test]
fn with_rebuild_child_keys_the_children_point_at_the_new_table_and_their_keys_hold_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db);
    let run = p.run(&db.url, &["osc", "items", "--alter", "ADD COLUMN z INT NOT NULL DEFAULT 7", "--rebuild-child-keys"]);
    run.ok().contains("swapped: ").contains("foreign key(s) now referencing");
    // Same names, same actions, the table's name; and that is the new table.
    assert_eq!(child_keys(&db), "fk_lines_item->items:CASCADE,fk_notes_item->items:RESTRICT");
    assert_eq!(db.sql("SELECT MIN(z) FROM items"), "7");
    assert_keys_hold(&db);
    p.run(&db.url, &["osc", "finish"]).ok();
    assert_eq!(leftovers(&db), "|");
    assert_eq!(child_keys(&db), "fk_lines_item->items:CASCADE,fk_notes_item->items:RESTRICT");
    assert!(error_of(&db, "INSERT INTO notes VALUES (100000, 999999)").contains("1452"), "an orphan note was accepted after finish");
}

#[test]
fn revert_points_the_children_back_at_the_original_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    setup(&db);
    p.run(&db.url, &["osc", "items", "--alter", "ADD COLUMN z INT", "--rebuild-child-keys"]).ok();
    // A row written after the swap, with a child of its own.
    db.sql("INSERT INTO items (id, a) VALUES (5000, 1); INSERT INTO line_items VALUES (5000, 5000)");
    p.run(&db.url, &["osc", "revert"]).ok().contains("reverted");
    assert_eq!(
        db.sql("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'z'"),
        "0"
    );
    assert_eq!(child_keys(&db), "fk_lines_item->items:CASCADE,fk_notes_item->items:RESTRICT");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE id = 5000"), "1");
    assert_eq!(leftovers(&db), "|");
    assert_keys_hold(&db);
}

/// rows_done of the job, 0 before there is one.
fn copied(db: &MyDb) -> i64 {
    let out = Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-P", "3306", "-u", "root", "-N", "-B", &db.name, "-e", "SELECT MAX(rows_done) FROM stepwise_jobs"])
        .output()
        .expect("mariadb client");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0)
}

fn own_setup(db: &MyDb) {
    db.sql(
        "CREATE TABLE shops (id INT PRIMARY KEY) ENGINE = InnoDB;
         INSERT INTO shops SELECT seq FROM seq_1_to_10;
         CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, shop_id INT NOT NULL, a INT NOT NULL,
           CONSTRAINT fk_items_shop FOREIGN KEY (shop_id) REFERENCES shops (id) ON DELETE CASCADE) ENGINE = InnoDB;
         INSERT INTO items (id, shop_id, a) SELECT seq, 1 + seq % 10, seq FROM seq_1_to_20000;",
    );
}

fn own_keys(db: &MyDb) -> String {
    db.sql(
        "SELECT GROUP_CONCAT(CONCAT(TABLE_NAME, '.', CONSTRAINT_NAME, '->', REFERENCED_TABLE_NAME, ':', DELETE_RULE) ORDER BY TABLE_NAME)
           FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    )
}

#[test]
fn the_tables_own_foreign_keys_are_carried_hold_throughout_and_get_their_names_back_at_finish_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    own_setup(&db);
    let bg = spawn_bg(p.cmd(&db.url, &["osc", "items", "--alter", "ADD COLUMN z INT", "--batch-rows", "500", "--max-rate", "10000"]));
    assert!(wait_until(std::time::Duration::from_secs(30), || copied(&db) > 3000), "the copy did not start:\n{}", bg.output());
    // During the copy: a parent's CASCADE removes rows on both sides of the
    // cursor (MySQL fires no trigger for it: the copy's own key carries it).
    db.sql("DELETE FROM shops WHERE id = 3");
    let run = bg.finish(std::time::Duration::from_secs(120));
    run.ok().contains("swapped: ");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE shop_id = 3"), "0");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items"), "18000");
    assert_eq!(own_keys(&db), "items._sw1_fk_items_shop->shops:CASCADE,items_sw1_old.fk_items_shop->shops:CASCADE");
    // The key holds on the new table, and a CASCADE reaches it.
    assert!(error_of(&db, "INSERT INTO items (shop_id, a) VALUES (999, 0)").contains("1452"), "an orphan item was accepted");
    db.sql("DELETE FROM shops WHERE id = 4");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items WHERE shop_id = 4"), "0");
    p.run(&db.url, &["osc", "finish"]).ok().contains("named as before");
    assert_eq!(own_keys(&db), "items.fk_items_shop->shops:CASCADE");
    assert_eq!(leftovers(&db), "|");
    assert!(error_of(&db, "INSERT INTO items (shop_id, a) VALUES (999, 0)").contains("1452"), "an orphan item was accepted after finish");
    assert_eq!(db.sql("SELECT COUNT(*) FROM items"), "16000");
}

#[test]
fn a_key_to_the_table_itself_and_a_drop_of_a_carried_key_are_refused_on_mariadb() {
    let (db, p) = (MyDb::new(), Project::new());
    own_setup(&db);
    p.run(&db.url, &["osc", "items", "--alter", "DROP FOREIGN KEY fk_items_shop"]).code(1).contains("plain ALTER TABLE first");
    db.sql("CREATE TABLE tree (id INT PRIMARY KEY, parent INT NULL, CONSTRAINT fk_tree FOREIGN KEY (parent) REFERENCES tree (id))");
    p.run(&db.url, &["osc", "tree", "--alter", "ADD COLUMN z INT", "--rebuild-child-keys"]).code(1).contains("foreign key to itself");
    assert_eq!(leftovers(&db), "|");
}
