//! `mysql-unanalysed-clause`: an ALTER clause stepwise's MySQL front end does
//! not know. It is judged as a copy (the cautious verdict), and reported, so
//! that nothing is skipped silently.
//!
//! The safe way: write the algorithm you expect (`ALGORITHM=INPLACE,
//! LOCK=NONE`) so the server refuses if it would copy; mark the reviewed
//! statement with `-- stepwise:ignore mysql-unanalysed-clause <reason>`.

use crate::mysql::ast::{Op, Stmt};
use crate::mysql::rule::{Cost, Cx, Hit, Rule, RuleMeta};
use crate::Severity;

pub struct UnanalysedClause;
pub static RULE: UnanalysedClause = UnanalysedClause;

static META: RuleMeta = RuleMeta {
    id: "mysql-unanalysed-clause",
    severity: Severity::Warning,
    default_on: true,
    cost: Cost::Advice,
    summary: "an ALTER clause stepwise cannot judge: hold the server to an algorithm, and review it",
    setup: "CREATE TABLE logs (id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY, msg varchar(200)) ENGINE=InnoDB;",
    bad: "ALTER TABLE logs SECONDARY_ENGINE = RAPID;",
    safe: &["-- stepwise:ignore mysql-unanalysed-clause reviewed: the server refuses it if it would copy\n\
             ALTER TABLE logs SECONDARY_ENGINE = RAPID, ALGORITHM=INPLACE, LOCK=NONE;"],
};

impl Rule for UnanalysedClause {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Cx, hits: &mut Vec<Hit>) {
        let Stmt::Alter(a) = cx.parsed else { return };
        if cx.schema.existing(&a.table).is_none() {
            return;
        }
        for c in &a.clauses {
            let Op::Unknown { text } = &c.op else { continue };
            hits.push(
                Hit::new(
                    format!("stepwise cannot judge `{}`: it is assumed to copy the table", text.split_whitespace().collect::<Vec<_>>().join(" ")),
                    "The MySQL front end does not know this clause, so it cannot say which algorithm the server will use. It is judged \
                     as a copy that blocks writes, the cautious verdict."
                        .to_string(),
                    format!("-- Hold the server to an online algorithm, so that it refuses instead of copying:\n{}, ALGORITHM=INPLACE, LOCK=NONE;", super::helpers::body_sql(cx)),
                )
                .at(c.offset as i32)
                .on_table(a.table.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::mysql::rules::testing::check;

    #[test]
    fn flags_what_the_reader_does_not_know() {
        let setup = "CREATE TABLE logs (id int PRIMARY KEY);";
        let f = check("mysql-unanalysed-clause", setup, "ALTER TABLE logs SECONDARY_ENGINE = RAPID;");
        assert!(f[0].message.contains("SECONDARY_ENGINE = RAPID"), "{}", f[0].message);
        assert!(check("mysql-unanalysed-clause", setup, "ALTER TABLE logs COMMENT = 'x';").is_empty());
    }
}
