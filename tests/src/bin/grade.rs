//! 不经过 `cargo test`,直接用某一课的评分器给任意一个程序打分。
//!
//! ```text
//! cargo run -q -p harness --bin grade -- 01 target/debug/lesson-01
//! cargo run -q -p harness --bin grade -- 01 target/debug/fixture-udp-server-truncates lesson-01
//! ```
//!
//! 第三个参数是失败信息里「手动重现」用的包名(默认是程序的文件名)。
//! 和 `cargo test` 一样认 `COURSE_KEEP_GOING`、`COURSE_REPORT` 和 `COURSE_TIMEOUT_SCALE`。
//! 输出和 `cargo test -p lesson-NN` 的诊断完全一样;全部通过时退出码为 0,否则为 1。
//! 课程作者用它生成书里的失败示例(.ci/examples),老师也可以用它给单个程序打分。

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(number), Some(program)) = (args.first(), args.get(1)) else {
        eprintln!("用法: grade <课号,如 01> <程序路径> [包名]");
        return ExitCode::from(2);
    };
    let Some(lesson) = harness::lesson(number) else {
        eprintln!("没有第 {number} 课的评分器");
        return ExitCode::from(2);
    };
    let path = Path::new(program);
    let name = match args.get(2) {
        Some(name) => name.clone(),
        None => path
            .file_stem()
            .map_or_else(|| program.clone(), |s| s.to_string_lossy().into_owned()),
    };
    let report = harness::run(lesson, path, &name);
    harness::grader::write_report(&report);
    println!("{}", report.explain());
    if report.first_failure().is_some() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
