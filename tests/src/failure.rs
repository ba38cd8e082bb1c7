//! 一次失败 = 给初学者的一份小诊断书。
//!
//! 评分步骤用构建器写出它知道的部分(发了什么、期望什么、收到了什么、提示、怎么手动重现);
//! 评分器再补上步骤名、程序自己的输出和该读的章节,然后渲染成中文。

use crate::text::{indent, show_bytes, visible};

/// 一个步骤没有通过的原因。
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Failure {
    /// 一句话说清发生了什么(用学员的话)。
    pub headline: String,
    /// 评分器怎么运行的程序(命令行)。
    pub ran: Option<String>,
    /// 评分器发了什么(已转义),以及发给了谁。
    pub sent: Vec<String>,
    /// 期望看到什么。
    pub expected: Option<String>,
    /// 实际看到什么。
    pub actual: Option<String>,
    /// 最可能的原因。
    pub hint: Option<String>,
    /// 怎么手动重现。
    pub reproduce: Option<String>,
    /// 更具体的章节小节(默认是本课的章节)。
    pub read: Option<String>,
    /// 这一项在这台机器上做不了(比如系统不支持评分器要制造的情况):不算通过,也不算失败,
    /// 评分结果里明明白白写着「跳过」和原因。见 [`Failure::skip`]。
    pub skipped: bool,
    /// 这次失败只和这几个程序有关(它们的名字):信息里只展示它们的输出。空的时候展示这一步的所有程序。
    pub about: Vec<String>,
}

impl Failure {
    /// 这一项检查在这台机器上做不了:`reason` 说明为什么。评分结果里这一项显示为「跳过」,
    /// 不计分,也不计入总分;绝不悄悄地当作通过。
    pub fn skip(reason: impl Into<String>) -> Failure {
        Failure {
            headline: reason.into(),
            skipped: true,
            ..Failure::default()
        }
    }

    pub fn new(headline: impl Into<String>) -> Failure {
        Failure {
            headline: headline.into(),
            ..Failure::default()
        }
    }

    /// 换一句更具体的一句话原因。
    pub fn headline(mut self, headline: impl Into<String>) -> Failure {
        self.headline = headline.into();
        self
    }

    /// 记下发出的一段字节(会被转义显示)和它的去向。
    pub fn sent(mut self, bytes: &[u8], to: impl std::fmt::Display) -> Failure {
        self.sent.push(format!("{} → {to}", show_bytes(bytes)));
        self
    }

    /// 在「发送了」里补一句说明(比如之前还发生过什么)。
    pub fn sent_note(mut self, note: impl Into<String>) -> Failure {
        self.sent.push(note.into());
        self
    }

    /// 记下评分器运行程序用的命令行。
    pub fn ran(mut self, command: impl Into<String>) -> Failure {
        self.ran = Some(command.into());
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Failure {
        self.expected = Some(expected.into());
        self
    }

    pub fn actual(mut self, actual: impl Into<String>) -> Failure {
        self.actual = Some(actual.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    pub fn reproduce(mut self, reproduce: impl Into<String>) -> Failure {
        self.reproduce = Some(reproduce.into());
        self
    }

    pub fn read(mut self, section: impl Into<String>) -> Failure {
        self.read = Some(section.into());
        self
    }

    /// 这次失败只和这个程序有关(一项检查同时试好几个输入、启动了好几个程序时用)。
    pub fn about(mut self, program: &crate::program::Program) -> Failure {
        self.about.push(program.label().to_owned());
        self
    }

    /// 已经有提示时不覆盖(更具体的提示优先)。
    pub fn hint_if_none(mut self, hint: impl Into<String>) -> Failure {
        self.hint.get_or_insert_with(|| hint.into());
        self
    }
}

/// 一个被测程序在失败时的样子:它叫什么,怎么结束的,说了什么。
pub struct ProgramOutput {
    /// 在这一步里独一无二的名字,比如「客户端 #2」(见 [`Failure::about`])。
    pub label: String,
    /// 给人看的全名,比如「客户端 #2 lesson-05」。
    pub name: String,
    pub ending: String,
    pub stdout: String,
    pub stderr: String,
}

/// 渲染失败信息的全部材料。
pub struct Rendering<'a> {
    pub step: String,
    pub failure: &'a Failure,
    pub programs: &'a [ProgramOutput],
    pub chapter: String,
}

impl Rendering<'_> {
    pub fn render(&self) -> String {
        let f = self.failure;
        let mut out = vec![format!("✗ {}没有通过:{}", self.step, f.headline)];

        let mut block = |label: &str, text: &str| {
            out.push(String::new());
            out.push(label.to_owned());
            out.push(indent(text, "    "));
        };
        if let Some(command) = &f.ran {
            block("运行:", command);
        }
        if !f.sent.is_empty() {
            block("发送了:", &f.sent.join("\n"));
        }
        if let Some(expected) = &f.expected {
            block("期望:", expected);
        }
        if let Some(actual) = &f.actual {
            block("实际:", actual);
        }
        let shown = self
            .programs
            .iter()
            .filter(|p| f.about.is_empty() || f.about.contains(&p.label));
        for program in shown {
            let streams = format!(
                "stdout:\n{}\nstderr:\n{}",
                indent(&clip_lines(&program.stdout), "    "),
                indent(&clip_lines(&program.stderr), "    ")
            );
            block(
                &format!("{} 的输出({}):", program.name, program.ending),
                &streams,
            );
        }
        if let Some(hint) = &f.hint {
            block("提示:", hint);
        }
        if let Some(reproduce) = &f.reproduce {
            block("手动重现:", reproduce);
        }
        let read = match &f.read {
            Some(section) => format!("{},「{section}」一节", self.chapter),
            None => self.chapter.clone(),
        };
        block("阅读:", &read);
        // 最后一道关:整份信息里看不见的字符一律转义。程序的输出、收到的文字都可能带着
        // 颜色代码或光标控制,原样打到学员的终端上,会把信息本身搞乱(变色、覆盖上一行)。
        out.join("\n")
            .split('\n')
            .map(visible)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// 终端上给诊断书上色:一句话的标题(「✗ …」)红色,「期望:」绿色,「实际:」红色,「提示:」黄色。
///
/// 只给**已经渲染好**的全文上色,而且只认顶格的整行:程序的输出、收到的文字都缩进了四格,
/// 看不见的字符也已经转义(见 [`Rendering::render`]),它们冒充不了标题和标签。
/// 诊断书本身(`render`、`Report::explain`)永远是纯文字:测试拿它比较,JSON 报告也用它;
/// 颜色只在打印到终端的那一刻加上,要不要加由 [`colour_wanted`] 决定。
pub fn paint(text: &str) -> String {
    const RED: &str = "\x1b[1;31m";
    const GREEN: &str = "\x1b[1;32m";
    const YELLOW: &str = "\x1b[1;33m";
    const RESET: &str = "\x1b[0m";
    text.split('\n')
        .map(|line| {
            let colour = match line {
                "期望:" => GREEN,
                "实际:" => RED,
                "提示:" => YELLOW,
                _ if line.starts_with("✗ ") => RED,
                _ => return line.to_owned(),
            };
            format!("{colour}{line}{RESET}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// 要不要上色:stdout 是终端,而且没有设置 `NO_COLOR`(<https://no-color.org>)。
/// 被重定向、被管道接走、被测试读走的输出,一律不带颜色代码。
pub fn colour_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// 程序输出里每行最多显示这么多个字符。
const LINE_CHARS: usize = 160;
/// 程序输出最多显示这么多行(保留最后的几行:崩溃信息通常在最后)。
const LAST_LINES: usize = 40;

/// 把很长的行截短、把很多的行只留最后一部分,失败信息才不会被一个刷屏的程序淹没。
///
/// 只按 `\n` 分行:行尾多出来的 `\r` 也是程序的输出,要让学员看见(它会转义成 `\r`)。
fn clip_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect();
    let skipped = lines.len().saturating_sub(LAST_LINES);
    let mut out: Vec<String> = Vec::new();
    if skipped > 0 {
        out.push(format!("……(前面还有 {skipped} 行)"));
    }
    for line in &lines[skipped..] {
        let line = &hide_thread_id(line);
        let chars = line.chars().count();
        if chars > LINE_CHARS {
            let head: String = line.chars().take(LINE_CHARS).collect();
            out.push(format!("{}…(这一行共 {chars} 个字符)", visible(&head)));
        } else {
            out.push(visible(line));
        }
    }
    out.join("\n")
}

/// 新版 Rust 的 panic 信息带着线程编号(`thread 'main' (15556) panicked at …`),每次运行都不一样。
/// 它对学员没有用,还会让同一个错误每次的信息都不同,所以去掉它。
fn hide_thread_id(line: &str) -> String {
    if let Some(rest) = line.strip_prefix("thread '")
        && let Some(close) = rest.find("' (")
        && let Some(end) = rest[close + 3..].find(") panicked")
        && rest[close + 3..close + 3 + end]
            .chars()
            .all(|c| c.is_ascii_digit())
    {
        return format!(
            "thread '{}'{}",
            &rest[..close],
            &rest[close + 3 + end + 1..]
        );
    }
    line.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_lines_lose_their_thread_id_and_nothing_else() {
        assert_eq!(
            hide_thread_id("thread 'main' (15556) panicked at src/main.rs:10:53:"),
            "thread 'main' panicked at src/main.rs:10:53:"
        );
        assert_eq!(
            hide_thread_id("thread 'client-3' panicked at src/server.rs:1:1:"),
            "thread 'client-3' panicked at src/server.rs:1:1:"
        );
        assert_eq!(hide_thread_id("收到 (123) 个"), "收到 (123) 个");
    }

    /// 颜色只加在顶格的标题和「期望:」「实际:」「提示:」上;缩进的内容(包括程序的输出里
    /// 冒充标签的行)原样不动。
    #[test]
    fn paint_colours_the_headline_and_the_three_labels_only() {
        let plain = "✗ 第 1 课 · 第 2 项检查「回声」没有通过:没有回复\n\n期望:\n    你好\n\n实际:\n    期望:\n\n提示:\n    用 send_to\n\n阅读:\n    第 1 章";
        let painted = paint(plain);
        assert!(painted.starts_with("\x1b[1;31m✗ 第 1 课"), "{painted}");
        assert!(
            painted.contains("\n\x1b[1;32m期望:\x1b[0m\n    你好"),
            "{painted}"
        );
        assert!(
            painted.contains("\n\x1b[1;31m实际:\x1b[0m\n    期望:\n"),
            "{painted}"
        );
        assert!(painted.contains("\n\x1b[1;33m提示:\x1b[0m"), "{painted}");
        assert!(painted.contains("\n阅读:\n"), "{painted}");
        // 去掉颜色代码,就是原来的全文。
        assert_eq!(crate::text::strip_ansi(&painted), plain);
    }

    #[test]
    fn output_dumps_show_a_carriage_return_at_the_end_of_a_line() {
        assert_eq!(clip_lines("收到: hi\r\n下一行\n"), "收到: hi\\r\n下一行");
    }
}
