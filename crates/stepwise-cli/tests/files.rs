//! Files on disk: `stepwise new` never gives two migrations one version,
//! however fast or concurrent; a directory entry named like a migration
//! that is not a readable file (a dangling link, a FIFO, a directory) and a
//! file holding a NUL byte are input errors (exit 2), never skipped and
//! never recorded FAILED.

mod common;
use common::*;
use std::process::Command;

fn versions(p: &Project) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p.migrations())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .map(|n| n.split('_').next().unwrap_or("").to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn new_in_the_same_second_and_at_once_gives_distinct_versions() {
    let (db, p) = (PgDb::new(), Project::new());
    p.run(&db.url, &["new", "a"]).ok();
    p.run(&db.url, &["new", "b"]).ok();
    let racing: Vec<_> = (0..6).map(|i| p.cmd(&db.url, &["new", &format!("c{i}")]).spawn().expect("spawn")).collect();
    for mut child in racing {
        assert!(child.wait().unwrap().success());
    }
    let v = versions(&p);
    assert_eq!(v.len(), 8);
    let mut unique = v.clone();
    unique.dedup();
    assert_eq!(unique, v, "two migrations share a version");
    p.run(&db.url, &["plan"]).ok();
}

#[test]
fn entries_named_like_migrations_that_are_not_files_are_input_errors() {
    let db = PgDb::new();
    for (name, make) in [
        (
            "dangling link",
            Box::new(|dir: &std::path::Path| std::os::unix::fs::symlink(dir.join("nowhere.sql"), dir.join("20260101000000_a.sql")).unwrap())
                as Box<dyn Fn(&std::path::Path)>,
        ),
        (
            "fifo",
            Box::new(|dir: &std::path::Path| {
                assert!(Command::new("mkfifo").arg(dir.join("20260101000000_a.sql")).status().unwrap().success())
            }),
        ),
        ("directory", Box::new(|dir: &std::path::Path| std::fs::create_dir(dir.join("20260101000000_a.sql")).unwrap())),
    ] {
        let p = Project::new();
        make(&p.migrations());
        for cmd in [&["migrate"][..], &["plan"], &["status"]] {
            let r = p.run(&db.url, cmd);
            assert_eq!(r.code, 2, "{name}, {cmd:?}:\n{}", r.all());
            assert!(r.all().contains("20260101000000_a.sql"), "{name}: the path is named:\n{}", r.all());
        }
    }
    assert_eq!(db.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'stepwise'"), "0");
}

#[test]
fn a_nul_byte_is_refused_at_its_line_and_column_by_plan_and_migrate() {
    let (db, p) = (PgDb::new(), Project::new());
    p.write("20260101000000_a.sql", "-- stepwise:up\nCREATE TABLE t (id int);\nSELECT 'a\0b';\n");
    for cmd in [&["plan"][..], &["migrate"], &["lint", "migrations"]] {
        let r = p.run(&db.url, cmd);
        assert_eq!(r.code, 2, "{cmd:?}:\n{}", r.all());
        assert!(r.all().contains("20260101000000_a.sql:3:10"), "{cmd:?}:\n{}", r.all());
    }
    assert_eq!(db.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'stepwise'"), "0", "nothing recorded");
    assert_eq!(db.sql("SELECT to_regclass('t') IS NULL"), "t");
}

/// A seed file's statements are megabytes long: plan shows each by its first
/// 100 characters (a 53 MB migration printed all 53 MB).
#[test]
fn plan_abbreviates_long_statements() {
    let (db, p) = (PgDb::new(), Project::new());
    let rows: Vec<String> = (0..20_000).map(|i| format!("({i}, 'row {i}')")).collect();
    p.write(
        "20260101000000_seed.sql",
        &format!("-- stepwise:up\nCREATE TABLE seed (id int, v text);\nINSERT INTO seed VALUES {};\n", rows.join(",")),
    );
    let r = p.run(&db.url, &["plan"]);
    r.ok().contains("INSERT INTO seed VALUES (0, 'row 0')").contains(" ...");
    assert!(r.stdout.len() < 2_000, "plan printed {} bytes", r.stdout.len());
}
