//! 第 3 级提示(差不多就是答案)的代码,和参考答案的这一块调用的是同一些东西吗?
//!
//! 参考答案改了,提示常常忘了跟着改:第 4 课的答案换成了「一整行一个期限」的 `Deadline`,
//! 第 3 级提示还是 `stream.take(…)`,照着写就过不了第 13 项;答案改用 `log!`,提示还是
//! `println!`。这里比较调用:
//! - 提示用了、参考答案这一块没用的,都要说(学员会照着提示写);
//! - 参考答案用了、提示没用的,只说路径(`Deadline::new`)和宏(`log!`,`format!` 除外):
//!   方法名太多、写法也多,少一个不一定是错;提示里留了 `todo!()`(故意只写一半)时也不说。

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::block::{self, Block};
use super::lex::lex;
use crate::hints;
use crate::skeleton::Spec;

/// 检查一课每一步的第 3 级提示。有问题时,错误里每个问题一行。
pub fn check(root: &Path, lesson: &str, solution: &Path) -> Result<()> {
    let spec = Spec::load(solution)?;
    let mut problems = Vec::new();
    for (step, file, _) in spec.step_blocks() {
        let path = solution.join(file);
        let source =
            fs::read_to_string(&path).with_context(|| format!("读不到 {}", path.display()))?;
        let block = Block::find(&source, step)
            .with_context(|| format!("{file} 里没有第 {step} 步的 ANCHOR"))?;
        let Some(last) = hints::for_step(root, lesson, step).and_then(|l| l.last().cloned()) else {
            continue; // 提示写没写全,由另一项检查管。
        };
        problems.extend(
            compare(&code_in(&last), &block)
                .into_iter()
                .map(|p| format!("第 {step} 步:{p}")),
        );
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!(
            "{}\n(提示在 {})",
            problems.join("\n"),
            hints::file(root, lesson).display()
        )
    }
}

/// Markdown 里 ```rust 代码块的内容。
fn code_in(markdown: &str) -> String {
    markdown
        .split("```")
        .skip(1)
        .step_by(2)
        .map(|block| block.strip_prefix("rust").unwrap_or(block))
        .collect::<Vec<_>>()
        .join("\n")
}

fn compare(hint: &str, block: &Block) -> Vec<String> {
    let hinted: BTreeSet<String> = block::calls(&lex(hint)).iter().map(|c| c.key()).collect();
    let solved: BTreeSet<String> = block.calls.iter().map(|c| c.key()).collect();
    let names: BTreeSet<&str> = block.calls.iter().map(|c| c.name()).collect();
    let mut problems = Vec::new();
    let partial = hinted.contains("todo!");
    for key in hinted.difference(&solved) {
        // `x.f()` 和 `Type::f(x)` 算同一个;todo!() 是故意留的空。
        let name = key.rsplit("::").next().unwrap_or(key);
        if key == "todo!" || (key.contains("::") && names.contains(name)) {
            continue;
        }
        problems.push(format!("提示的代码用了 `{key}`,参考答案的这一块没有用"));
    }
    if !partial {
        for key in solved.difference(&hinted) {
            let significant = key.contains("::") || (key.ends_with('!') && key != "format!");
            if significant {
                problems.push(format!("参考答案用了 `{key}`,提示的代码没有"));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(code: &str) -> Block {
        let source = format!(
            "fn f() -> Result<()> {{\n    // ANCHOR: step-1\n{code}\n    // ANCHOR_END: step-1\n}}\n"
        );
        Block::find(&source, 1).expect("有第 1 步")
    }

    #[test]
    fn a_hint_that_kept_the_old_design_is_caught() {
        let solution = block(
            "let mut reader = BufReader::new(Deadline::new(stream, timeout).take(MAX));\nlog!(\"{peer}\");",
        );
        let hint = "```rust\nlet mut reader = BufReader::new(stream.take(MAX));\nprintln!(\"{peer}\");\n```";
        let problems = compare(&code_in(hint), &solution);
        assert!(
            problems.iter().any(|p| p.contains("Deadline::new")),
            "{problems:#?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("println!")),
            "{problems:#?}"
        );
        assert!(problems.iter().any(|p| p.contains("log!")), "{problems:#?}");
    }

    #[test]
    fn a_hint_that_matches_or_leaves_a_todo_passes() {
        let solution =
            block("let n = socket.recv_from(buf).context(\"接收失败\")?;\nlog!(\"{n}\");");
        let same =
            "```rust\nlet n = socket.recv_from(buf).context(\"x\")?;\nlog!(\"{n} 字节\");\n```";
        assert_eq!(compare(&code_in(same), &solution), Vec::<String>::new());
        let partial = "```rust\nlet n = socket.recv_from(buf).context(\"x\")?;\ntodo!()\n```";
        assert_eq!(compare(&code_in(partial), &solution), Vec::<String>::new());
    }
}
