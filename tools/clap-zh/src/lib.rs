//! clap 的中文说明。
//!
//! clap 的帮助可以用模板换成中文(每个程序的 `help_template` 就是这么做的),参数写错时的
//! 说明却只有英文:「error: invalid value '70000' for '--port <PORT>'」。这个小库把 clap 的
//! 错误换成中文,退出码照旧是 2:
//!
//! ```no_run
//! # #[derive(clap::Parser)] struct Args {}
//! let args: Args = clap_zh::parse();
//! ```
//!
//! 和 `Args::parse()` 一样,只是参数写错时说中文。另外,有子命令的程序把 `help` 当成
//! `--help`:`course help`、`course help hint` 都能用。
//!
//! [`host`] 是给 `--host` 用的解析函数:服务器打印的地址是 `[::1]:7852`,学员照抄
//! `--host [::1]` 也要能用。[`say!`] 是 `course`、`load` 这样的工具用的 `println!`:
//! `course … | head` 关掉了管道,它安静地退出,不 panic。

mod explain;
mod host;
pub mod say;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser;
use clap::error::ErrorKind;

pub use explain::{explain, focus};
pub use host::host;

/// 解析命令行参数,和 `T::parse()` 一样;参数写错时在 stderr 用中文说明,以退出码 2 退出。
pub fn parse<T: Parser>() -> T {
    parse_from(std::env::args_os())
}

/// 和 [`parse`] 一样,参数从 `args` 来(第一个是程序名)。
pub fn parse_from<T, I>(args: I) -> T
where
    T: Parser,
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let command = T::command();
    let args = help_as_flag(args.into_iter().map(Into::into).collect(), &command);
    match T::try_parse_from(&args) {
        Ok(parsed) => parsed,
        Err(err) => {
            match err.kind() {
                // 帮助本身(模板是中文的):照 clap 的样子打印。stdout 被关掉了也不要紧。
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = err.print();
                }
                _ => {
                    let explained = explain(&err, focus(&command, &args));
                    let _ = writeln!(std::io::stderr(), "{explained}");
                }
            }
            std::process::exit(err.exit_code());
        }
    }
}

/// `course help` → `course --help`,`course help hint` → `course hint --help`:
/// 有子命令、却没有叫 help 的子命令时,学员打的 help 就是想看帮助。
fn help_as_flag(mut args: Vec<OsString>, command: &clap::Command) -> Vec<OsString> {
    let has_help_command = command.get_subcommands().any(|s| s.get_name() == "help");
    let asks = args.get(1).is_some_and(|a| a == "help");
    if asks && command.has_subcommands() && !has_help_command {
        args.remove(1);
        args.push("--help".into());
    }
    args
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[derive(Parser)]
    #[command(disable_help_subcommand = true)]
    struct Tool {
        #[command(subcommand)]
        command: Option<Sub>,
    }

    #[derive(clap::Subcommand)]
    enum Sub {
        Hint { lesson: String },
    }

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn help_as_a_command_means_the_help_flag() {
        let cmd = Tool::command();
        assert_eq!(
            help_as_flag(os(&["course", "help"]), &cmd),
            os(&["course", "--help"])
        );
        assert_eq!(
            help_as_flag(os(&["course", "help", "hint"]), &cmd),
            os(&["course", "hint", "--help"])
        );
        // 不是第一个参数时不动:那可能是一个值(比如昵称就叫 help)。
        assert_eq!(
            help_as_flag(os(&["course", "hint", "help"]), &cmd),
            os(&["course", "hint", "help"])
        );
        let parsed = Tool::try_parse_from(help_as_flag(os(&["course", "help"]), &cmd));
        assert_eq!(parsed.err().map(|e| e.kind()), Some(ErrorKind::DisplayHelp));
    }
}
