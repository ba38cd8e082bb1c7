//! 参考答案的那一块:`// ANCHOR: step-N` 到 `// ANCHOR_END: step-N` 的代码,和它所在的函数。

use std::collections::BTreeSet;

use super::lex::{Tok, is_word, lex};
use super::prose::Mention;

/// 参考答案里 `// ANCHOR: step-N` 到 `// ANCHOR_END: step-N` 的代码,和它所在的函数。
pub(super) struct Block {
    pub(super) idents: BTreeSet<String>,
    pub(super) paths: Vec<Vec<String>>,
    pub(super) calls: Vec<Call>,
    pub(super) function: String,
    pub(super) returns: String,
}

/// 参考答案里的一次调用(函数、方法或宏)。
#[derive(Debug)]
pub(super) struct Call {
    pub(super) path: Vec<String>,
    pub(super) macro_call: bool,
    pub(super) args: Vec<Vec<Tok>>,
    /// 调用(或者跟在它后面的 `.context(…)` 之类)后面有 `?`。
    pub(super) tried: bool,
    /// 参数里的字符串(格式串)。
    pub(super) templates: Vec<String>,
}

impl Call {
    pub(super) fn name(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    /// 给人看、拿来比较的样子:`Deadline::new`、`log!`、`read_until`。
    pub(super) fn key(&self) -> String {
        if self.macro_call {
            format!("{}!", self.name())
        } else {
            self.path.join("::")
        }
    }

    /// 有一个参数就是这个常量本身(`tell(id, HELP)`、`&HELP`)。
    pub(super) fn passes_bare(&self, constant: &str) -> bool {
        self.args.iter().any(|arg| {
            let arg: Vec<&Tok> = arg.iter().filter(|t| **t != Tok::Punct('&')).collect();
            matches!(arg.as_slice(), [Tok::Ident(name)] if name == constant)
        })
    }
}

impl Block {
    pub(super) fn find(source: &str, step: usize) -> Option<Block> {
        let lines: Vec<&str> = source.lines().collect();
        let begin = format!("// ANCHOR: step-{step}");
        let end = format!("// ANCHOR_END: step-{step}");
        let first = lines.iter().position(|l| l.trim() == begin)?;
        let last = first + lines[first..].iter().position(|l| l.trim() == end)?;
        // 往上找这一块所在的函数的签名。
        let signature_start = lines[..first].iter().rposition(|l| {
            let l = l.trim_start();
            l.starts_with("fn ") || l.contains(" fn ") || l.starts_with("pub fn ")
        })?;
        let signature = lines[signature_start..first].join("\n");
        let signature = signature[..signature.rfind('{').unwrap_or(signature.len())].to_owned();
        let function = signature
            .split("fn ")
            .nth(1)
            .and_then(|rest| rest.split(['(', '<']).next())
            .unwrap_or("?")
            .trim()
            .to_owned();
        let returns = signature
            .rsplit_once("->")
            .map_or("()".to_owned(), |(_, r)| {
                r.split_whitespace().collect::<Vec<_>>().join(" ")
            });
        let code = lines[first + 1..last].join("\n");
        // 格式串里直接写的变量(`"* {HELP}"`)也算用到了。
        let mut tokens = lex(&signature);
        tokens.extend(lex(&code));
        let body = lex(&code);
        Some(Block {
            idents: tokens
                .iter()
                .flat_map(|t| match t {
                    Tok::Ident(name) => vec![name.clone()],
                    Tok::Str(text) => inline_args(text),
                    Tok::Punct(_) => Vec::new(),
                })
                .collect(),
            paths: paths(&tokens),
            calls: calls(&body),
            function,
            returns,
        })
    }

    pub(super) fn uses(&self, mention: &Mention) -> bool {
        if mention.path.len() >= 2 {
            let wanted = &mention.path;
            return self
                .paths
                .iter()
                .any(|path| path.windows(wanted.len()).any(|w| w == wanted.as_slice()));
        }
        self.idents.contains(mention.name())
    }

    /// 参考答案里同名的调用各有几个参数。
    pub(super) fn arg_counts(&self, mention: &Mention) -> Vec<usize> {
        let mut counts: Vec<usize> = self
            .calls
            .iter()
            .filter(|c| c.path.ends_with(&mention.path) || c.name() == mention.name())
            .map(|c| c.args.len())
            .collect();
        counts.sort_unstable();
        counts.dedup();
        counts
    }

    pub(super) fn tries(&self, mention: &Mention) -> bool {
        self.calls
            .iter()
            .any(|c| c.name() == mention.name() && c.tried)
    }

    /// 函数返回 Result 或 Option:里面可以用 `?`。
    pub(super) fn returns_try(&self) -> bool {
        let returns = self.returns.trim_start_matches("std::");
        ["Result", "io::Result", "anyhow::Result", "Option"]
            .iter()
            .any(|t| returns.starts_with(t))
    }

    /// 解释 `?` 为什么在这里会出问题。
    pub(super) fn question_mark_note(&self) -> String {
        let function = &self.function;
        let returns = &self.returns;
        if returns.starts_with("Option") {
            format!(
                ";这一块所在的函数 {function} 返回 {returns},对一个 Result 用 `?` 是编译错误 E0277"
            )
        } else if self.returns_try() {
            String::new()
        } else {
            format!(";这一块所在的函数 {function} 返回 {returns},那里根本不能用 `?`(E0277)")
        }
    }
}

/// 格式串里直接写的名字:`"{peer} 在 {n:?}"` 里的 peer 和 n。
pub(super) fn inline_args(text: &str) -> Vec<String> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest.chars().take_while(|c| is_word(*c)).collect();
            let after = rest[name.len()..].chars().next();
            let is_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            (is_name && matches!(after, Some('}' | ':'))).then_some(name)
        })
        .collect()
}

/// 所有 `a::b::c` 这样的路径(单独的名字也算一条只有一段的路径)。
pub(super) fn paths(tokens: &[Tok]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Tok::Ident(first) = &tokens[i] else {
            i += 1;
            continue;
        };
        let mut path = vec![first.clone()];
        i += 1;
        while let (Some(Tok::Punct(':')), Some(Tok::Punct(':')), Some(Tok::Ident(next))) =
            (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
        {
            path.push(next.clone());
            i += 3;
        }
        out.push(path);
    }
    out
}

pub(super) fn calls(tokens: &[Tok]) -> Vec<Call> {
    let mut out = Vec::new();
    for i in 0..tokens.len() {
        let Tok::Ident(name) = &tokens[i] else {
            continue;
        };
        let macro_call = tokens.get(i + 1) == Some(&Tok::Punct('!'));
        let open = if macro_call { i + 2 } else { i + 1 };
        if !matches!(tokens.get(open), Some(Tok::Punct('(' | '[' | '{'))) {
            continue;
        }
        if !macro_call && tokens.get(open) != Some(&Tok::Punct('(')) {
            continue;
        }
        let Some(close) = matching_tok(tokens, open) else {
            continue;
        };
        // 路径:往回收 `a::b::`。
        let mut path = vec![name.clone()];
        let mut at = i;
        while at >= 3
            && tokens[at - 1] == Tok::Punct(':')
            && tokens[at - 2] == Tok::Punct(':')
            && let Tok::Ident(prev) = &tokens[at - 3]
        {
            path.insert(0, prev.clone());
            at -= 3;
        }
        let args = split_args(&tokens[open + 1..close]);
        let templates = tokens[open + 1..close]
            .iter()
            .filter_map(|t| match t {
                Tok::Str(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        out.push(Call {
            path,
            macro_call,
            args,
            tried: tried_after(tokens, close + 1),
            templates,
        });
    }
    out
}

/// 从 `at` 起跳过 `.method(…)`、`.field`,后面是不是 `?`。
pub(super) fn tried_after(tokens: &[Tok], mut at: usize) -> bool {
    loop {
        match tokens.get(at) {
            Some(Tok::Punct('?')) => return true,
            Some(Tok::Punct('.')) => {
                at += 1;
                if let Some(Tok::Ident(_)) = tokens.get(at) {
                    at += 1;
                }
                if tokens.get(at) == Some(&Tok::Punct('(')) {
                    match matching_tok(tokens, at) {
                        Some(close) => at = close + 1,
                        None => return false,
                    }
                }
            }
            _ => return false,
        }
    }
}

pub(super) fn matching_tok(tokens: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

pub(super) fn split_args(tokens: &[Tok]) -> Vec<Vec<Tok>> {
    if tokens.is_empty() {
        return Vec::new();
    }
    let mut args = vec![Vec::new()];
    let mut depth = 0usize;
    for t in tokens {
        match t {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
            Tok::Punct(',') if depth == 0 => {
                args.push(Vec::new());
                continue;
            }
            _ => {}
        }
        args.last_mut().expect("至少有一个参数").push(t.clone());
    }
    // 最后一个参数后面的逗号(`f(a, b,)`)不算一个参数。
    if args.last().is_some_and(Vec::is_empty) {
        args.pop();
    }
    args
}
