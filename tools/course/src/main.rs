//! `course`:课程的前门。
//!
//! ```text
//! cargo run -p course                    六课的进度,以及下一步做什么
//! cargo run -p course -- check 01        给第 1 课评分(和 cargo test -p lesson-01 一样)
//! cargo run -p course -- watch           保存文件就重新评分
//! cargo run -p course -- hint 01         分级提示,一次比一次具体
//! cargo run -p course -- reset 01        把第 1 课恢复成最初的骨架(不需要 git)
//! cargo run -p course -- interop 04      互通实验:教程风格的 Python 程序和 Rust 程序互相对话
//! cargo run -p course -- book --serve    读课本:构建、建中文搜索索引,在 http://127.0.0.1:3000/ 打开
//! cargo run -p course -- grade --submission 学员的仓库 --format csv    老师评分
//! cargo run -p course -- grade --class 全班的提交                      老师给全班评分(沙箱、成绩册、逐项分析)
//! cargo run -p course -- dev check       课程作者:检查整个课程的约定
//! cargo run -q -p course -- nc 127.0.0.1 8998    手动试一试:哪个系统上都一样的 nc
//! ```

mod book;
mod dev;
mod files;
mod github;
mod grade;
mod hints;
mod interop;
mod learner;
mod nc;
mod progress;
mod repo;
mod skeleton;
mod todo_check;
mod width;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::repo::Repo;

/// Socket 编程实战 (Rust 版) 的前门:看进度、评分、提示、重置;老师评分;作者检查课程。
#[derive(Parser)]
#[command(
    name = "course",
    disable_help_flag = true,
    disable_help_subcommand = true,
    help_template = "{about}\n\n用法: cargo run -p course -- [命令]\n\n命令(不写就是看进度):\n{subcommands}\n\n选项:\n{options}"
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// 显示帮助
    #[arg(short, long, action = clap::ArgAction::Help, global = true)]
    help: Option<bool>,
}

/// 子命令的帮助格式(clap 默认的是英文)。
/// 有参数的子命令:参数和选项各占一段({positionals} 末尾没有换行,不分段的话 --step 会接在 <LESSON> 那一行后面)。
const SUBCOMMAND_HELP: &str = "{about}\n\n参数:\n{positionals}\n\n选项:\n{options}";

/// `course grade`:选项,以及它自己的子命令(merge)。
const GRADE_HELP: &str = "{about}\n\n命令:\n{subcommands}\n\n选项:\n{options}";

// 只解析一次,大小无关紧要;装箱只会让 match 更难读。
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// 给一课评分;不写课号就从第 1 课起按顺序评,遇到没通过的就停
    #[command(help_template = SUBCOMMAND_HELP)]
    Check {
        /// 课号,比如 01 或 1
        lesson: Option<String>,
    },
    /// 保存文件就重新评分;不写课号就评还没完成的第一课
    #[command(help_template = SUBCOMMAND_HELP)]
    Watch {
        /// 课号,比如 01 或 1
        lesson: Option<String>,
    },
    /// 看一条提示:同一步每问一次,提示就更具体一些
    #[command(help_template = SUBCOMMAND_HELP)]
    Hint {
        /// 课号,比如 01 或 1
        lesson: String,
        /// 看哪一步的提示(默认是骨架里还没写的第一步)
        #[arg(long)]
        step: Option<usize>,
        /// 最后一级提示差不多就是答案,第一次看之前会问一声;写上 --yes 就不问
        #[arg(long)]
        yes: bool,
    },
    /// 把一课的练习恢复成最初的骨架(会先备份到 .course/backup/)
    #[command(help_template = SUBCOMMAND_HELP)]
    Reset {
        /// 课号,比如 01 或 1
        lesson: String,
        /// 不问,直接恢复
        #[arg(long)]
        yes: bool,
    },
    /// 互通实验:照 Python 教程写的程序和 Rust 程序互相对话,看通、不通还是走样
    #[command(help_template = SUBCOMMAND_HELP)]
    Interop {
        /// 只看这一课的几对,比如 04(不写就是全部)
        lesson: Option<String>,
        /// 用你自己的练习(lesson-NN)代替参考答案
        #[arg(long)]
        mine: bool,
    },
    /// 读课本:构建课本、建中文搜索索引;--serve 在本机提供它,--open 再用浏览器打开
    #[command(help_template = book::HELP)]
    Book(book::BookArgs),
    /// 老师:给每一课的每一项打分,算出总分
    #[command(help_template = GRADE_HELP)]
    Grade(grade::GradeArgs),
    /// 课程作者的工具
    #[command(subcommand, help_template = "{about}\n\n命令:\n{subcommands}")]
    Dev(dev::DevCommand),
    /// 手动试一试:连上一个服务器,发 stdin 的内容,把回复打印出来(控制字符看得见)
    #[command(help_template = nc::HELP)]
    Nc(nc::NcArgs),
}

fn main() -> ExitCode {
    let args: Args = clap_zh::parse();
    // 输出不是终端(被重定向、被管道接走)或设置了 NO_COLOR 时,不输出颜色代码。
    let colour = std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    colored::control::set_override(colour);
    match run(args.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("错误: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Option<Command>) -> Result<ExitCode> {
    // 评分自己找仓库:它的一部分在沙箱里运行,那里没有仓库。
    let repo = Repo::find;
    match command {
        None => learner::status(&repo()?),
        Some(Command::Check { lesson }) => Ok(exit(learner::check(&repo()?, lesson.as_deref())?)),
        Some(Command::Watch { lesson }) => learner::watch(&repo()?, lesson.as_deref()),
        Some(Command::Hint { lesson, step, yes }) => learner::hint(&repo()?, &lesson, step, yes),
        Some(Command::Reset { lesson, yes }) => learner::reset(&repo()?, &lesson, yes),
        Some(Command::Interop { lesson, mine }) => interop::run(&repo()?, lesson.as_deref(), mine),
        Some(Command::Book(args)) => book::run(&repo()?, &args),
        Some(Command::Grade(args)) => grade::run(&args),
        Some(Command::Dev(command)) => dev::run(&repo()?, command),
        // nc 只是收发数据的小工具,在哪里都能用,不需要课程仓库。
        Some(Command::Nc(args)) => nc::run(&args),
    }
}

fn exit(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
