//! `course interop`:互通实验。教程风格的 Python 程序(`tools/interop/`)和 Rust 程序一对一对地说话,
//! 每一对都真的运行一遍,打印双方说了什么,以及结果是不是和课本说的一样。
//!
//! 运行各对、下结论的是 interop 这个库(它的测试确认每一对的结果都和课本一致);
//! 这里只负责编译 Rust 程序、挑出要看的几对、把记录打印出来。

use clap_zh::{say, say_part};
use std::process::ExitCode;

use anyhow::Result;
use colored::Colorize;
use interop::{CASES, Lab, Python};

use crate::repo::Repo;

/// 运行第 `lesson` 课的几对(不写就是全部)。`mine` 时用学员自己的练习代替参考答案。
pub fn run(repo: &Repo, lesson: Option<&str>, mine: bool) -> Result<ExitCode> {
    let python = match Python::find() {
        Ok(python) => python,
        Err(why) => {
            eprintln!("{}", why.red());
            return Ok(ExitCode::FAILURE);
        }
    };
    let lessons = match lesson {
        Some(number) => vec![repo.lesson(number)?],
        None => repo.lessons()?,
    };

    let mut lab = Lab::new(&repo.root, python);
    let target = repo.target_dir();
    for dirs in &lessons {
        let package = if mine {
            dirs.package()
        } else {
            dirs.solution_package()
        };
        let program = repo.build(&package, &target)?;
        lab.add_program(dirs.lesson.number, program, &package);
    }

    let whose = if mine {
        "你自己的练习"
    } else {
        "参考答案"
    };
    say!(
        "互通实验:照 Python 教程的写法写成的程序(tools/interop/)和{whose}一对一对地说话。\n\
         每一对下面是双方的命令和输出,最后是结论。"
    );
    let mut surprises = 0;
    let cases = CASES
        .iter()
        .filter(|case| lessons.iter().any(|d| d.lesson.number == case.lesson));
    for case in cases {
        say!("\n{}", format!("━━ {}", case.pair).bold());
        say!("{}", format!("改动:{}", case.change).bold());
        match case.run(&lab) {
            Ok(trial) => {
                say_part!("{}", trial.render());
                if trial.outcome == case.expected {
                    say!("{}", "✓ 和课本说的一样。".green());
                } else {
                    surprises += 1;
                    let said = format!(
                        "✗ 课本说「{}」,这次是「{}」。",
                        case.expected.describe(),
                        trial.outcome.describe()
                    );
                    say!("{}", said.red());
                }
                say!("为什么:{}", case.why);
            }
            Err(err) => {
                surprises += 1;
                say!("{}", format!("✗ 这一对没能运行完:{err:#}").red());
            }
        }
    }
    say!(
        "\n每一对的解释和练习:课本附录「Python socket → Rust std::net」的「互通实验」一节\
         (book/src/python-to-rust.md)。"
    );
    if !mine {
        say!("换成你自己的程序试试:cargo run -p course -- interop --mine");
    } else if surprises > 0 {
        say!("你的程序和课本里的参考答案表现得不一样:先用 cargo run -p course -- check 给它评分。");
    }
    Ok(if surprises == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
