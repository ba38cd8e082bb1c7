//! 每一课的参考答案的可执行文件,给评分框架的自测和 course 的测试用。
//!
//! 根目录的 `cargo test` 不编译、不测试参考答案的包(它们不在 default-members 里:cargo 一个接一个地
//! 运行测试程序,每个包的测试排成一队,要多等十几秒)。参考答案的评分在评分框架的自测里,和故意
//! 写错的例子同时进行;每个参考答案自己的测试(stdout 被关掉、健壮性……)由 `.ci/run` 和
//! `cargo test -p solution-NN` 运行。用到参考答案的测试先调用 [`build`]。

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{LESSONS, Lesson};

/// 第 `lesson` 课的参考答案的包名(也是它的程序名):`solution-01`……
pub fn package(lesson: &Lesson) -> String {
    format!("solution-{}", lesson.number)
}

/// 用 cargo 把每一课的参考答案编译进 `target` 目录(已经是最新的,cargo 几乎什么也不做),
/// 返回放可执行文件的目录(`target/debug`)。编译失败时 panic,并说明怎么单独编译看错误。
///
/// `target` 是调用者自己所在的 target 目录:参考答案和调用者的程序放在一起,不会另外编译一份。
pub fn build(target: &Path) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // 不加 --quiet:第一次要编译几十秒,学员应该看到 cargo 在编译什么,而不是一个不说话的测试。
    // (已经是最新的时,cargo 只打印一行 Finished。)
    let status = Command::new(cargo)
        .arg("build")
        .args(
            LESSONS
                .iter()
                .flat_map(|lesson| ["-p".to_owned(), package(lesson)]),
        )
        .arg("--target-dir")
        .arg(target)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("无法运行 cargo 来编译参考答案");
    assert!(
        status.success(),
        "参考答案编译失败:运行 cargo build -p solution-01(等等)看编译错误"
    );
    target.join("debug")
}

/// 某个参考答案在 `dir` 里的可执行文件(Windows 上带 `.exe`)。
pub fn path_in(dir: &Path, package: &str) -> PathBuf {
    dir.join(format!("{package}{}", std::env::consts::EXE_SUFFIX))
}
