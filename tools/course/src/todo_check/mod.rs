//! 骨架的 TODO 说的,和参考答案那一块做的,对得上吗?
//!
//! 学员只照着 TODO 写。TODO 让他用参考答案根本没用的 API、对一个不能用 `?` 的调用写 `?`、
//! 或者发一句和参考答案不一样的话,他就会写出编译不过、或者评分器不认的代码,自己还看不出
//! 错在哪(issue 14:第 6 课的「tell HELP」少了「* 」,评分器不认;`stream.try_clone()?`
//! 写在返回 Option 的函数里,是编译错误 E0277)。
//!
//! 这里不编译、不猜意思,只机械地比三件事:
//! 1. **名字**:TODO 里的代码名字(`Type::bar`、`x.method`、`foo(…)`、`mac!`、带下划线的名字、
//!    参考答案里的常量),参考答案的这一块(连同它所在函数的签名)都要用到。
//!    「不要用 X」「千万别…」「X 会 panic」这样的反面例子不算。写出了参数的调用,参数的个数
//!    要和参考答案里的某一处一样(`Take::Lines(lines)` 对不上 `Take::Lines(rest, lines)`)。
//! 2. **`?`**:TODO 写 `foo(…)?`,参考答案的这一块也要对 foo 的调用(或者跟在它后面的
//!    `.context(…)` 之类)用 `?`;TODO 说「用 ? 返回」,这一块所在的函数要返回 Result 或 Option。
//! 3. **发出去的话**:TODO 说「tell「* 再见!」」「tell HELP」「room.tell(id, "…")」,参考答案里
//!    同名的调用发的话要以它开头。格式串里的 `{…}`,TODO 里的 `{…}` 和「…」都算通配,
//!    所以 TODO 里「N」「昵称」这样的占位词由格式串的 `{…}` 吃掉;一个常量(`HELP`)
//!    则要原样发出,不能前后再加字。

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::skeleton::{self, Spec};

mod block;
mod hints;
mod lex;
mod prose;
#[cfg(test)]
mod tests;

use block::{Block, Call};
use lex::{Tok, lex};
use prose::{Mention, Message, Todo};

pub use hints::check as check_hints;

/// 检查一个参考答案(和它的 skeleton.txt)的每一步。有问题时,错误里每个问题一行。
pub fn check(solution: &Path) -> Result<()> {
    let problems = problems(solution)?;
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("\n"))
    }
}

/// 每一步的问题,一条一行,带着第几步和文件。
pub fn problems(solution: &Path) -> Result<Vec<String>> {
    let spec = Spec::load(solution)?;
    let consts = constants(solution)?;
    let mut problems = Vec::new();
    for (step, file, lines) in spec.step_blocks() {
        let path = solution.join(file);
        let source =
            fs::read_to_string(&path).with_context(|| format!("读不到 {}", path.display()))?;
        let block = Block::find(&source, step)
            .with_context(|| format!("{file} 里没有第 {step} 步的 ANCHOR"))?;
        let todo = Todo::parse(lines);
        for problem in compare(&todo, &block, &consts) {
            let problem = format!("第 {step} 步({file}):{problem}");
            // 同一个名字在一步里提了两次,只说一次。
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    Ok(problems)
}

/// 参考答案里声明的常量(`const NAME` / `static NAME`):TODO 里写到它们,就是在说代码。
fn constants(solution: &Path) -> Result<BTreeSet<String>> {
    let mut found = BTreeSet::new();
    for path in skeleton::rust_files(&solution.join("src"))? {
        let text =
            fs::read_to_string(&path).with_context(|| format!("读不到 {}", path.display()))?;
        let tokens = lex(&text);
        for pair in tokens.windows(2) {
            if let [Tok::Ident(kw), Tok::Ident(name)] = pair
                && (kw == "const" || kw == "static")
            {
                found.insert(name.clone());
            }
        }
    }
    Ok(found)
}

// ---------------------------------------------------------------------------
// 比较
// ---------------------------------------------------------------------------

fn compare(todo: &Todo, block: &Block, consts: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for mention in &todo.mentions {
        if todo.is_not_an_instruction(mention) {
            continue;
        }
        // 「tell HELP」里的 tell 不像代码(没有点、没有括号),可参考答案里就有一个 tell(…):
        // 它要发的话照样要对得上。
        if let Some(problem) = message_problem(todo, mention, block) {
            problems.push(problem);
        }
        if !mention.is_api(consts) {
            continue;
        }
        let shown = mention.shown();
        if !block.uses(mention) {
            problems.push(format!(
                "TODO 让学员用 `{shown}`,参考答案的这一块却没有用它(照着写会走上另一条路;\
                 是反面例子的话,写成「不要用 {shown}」)"
            ));
            continue;
        }
        if let Some(count) = mention.arg_count()
            && let counts = block.arg_counts(mention)
            // 参考答案只是提到它、没有调用它(`.map_err(LineError::Io)`)时,没有可比的。
            && !counts.is_empty()
            && !counts.contains(&count)
        {
            problems.push(format!(
                "TODO 写的 `{shown}({})` 有 {count} 个参数,参考答案里的 `{}` 有 {} 个",
                mention.args.as_deref().unwrap_or_default(),
                mention.name(),
                join_counts(&counts)
            ));
        }
        if mention.tried && !block.tries(mention) {
            problems.push(format!(
                "TODO 写了 `{shown}(…)?`,参考答案的这一块对 {} 并没有用 `?`{}",
                mention.name(),
                block.question_mark_note()
            ));
        }
    }
    if todo.bare_question_mark && !block.returns_try() {
        problems.push(format!(
            "TODO 说用 `?`,可这一块所在的函数 {} 返回 {}:那里不能用 `?`(E0277)",
            block.function, block.returns
        ));
    }
    problems
}

fn join_counts(counts: &[usize]) -> String {
    counts
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(" 或 ")
}

/// TODO 说「tell「…」」/「tell HELP」,参考答案同名的调用发的是不是这句话。
fn message_problem(todo: &Todo, mention: &Mention, block: &Block) -> Option<String> {
    let calls: Vec<&Call> = block
        .calls
        .iter()
        .filter(|c| c.name() == mention.name() && !c.templates.is_empty())
        .collect();
    if calls.is_empty() {
        return None;
    }
    let templates: Vec<&str> = calls
        .iter()
        .flat_map(|c| c.templates.iter().map(String::as_str))
        .collect();
    let name = mention.name();
    match todo.message_after(mention)? {
        Message::Text(text) => {
            if templates.iter().any(|t| starts_like(t, &text)) {
                return None;
            }
            Some(format!(
                "TODO 说 {name} 发「{text}」,参考答案的 {name} 发的是{}",
                quote_all(&templates)
            ))
        }
        Message::Constant(constant) => {
            let exact = format!("{{{constant}}}");
            let sent_as_is = calls.iter().any(|c| c.passes_bare(&constant))
                || templates.iter().any(|t| *t == exact);
            if sent_as_is {
                return None;
            }
            let related: Vec<&str> = templates
                .iter()
                .copied()
                .filter(|t| t.contains(&exact))
                .collect();
            let shown = if related.is_empty() {
                &templates
            } else {
                &related
            };
            Some(format!(
                "TODO 说 {name} {constant}(原样发出 {constant}),参考答案发的是{}",
                quote_all(shown)
            ))
        }
    }
}

fn quote_all(texts: &[&str]) -> String {
    texts
        .iter()
        .take(6)
        .map(|t| format!("「{}」", t.trim_end_matches('\n')))
        .collect::<Vec<_>>()
        .join("")
}

/// `template`(格式串,`{…}` 是通配)以 `text`(TODO 里的话,`{…}` 和「…」是通配)开头吗?
fn starts_like(template: &str, text: &str) -> bool {
    let pattern = globbed(template);
    let mut wanted = globbed(text);
    wanted.push(Glob::Any);
    glob_match(&pattern, &wanted)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Glob {
    Char(char),
    Any,
}

/// 把 `{…}`、`…`、`...` 变成通配。
fn globbed(text: &str) -> Vec<Glob> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                out.push(Glob::Any);
            }
            '…' => {
                while chars.peek() == Some(&'…') {
                    chars.next();
                }
                out.push(Glob::Any);
            }
            '.' if chars.peek() == Some(&'.') => {
                while chars.peek() == Some(&'.') {
                    chars.next();
                }
                out.push(Glob::Any);
            }
            c => out.push(Glob::Char(c)),
        }
    }
    out
}

/// 两边都可以有通配的匹配(动态规划,两段文字都很短)。
fn glob_match(a: &[Glob], b: &[Glob]) -> bool {
    // can[i][j]:a[i..] 和 b[j..] 能对上。
    let mut can = vec![vec![false; b.len() + 1]; a.len() + 1];
    for i in (0..=a.len()).rev() {
        for j in (0..=b.len()).rev() {
            can[i][j] = match (a.get(i), b.get(j)) {
                (None, None) => true,
                (Some(Glob::Any), _) => can[i + 1][j] || (j < b.len() && can[i][j + 1]),
                (_, Some(Glob::Any)) => can[i][j + 1] || (i < a.len() && can[i + 1][j]),
                (Some(Glob::Char(x)), Some(Glob::Char(y))) => x == y && can[i + 1][j + 1],
                _ => false,
            };
        }
    }
    can[0][0]
}
