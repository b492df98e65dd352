//! Ruby, read by prism (the official parser) and copied into a small owned
//! tree of the parts a migration's DSL uses: calls with their arguments and
//! blocks, literals, constants, classes and methods. Everything else is kept
//! as [`R::Other`] with its span, so the interpreter can say "not analysed"
//! at the right place instead of guessing.

use std::ops::Range;

/// A Ruby expression or statement.
#[derive(Debug, Clone, PartialEq)]
pub enum R {
    Sym(String),
    /// A string literal; `content` is where its text starts in the file
    /// (the body of a heredoc), `interpolated` when `#{}` parts were in it
    /// (their text is then left out of `text`).
    Str {
        text: String,
        content: usize,
        interpolated: bool,
    },
    Int(i64),
    Float(f64),
    True,
    False,
    Nil,
    Array(Vec<R>),
    Hash(Vec<(R, R)>),
    /// `Foo::Bar`, joined with `::`.
    Const(String),
    Call(Box<Call>),
    /// `-> { ... }` and `proc { }`: the text of its body.
    Lambda {
        body: Vec<R>,
        span: Range<usize>,
    },
    /// `local = value`
    Assign {
        name: String,
        value: Box<R>,
    },
    /// A local variable read.
    Local(String),
    Class {
        name: String,
        superclass: Option<Box<R>>,
        body: Vec<R>,
        span: Range<usize>,
    },
    Def {
        name: String,
        singleton: bool,
        body: Vec<R>,
        span: Range<usize>,
    },
    /// `if`/`unless` (modifier or not): the predicate, then the branch taken
    /// when it holds, then the other.
    If {
        predicate: Box<R>,
        then: Vec<R>,
        otherwise: Vec<R>,
        span: Range<usize>,
    },
    /// `begin ... end`, parentheses: their statements.
    Seq(Vec<R>),
    /// Anything else: what it is (for messages) and where.
    Other {
        what: &'static str,
        span: Range<usize>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub receiver: Option<R>,
    pub name: String,
    pub args: Vec<R>,
    /// Keyword arguments (`name: value`), in order.
    pub kwargs: Vec<(String, R)>,
    pub block: Option<Block>,
    /// The whole call, and where its method name starts.
    pub span: Range<usize>,
    pub name_at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub params: Vec<String>,
    pub body: Vec<R>,
}

impl Call {
    pub fn kw(&self, name: &str) -> Option<&R> {
        self.kwargs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

impl R {
    /// The text of a symbol or a plain string.
    pub fn name(&self) -> Option<&str> {
        match self {
            R::Sym(s) => Some(s),
            R::Str { text, interpolated: false, .. } => Some(text),
            _ => None,
        }
    }

    pub fn truthy(&self) -> Option<bool> {
        match self {
            R::False | R::Nil => Some(false),
            R::True | R::Sym(_) | R::Str { .. } | R::Int(_) | R::Float(_) | R::Hash(_) | R::Array(_) => Some(true),
            _ => None,
        }
    }

    pub fn as_call(&self) -> Option<&Call> {
        match self {
            R::Call(c) => Some(c),
            _ => None,
        }
    }

    pub fn span(&self) -> Option<Range<usize>> {
        match self {
            R::Call(c) => Some(c.span.clone()),
            R::Lambda { span, .. } | R::Class { span, .. } | R::Def { span, .. } | R::If { span, .. } | R::Other { span, .. } => {
                Some(span.clone())
            }
            R::Str { content, .. } => Some(*content..*content),
            _ => None,
        }
    }
}

/// A Ruby file, parsed: its statements and comments (start offset, text).
pub struct Parsed {
    pub body: Vec<R>,
    pub comments: Vec<(usize, String)>,
}

/// A syntax error: where and what prism says.
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

pub fn parse(src: &str) -> Result<Parsed, SyntaxError> {
    let result = ruby_prism::parse(src.as_bytes());
    if let Some(e) = result.errors().next() {
        return Err(SyntaxError { offset: e.location().start_offset(), message: e.message().to_string() });
    }
    let comments = result.comments().map(|c| (c.location().start_offset(), String::from_utf8_lossy(c.text()).into_owned())).collect();
    let root = result.node();
    let body = match root.as_program_node() {
        Some(p) => stmts(&p.statements().as_node()),
        None => vec![],
    };
    Ok(Parsed { body, comments })
}

fn text(id: ruby_prism::ConstantId) -> String {
    String::from_utf8_lossy(id.as_slice()).into_owned()
}

fn span(n: &ruby_prism::Node) -> Range<usize> {
    let l = n.location();
    l.start_offset()..l.end_offset()
}

/// The statements of a body (a StatementsNode, a begin block, or one node).
fn stmts(n: &ruby_prism::Node) -> Vec<R> {
    if let Some(s) = n.as_statements_node() {
        return s.body().iter().map(|n| conv(&n)).collect();
    }
    if let Some(b) = n.as_begin_node() {
        if b.rescue_clause().is_some() || b.ensure_clause().is_some() {
            return vec![R::Other { what: "begin/rescue", span: span(n) }];
        }
        return b.statements().map(|s| stmts(&s.as_node())).unwrap_or_default();
    }
    vec![conv(n)]
}

fn opt_stmts(n: Option<ruby_prism::Node>) -> Vec<R> {
    n.map(|n| stmts(&n)).unwrap_or_default()
}

fn conv(n: &ruby_prism::Node) -> R {
    if let Some(c) = n.as_call_node() {
        return call(&c, n);
    }
    if let Some(s) = n.as_symbol_node() {
        return R::Sym(String::from_utf8_lossy(s.unescaped()).into_owned());
    }
    if let Some(s) = n.as_string_node() {
        return R::Str {
            text: String::from_utf8_lossy(s.unescaped()).into_owned(),
            content: s.content_loc().start_offset(),
            interpolated: false,
        };
    }
    if let Some(s) = n.as_interpolated_string_node() {
        // A squiggly heredoc comes as parts even without `#{}`.
        let mut text = String::new();
        let mut interpolated = false;
        let mut content = None;
        for part in s.parts().iter() {
            if let Some(p) = part.as_string_node() {
                content.get_or_insert(p.content_loc().start_offset());
                text.push_str(&String::from_utf8_lossy(p.unescaped()));
            } else {
                content.get_or_insert(part.location().start_offset());
                interpolated = true;
            }
        }
        return R::Str { text, content: content.unwrap_or(span(n).start), interpolated };
    }
    if let Some(s) = n.as_interpolated_symbol_node() {
        return R::Other { what: "interpolated symbol", span: span(&s.as_node()) };
    }
    if let Some(i) = n.as_integer_node() {
        let v: Result<i32, ()> = i.value().try_into();
        return v.map(|v| R::Int(v as i64)).unwrap_or(R::Other { what: "large integer", span: span(n) });
    }
    if let Some(f) = n.as_float_node() {
        return R::Float(f.value());
    }
    if n.as_true_node().is_some() {
        return R::True;
    }
    if n.as_false_node().is_some() {
        return R::False;
    }
    if n.as_nil_node().is_some() {
        return R::Nil;
    }
    if let Some(a) = n.as_array_node() {
        return R::Array(a.elements().iter().map(|e| conv(&e)).collect());
    }
    if let Some(h) = n.as_hash_node() {
        return hash(h.elements().iter());
    }
    if let Some(h) = n.as_keyword_hash_node() {
        return hash(h.elements().iter());
    }
    if let Some(c) = n.as_constant_read_node() {
        return R::Const(text(c.name()));
    }
    if n.as_constant_path_node().is_some() {
        return constant_path(n).map(R::Const).unwrap_or(R::Other { what: "constant", span: span(n) });
    }
    if let Some(l) = n.as_local_variable_read_node() {
        return R::Local(text(l.name()));
    }
    if let Some(w) = n.as_local_variable_write_node() {
        return R::Assign { name: text(w.name()), value: Box::new(conv(&w.value())) };
    }
    if let Some(l) = n.as_lambda_node() {
        return R::Lambda { body: opt_stmts(l.body()), span: span(n) };
    }
    if let Some(c) = n.as_class_node() {
        let name = constant_path(&c.constant_path()).unwrap_or_default();
        return R::Class { name, superclass: c.superclass().map(|s| Box::new(conv(&s))), body: opt_stmts(c.body()), span: span(n) };
    }
    if let Some(d) = n.as_def_node() {
        return R::Def { name: text(d.name()), singleton: d.receiver().is_some(), body: opt_stmts(d.body()), span: span(n) };
    }
    if let Some(i) = n.as_if_node() {
        let otherwise = match i.subsequent() {
            Some(s) => match s.as_else_node() {
                Some(e) => opt_stmts(e.statements().map(|s| s.as_node())),
                None => vec![conv(&s)],
            },
            None => vec![],
        };
        return R::If {
            predicate: Box::new(conv(&i.predicate())),
            then: opt_stmts(i.statements().map(|s| s.as_node())),
            otherwise,
            span: span(n),
        };
    }
    if let Some(u) = n.as_unless_node() {
        let otherwise = u.else_clause().map(|e| opt_stmts(e.statements().map(|s| s.as_node()))).unwrap_or_default();
        // `unless p` runs its body when `p` does not hold.
        return R::If {
            predicate: Box::new(R::Call(Box::new(Call {
                receiver: Some(conv(&u.predicate())),
                name: "!".into(),
                args: vec![],
                kwargs: vec![],
                block: None,
                span: span(n),
                name_at: span(n).start,
            }))),
            then: opt_stmts(u.statements().map(|s| s.as_node())),
            otherwise,
            span: span(n),
        };
    }
    if let Some(p) = n.as_parentheses_node() {
        let mut body = opt_stmts(p.body());
        return if body.len() == 1 { body.remove(0) } else { R::Seq(body) };
    }
    if let Some(b) = n.as_begin_node() {
        return R::Seq(stmts(&b.as_node()));
    }
    if let Some(s) = n.as_statements_node() {
        return R::Seq(stmts(&s.as_node()));
    }
    if n.as_self_node().is_some() {
        return R::Other { what: "self", span: span(n) };
    }
    R::Other { what: kind(n), span: span(n) }
}

/// A name for the node kinds a migration may contain that stepwise does
/// not interpret, for "not analysed" messages.
fn kind(n: &ruby_prism::Node) -> &'static str {
    if n.as_while_node().is_some() || n.as_until_node().is_some() || n.as_for_node().is_some() {
        "loop"
    } else if n.as_case_node().is_some() {
        "case"
    } else if n.as_x_string_node().is_some() {
        "shell command"
    } else if n.as_instance_variable_write_node().is_some() || n.as_instance_variable_read_node().is_some() {
        "instance variable"
    } else if n.as_module_node().is_some() {
        "module"
    } else if n.as_return_node().is_some() {
        "return"
    } else if n.as_and_node().is_some() || n.as_or_node().is_some() {
        "condition"
    } else {
        "expression"
    }
}

fn constant_path(n: &ruby_prism::Node) -> Option<String> {
    if let Some(c) = n.as_constant_read_node() {
        return Some(text(c.name()));
    }
    let p = n.as_constant_path_node()?;
    let name = text(p.name()?);
    match p.parent() {
        Some(parent) => Some(format!("{}::{name}", constant_path(&parent)?)),
        None => Some(name),
    }
}

fn hash<'a>(elements: impl Iterator<Item = ruby_prism::Node<'a>>) -> R {
    let mut out = Vec::new();
    for e in elements {
        match e.as_assoc_node() {
            Some(a) => out.push((conv(&a.key()), conv(&a.value()))),
            None => out.push((R::Other { what: "**splat", span: span(&e) }, R::Nil)),
        }
    }
    R::Hash(out)
}

fn call(c: &ruby_prism::CallNode, n: &ruby_prism::Node) -> R {
    let mut args = Vec::new();
    let mut kwargs = Vec::new();
    if let Some(a) = c.arguments() {
        for arg in a.arguments().iter() {
            if let Some(h) = arg.as_keyword_hash_node() {
                for e in h.elements().iter() {
                    match e.as_assoc_node() {
                        Some(a) => match conv(&a.key()) {
                            R::Sym(k) => kwargs.push((k, conv(&a.value()))),
                            other => args.push(R::Hash(vec![(other, conv(&a.value()))])),
                        },
                        None => args.push(R::Other { what: "**splat", span: span(&e) }),
                    }
                }
            } else if arg.as_splat_node().is_some() {
                args.push(R::Other { what: "*splat", span: span(&arg) });
            } else {
                args.push(conv(&arg));
            }
        }
    }
    let block = c.block().and_then(|b| {
        if let Some(b) = b.as_block_node() {
            let params = b
                .parameters()
                .and_then(|p| p.as_block_parameters_node())
                .and_then(|p| p.parameters())
                .map(|p| p.requireds().iter().filter_map(|r| r.as_required_parameter_node().map(|r| text(r.name()))).collect())
                .unwrap_or_default();
            Some(Block { params, body: opt_stmts(b.body()) })
        } else {
            // `&block` / `&:sym`: nothing the DSL reads.
            args.push(R::Other { what: "&block", span: span(&b) });
            None
        }
    });
    let name_at = c.message_loc().map(|l| l.start_offset()).unwrap_or(span(n).start);
    R::Call(Box::new(Call { receiver: c.receiver().map(|r| conv(&r)), name: text(c.name()), args, kwargs, block, span: span(n), name_at }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_migration_reads_as_calls_with_arguments_and_blocks() {
        let src = "class AddX < ActiveRecord::Migration[7.1]\n  disable_ddl_transaction!\n  def change\n    add_index :users, :email, unique: true, algorithm: :concurrently\n    execute <<~SQL\n      UPDATE users SET a = 1\n    SQL\n  end\nend\n";
        let p = parse(src).ok().unwrap();
        let R::Class { name, superclass, body, .. } = &p.body[0] else { panic!("{:?}", p.body) };
        assert_eq!(name, "AddX");
        let sup = superclass.as_ref().unwrap().as_call().unwrap();
        assert_eq!(
            (sup.name.as_str(), &sup.receiver, &sup.args),
            ("[]", &Some(R::Const("ActiveRecord::Migration".into())), &vec![R::Float(7.1)])
        );
        assert_eq!(body[0].as_call().unwrap().name, "disable_ddl_transaction!");
        let R::Def { name, body, .. } = &body[1] else { panic!() };
        assert_eq!(name, "change");
        let add = body[0].as_call().unwrap();
        assert_eq!(add.args, vec![R::Sym("users".into()), R::Sym("email".into())]);
        assert_eq!(add.kw("algorithm"), Some(&R::Sym("concurrently".into())));
        let exec = body[1].as_call().unwrap();
        let R::Str { text, content, interpolated } = &exec.args[0] else { panic!("{:?}", exec.args) };
        assert_eq!(text, "UPDATE users SET a = 1\n");
        assert!(!interpolated);
        assert_eq!(&src[*content..*content + 6], "      ");
    }

    #[test]
    fn a_syntax_error_has_an_offset() {
        let e = parse("class A < B\n  def change\n    add_column :t, :c,\n  end\n").err().unwrap();
        assert!(e.offset > 0 && !e.message.is_empty());
    }
}
