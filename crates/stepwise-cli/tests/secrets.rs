//! Passwords never reach output, whatever shape the URL has: unencoded
//! `/`, `?`, `@` or `:` in the password (which the drivers accept or at
//! least read), in errors, `--verbose` and `--format json`, on both engines.

mod common;
use common::*;

#[test]
fn passwords_with_unencoded_delimiters_never_print() {
    let p = Project::new();
    p.write("20260101000000_a.sql", "-- stepwise:up\nCREATE TABLE a (id int);\n");
    let urls = [
        ("postgres://nosuchuser:hu/nter2@127.0.0.1:5432/postgres", "nter2"),
        ("postgres://nosuchuser:hu?nter2@127.0.0.1:5432/postgres", "nter2"),
        ("postgres://nosuchuser:hu@nter2@127.0.0.1:5432/postgres", "nter2"),
        ("postgres://nosuchuser@127.0.0.1:5432/postgres?password=hunter2", "hunter2"),
        ("mysql://nosuchuser:hu/nter2@127.0.0.1:3306/db", "nter2"),
        ("mysql://nosuchuser:hu?nter2@127.0.0.1:3306/db", "nter2"),
        ("mysql://nosuchuser:hunter2@127.0.0.1:3306/db", "hunter2"),
        ("mariadb://nosuchuser:hu:nter2@127.0.0.1:3306/db", "nter2"),
    ];
    for (url, secret) in urls {
        for args in [
            &["status"][..],
            &["migrate", "--verbose"],
            &["migrate", "--format", "json"],
            &["plan", "--verbose"],
            &["backfill", "status", "--format", "json"],
        ] {
            let r = p.run(url, args);
            assert_ne!(r.code, 0, "{url} {args:?} connected?\n{}", r.all());
            assert!(!r.all().contains(secret), "{url} {args:?} printed the password:\n{}", r.all());
            assert!(!r.all().contains("panicked"), "{}", r.all());
        }
        let r = p.run("", &["migrate", "--database-url", url]);
        assert!(!r.all().contains(secret), "{url} as a flag printed the password:\n{}", r.all());
    }
}
