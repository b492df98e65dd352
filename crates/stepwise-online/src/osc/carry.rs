//! Everything that hangs on a table or points at it and does not follow a
//! rename on its own: owner, grants, comment, storage options, application
//! triggers, row-level security, replica identity, publication membership
//! and foreign keys in both directions. Read from the catalog inside the
//! swap (or revert) transaction, then turned into the statements that move
//! it to the table taking over the name.

use crate::OnlineError;
use stepwise_db::pg::{quote_ident, quote_literal, PgConn};

/// A foreign key: the table it is on, its name, its definition and whether
/// it was validated (and so must be validated again after the move).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct ForeignKey {
    pub table: String,
    pub name: String,
    pub def: String,
    pub validated: bool,
    /// The other table of an outgoing key (none for a key to the table itself).
    pub parent: Option<String>,
}

impl ForeignKey {
    /// Added NOT VALID: enforced for new writes at once, the existing rows
    /// checked afterwards by VALIDATE, which blocks no writes.
    fn add(&self) -> String {
        let def = self.def.strip_suffix(" NOT VALID").unwrap_or(&self.def);
        format!("ALTER TABLE {} ADD CONSTRAINT {} {def} NOT VALID", self.table, quote_ident(&self.name))
    }

    fn drop(&self) -> String {
        format!("ALTER TABLE {} DROP CONSTRAINT {}", self.table, quote_ident(&self.name))
    }
}

/// A foreign key added NOT VALID by a swap or a revert that is still to be
/// validated.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Pending {
    pub table: String,
    pub name: String,
}

#[derive(Debug, Clone)]
struct Trigger {
    name: String,
    def: String,
    /// `pg_trigger.tgenabled`: O (enabled), D (disabled), R (replica), A (always).
    enabled: String,
}

impl Trigger {
    /// The statement that gives `on`'s trigger of this name this trigger's mode.
    fn mode_on(&self, on: &str) -> String {
        let how = match self.enabled.as_str() {
            "D" => "DISABLE TRIGGER",
            "R" => "ENABLE REPLICA TRIGGER",
            "A" => "ENABLE ALWAYS TRIGGER",
            _ => "ENABLE TRIGGER",
        };
        format!("ALTER TABLE {on} {how} {}", quote_ident(&self.name))
    }
}

#[derive(Debug, Clone)]
pub struct Carry {
    owner: String,
    comment: Option<String>,
    reloptions: Option<String>,
    /// GRANT statements with `%s` where the table's name goes.
    grants: Vec<String>,
    triggers: Vec<Trigger>,
    rls: bool,
    force_rls: bool,
    /// CREATE POLICY statements with `%s` where the table's name goes.
    policies: Vec<String>,
    /// The REPLICA IDENTITY clause, when not the default.
    replica_identity: Option<String>,
    /// `ALTER PUBLICATION p ADD TABLE %s (cols) WHERE (...)`, and the publication's name.
    publications: Vec<(String, String)>,
    outgoing: Vec<ForeignKey>,
    incoming: Vec<ForeignKey>,
}

/// GRANT statements that give `to` the privileges `oid` has (table and columns).
pub const GRANTS: &str = "SELECT format('GRANT %s ON %%s TO %s%s', a.privilege_type,
                             CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                             CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
                        FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = $1
                      UNION ALL
                      SELECT format('GRANT %s (%I) ON %%s TO %s%s', a.privilege_type, t.attname,
                             CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                             CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
                        FROM pg_attribute t, aclexplode(t.attacl) a WHERE t.attrelid = $1 AND t.attacl IS NOT NULL AND NOT t.attisdropped";

const POLICIES: &str = "SELECT format('CREATE POLICY %I ON %%s AS %s FOR %s TO %s%s%s', p.polname,
                               CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                               CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                               (SELECT string_agg(CASE r WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ') FROM unnest(p.polroles) r),
                               coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', ''),
                               coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', ''))
                          FROM pg_policy p WHERE p.polrelid = $1 ORDER BY p.oid";

const PUBLICATIONS: &str = "SELECT p.pubname, format('ALTER PUBLICATION %I ADD TABLE %%s%s%s', p.pubname,
                                   coalesce(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                                                       FROM pg_attribute a WHERE a.attrelid = r.prrelid AND a.attnum = ANY (r.prattrs)) || ')', ''),
                                   coalesce(' WHERE (' || pg_get_expr(r.prqual, r.prrelid) || ')', ''))
                              FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid WHERE r.prrelid = $1";

async fn texts(conn: &PgConn, sql: &str, oid: u32) -> Result<Vec<String>, tokio_postgres::Error> {
    Ok(conn.client.query(sql, &[&oid]).await?.iter().map(|r| r.get(0)).collect())
}

impl Carry {
    /// Read what hangs on table `oid` and what points at it.
    pub async fn load(conn: &PgConn, oid: u32) -> Result<Carry, OnlineError> {
        let c = &conn.client;
        let facts = c
            .query_one(
                "SELECT pg_get_userbyid(c.relowner), obj_description(c.oid, 'pg_class'), array_to_string(c.reloptions, ', '),
                        c.relrowsecurity, c.relforcerowsecurity, c.relreplident::text,
                        (SELECT quote_ident(i.relname) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                          WHERE x.indrelid = c.oid AND x.indisreplident)
                   FROM pg_class c WHERE c.oid = $1",
                &[&oid],
            )
            .await?;
        let replica_identity = match (facts.get::<_, String>(5).as_str(), facts.get::<_, Option<String>>(6)) {
            ("f", _) => Some("FULL".to_string()),
            ("n", _) => Some("NOTHING".to_string()),
            ("i", Some(index)) => Some(format!("USING INDEX {index}")),
            _ => None,
        };
        let triggers = c
            .query(
                "SELECT tgname, pg_get_triggerdef(oid), tgenabled::text FROM pg_trigger
                  WHERE tgrelid = $1 AND NOT tgisinternal AND tgname NOT LIKE 'stepwise\\_osc\\_%' ORDER BY tgname",
                &[&oid],
            )
            .await?
            .iter()
            .map(|r| Trigger { name: r.get(0), def: r.get(1), enabled: r.get(2) })
            .collect();
        let fks = |sql: &'static str| async move {
            Ok::<Vec<ForeignKey>, tokio_postgres::Error>(
                c.query(sql, &[&oid])
                    .await?
                    .iter()
                    .map(|r| ForeignKey { table: r.get(0), name: r.get(1), def: r.get(2), validated: r.get(3), parent: r.get(4) })
                    .collect(),
            )
        };
        Ok(Carry {
            owner: facts.get(0),
            comment: facts.get(1),
            reloptions: facts.get::<_, Option<String>>(2).filter(|o| !o.is_empty()),
            grants: texts(conn, GRANTS, oid).await?,
            triggers,
            rls: facts.get(3),
            force_rls: facts.get(4),
            policies: texts(conn, POLICIES, oid).await?,
            replica_identity,
            publications: c.query(PUBLICATIONS, &[&oid]).await?.iter().map(|r| (r.get(0), r.get(1))).collect(),
            outgoing: fks("SELECT '%s', conname, pg_get_constraintdef(oid), convalidated,
                        CASE WHEN confrelid <> conrelid THEN confrelid::regclass::text END FROM pg_constraint
                  WHERE conrelid = $1 AND contype = 'f' ORDER BY conname")
            .await?,
            incoming: fks(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated, NULL::text FROM pg_constraint
                  WHERE confrelid = $1 AND conrelid <> $1 AND contype = 'f' ORDER BY conrelid, conname",
            )
            .await?,
        })
    }

    /// Tables other than the two being exchanged that the move locks, and
    /// how: a referencing table loses and regains its constraint (ACCESS
    /// EXCLUSIVE), a referenced one gains a constraint's triggers (SHARE ROW
    /// EXCLUSIVE, or ACCESS EXCLUSIVE when they are dropped). Locked up front, under the same lock_timeout and retries.
    /// `parents`: the mode the tables this one references are locked in (the
    /// swap adds foreign keys to them; a revert drops the ones on the new table).
    pub fn other_tables(&self, parents: Option<&'static str>) -> Vec<(String, &'static str)> {
        let mut out: Vec<(String, &'static str)> = self.incoming.iter().map(|f| (f.table.clone(), "ACCESS EXCLUSIVE")).collect();
        if let Some(mode) = parents {
            out.extend(self.outgoing.iter().filter_map(|f| f.parent.clone()).map(|parent| (parent, mode)));
        }
        out.sort();
        out.dedup();
        out
    }

    /// Release the table giving up the name (now called `from`): its
    /// application triggers are disabled (the reverse trigger writes to it,
    /// and their effects must not happen twice), it leaves its publications,
    /// and the foreign keys pointing at it are dropped (re-added on the
    /// other table by `onto`).
    pub fn off(&self, from: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .triggers
            .iter()
            .filter(|t| t.enabled != "D")
            .map(|t| format!("ALTER TABLE {from} DISABLE TRIGGER {}", quote_ident(&t.name)))
            .collect();
        out.extend(self.publications.iter().map(|(p, _)| format!("ALTER PUBLICATION {} DROP TABLE {from}", quote_ident(p))));
        out.extend(self.incoming.iter().map(ForeignKey::drop));
        out
    }

    /// Statements that give the table now named `to` everything the
    /// original had. `fresh` is a table that never had any of it (the
    /// shadow, at the swap); otherwise `to` is the old table coming back (a
    /// revert), which kept its own owner, grants, policies, replica identity
    /// and foreign keys, and only needs its triggers, publications and the
    /// foreign keys pointing at it back.
    pub fn onto(&self, to: &str, fresh: bool, current_user: &str) -> Vec<String> {
        let mut out = Vec::new();
        if fresh {
            if self.owner != current_user {
                out.push(format!("ALTER TABLE {to} OWNER TO {}", quote_ident(&self.owner)));
            }
            out.extend(self.grants.iter().map(|g| g.replace("%s", to)));
            if let Some(c) = &self.comment {
                out.push(format!("COMMENT ON TABLE {to} IS {}", quote_literal(c)));
            }
            if let Some(o) = &self.reloptions {
                out.push(format!("ALTER TABLE {to} SET ({o})"));
            }
            // The definitions name the table as it was called when read: `to` now.
            out.extend(self.triggers.iter().map(|t| t.def.clone()));
            if self.rls {
                out.push(format!("ALTER TABLE {to} ENABLE ROW LEVEL SECURITY"));
            }
            if self.force_rls {
                out.push(format!("ALTER TABLE {to} FORCE ROW LEVEL SECURITY"));
            }
            out.extend(self.policies.iter().map(|p| p.replace("%s", to)));
            if let Some(r) = &self.replica_identity {
                out.push(format!("ALTER TABLE {to} REPLICA IDENTITY {r}"));
            }
            out.extend(self.outgoing.iter().map(|f| ForeignKey { table: to.to_string(), ..f.clone() }.add()));
        }
        // A created trigger starts enabled; a kept one was disabled by `off`.
        out.extend(self.triggers.iter().filter(|t| !fresh || t.enabled != "O").map(|t| t.mode_on(to)));
        out.extend(self.publications.iter().map(|(_, add)| add.replace("%s", to)));
        out.extend(self.incoming.iter().map(ForeignKey::add));
        out
    }

    /// The foreign keys `onto` added NOT VALID that were valid before: to
    /// validate once the exchange has committed.
    pub fn to_validate(&self, to: &str, fresh: bool) -> Vec<Pending> {
        let outgoing =
            self.outgoing.iter().filter(|f| fresh && f.validated).map(|f| Pending { table: to.to_string(), name: f.name.clone() });
        let incoming = self.incoming.iter().filter(|f| f.validated).map(|f| Pending { table: f.table.clone(), name: f.name.clone() });
        outgoing.chain(incoming).collect()
    }
}

/// Validate the foreign keys a swap or revert added NOT VALID. Each VALIDATE
/// takes a lock that blocks no reads or writes, under lock_timeout with retries.
pub async fn validate(
    conn: &PgConn,
    opts: &super::OscOptions,
    job: i64,
    pending: &[Pending],
    progress: super::OnProgress<'_>,
) -> Result<(), OnlineError> {
    for p in pending {
        let sql = format!("ALTER TABLE {} VALIDATE CONSTRAINT {}", p.table, quote_ident(&p.name));
        super::swap::locked(conn, opts, job, &p.table, &format!("validate foreign key {} on {}", p.name, p.table), &sql, progress).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_key_is_added_not_valid_once() {
        let f = ForeignKey {
            table: "c".into(),
            name: "c_t_fk".into(),
            def: "FOREIGN KEY (t) REFERENCES t(id) NOT VALID".into(),
            parent: None,
            validated: false,
        };
        assert_eq!(f.add(), "ALTER TABLE c ADD CONSTRAINT \"c_t_fk\" FOREIGN KEY (t) REFERENCES t(id) NOT VALID");
    }
}
