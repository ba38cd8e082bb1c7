//! 把一个 clap 错误说成中文。

use std::error::Error as _;

use clap::Command;
use clap::error::{ContextKind, ContextValue, Error, ErrorKind};

/// 一个 clap 错误的中文说明:「错误: …」,必要时接着几行细节、用法,和去哪里看帮助。
///
/// `command` 是出错的那个(子)命令(见 [`focus`]),用来找出错的那个参数的说明。
pub fn explain(err: &Error, command: &Command) -> String {
    let shown_arg = text(err, ContextKind::InvalidArg);
    let arg = name_only(&shown_arg).to_owned();
    let value = text(err, ContextKind::InvalidValue);
    let mut lines = Vec::new();
    let headline = match err.kind() {
        ErrorKind::InvalidValue => {
            let mut headline = format!("{arg} 的值「{value}」不是可选的值之一");
            let valid = list(err, ContextKind::ValidValue);
            if !valid.is_empty() {
                headline += &format!(",可以写:{}", valid.join("、"));
            }
            headline
        }
        ErrorKind::UnknownArgument if arg.starts_with('-') => {
            format!("不认识的选项「{arg}」")
        }
        ErrorKind::UnknownArgument => format!("多出来一个参数「{arg}」,这里用不上它"),
        ErrorKind::InvalidSubcommand => {
            format!(
                "没有「{}」这个命令",
                text(err, ContextKind::InvalidSubcommand)
            )
        }
        ErrorKind::NoEquals => format!("{arg} 的值要用等号连着写,比如 {arg}=值"),
        ErrorKind::ValueValidation => {
            let reason = err.source().map(|s| s.to_string()).unwrap_or_default();
            match reason_in_chinese(&reason) {
                Some(reason) => format!("{arg} 的值「{value}」不对:{reason}"),
                None => format!("{arg} 的值「{value}」不对"),
            }
        }
        ErrorKind::TooManyValues => format!("{arg} 给的值太多了(多出来的是「{value}」)"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            format!("{arg} 给的值的个数不对")
        }
        ErrorKind::ArgumentConflict => {
            let prior = list(err, ContextKind::PriorArg);
            if prior.is_empty() || prior.iter().any(|p| name_only(p) == arg) {
                format!("{arg} 只能写一次")
            } else {
                let prior: Vec<&str> = prior.iter().map(|p| name_only(p)).collect();
                format!("{arg} 不能和 {} 一起用", prior.join("、"))
            }
        }
        ErrorKind::MissingRequiredArgument => {
            format!(
                "少了必须写的参数:{}",
                list(err, ContextKind::InvalidArg).join(" ")
            )
        }
        ErrorKind::MissingSubcommand => "少了一个命令".to_owned(),
        ErrorKind::InvalidUtf8 => "参数里有不是 UTF-8 的字节".to_owned(),
        _ => "命令行参数不对".to_owned(),
    };
    lines.push(format!("错误: {headline}"));

    for suggested in list(err, ContextKind::SuggestedSubcommand)
        .into_iter()
        .chain(list(err, ContextKind::SuggestedArg))
        .chain(list(err, ContextKind::SuggestedValue))
    {
        lines.push(format!("      你是不是想写 {suggested}?"));
    }
    // 出错的参数自己的说明(`///` 注释),比如「要绑定的端口;0 表示……」。
    let args_to_explain = match err.kind() {
        ErrorKind::MissingRequiredArgument => list(err, ContextKind::InvalidArg),
        ErrorKind::ValueValidation | ErrorKind::InvalidValue => vec![shown_arg.clone()],
        _ => Vec::new(),
    };
    for shown in args_to_explain {
        if let Some(help) = help_of(command, &shown) {
            lines.push(format!("      {}:{help}", name_only(&shown)));
        }
    }

    let usage = text(err, ContextKind::Usage);
    let usage = usage.trim();
    if !usage.is_empty() {
        let usage = usage.strip_prefix("Usage:").unwrap_or(usage).trim();
        // clap 在用法里写死了几个英文词。
        let usage = usage
            .replace("[OPTIONS]", "[选项]")
            .replace("<COMMAND>", "<命令>")
            .replace("[COMMAND]", "[命令]");
        lines.push(String::new());
        lines.push(format!("用法: {usage}"));
    }
    lines.push("加上 --help 可以看全部的参数和说明。".to_owned());
    lines.join("\n")
}

/// 一项上下文的文字(没有就是空串)。
fn text(err: &Error, kind: ContextKind) -> String {
    match err.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::Strings(v)) => v.join(" "),
        Some(ContextValue::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// 一项上下文的几个值。
fn list(err: &Error, kind: ContextKind) -> Vec<String> {
    match err.get(kind) {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(v)) => v.clone(),
        _ => Vec::new(),
    }
}

/// `--port <PORT>` → `--port`;`<LESSON>` 原样。
fn name_only(shown: &str) -> &str {
    if shown.starts_with('-') {
        shown.split([' ', '=']).next().unwrap_or(shown)
    } else {
        shown
    }
}

/// 命令行上点到的那个子命令:`course hint 01 --step x` 出错时是 `hint`。
pub fn focus<'a>(command: &'a Command, args: &[std::ffi::OsString]) -> &'a Command {
    let mut current = command;
    for arg in args.iter().skip(1) {
        let Some(arg) = arg.to_str() else { break };
        match current
            .get_subcommands()
            .find(|s| s.get_name() == arg || s.get_all_aliases().any(|a| a == arg))
        {
            Some(sub) => current = sub,
            None if arg.starts_with('-') => continue,
            None => break,
        }
    }
    current
}

/// 在这个命令里找这个参数的 `///` 说明(全局的参数也在里面)。
fn help_of(command: &Command, shown: &str) -> Option<String> {
    let name = name_only(shown);
    let wanted = |arg: &clap::Arg| {
        if let Some(long) = name.strip_prefix("--") {
            arg.get_long() == Some(long)
        } else if let Some(short) = name.strip_prefix('-') {
            short.chars().count() == 1 && arg.get_short() == short.chars().next()
        } else {
            let value = name.trim_start_matches('<').trim_end_matches(['>', '.']);
            arg.is_positional()
                && arg
                    .get_value_names()
                    .is_some_and(|names| names.iter().any(|n| n.as_str() == value))
        }
    };
    command
        .get_arguments()
        .find(|a| wanted(a))
        .and_then(|arg| arg.get_help())
        .map(|help| help.to_string())
}

/// clap 自带的值解析器给的原因(英文)换成中文;我们自己的解析器给的已经是中文,原样用。
/// 认不出的英文原因返回 None:只说「不对」,再附上这个参数的说明,也比一句英文好。
fn reason_in_chinese(reason: &str) -> Option<String> {
    if reason.is_empty() {
        return None;
    }
    if !reason.is_ascii() {
        return Some(reason.to_owned());
    }
    // 「70000 is not in 0..=65535」「0 is not in 1..18446744073709551615」
    if let Some((_, range)) = reason.split_once(" is not in ") {
        let (start, end, inclusive) = match range.split_once("..=") {
            Some((s, e)) => (s, e, true),
            None => {
                let (s, e) = range.split_once("..")?;
                (s, e, false)
            }
        };
        let start: i128 = start.parse().ok()?;
        let end: i128 = end.parse().ok()?;
        let last = if inclusive { end } else { end - 1 };
        // 上限是类型的最大值:只说下限。
        if last >= i128::from(u32::MAX) {
            return Some(format!("至少要是 {start}"));
        }
        return Some(format!("要在 {start} 到 {last} 之间"));
    }
    let known = [
        ("invalid digit found in string", "要是一个整数"),
        (
            "cannot parse integer from empty string",
            "不能是空的,要是一个整数",
        ),
        ("number too large to fit in target type", "太大了"),
        ("number too small to fit in target type", "太小了"),
        ("invalid float literal", "要是一个数"),
        (
            "invalid socket address syntax",
            "要是「IP:端口」这样的地址,比如 127.0.0.1:7852 或 [::1]:7852",
        ),
        (
            "invalid IP address syntax",
            "要是一个 IP 地址,比如 127.0.0.1 或 ::1",
        ),
    ];
    known
        .iter()
        .find(|(english, _)| reason.contains(english))
        .map(|(_, chinese)| (*chinese).to_owned())
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

    use super::*;

    /// 一个测试用的程序,参数的种类和课程里的程序一样。
    #[derive(Parser, Debug)]
    #[command(name = "demo", disable_help_subcommand = true)]
    struct Demo {
        #[command(subcommand)]
        command: Option<Sub>,
        /// 要绑定的端口
        #[arg(short, long, default_value_t = 7852)]
        port: u16,
        /// 最多等多少秒
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
        timeout: u64,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// 已经在运行的服务器地址
        #[arg(long, conflicts_with = "server")]
        addr: Option<SocketAddr>,
        #[arg(long)]
        server: Option<String>,
        #[arg(long, value_parser = crate::host)]
        host: Option<String>,
    }

    #[derive(Subcommand, Debug)]
    enum Sub {
        /// 看提示
        Hint {
            /// 课号,比如 01 或 1
            lesson: String,
            #[arg(long)]
            step: Option<usize>,
        },
        /// 重新生成骨架:和 hint 一样有一个 <LESSON>,说明却不同
        Skeleton {
            /// 只生成这一课
            lesson: String,
        },
    }

    #[derive(Clone, Copy, ValueEnum, Debug)]
    enum Format {
        Table,
        Json,
    }

    fn explained(args: &[&str]) -> String {
        let err = Demo::try_parse_from(std::iter::once("demo").chain(args.iter().copied()))
            .expect_err("参数是错的");
        assert_eq!(err.exit_code(), 2, "{err}");
        let args: Vec<std::ffi::OsString> = std::iter::once("demo")
            .chain(args.iter().copied())
            .map(Into::into)
            .collect();
        explain(&err, focus(&Demo::command(), &args))
    }

    /// 说明里不能有 clap 的英文(参数名、值、占位的 <PORT> 除外)。
    fn assert_chinese(text: &str) {
        for english in [
            "error", "invalid", "Usage", "found", "provided", "argument", "tip", "help", "not in",
            "digit",
        ] {
            let without_flags = text.replace("--help", "");
            assert!(
                !without_flags.contains(english),
                "有英文「{english}」:\n{text}"
            );
        }
        assert!(text.starts_with("错误: "), "{text}");
    }

    #[test]
    fn a_port_out_of_range_is_explained_in_chinese() {
        let text = explained(&["--port", "70000"]);
        assert_chinese(&text);
        assert!(
            text.contains("--port 的值「70000」不对:要在 0 到 65535 之间"),
            "{text}"
        );
        assert!(text.contains("--port:要绑定的端口"), "{text}");
    }

    #[test]
    fn value_errors_of_every_common_kind_are_in_chinese() {
        for (args, wanted) in [
            (&["--timeout", "0"][..], "至少要是 1"),
            (&["--port", "x"][..], "要是一个整数"),
            (&["--port", ""][..], "不能是空的"),
            (&["--addr", "localhost"][..], "比如 127.0.0.1:7852"),
            (&["--format", "xml"][..], "可以写:table、json"),
            (&["--host", "[::1"][..], "方括号"),
        ] {
            let text = explained(args);
            assert_chinese(&text);
            assert!(text.contains(wanted), "{args:?}:\n{text}");
        }
    }

    #[test]
    fn unknown_options_missing_arguments_and_conflicts_are_in_chinese() {
        for (args, wanted) in [
            (&["--bogus"][..], "不认识的选项「--bogus」"),
            (&["--prot", "1"][..], "你是不是想写 --port?"),
            (&["extra"][..], "没有「extra」这个命令"),
            (&["hint"][..], "少了必须写的参数:<LESSON>"),
            (&["hint"][..], "<LESSON>:课号,比如 01 或 1"),
            (&["skeleton"][..], "<LESSON>:只生成这一课"),
            (&["hint", "01", "--step"][..], "--step"),
            (&["hint", "01", "02"][..], "多出来一个参数「02」"),
            (&["--addr", "127.0.0.1:1", "--server", "x"][..], "不能和"),
            (&["--port", "1", "--port", "2"][..], "只能写一次"),
        ] {
            let text = explained(args);
            assert_chinese(&text);
            assert!(text.contains(wanted), "{args:?}:\n{text}");
        }
    }

    #[test]
    fn the_usage_line_is_in_chinese_too() {
        let text = explained(&["hint"]);
        assert!(text.contains("用法: demo hint <LESSON>"), "{text}");
    }
}
